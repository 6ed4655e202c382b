using MindAnimator.Data;

namespace MindAnimator.Evaluation;

// Mirrors Mind-Animator Explainable_analysis/shuffle_test (frame-order permutation test of the reconstructions).

/// <summary>Settings of the frame-shuffle test.</summary>
/// <param name="Metric">epe (lower is better), ssim or psnr (higher is better).</param>
public sealed record FrameShuffleSettings(string Metric, int Permutations, int Repeats, int Seed)
{
    public static readonly string[] SupportedMetrics = { "epe", "ssim", "psnr" };

    public bool LowerIsBetter => Metric == "epe";
}

/// <summary>One clip's result: its score, and per repeat the share of permutations that scored at least as well.</summary>
public sealed record ClipShuffleResult(string ClipId, double Score, double[] PValues)
{
    public double MeanP => PValues.Average();

    public double StdP => Std(PValues);

    internal static double Std(double[] v)
    {
        var m = v.Average();
        return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / v.Length);
    }
}

/// <summary>The whole test: per clip, and overall on the mean over clips (each draw permutes every clip independently).</summary>
public sealed record FrameShuffleResult(FrameShuffleSettings Settings, IReadOnlyList<ClipShuffleResult> Clips, double MeanScore,
    double[] OverallPValues, double[] PermutedMeans)
{
    public double OverallMeanP => OverallPValues.Average();

    public double OverallStdP => ClipShuffleResult.Std(OverallPValues);

    /// <summary>(1 + at least as good) / (1 + permutations), averaged over repeats: never 0, valid as a p-value.</summary>
    public double OverallConservativeP { get; init; }
}

/// <summary>
/// Does the motion of the reconstructions come from the brain? Each reconstruction is scored against its ground truth
/// with its frames in order and after random permutations of its frames; p = the share of permutations that score at
/// least as well (official definition; a conservative (1 + k)/(1 + n) is reported too). Frame-pair scores (the
/// Farneback flow between any two reconstructed frames, or a frame metric between any reconstructed and ground-truth
/// frame) are computed once per clip, so permutations cost lookups, not optical flow.
/// </summary>
public static class FrameShuffleTest
{
    public static FrameShuffleResult Run(IClipSource predictions, IClipSource groundTruth, FrameShuffleSettings settings, Runs.IProgressReporter progress)
    {
        var ids = Check(predictions, groundTruth, settings);
        var scorers = new List<Func<int[], double>>();
        using (var task = progress.Start("Scoring frame pairs", ids.Count, "clips"))
        {
            foreach (var id in ids)
            {
                scorers.Add(PairScorer(predictions.Read(id), groundTruth.Read(id), settings.Metric));
                task.Advance();
            }
        }
        var frames = predictions.Read(ids[0]).Frames;
        var identity = Enumerable.Range(0, frames).ToArray();
        var scores = scorers.Select(s => s(identity)).ToArray();
        var mean = scores.Average();
        var clipCounts = new int[ids.Count, settings.Repeats];
        var overall = new double[settings.Repeats];
        var overallConservative = new double[settings.Repeats];
        var permutedMeans = new List<double>();
        var rng = new Random(settings.Seed);
        using (var task = progress.Start("Permuting frames", settings.Repeats * settings.Permutations, "draws"))
        {
            for (var r = 0; r < settings.Repeats; r++)
            {
                var atLeastAsGood = 0;
                for (var p = 0; p < settings.Permutations; p++)
                {
                    double sum = 0;
                    for (var c = 0; c < ids.Count; c++)
                    {
                        var permuted = scorers[c](Shuffle(identity, rng));
                        sum += permuted;
                        if (AtLeastAsGood(permuted, scores[c], settings.LowerIsBetter))
                        {
                            clipCounts[c, r]++;
                        }
                    }
                    var permutedMean = sum / ids.Count;
                    permutedMeans.Add(permutedMean);
                    if (AtLeastAsGood(permutedMean, mean, settings.LowerIsBetter))
                    {
                        atLeastAsGood++;
                    }
                    task.Advance();
                }
                overall[r] = atLeastAsGood / (double)settings.Permutations;
                overallConservative[r] = (1.0 + atLeastAsGood) / (1.0 + settings.Permutations);
            }
        }
        var clips = ids.Select((id, c) => new ClipShuffleResult(id, scores[c],
            Enumerable.Range(0, settings.Repeats).Select(r => clipCounts[c, r] / (double)settings.Permutations).ToArray())).ToList();
        return new FrameShuffleResult(settings, clips, mean, overall, permutedMeans.ToArray()) { OverallConservativeP = overallConservative.Average() };
    }

    /// <summary>Checks the inputs and settings before any work (or output); returns the clip ids in sorted order.</summary>
    public static List<string> Check(IClipSource predictions, IClipSource groundTruth, FrameShuffleSettings settings)
    {
        if (!FrameShuffleSettings.SupportedMetrics.Contains(settings.Metric))
        {
            throw new MindAnimatorException($"permtest metric '{settings.Metric}' is not supported; use one of: {string.Join(", ", FrameShuffleSettings.SupportedMetrics)}.");
        }
        var ids = predictions.ClipIds.OrderBy(id => id, StringComparer.Ordinal).ToList();
        var missing = ids.Where(id => !groundTruth.ClipIds.Contains(id)).Concat(groundTruth.ClipIds.Where(id => !predictions.ClipIds.Contains(id))).ToList();
        if (missing.Count > 0)
        {
            throw new MindAnimatorException($"predictions ({predictions.Description}) and ground truth ({groundTruth.Description}) hold different clips: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? " …" : string.Empty)}");
        }
        if (ids.Count == 0)
        {
            throw new MindAnimatorException($"no clips in {predictions.Description}");
        }
        return ids;
    }

    // Ties count as "at least as good": a clip whose frames are all alike gets p = 1, as it should.
    private static bool AtLeastAsGood(double permuted, double original, bool lowerIsBetter) =>
        lowerIsBetter ? permuted <= original + 1e-12 : permuted >= original - 1e-12;

    private static int[] Shuffle(int[] identity, Random rng)
    {
        var p = (int[])identity.Clone();
        rng.Shuffle(p);
        return p;
    }

    /// <summary>Score of the prediction with its frames in order <c>perm</c> (frame i shown = prediction frame perm[i]).</summary>
    internal static Func<int[], double> PairScorer(ClipFrames prediction, ClipFrames groundTruth, string metric)
    {
        if (prediction.Frames != groundTruth.Frames || prediction.Height != groundTruth.Height || prediction.Width != groundTruth.Width)
        {
            throw new MindAnimatorException($"clip '{prediction.ClipId}': prediction {prediction.Frames}×{prediction.Height}×{prediction.Width} vs ground truth {groundTruth.Frames}×{groundTruth.Height}×{groundTruth.Width}");
        }
        var n = prediction.Frames;
        if (metric == "epe")
        {
            var gtFlows = OpticalFlowEpe.Flows(groundTruth);
            var flows = new float[n, n][];
            for (var a = 0; a < n; a++)
            {
                for (var b = 0; b < n; b++)
                {
                    if (a != b)
                    {
                        var pair = new byte[2 * prediction.FrameBytes];
                        prediction.Frame(a).CopyTo(pair);
                        prediction.Frame(b).CopyTo(pair.AsSpan(prediction.FrameBytes));
                        flows[a, b] = OpticalFlowEpe.Flows(new ClipFrames(prediction.ClipId, 2, prediction.Height, prediction.Width, pair))[0];
                    }
                }
            }
            return perm => OpticalFlowEpe.Epe(Enumerable.Range(0, n - 1).Select(i => flows[perm[i], perm[i + 1]]).ToArray(), gtFlows);
        }
        var score = new double[n, n];
        for (var a = 0; a < n; a++)
        {
            var p = RgbImage.FromClip(prediction, a);
            for (var b = 0; b < n; b++)
            {
                var g = RgbImage.FromClip(groundTruth, b);
                score[a, b] = metric == "ssim" ? ImageMetrics.Ssim(p, g) : ImageMetrics.PsnrMindAnimator(p, g);
            }
        }
        return perm => Enumerable.Range(0, n).Average(i => score[perm[i], i]);
    }
}
