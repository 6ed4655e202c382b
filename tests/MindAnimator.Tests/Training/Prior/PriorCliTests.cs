using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Diffusion.Pipelines;
using MindAnimator.Features;
using MindAnimator.Runs;
using MindAnimator.Simulation;
using MindAnimator.Tests.Cli;
using MindAnimator.Tests.Infrastructure;
using MindAnimator.Tests.Simulation;
using Serilog.Core;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Training.Prior;

/// <summary>`mindanim train prior` on a small simulated dataset with tiny sizes and a few steps.</summary>
public sealed class PriorCliTests
{
    private static readonly string[] TinySizes =
    {
        "--set", "prior.vae_channels=[8,8]", "--set", "prior.norm_groups=4", "--set", "prior.text_hidden=16", "--set", "prior.text_layers=1",
        "--set", "prior.text_intermediate=32", "--set", "prior.projection_dim=8", "--set", "prior.vision_hidden=16", "--set", "prior.vision_layers=1",
        "--set", "prior.vision_intermediate=32", "--set", "prior.unet_channels=[8,16]", "--set", "prior.batch_size=8",
        "--set", "prior.vae_steps=2", "--set", "prior.clip_steps=2", "--set", "prior.unet_steps=2",
    };

    [Fact]
    public void TrainPrior_WritesLoadableFolders_FromTrainingClipsOnly_WithProvenance()
    {
        using var dir = TestEnvironment.NewTempDir();
        var small = SimulatorTests.Small();
        var config = small with
        {
            Simulation = small.Simulation with { TrainSegments = 2, TestSegments = 1, ClipsPerSegment = 10, RetinotopicVoxels = 40, MotionVoxels = 40, SemanticVoxels = 40, NoiseVoxels = 20 },
            Preprocess = small.Preprocess with { SelectVoxels = 60 },
        };
        var data = dir.File("data");
        SimulatedDatasetWriter.Write(config, data, overwrite: false, NullProgress.Instance, Logger.None);
        var output = dir.File("prior");

        var r = CliProcess.Run(["train", "prior", "--data", data, "--out", output, "--seed", "3", .. TinySizes]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(File.Exists(Path.Combine(output, "run.json")));
        Assert.Contains("vae_steps: 2", File.ReadAllText(Path.Combine(output, "config.resolved.yaml")));
        var sd = StableDiffusionFolder.Open(Path.Combine(output, "sd"));
        using var models = FeatureModels.Load(Path.Combine(output, "clip"), sd.Root, CPU, Logger.None);
        Assert.Equal(16, models.SdTextEncoder.Config.HiddenSize);

        // 2 training segments × 10 clips × 8 frames: test clips never reach the prior.
        var manifest = DatasetManifest.Read(data);
        var trainClips = FmriParquet.Read(Path.Combine(data, manifest.Fmri)).Samples.Count(s => s.Split != Splits.Test);
        Assert.Equal(20, trainClips);
        Assert.Contains("\"frames\": 160", File.ReadAllText(Path.Combine(output, "prior.json")));

        var again = CliProcess.Run(["train", "prior", "--data", data, "--out", output, .. TinySizes]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", again.Stderr);
        var noData = CliProcess.Run("train", "prior", "--data", dir.File("missing"), "--out", dir.File("x"));
        Assert.Equal(1, noData.ExitCode);
        Assert.Contains("dataset.json", noData.Stderr);
    }
}
