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
}
