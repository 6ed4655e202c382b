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
/// The three decoders of the embedded default learn from its simulated brain: the demo's data (4,000 training clips),
/// features from the shipped demo prior, the demo config's decoders, scored on the 100 held-out clips.
/// </summary>
public sealed class DecoderLearningTests : IDisposable
{
    private readonly TempDir _dir = TestEnvironment.NewTempDir();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Decoders_BeatChance_Baselines_AndShuffledFmri_OnHeldOutClips()
    {
        var config = ConfigLoader.Load(null);
        var data = _dir.File("data");
        SimulatedDatasetWriter.Write(config, data, overwrite: false, NullProgress.Instance, Logger.None);
        var features = Path.Combine(data, "features");
        using (var models = FeatureModels.Load(ModelFolders.Clip(config), ModelFolders.StableDiffusion(config), CPU, Logger.None))
        {
            FeatureExtractor.Run(data, features, models, config, force: false, NullProgress.Instance, Logger.None);
        }
        var runs = _dir.File("decoders");
        foreach (var kind in DecoderTaskFactory.Kinds)
        {
            Directory.CreateDirectory(Path.Combine(runs, kind));
            DecoderTraining.Run(kind, data, features, Path.Combine(runs, kind), config, resume: false, Logger.None);
        }
        using var decoders = DecoderSet.Load(runs, null, null, null, CPU);
        var scores = DecoderEvaluation.Run(data, features, decoders, Splits.Test, config.Seed, Logger.None).ToDictionary(s => s.Name);

        var top5 = scores["top5_image_retrieval"];
        Assert.True(top5.Value >= 2 * top5.Reference && top5.Value > top5.ShuffledFmri + 0.05, $"semantic top-5: {top5}");
        var r = scores["first_frame_latent_r"];
        Assert.True(r.Value > r.Reference + 0.05 && r.Value > r.ShuffledFmri + 0.2, $"structure: {r}");
        // Motion: below copying the previous frame / repeating the first, and below the same decoder fed other clips' fMRI.
        var next = scores["next_frame_mse"];
        Assert.True(next.Value < 0.97 * next.Reference && next.Value < 0.95 * next.ShuffledFmri, $"motion next frame: {next}");
        var rollout = scores["rollout_mse"];
        Assert.True(rollout.Value < 0.92 * rollout.Reference && rollout.Value < 0.92 * rollout.ShuffledFmri, $"motion rollout: {rollout}");
        var motionInBrain = scores["motion_readout_r"];
        Assert.True(motionInBrain.Value > 0.2 && motionInBrain.Value > motionInBrain.ShuffledFmri + 0.2, $"motion read-out: {motionInBrain}");
    }
}
