using MindAnimator.Config;

namespace MindAnimator.Tests.Training;

public class DecoderConfigTests
{
    private static MindAnimatorConfig Bind(string yaml) => ConfigBinder.Bind<MindAnimatorConfig>(yaml, "x.yaml");

    [Fact]
    public void Motion_heads_must_divide_the_projection_width()
    {
        var e = Assert.Throws<ConfigException>(() => Bind("motion:\n  attention_dim: 30\n  heads: 4\n"));
        Assert.Equal("motion.attention_dim", e.KeyPath);
    }

    [Fact]
    public void Positional_table_must_hold_every_frame()
    {
        var e = Assert.Throws<ConfigException>(() => Bind("data:\n  frames_per_clip: 12\n"));
        Assert.Equal("motion.max_frames", e.KeyPath);
    }

    [Fact]
    public void Overriding_one_motion_training_key_keeps_the_official_adam_settings()
    {
        var config = Bind("motion:\n  training:\n    epochs: 5\n");
        Assert.Equal(5, config.Motion.Training.Epochs);
        Assert.Equal(0.98, config.Motion.Training.AdamBeta2);
        Assert.Equal(1e-9, config.Motion.Training.AdamEpsilon);
    }

    [Fact]
    public void Factory_builds_each_decoder_from_the_config_and_records_its_settings()
    {
        var config = Bind("seed: 9\nsemantic:\n  hidden: 8\n  clip_dim: 8\n  head_hidden: [6, 5]\n  token_dim: 4\n  tokens: 3\n");
        foreach (var kind in MindAnimator.Training.DecoderTaskFactory.Kinds)
        {
            var task = MindAnimator.Training.DecoderTaskFactory.Create(kind, config, 12);
            Assert.Equal(kind, task.Kind);
            task.Model.Dispose();
            var options = MindAnimator.Training.DecoderTaskFactory.Options(kind, config, "run", resume: true);
            Assert.Equal(9, options.Seed);
            Assert.Equal(config.Data.ValidationFraction, options.ValidationFraction);
            Assert.NotNull(options.Settings);
        }
        Assert.Throws<MindAnimatorException>(() => MindAnimator.Training.DecoderTaskFactory.Create("prior", config, 12));
    }
}
