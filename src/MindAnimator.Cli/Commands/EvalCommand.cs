using System.CommandLine;
using System.Globalization;
using MindAnimator.Evaluation;
using Spectre.Console;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim eval`: score reconstructions against ground truth with the official metric definitions.</summary>
internal static class EvalCommand
{
    public static Command Build()
    {
        var pred = new Option<string?>("--pred") { Description = "Predictions: a clip store folder, a folder of GIFs (one per clip id), a .safetensors (one [frames,h,w,3] uint8 tensor per clip id) or a .npy [clips,frames,h,w,3]." };
        var gt = new Option<string?>("--gt") { Description = "Ground truth, in any of the --pred formats (e.g. the dataset's clips/ store)." };
        var gtSubset = new Option<bool>("--gt-subset") { Description = "The ground truth may hold more clips (e.g. a dataset's whole clips/ store): score the predictions against their own clips of it." };
        var sideBySide = new Option<string?>("--side-by-side") { Description = "Instead of --pred/--gt: a folder of side-by-side GIFs, ground truth left and reconstruction right (split in half as the official scripts do)." };
        var metrics = new Option<string?>("--metrics", "-m") { Description = $"Comma-separated metrics (default: eval.metrics, those whose models are configured). Known: {string.Join(", ", MetricCatalog.KnownNames)}; any <n>way-i / <n>way-v. N-way metrics report the official (ground truth = its top-3 classes) and a -strict (top-1) column." };
        var outDir = new Option<string?>("--out", "-o") { Description = "Folder for results.json (definitions, provenance, summaries, per-clip values) and per_clip.csv." };
        var compare = new Option<string?>("--compare") { Description = "Another method's results.json (same clips): paired Wilcoxon signed-rank test per metric." };
        var match = new Option<string>("--match") { Description = "Pair clips by clip id (default) or by position.", DefaultValueFactory = _ => "id" }.AcceptOnlyFromAmong("id", "order");
        var clipModel = new Option<string?>("--clip-model") { Description = "Folder of CLIP ViT-B/32 (openai/clip-vit-base-patch32) for clip-pcc (eval.models.clip_image)." };
        var vifiModel = new Option<string?>("--vifi-model") { Description = "Folder of ViFi-CLIP ViT-B/16 for vifi and the clip-pcc gate (eval.models.vifi)." };
        var imageClassifier = new Option<string?>("--image-classifier") { Description = "Folder of google/vit-base-patch16-224 for <n>way-i (eval.models.image_classifier)." };
        var videoClassifier = new Option<string?>("--video-classifier") { Description = "Folder of MCG-NJU/videomae-base-finetuned-kinetics for <n>way-v (eval.models.video_classifier)." };

        IEnumerable<string> Overrides(ParseResult parse)
        {
            foreach (var (option, key) in new[] { (clipModel, "clip_image"), (vifiModel, "vifi"), (imageClassifier, "image_classifier"), (videoClassifier, "video_classifier") })
            {
                if (parse.GetValue(option) is { } folder)
                {
                    yield return $"eval.models.{key}={folder}";
                }
            }
        }

        var command = CommandRunner.Verb("eval", "Score reconstructions with the paper's metric suite (official Mind-Animator definitions).", (ctx, parse) =>
        {
            var (prediction, groundTruth) = OpenInputs(parse.GetValue(pred), parse.GetValue(gt), parse.GetValue(sideBySide), parse.GetValue(gtSubset));
            var settings = ctx.Config.Eval;
            var requested = parse.GetValue(metrics);
            IReadOnlyList<MetricDefinition> definitions;
            if (requested is null)
            {
                var all = MetricCatalog.Resolve(settings.Metrics);
                definitions = all.Where(m => m.Needs.All(k => Configured(k, settings.Models))).ToList();
                var skipped = all.Except(definitions).Select(m => m.Name).ToList();
                if (skipped.Count > 0)
                {
                    ctx.Log.Warning("eval: skipping {Metrics}: their models are not configured (see eval.models.* or pass --metrics to require them)", string.Join(", ", skipped));
                }
                if (definitions.Count == 0)
                {
                    throw new MindAnimatorException("none of eval.metrics can run without models; pass --metrics ssim,psnr,hue-pcc,epe or configure eval.models.*");
                }
            }
            else
            {
                definitions = MetricCatalog.Resolve(new[] { requested });
            }
            var models = EvalModelCatalog.Default.Load(ClipEvaluator.ModelsNeeded(definitions), settings.Models);
            var options = EvalOptions.From(ctx.Config) with { MatchByOrder = parse.GetValue(match) == "order" };
            var output = parse.GetValue(outDir);
            var comparePath = parse.GetValue(compare);
            if (comparePath is not null && !File.Exists(comparePath))
            {
                throw new MindAnimatorException($"{comparePath}: results file for --compare not found");
            }
            if (output is not null)
            {
                ctx.CreateRun(output);
            }
            // Fail on mismatching inputs before any work starts.
            ClipEvaluator.Pair(prediction, groundTruth, options.MatchByOrder);
            EvalResult result;
            using (var task = ctx.Progress.Start("eval", prediction.ClipIds.Count, "clips"))
            {
                var last = 0;
                result = ClipEvaluator.Evaluate(prediction, groundTruth, definitions, models, options, ctx.Log, (done, _) =>
                {
                    task.Advance(done - last);
                    last = done;
                });
            }
            var comparisons = comparePath is null ? null : EvalReport.Compare(result, comparePath, options.Seed);
            PrintTable(result);
            if (comparisons is not null)
            {
                PrintComparison(comparisons, comparePath!);
            }
            if (ctx.Run is { } run)
            {
                var (json, csv) = EvalReport.Write(run.Path, result, overwrite: true, comparisons, comparePath is null ? null : Path.GetFullPath(comparePath));
                ctx.Log.Information("eval: wrote {Json} and {Csv}", json, csv);
            }
            return ExitCodes.Success;
        }, overrides: Overrides);
        foreach (var option in new Option[] { pred, gt, gtSubset, sideBySide, metrics, outDir, compare, match, clipModel, vifiModel, imageClassifier, videoClassifier })
        {
            command.Options.Add(option);
        }
        return command;
    }

    internal static (IClipSource Prediction, IClipSource GroundTruth) OpenInputs(string? pred, string? gt, string? sideBySide, bool gtSubset = false)
    {
        if (gtSubset && sideBySide is null && pred is not null && gt is not null)
        {
            var prediction = ClipSources.Open(pred);
            return (prediction, ClipSources.Subset(ClipSources.Open(gt), prediction.ClipIds));
        }
        if (sideBySide is not null)
        {
            if (pred is not null || gt is not null)
            {
                throw new MindAnimatorException("pass either --side-by-side or --pred and --gt, not both");
            }
            return (ClipSources.Open(sideBySide, GifHalf.Right), ClipSources.Open(sideBySide, GifHalf.Left));
        }
        if (pred is null || gt is null)
        {
            throw new MindAnimatorException("eval needs --pred and --gt (or --side-by-side)");
        }
        return (ClipSources.Open(pred), ClipSources.Open(gt));
    }

    private static bool Configured(EvalModelKind kind, Config.EvalModelSettings models) => !string.IsNullOrEmpty(kind switch
    {
        EvalModelKind.ClipImage => models.ClipImage,
        EvalModelKind.Vifi => models.Vifi,
        EvalModelKind.ImageClassifier => models.ImageClassifier,
        _ => models.VideoClassifier,
    });

    private static void PrintTable(EvalResult result)
    {
        var table = new Table().AddColumns("metric", "mean ± std", Markup.Escape($"{result.Options.ConfidenceLevel.ToString("P0", CultureInfo.InvariantCulture)} CI (bootstrap)"), "clips", "chance");
        foreach (var c in result.Columns)
        {
            var s = c.Summary;
            var clips = s.NonFiniteCount > 0 ? $"{s.Count} (+{s.NonFiniteCount} non-finite)" : s.Count.ToString(CultureInfo.InvariantCulture);
            table.AddRow(
                Markup.Escape(c.Name + (c.Metric.HigherIsBetter ? " ↑" : " ↓")),
                Markup.Escape($"{F(s.Mean)} ± {F(s.Std)}"),
                Markup.Escape($"[{F(s.CiLow)}, {F(s.CiHigh)}]"),
                Markup.Escape(clips),
                c.Chance is { } chance ? F(chance) : "");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape($"{result.ClipIds.Count} clips; predictions: {result.Prediction}; ground truth: {result.GroundTruth}."));
        AnsiConsole.MarkupLine(Markup.Escape("Definitions follow Mind-Animator's official Evaluation_Metrics scripts; only numbers computed with the same definitions are comparable:"));
        foreach (var m in result.Columns.Select(c => c.Metric).Distinct())
        {
            AnsiConsole.MarkupLine(Markup.Escape($"  {m.Name}: {m.Reference}"));
        }
    }

    private static void PrintComparison(IReadOnlyList<ColumnComparison> comparisons, string other)
    {
        var table = new Table().AddColumns("metric", "this", "other", "clips", "Wilcoxon W", "p", "method");
        foreach (var c in comparisons)
        {
            table.AddRow(Markup.Escape(c.Column), Markup.Escape(F(c.MeanThis)), Markup.Escape(F(c.MeanOther)), c.Clips.ToString(CultureInfo.InvariantCulture), Markup.Escape(F(c.PerClip.Statistic)), Markup.Escape(P(c.PerClip.PValue)), c.PerClip.Method);
        }
        AnsiConsole.MarkupLine(Markup.Escape($"Paired Wilcoxon signed-rank tests against {other}:"));
        AnsiConsole.Write(table);
    }

    private static string P(double p) => double.IsFinite(p) && p < 1e-4 ? p.ToString("0.##E+0", CultureInfo.InvariantCulture) : F(p);

    private static string F(double v) => double.IsFinite(v) ? v.ToString("0.####", CultureInfo.InvariantCulture) : EvalReport.Format(v);
}
