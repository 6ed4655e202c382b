using System.Diagnostics;
using System.Text.Json;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Evaluation;
using MindAnimator.Features;
using MindAnimator.Reconstruction;
using MindAnimator.Runs;
using MindAnimator.Simulation;
using MindAnimator.Training;
using Serilog;
using static TorchSharp.torch;

namespace MindAnimator.Workflows;

/// <summary>Where each stage of a demo run wrote its outputs (relative to the run folder).</summary>
public sealed record DemoOutputs(string Data, string Features, string Decoders, string DecoderScores, string Reconstructions, string ControlReconstructions,
    string Eval, string Permtest, string Report);

/// <summary>What a demo run measured, and how long each stage took.</summary>
public sealed record DemoResult(DemoOutputs Outputs, IReadOnlyList<DecoderScore> DecoderScores, EvalResult Eval, FmriShuffleComparison Permtest,
    IReadOnlyDictionary<string, double> StageSeconds);

/// <summary>
/// `mindanim demo`: the whole method on the embedded simulated brain — simulate → features (demo prior) → train the
/// three decoders → score them on held-out clips → reconstruct the test clips (and the fMRI-shuffle control) → eval →
/// frame-shuffle permutation test → report.html.
/// </summary>
public static class DemoWorkflow
{
    public static readonly DemoOutputs Layout = new("data", "data/features", "decoders", "decoders/" + DecoderEvaluation.FileName, "reconstruct", "reconstruct-shuffled-fmri",
        "eval", "permtest", "report.html");

    public const int Stages = 8;

    public static DemoResult Run(MindAnimatorConfig config, string runFolder, bool force, Device device, IProgressReporter progress, ILogger log)
    {
        string At(string relative) => Path.Combine(runFolder, relative);
        var seconds = new Dictionary<string, double>();
        var clock = Stopwatch.StartNew();
        void Stage(int number, string name, string description)
        {
            log.Information("Stage {Number}/{Stages}: {Description}", number, Stages, description);
            clock.Restart();
            _ = name;
        }
        void Done(string name) => seconds[name] = clock.Elapsed.TotalSeconds;

        Stage(1, "simulate", $"simulate a brain watching generated movies → {At(Layout.Data)}");
        var dataset = SimulatedDatasetWriter.Write(config, At(Layout.Data), force, progress, log);
        Done("simulate");

        Stage(2, "features", "CLIP and Stable Diffusion features of every clip with the demo prior");
        using (var models = FeatureModels.Load(ModelFolders.Clip(config), ModelFolders.StableDiffusion(config), device, log))
        {
            FeatureExtractor.Run(At(Layout.Data), At(Layout.Features), models, config, force, progress, log);
        }
        Done("features");

        Stage(3, "train", "train the semantic, structure and motion decoders");
        foreach (var kind in DecoderTaskFactory.Kinds)
        {
            var run = Path.Combine(At(Layout.Decoders), kind);
            Directory.CreateDirectory(run);
            var result = DecoderTraining.Run(kind, At(Layout.Data), At(Layout.Features), run, config, resume: false, log);
            log.Information("{Kind} decoder: {Epochs} epochs, best validation loss {Loss:G4} at epoch {Best}", kind, result.EpochsCompleted, result.BestValidationLoss, result.BestEpoch);
        }
        Done("train");

        Stage(4, "score-decoders", "score the decoders on the held-out clips against chance, baselines and shuffled fMRI");
        IReadOnlyList<DecoderScore> scores;
        using (var decoders = DecoderSet.Load(At(Layout.Decoders), null, null, null, device))
        {
            scores = DecoderEvaluation.Run(At(Layout.Data), At(Layout.Features), decoders, Splits.Test, config.Seed, log);
        }
        AtomicFile.WriteAllText(At(Layout.DecoderScores), DecoderEvaluation.ToJson(scores, Splits.Test).ToJsonString(new JsonSerializerOptions { WriteIndented = true }), overwrite: true);
        Done("score-decoders");

        Stage(5, "reconstruct", "reconstruct the test clips, and again with the motion decoder fed other clips' fMRI (control)");
        foreach (var (folder, shuffle) in new[] { (Layout.Reconstructions, false), (Layout.ControlReconstructions, true) })
        {
            ReconstructionJob.Run(new ReconstructionJobOptions
            {
                Fmri = At(Layout.Data),
                Run = At(Layout.Decoders),
                Output = At(folder),
                ShuffleMotionFmri = shuffle,
                Force = force,
            }, config, device, progress, log);
        }
        Done("reconstruct");

        var groundTruth = ClipSources.Open(Path.Combine(At(Layout.Data), SimulatedDatasetWriter.ClipsFolder));
        var predictions = ClipSources.Open(Path.Combine(At(Layout.Reconstructions), VideoReconstructor.FramesFolder));
        Stage(6, "eval", "score the reconstructions with the metric suite");
        var eval = DemoEvaluation(config, predictions, groundTruth, log);
        EvalReport.Write(At(Layout.Eval), eval, overwrite: true);
        Done("eval");

        Stage(7, "permtest", "frame-shuffle permutation test, with the fMRI-shuffle control");
        var p = config.Permtest;
        var settings = new FrameShuffleSettings(p.Metric, p.Permutations, p.Repeats, config.Seed);
        var own = FrameShuffleTest.Run(predictions, groundTruth, settings, progress);
        var control = FrameShuffleTest.Run(ClipSources.Open(Path.Combine(At(Layout.ControlReconstructions), VideoReconstructor.FramesFolder)), groundTruth, settings, progress);
        FrameShuffleReport.Write(At(Layout.Permtest), own, overwrite: true);
        var comparison = FmriShuffleComparison.Compare(own, control);
        comparison.Write(At(Layout.Permtest), overwrite: true);
        log.Information("Frame-shuffle test ({Metric}): p = {P:G3} ± {Std:G2} with the clips' own fMRI, {Pc:G3} ± {Stdc:G2} with shuffled fMRI; own better on {Better}/{Clips} clips (paired Wilcoxon p = {W:G3})",
            p.Metric, own.OverallMeanP, own.OverallStdP, control.OverallMeanP, control.OverallStdP, comparison.OwnBetter, own.Clips.Count, comparison.PairedScores.PValue);
        Done("permtest");

        _ = dataset;
        return new DemoResult(Layout, scores, eval, comparison, seconds);
    }

    /// <summary>The metrics the demo can compute without downloaded models.</summary>
    public static EvalResult DemoEvaluation(MindAnimatorConfig config, IClipSource predictions, IClipSource groundTruth, ILogger log)
    {
        var definitions = MetricCatalog.Resolve(new[] { "ssim,psnr,hue-pcc,epe" });
        var options = EvalOptionsFrom(config);
        return ClipEvaluator.Evaluate(predictions, groundTruth, definitions, EvalModels.None, options, log);
    }

    public static EvalOptions EvalOptionsFrom(MindAnimatorConfig config) => new()
    {
        Seed = config.Seed,
        Trials = config.Eval.Trials,
        BootstrapResamples = config.Eval.BootstrapResamples,
        ConfidenceLevel = config.Eval.ConfidenceLevel,
        VifiGate = config.Eval.VifiGate,
        Threads = config.Threads,
    };
}
