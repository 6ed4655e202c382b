using System.Diagnostics;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Video;
using MindAnimator.Evaluation;
using MindAnimator.Features;
using MindAnimator.Reconstruction;
using MindAnimator.Reporting;
using MindAnimator.Runs;
using MindAnimator.Simulation;
using MindAnimator.Training;
using Serilog;
using static TorchSharp.torch;

namespace MindAnimator.Workflows;

/// <summary>Where each stage of a demo run wrote its outputs (relative to the run folder).</summary>
public sealed record DemoOutputs(string Data, string Features, string Decoders, string DecoderScores, string Reconstructions, string ControlReconstructions,
    string AblationReconstructions, string Eval, string Permtest, string AblationPermtest, string Report);

/// <summary>What a demo run measured, and how long each stage took.</summary>
public sealed record DemoResult(DemoOutputs Outputs, IReadOnlyList<DecoderScore> DecoderScores, EvalResult Eval, FmriShuffleComparison Permtest,
    FrameShuffleResult WithoutMotionDecoder, IReadOnlyDictionary<string, double> StageSeconds);

/// <summary>
/// `mindanim demo`: the whole method on the embedded simulated brain — simulate → features (demo prior) → train the
/// three decoders → score them on held-out clips → reconstruct the test clips (and the fMRI-shuffle control, and the
/// paper's ablation without the motion decoder) → eval → frame-shuffle permutation test → report.html.
/// </summary>
public static class DemoWorkflow
{
    public static readonly DemoOutputs Layout = new("data", "data/features", "decoders", "decoders/" + DecoderEvaluation.FileName, "reconstruct", "reconstruct-shuffled-fmri",
        "reconstruct-without-motion-decoder", "eval", "permtest", "permtest/without-motion-decoder", "report.html");

    public const int Stages = 8;

    public static DemoResult Run(MindAnimatorConfig config, string runFolder, bool force, Device device, IProgressReporter progress, ILogger log)
    {
        string At(string relative) => Path.Combine(runFolder, relative);
        var seconds = new Dictionary<string, double>();
        var clock = Stopwatch.StartNew();
        void Stage(int number, string description)
        {
            log.Information("Stage {Number}/{Stages}: {Description}", number, Stages, description);
            clock.Restart();
        }
        void Done(string name) => seconds[name] = clock.Elapsed.TotalSeconds;

        Stage(1, $"simulate a brain watching generated movies → {At(Layout.Data)}");
        SimulatedDatasetWriter.Write(config, At(Layout.Data), force, progress, log);
        Done("simulate");

        Stage(2, "CLIP and Stable Diffusion features of every clip with the demo prior");
        using (var models = FeatureModels.Load(ModelFolders.Clip(config), ModelFolders.StableDiffusion(config), device, log))
        {
            FeatureExtractor.Run(At(Layout.Data), At(Layout.Features), models, config, force, progress, log);
        }
        Done("features");

        Stage(3, "train the semantic, structure and motion decoders");
        foreach (var kind in DecoderTaskFactory.Kinds)
        {
            var run = Path.Combine(At(Layout.Decoders), kind);
            Directory.CreateDirectory(run);
            var result = DecoderTraining.Run(kind, At(Layout.Data), At(Layout.Features), run, config, resume: false, log, device);
            log.Information("{Kind} decoder: {Epochs} epochs, best validation loss {Loss:G4} at epoch {Best}", kind, result.EpochsCompleted, result.BestValidationLoss, result.BestEpoch);
        }
        Done("train");

        Stage(4, "score the decoders on the held-out clips against chance, baselines and shuffled fMRI");
        IReadOnlyList<DecoderScore> scores;
        using (var decoders = DecoderSet.Load(At(Layout.Decoders), null, null, null, device))
        {
            scores = DecoderEvaluation.Run(At(Layout.Data), At(Layout.Features), decoders, Splits.Test, config.Seed, log);
        }
        DecoderEvaluation.Write(At(Layout.DecoderScores), scores, Splits.Test);
        Done("score-decoders");

        Stage(5, "reconstruct the test clips, again with the motion decoder fed other clips' fMRI (control), and without the motion decoder (ablation)");
        foreach (var (folder, shuffle, ablation) in new[] { (Layout.Reconstructions, false, false), (Layout.ControlReconstructions, true, false), (Layout.AblationReconstructions, false, true) })
        {
            ReconstructionJob.Run(new ReconstructionJobOptions
            {
                Fmri = At(Layout.Data),
                Run = At(Layout.Decoders),
                Output = At(folder),
                ShuffleMotionFmri = shuffle,
                WithoutMotionDecoder = ablation,
                // MP4s of the reconstructions the report shows only; the control and the ablation are scored, not watched.
                WriteMp4 = !shuffle && !ablation,
                Force = force,
            }, config, device, progress, log);
        }
        Done("reconstruct");

        var predictions = ClipSources.Open(Path.Combine(At(Layout.Reconstructions), VideoReconstructor.FramesFolder));
        var groundTruth = ClipSources.Subset(ClipSources.Open(Path.Combine(At(Layout.Data), SimulatedDatasetWriter.ClipsFolder)), predictions.ClipIds);
        var captions = Captions(At(Layout.Data));
        Stage(6, "score the reconstructions with the metric suite");
        var eval = DemoEvaluation(config, runFolder, predictions, groundTruth, captions, log);
        EvalReport.Write(At(Layout.Eval), eval, overwrite: true);
        Done("eval");

        Stage(7, "frame-shuffle permutation test, with the fMRI-shuffle control and without the motion decoder");
        var p = config.Permtest;
        var settings = new FrameShuffleSettings(p.Metric, p.Permutations, p.Repeats, config.Seed);
        var own = FrameShuffleTest.Run(predictions, groundTruth, settings, progress);
        FrameShuffleReport.Write(At(Layout.Permtest), own, overwrite: true);
        var comparison = FmriShuffleComparison.Test(own, ClipSources.Open(Path.Combine(At(Layout.ControlReconstructions), VideoReconstructor.FramesFolder)), groundTruth, settings, progress);
        var control = comparison.Control;
        comparison.Write(At(Layout.Permtest), overwrite: true);
        var withoutMotion = FrameShuffleTest.Run(ClipSources.Open(Path.Combine(At(Layout.AblationReconstructions), VideoReconstructor.FramesFolder)), groundTruth, settings, progress);
        FrameShuffleReport.Write(At(Layout.AblationPermtest), withoutMotion, overwrite: true);
        log.Information("Frame-shuffle test ({Metric}): p = {P:G3} ± {Std:G2} with the clips' own fMRI, {Pc:G3} ± {Stdc:G2} with shuffled fMRI, {Pa:G3} ± {Stda:G2} without the motion decoder; own better than shuffled on {Better}/{Clips} clips (paired Wilcoxon p = {W:G3}) → motion from the fMRI: {Verdict}",
            p.Metric, own.OverallMeanP, own.OverallStdP, control.OverallMeanP, control.OverallStdP, withoutMotion.OverallMeanP, withoutMotion.OverallStdP,
            comparison.OwnBetter, own.Clips.Count, comparison.PairedScores.PValue, comparison.MotionFromFmri ? "yes" : "not shown");
        Done("permtest");

        Stage(8, $"write {At(Layout.Report)}");
        WriteReport(config, runFolder, scores, eval, comparison, withoutMotion, seconds, groundTruth, captions, log);
        Done("report");
        log.Information("Demo stages took {Stages}", string.Join(", ", seconds.Select(kv => $"{kv.Key} {kv.Value:F0} s")));
        return new DemoResult(Layout, scores, eval, comparison, withoutMotion, seconds);
    }

    /// <summary>The dataset's captions by clip id (the manifest names the file).</summary>
    private static IReadOnlyDictionary<string, string> Captions(string dataset)
    {
        var manifest = DatasetManifest.Read(dataset);
        return CaptionTable.Read(DatasetManifest.Resolve(dataset, manifest.Captions ?? "captions.jsonl")).ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    /// <summary>report.html: ground truth beside reconstruction for every test clip, the tables, the figures and the resolved config.</summary>
    public static void WriteReport(MindAnimatorConfig config, string runFolder, IReadOnlyList<DecoderScore> scores, EvalResult eval, FmriShuffleComparison permtest,
        FrameShuffleResult withoutMotion, IReadOnlyDictionary<string, double> stageSeconds, IClipSource groundTruth, IReadOnlyDictionary<string, string> captions, ILogger log)
    {
        const string truthFolder = "report_files/ground_truth";
        Directory.CreateDirectory(Path.Combine(runFolder, truthFolder));
        var clips = new List<ReportClip>();
        foreach (var id in eval.ClipIds)
        {
            var truth = $"{truthFolder}/{id}.gif";
            VideoFiles.WriteGif(Path.Combine(runFolder, truth), groundTruth.Read(id), 8, overwrite: true);
            clips.Add(new ReportClip(id, captions.GetValueOrDefault(id), truth, $"{Layout.Reconstructions}/{VideoReconstructor.GifFolder}/{id}.gif"));
        }
        string F(double v) => ReportTables.Format(v);
        var decoderTable = new ReportTable("Decoders on held-out clips",
            new[] { "decoder", "score", "own fMRI", "shuffled fMRI", "paired p", "reference", "better than both" },
            scores.Select(s => (IReadOnlyList<string>)new[]
            {
                s.Decoder, s.Name + (s.HigherIsBetter ? " ↑" : " ↓"), F(s.Value), F(s.ShuffledFmri), s.PairedP is { } p ? F(p) : "", $"{F(s.Reference)} ({s.ReferenceName})", s.BeatsControls ? "yes" : "no",
            }).ToList(),
            "Shuffled fMRI: every clip decoded from another test clip's fMRI (a seeded derangement); paired p: Wilcoxon signed-rank test of the per-clip values, own vs shuffled fMRI "
            + "(better than both requires p < 0.05 where it is given). " + string.Join(" ", scores.Select(s => $"{s.Name}: {s.Description}.")));
        var o = permtest.Own;
        var c = permtest.Control;
        IReadOnlyList<string> Row(string name, FrameShuffleResult r) =>
            new[] { name, F(r.MeanScore), $"{F(r.OverallMeanP)} ± {F(r.OverallStdP)}", F(r.OverallConservativeP), $"{r.Clips.Count(x => x.MeanP < 0.05)} of {r.Clips.Count}" };
        var controlTable = new ReportTable("Is the motion from the brain? Frame-order test with the clip's own fMRI, another clip's, and no motion decoder",
            new[] { "motion decoder fed", $"mean {o.Settings.Metric}", "p (mean ± std over repeats)", "p conservative", "clips with p < 0.05" },
            new[]
            {
                Row("the clip's own fMRI", o),
                Row("another clip's fMRI (control)", c),
                Row("no motion decoder: first frame repeated (the paper's ablation)", withoutMotion),
            },
            $"{o.Settings.Permutations} permutations × {o.Settings.Repeats} repeats; p = share of frame permutations scoring at least as well as the frames in order. "
            + $"Clip by clip the own-fMRI reconstruction scores better on {permtest.OwnBetter} of {o.Clips.Count} clips (paired Wilcoxon p = {F(permtest.PairedScores.PValue)}): "
            + (permtest.MotionFromFmri ? "the motion comes from the fMRI. " : "the motion is not shown to come from the fMRI. ")
            + "A small frame-order p alone does not show it: any temporally smooth reconstruction passes that test, the control's too.");
        var timing = new ReportTable("Stage times", new[] { "stage", "seconds" },
            stageSeconds.Select(kv => (IReadOnlyList<string>)new[] { kv.Key, kv.Value.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) }).ToList());
        var figures = DecoderTaskFactory.Kinds.Select(k => new ReportFigure($"{k} decoder: training and validation loss", $"{Layout.Decoders}/{k}/loss_curve.png")).ToList();
        figures.Add(new ReportFigure("Frame-shuffle test, the clips' own fMRI: mean EPE of permuted frames vs frames in order", $"{Layout.Permtest}/histogram.png"));
        figures.Add(new ReportFigure("Control: the motion decoder fed other clips' fMRI", $"{Layout.Permtest}/control/histogram.png"));
        figures.Add(new ReportFigure("Ablation: without the motion decoder", $"{Layout.AblationPermtest}/histogram.png"));
        var resolved = Path.Combine(runFolder, "config.resolved.yaml");
        RunReport.Write(Path.Combine(runFolder, Layout.Report), new RunReportContent
        {
            Title = "mindanim demo: videos reconstructed from a simulated brain",
            Subtitle = "Mind-Animator (Lu et al., ICLR 2025) end to end on the embedded simulated default; every number below was measured in this run.",
            Provenance = new[]
            {
                new ReportFact("mindanim", ToolInfo.Version),
                new ReportFact("seed", config.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new ReportFact("written", DateTimeOffset.UtcNow.ToString("u", System.Globalization.CultureInfo.InvariantCulture)),
                new ReportFact("test clips", eval.ClipIds.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            },
            Clips = clips,
            Tables = new[] { ReportTables.FromEval(eval, "Reconstructions vs ground truth"), decoderTable, controlTable, timing },
            Figures = figures,
            ConfigYaml = File.Exists(resolved) ? File.ReadAllText(resolved) : ConfigBinder.ToYaml(config),
        }, overwrite: true, log);
    }

    /// <summary>
    /// The metric suite with stand-ins for the downloaded models, built from the demo prior's CLIP (which never saw a
    /// test clip): CLIP-pcc with its image tower; VIFI with its frame-mean video embedding (ViFi-CLIP's pooling, not
    /// ViFi-CLIP); N-way with a zero-shot classifier whose classes are the test clips' distinct captions.
    /// </summary>
    public static EvalResult DemoEvaluation(MindAnimatorConfig config, string runFolder, IClipSource predictions, IClipSource groundTruth,
        IReadOnlyDictionary<string, string> captions, ILogger log)
    {
        var clipFolder = Path.GetFullPath(ModelFolders.Clip(config));
        var modelsFolder = Path.Combine(runFolder, Layout.Eval, "models");
        var testIds = predictions.ClipIds.ToHashSet(StringComparer.Ordinal);
        var classes = captions.Where(kv => testIds.Contains(kv.Key)).Select(kv => kv.Value).Distinct(StringComparer.Ordinal).ToList();
        var classifier = ZeroShotClassifierFolders.WriteForCaptions(Path.Combine(modelsFolder, "test-captions"), clipFolder, classes, overwrite: true);
        var video = Path.Combine(modelsFolder, "clip-frame-mean");
        Directory.CreateDirectory(video);
        AtomicFile.WriteAllText(Path.Combine(video, VideoEncoderSpec.FileName),
            new System.Text.Json.Nodes.JsonObject { ["format"] = VideoEncoderSpec.Format, ["clip"] = clipFolder, ["pooling"] = VideoEncoderSpec.Mean }.ToJsonString(), overwrite: true);
        var names = config.Eval.Metrics.ToList();
        if (classes.Count < 52)
        {
            log.Warning("Only {Classes} distinct test captions: leaving out the 50-way metrics (they need at least 52 classes)", classes.Count);
            names.RemoveAll(n => n.StartsWith("50way", StringComparison.Ordinal));
        }
        var definitions = MetricCatalog.Resolve(new[] { string.Join(",", names) });
        var folders = new EvalModelSettings { ClipImage = clipFolder, Vifi = video, ImageClassifier = classifier, VideoClassifier = classifier };
        var models = EvalModelCatalog.Default.Load(ClipEvaluator.ModelsNeeded(definitions), folders);
        log.Information("Demo eval models: CLIP {Clip}; N-way classes = the {Classes} distinct test captions (zero-shot); VIFI = CLIP frame-mean stand-in", clipFolder, classes.Count);
        return ClipEvaluator.Evaluate(predictions, groundTruth, definitions, models, EvalOptions.From(config), log);
    }
}
