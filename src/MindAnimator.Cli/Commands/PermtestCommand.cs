using System.CommandLine;
using System.Globalization;
using MindAnimator.Evaluation;
using Spectre.Console;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim permtest`: the frame-order shuffle test — does the reconstructed motion come from the brain?</summary>
internal static class PermtestCommand
{
    public static Command Build()
    {
        var pred = new Option<string?>("--pred") { Description = "Reconstructions, in any format `eval` reads (clip store, GIF folder, .safetensors, .npy)." };
        var gt = new Option<string?>("--gt") { Description = "Ground truth, in any of the --pred formats." };
        var gtSubset = new Option<bool>("--gt-subset") { Description = "The ground truth may hold more clips (e.g. a dataset's whole clips/ store): score the predictions against their own clips of it." };
        var sideBySide = new Option<string?>("--side-by-side") { Description = "Instead of --pred/--gt: side-by-side GIFs (ground truth left, reconstruction right)." };
        var outDir = new Option<string>("--out", "-o") { Description = "Folder for permtest.json, per_clip.csv and histogram.png.", DefaultValueFactory = _ => "runs/permtest" };
        var metric = new Option<string?>("--metric") { Description = "epe (default, lower is better), ssim or psnr (permtest.metric)." };
        var permutations = new Option<int?>("--permutations") { Description = "Permutations per repeat (permtest.permutations, official 100)." };
        var control = new Option<string?>("--control") { Description = "fMRI-shuffle control: the same clips reconstructed with `reconstruct --shuffle-motion-fmri`; tested the same way and compared clip by clip (paired Wilcoxon)." };
        var repeats = new Option<int?>("--repeats") { Description = "Repeats of the whole test, for mean ± std of p (permtest.repeats, official 5)." };

        IEnumerable<string> Overrides(ParseResult parse)
        {
            if (parse.GetValue(metric) is { } m)
            {
                yield return $"permtest.metric={m}";
            }
            if (parse.GetValue(permutations) is { } p)
            {
                yield return $"permtest.permutations={p}";
            }
            if (parse.GetValue(repeats) is { } r)
            {
                yield return $"permtest.repeats={r}";
            }
        }

        var command = CommandRunner.Verb("permtest", "Frame-shuffle permutation test: do the reconstructions' frame order (motion) match the ground truth better than chance?", (ctx, parse) =>
        {
            var (prediction, groundTruth) = EvalCommand.OpenInputs(parse.GetValue(pred), parse.GetValue(gt), parse.GetValue(sideBySide), parse.GetValue(gtSubset));
            var p = ctx.Config.Permtest;
            var settings = new FrameShuffleSettings(p.Metric, p.Permutations, p.Repeats, ctx.Config.Seed);
            FrameShuffleTest.Check(prediction, groundTruth, settings);
            var run = ctx.CreateRun(parse.GetValue(outDir)!);
            var result = FrameShuffleTest.Run(prediction, groundTruth, settings, ctx.Progress);
            FrameShuffleReport.Write(run.Path, result, ctx.Force);
            var table = new Table().AddColumns("clips", $"mean {p.Metric}", "p (mean ± std)", "p conservative", "clips with p < 0.05");
            table.AddRow(result.Clips.Count.ToString(CultureInfo.InvariantCulture), result.MeanScore.ToString("G4", CultureInfo.InvariantCulture),
                $"{result.OverallMeanP:G3} ± {result.OverallStdP:G2}", result.OverallConservativeP.ToString("G3", CultureInfo.InvariantCulture),
                result.Clips.Count(c => c.MeanP < 0.05).ToString(CultureInfo.InvariantCulture));
            if (parse.GetValue(control) is { } controlPath)
            {
                var comparison = FmriShuffleComparison.Test(result, ClipSources.Open(controlPath), groundTruth, settings, ctx.Progress);
                comparison.Write(run.Path, ctx.Force);
                var c = comparison.Control;
                table.AddRow($"control: {c.Clips.Count}", c.MeanScore.ToString("G4", CultureInfo.InvariantCulture), $"{c.OverallMeanP:G3} ± {c.OverallStdP:G2}",
                    c.OverallConservativeP.ToString("G3", CultureInfo.InvariantCulture), c.Clips.Count(x => x.MeanP < 0.05).ToString(CultureInfo.InvariantCulture));
                ctx.Log.Information("fMRI-shuffle control: p = {P:G3} ± {Std:G2}; own fMRI better on {Better}/{Clips} clips, paired Wilcoxon p = {W:G3} → motion from the fMRI: {Verdict}",
                    c.OverallMeanP, c.OverallStdP, comparison.OwnBetter, c.Clips.Count, comparison.PairedScores.PValue, comparison.MotionFromFmri ? "yes" : "not shown");
            }
            AnsiConsole.Write(table);
            ctx.Log.Information("Frame-shuffle test ({Metric}, {Permutations} permutations × {Repeats}): overall p = {P:G3} ± {Std:G2} → {Path}",
                p.Metric, p.Permutations, p.Repeats, result.OverallMeanP, result.OverallStdP, run.Path);
            return ExitCodes.Success;
        }, overrides: Overrides);
        foreach (var o in new Option[] { pred, gt, gtSubset, sideBySide, outDir, metric, permutations, repeats, control })
        {
            command.Options.Add(o);
        }
        return command;
    }
}
