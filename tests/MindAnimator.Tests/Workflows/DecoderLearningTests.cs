using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Evaluation;
using MindAnimator.Features;
using MindAnimator.Reconstruction;
using MindAnimator.Runs;
using MindAnimator.Simulation;
using MindAnimator.Tests.Infrastructure;
using MindAnimator.Training;
using Serilog.Core;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Workflows;

/// <summary>
/// The semantic and structure decoders learn from the simulated brain: features from the shipped demo prior, the demo
/// config's decoders, held-out clips. (The motion decoder's scores are reported, not asserted: README "Do the decoders learn?".)
/// </summary>
public sealed class DecoderLearningTests : IDisposable
{
    private readonly TempDir _dir = TestEnvironment.NewTempDir();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void SemanticAndStructure_BeatChance_Baselines_AndShuffledFmri_OnHeldOutClips()
    {
        var demo = ConfigLoader.Load(null);
        var config = demo with { Simulation = demo.Simulation with { TrainSegments = 10 } };
        var data = _dir.File("data");
        SimulatedDatasetWriter.Write(config, data, overwrite: false, NullProgress.Instance, Logger.None);
        var features = Path.Combine(data, "features");
        using (var models = FeatureModels.Load(ModelFolders.Clip(config), ModelFolders.StableDiffusion(config), CPU, Logger.None))
        {
            FeatureExtractor.Run(data, features, models, config, force: false, NullProgress.Instance, Logger.None);
        }
        var runs = _dir.File("decoders");
        foreach (var kind in new[] { "semantic", "structure" })
        {
            Directory.CreateDirectory(Path.Combine(runs, kind));
            DecoderTraining.Run(kind, data, features, Path.Combine(runs, kind), config, resume: false, Logger.None);
        }
        // An untrained motion decoder completes the set; its scores are not asserted.
        Directory.CreateDirectory(Path.Combine(runs, "motion"));
        DecoderTraining.Run("motion", data, features, Path.Combine(runs, "motion"), config with { Motion = config.Motion with { Training = config.Motion.Training with { Epochs = 1 } } }, resume: false, Logger.None);
        using var decoders = DecoderSet.Load(runs, null, null, null, CPU);
        var scores = DecoderEvaluation.Run(data, features, decoders, Splits.Test, config.Seed, Logger.None).ToDictionary(s => s.Name);

        var top5 = scores["top5_image_retrieval"];
        Assert.True(top5.Value >= 2 * top5.Reference && top5.Value > top5.ShuffledFmri + 0.05, $"semantic top-5: {top5}");
        var r = scores["first_frame_latent_r"];
        Assert.True(r.Value > r.Reference + 0.05 && r.Value > r.ShuffledFmri + 0.2, $"structure: {r}");
    }
}
