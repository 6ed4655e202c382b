using System.Globalization;
using System.Text;
using System.Text.Json;
using MindAnimator.Data.Formats;

namespace MindAnimator.Evaluation;

/// <summary>Writes a frame-shuffle result: permtest.json, per_clip.csv and histogram.png (the permuted means and the observed one).</summary>
public static class FrameShuffleReport
{
    public static void Write(string folder, FrameShuffleResult result, bool overwrite)
    {
        Directory.CreateDirectory(folder);
        var s = result.Settings;
        var json = new
        {
            test = "frame-order shuffle (Mind-Animator Explainable_analysis/shuffle_test)",
            metric = s.Metric,
            lower_is_better = s.LowerIsBetter,
            permutations = s.Permutations,
            repeats = s.Repeats,
            seed = s.Seed,
            clips = result.Clips.Count,
            mean_score = result.MeanScore,
            p_definition = "share of permutations scoring at least as well as the frames in order (official); mean ± std over repeats",
            overall = new { p_mean = result.OverallMeanP, p_std = result.OverallStdP, p_conservative = result.OverallConservativeP },
            per_clip = result.Clips.Select(c => new { clip_id = c.ClipId, score = c.Score, p_mean = c.MeanP, p_std = c.StdP }),
            clips_with_p_below_0_05 = result.Clips.Count(c => c.MeanP < 0.05),
        };
        AtomicFile.WriteAllText(Path.Combine(folder, "permtest.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }), overwrite);
        var csv = new StringBuilder("clip_id,score,p_mean,p_std\n");
        foreach (var c in result.Clips)
        {
            csv.Append(CultureInfo.InvariantCulture, $"{c.ClipId},{c.Score:R},{c.MeanP:R},{c.StdP:R}\n");
        }
        AtomicFile.WriteAllText(Path.Combine(folder, "per_clip.csv"), csv.ToString(), overwrite);

        var plot = new ScottPlot.Plot();
        // Bin the permuted means by hand: one vertical bar per bin.
        var lo = Math.Min(result.PermutedMeans.Min(), result.MeanScore);
        var hi = Math.Max(result.PermutedMeans.Max(), result.MeanScore);
        const int binCount = 30;
        var width = hi > lo ? (hi - lo) / binCount : 1;
        var counts = new double[binCount];
        foreach (var v in result.PermutedMeans)
        {
            counts[Math.Min(binCount - 1, (int)((v - lo) / width))]++;
        }
        var bars = plot.Add.Bars(Enumerable.Range(0, binCount).Select(b => lo + ((b + 0.5) * width)).ToArray(), counts);
        foreach (var bar in bars.Bars)
        {
            bar.Size = width * 0.9;
        }
        var line = plot.Add.VerticalLine(result.MeanScore);
        line.LegendText = "frames in order";
        plot.Title($"Frame-shuffle test ({s.Metric}): p = {result.OverallMeanP:G3} ± {result.OverallStdP:G2}");
        plot.XLabel($"mean {s.Metric} over clips, frames permuted");
        plot.YLabel("permutations");
        plot.ShowLegend();
        var png = plot.GetImageBytes(800, 500, ScottPlot.ImageFormat.Png);
        AtomicFile.WriteAllBytes(Path.Combine(folder, "histogram.png"), png, overwrite);
    }
}
