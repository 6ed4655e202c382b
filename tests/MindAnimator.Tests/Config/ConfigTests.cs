using MindAnimator.Config;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Config;

public class ConfigTests
{
    private static MindAnimatorConfig Bind(string yaml, params string[] overrides) => ConfigBinder.Bind<MindAnimatorConfig>(yaml, "test.yaml", overrides);

    [Fact]
    public void ShippedConfigsLoadAndCarryThePapersValues()
    {
        var cc = ConfigLoader.Load(Path.Combine(TestEnvironment.RepoRoot, "configs", "cc2017.yaml"));
        Assert.Equal(4500, cc.Preprocess.SelectVoxels);
        Assert.Equal(8, cc.Data.FramesPerClip);
        Assert.Equal(512, cc.Data.FrameSize);
        Assert.Equal(19, cc.Semantic.Tokens);
        Assert.Equal(768, cc.Semantic.TokenDim);
        Assert.Equal(new[] { 2048, 4096 }, cc.Semantic.HeadHidden);
        Assert.Equal(2e-4, cc.Semantic.Training.LearningRate, 12);
        Assert.Equal(1e-6, cc.Structure.Training.LearningRate, 12);
        Assert.Equal(400, cc.Structure.Training.Epochs);
        Assert.Equal(0.6, cc.Motion.MaskRatio);
        Assert.Equal("official", cc.Motion.InferenceMask);
        Assert.Equal(12.5, cc.Diffusion.GuidanceScale);
        Assert.Equal(200, cc.Diffusion.RenoiseTimestep);
        Assert.True(cc.Semantic.CaptionAugmentation.Enabled);
        Assert.Equal(new CaptionAugmentationSettings { Enabled = true }, cc.Semantic.CaptionAugmentation);

        var demo = ConfigLoader.Load(null);
        Assert.Equal("simulated", demo.Data.Dataset);
        Assert.False(demo.Semantic.CaptionAugmentation.Enabled);
        Assert.Equal(File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "configs", "demo.yaml")), ConfigLoader.EmbeddedDefaultYaml());
    }

    [Fact]
    public void UnspecifiedKeysKeepTheirDefaults()
    {
        var c = Bind("simulation:\n  snr: 0.25\n");
        Assert.Equal(0.25, c.Simulation.Snr);
        Assert.Equal(new SimulationSettings().TrainSegments, c.Simulation.TrainSegments);
        Assert.Equal(new MindAnimatorConfig().Seed, c.Seed);
    }

    [Fact]
    public void UnknownKeyNamesTheKeyPathLineAndAlternatives()
    {
        var e = Assert.Throws<ConfigException>(() => Bind("seed: 3\nsimulation:\n  snrr: 0.3\n"));
        Assert.Equal("simulation.snrr", e.KeyPath);
        Assert.Contains("test.yaml:3", e.Message);
        Assert.Contains("snr", e.Message);
        Assert.Contains("unknown key", e.Message);
    }

    [Fact]
    public void WrongTypeNamesTheExpectedType()
    {
        var e = Assert.Throws<ConfigException>(() => Bind("structure:\n  training:\n    epochs: many\n"));
        Assert.Equal("structure.training.epochs", e.KeyPath);
        Assert.Contains("expected an integer, got 'many'", e.Message);
        var list = Assert.Throws<ConfigException>(() => Bind("semantic:\n  head_hidden: 7\n"));
        Assert.Contains("expected a list", list.Message);
    }

    [Theory]
    [InlineData("simulation:\n  snr: -1\n", "simulation.snr", "out of range")]
    [InlineData("motion:\n  mask_ratio: 1.5\n", "motion.mask_ratio", "[0, 1]")]
    [InlineData("motion:\n  inference_mask: random\n", "motion.inference_mask", "official, causal")]
    [InlineData("device: tpu\n", "device", "auto, cpu, cuda")]
    [InlineData("semantic:\n  head_hidden: [2048, -1]\n", "semantic.head_hidden", "out of range")]
    public void OutOfRangeValuesAreRejected(string yaml, string key, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => Bind(yaml));
        Assert.Equal(key, e.KeyPath);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void OverridesApplyOnTopOfTheFileAndAreValidated()
    {
        var c = Bind("simulation:\n  snr: 0.25\n", "simulation.snr=2", "seed=7", "eval.metrics=[ssim, epe]");
        Assert.Equal(2, c.Simulation.Snr);
        Assert.Equal(7, c.Seed);
        Assert.Equal(new[] { "ssim", "epe" }, c.Eval.Metrics);
        var bad = Assert.Throws<ConfigException>(() => Bind(string.Empty, "simulation.nope=1"));
        Assert.Equal("simulation.nope", bad.KeyPath);
        Assert.StartsWith(ConfigBinder.CommandLineSource, bad.Message);
        Assert.Throws<ConfigException>(() => Bind(string.Empty, "simulation.snr=-3"));
        Assert.Throws<ConfigException>(() => Bind(string.Empty, "simulation"));
    }

    [Fact]
    public void OverridesDoNotLeakIntoDefaults()
    {
        _ = Bind(string.Empty, "simulation.snr=9");
        Assert.NotEqual(9, new MindAnimatorConfig().Simulation.Snr);
        Assert.NotEqual(9, Bind(string.Empty).Simulation.Snr);
    }

    [Fact]
    public void CrossFieldChecksRun()
    {
        var e = Assert.Throws<ConfigException>(() => Bind("data:\n  dataset: simulated\nsimulation:\n  retinotopic_voxels: 10\n  motion_voxels: 10\n  semantic_voxels: 10\n  noise_voxels: 10\npreprocess:\n  select_voxels: 100\n"));
        Assert.Equal("preprocess.select_voxels", e.KeyPath);
    }

    [Fact]
    public void ResolvedConfigRoundTripsThroughYaml()
    {
        var c = Bind("seed: 99\nsimulation:\n  snr: 0.125\n", "eval.trials=7");
        var again = Bind(ConfigBinder.ToYaml(c));
        Assert.Equal(ConfigBinder.ToYaml(c), ConfigBinder.ToYaml(again));
        Assert.Equal(99, again.Seed);
        Assert.Equal(7, again.Eval.Trials);
    }

    [Fact]
    public void InvalidYamlNamesTheLine()
    {
        var e = Assert.Throws<ConfigException>(() => Bind("seed: 1\nsimulation: [\n"));
        Assert.Contains("not valid YAML", e.Message);
    }

    [Fact]
    public void CaptionAugmentationKeysBindWithTheReferencesNamesAndAreBounded()
    {
        var c = Bind("semantic:\n  caption_augmentation:\n    enabled: true\n    wordnet_folder: /opt/wn\n    alpha_sr: 0.1\n    alpha_ri: 0.3\n    alpha_rs: 0.4\n    p_rd: 0.05\n    num_aug: 4\n",
            "semantic.caption_augmentation.stop_words_file=/tmp/stop.txt");
        Assert.Equal(new CaptionAugmentationSettings
        {
            Enabled = true,
            WordnetFolder = "/opt/wn",
            StopWordsFile = "/tmp/stop.txt",
            AlphaSr = 0.1,
            AlphaRi = 0.3,
            AlphaRs = 0.4,
            PRd = 0.05,
            NumAug = 4,
        }, c.Semantic.CaptionAugmentation);
        var e = Assert.Throws<ConfigException>(() => Bind("semantic:\n  caption_augmentation:\n    p_rd: 1.5\n"));
        Assert.Contains("semantic.caption_augmentation.p_rd", e.Message);
    }
}
