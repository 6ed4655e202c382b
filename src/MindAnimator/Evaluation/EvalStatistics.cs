using MathNet.Numerics.Distributions;
using MathNet.Numerics.Statistics;

namespace MindAnimator.Evaluation;

/// <summary>Mean ± std over clips (population std, numpy's default, as the official scripts print) and a bootstrap CI.</summary>
/// <param name="Count">Clips with a finite value.</param>
/// <param name="NonFiniteCount">Clips whose value is NaN or infinite (hue similarity of an all-grey frame, skimage PSNR of identical frames) — left out of the statistics.</param>
public sealed record MetricSummary(int Count, int NonFiniteCount, double Mean, double Std, double CiLow, double CiHigh, double ConfidenceLevel, int Resamples);

/// <summary>Result of a two-sided Wilcoxon signed-rank test.</summary>
/// <param name="N">Pairs with a non-zero difference (zeros are dropped, scipy's zero_method "wilcox").</param>
/// <param name="Statistic">min(R+, R−), as scipy reports for the two-sided test.</param>
/// <param name="Method">"exact" (n ≤ 50, no ties) or "normal" (normal approximation with tie correction, no continuity correction).</param>
public sealed record WilcoxonResult(int N, double Statistic, double PValue, string Method, double MedianDifference);

/// <summary>Summary statistics, bootstrap confidence intervals and the Wilcoxon signed-rank test.</summary>
public static class EvalStatistics
{
    /// <summary>Mean, population std and a percentile-bootstrap CI of the mean over the finite values.</summary>
    public static MetricSummary Summarize(IReadOnlyList<double> values, int resamples, double confidenceLevel, int seed)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        var nan = values.Count - finite.Length;
        if (finite.Length == 0)
        {
            return new MetricSummary(0, nan, double.NaN, double.NaN, double.NaN, double.NaN, confidenceLevel, resamples);
        }
        var mean = finite.Mean();
        var std = finite.PopulationStandardDeviation();
        var (low, high) = BootstrapCi(finite, resamples, confidenceLevel, seed);
        return new MetricSummary(finite.Length, nan, mean, std, low, high, confidenceLevel, resamples);
    }

    /// <summary>
    /// Percentile bootstrap CI of the mean: <paramref name="resamples"/> resamples of the clips with replacement
    /// (seeded), the (1−level)/2 and (1+level)/2 quantiles of the resampled means (linear interpolation, numpy's default).
    /// </summary>
    public static (double Low, double High) BootstrapCi(IReadOnlyList<double> values, int resamples, double confidenceLevel, int seed)
    {
        if (values.Count == 0 || resamples <= 0)
        {
            return (double.NaN, double.NaN);
        }
        var means = BootstrapMeans(values, resamples, new Random(seed));
        Array.Sort(means);
        var alpha = (1 - confidenceLevel) / 2;
        return (SortedArrayStatistics.QuantileCustom(means, alpha, QuantileDefinition.R7),
                SortedArrayStatistics.QuantileCustom(means, 1 - alpha, QuantileDefinition.R7));
    }

    /// <summary>Means of <paramref name="resamples"/> bootstrap resamples of <paramref name="values"/>.</summary>
    public static double[] BootstrapMeans(IReadOnlyList<double> values, int resamples, Random random)
    {
        var means = new double[resamples];
        var n = values.Count;
        for (var b = 0; b < resamples; b++)
        {
            double sum = 0;
            for (var i = 0; i < n; i++)
            {
                sum += values[random.Next(n)];
            }
            means[b] = sum / n;
        }
        return means;
    }

    /// <summary>
    /// Two-sided Wilcoxon signed-rank test of paired values, with scipy.stats.wilcoxon's defaults: zero differences
    /// dropped, average ranks for ties, exact null distribution when n ≤ 50 without ties, otherwise the normal
    /// approximation with tie correction and no continuity correction.
    /// </summary>
    // Mirrors scipy 1.10 scipy/stats/_morestats.py (wilcoxon, defaults), used by Mind-Animator Evaluation_Metrics/bootstrap_with_wilcoxon.py.
    public static WilcoxonResult Wilcoxon(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count)
        {
            throw new ArgumentException($"paired samples differ in length: {x.Count} vs {y.Count}");
        }
        var all = x.Zip(y, (a, b) => a - b).Where(double.IsFinite).ToArray();
        var median = all.Length == 0 ? double.NaN : all.Median();
        var d = all.Where(v => v != 0).ToArray();
        var n = d.Length;
        if (n == 0)
        {
            return new WilcoxonResult(0, double.NaN, double.NaN, "none", median);
        }
        var ranks = AverageRanks(d.Select(Math.Abs).ToArray(), out var tieGroups);
        double rPlus = 0, rMinus = 0;
        for (var i = 0; i < n; i++)
        {
            if (d[i] > 0)
            {
                rPlus += ranks[i];
            }
            else
            {
                rMinus += ranks[i];
            }
        }
        var t = Math.Min(rPlus, rMinus);
        if (n <= 50 && tieGroups.Count == 0)
        {
            var p = Math.Min(1.0, 2 * ExactCdf(n, (int)t));
            return new WilcoxonResult(n, t, p, "exact", median);
        }
        var mean = n * (n + 1) / 4.0;
        var variance = (n * (n + 1) * ((2.0 * n) + 1) / 24.0) - (tieGroups.Sum(c => ((double)c * c * c) - c) / 48.0);
        var z = (t - mean) / Math.Sqrt(variance);
        var pNormal = 2 * Normal.CDF(0, 1, -Math.Abs(z));
        return new WilcoxonResult(n, t, Math.Min(1.0, pNormal), "normal", median);
    }

    /// <summary>P(R+ ≤ t) under the null for n pairs: subsets of {1..n} with rank sum ≤ t, over 2^n.</summary>
    internal static double ExactCdf(int n, int t)
    {
        var max = n * (n + 1) / 2;
        var counts = new double[max + 1];
        counts[0] = 1;
        for (var k = 1; k <= n; k++)
        {
            for (var s = max; s >= k; s--)
            {
                counts[s] += counts[s - k];
            }
        }
        double below = 0;
        for (var s = 0; s <= Math.Min(t, max); s++)
        {
            below += counts[s];
        }
        return below / Math.Pow(2, n);
    }

    private static double[] AverageRanks(double[] values, out List<int> tieGroups)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        tieGroups = new List<int>();
        var start = 0;
        while (start < order.Length)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }
            var rank = (start + end + 2) / 2.0;
            for (var i = start; i <= end; i++)
            {
                ranks[order[i]] = rank;
            }
            if (end > start)
            {
                tieGroups.Add(end - start + 1);
            }
            start = end + 1;
        }
        return ranks;
    }
}
