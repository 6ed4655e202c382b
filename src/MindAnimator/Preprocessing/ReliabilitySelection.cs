// Mirrors intra_subj_corr / visual_activate_mask in Mind-Animator Data_preprocess/CC2017/step4_fMRI_preparation_FLSR.py.
using MathNet.Numerics;

namespace MindAnimator.Preprocessing;

/// <summary>
/// Collects, per training segment, each voxel's Fisher-z of the correlation between repeats, then tests reliability
/// across segments: one-sample t-test of z against 0, Bonferroni-adjusted p, keep the N smallest adjusted p.
/// Holds one row of doubles per segment only, so runs can be streamed through it.
/// </summary>
public sealed class ReliabilityAccumulator
{
    private readonly List<double[]> _fisherZ = new();

    public ReliabilityAccumulator(int voxels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(voxels);
        Voxels = voxels;
    }

    public int Voxels { get; }

    public int Segments => _fisherZ.Count;

    /// <summary>
    /// Adds one segment from its preprocessed repeats (each time × voxel, same shape). With two repeats this is the
    /// official statistic; with more, the Fisher z is averaged over all pairs of repeats.
    /// </summary>
    public void AddSegment(IReadOnlyList<float[]> repeats, int rows, int maxThreads = 0)
    {
        if (repeats.Count < 2)
        {
            throw new ArgumentException($"reliability needs at least 2 repeats of a segment, got {repeats.Count}", nameof(repeats));
        }
        foreach (var r in repeats)
        {
            if (r.Length != (long)rows * Voxels)
            {
                throw new ArgumentException($"each repeat must be {rows} × {Voxels} values, got {r.Length}", nameof(repeats));
            }
        }
        var z = ReserveSegment();
        ColumnStatistics.ForColumnBlocks(Voxels, maxThreads, 6, (c0, n, scratch) =>
            FisherZOfRepeats(repeats, rows, Voxels, c0, n, z.AsSpan(c0, n), scratch));
    }

    /// <summary>Adds a segment's per-voxel Fisher z values directly.</summary>
    public void AddSegmentFisherZ(ReadOnlySpan<double> z)
    {
        if (z.Length != Voxels)
        {
            throw new ArgumentException($"expected {Voxels} Fisher z values, got {z.Length}", nameof(z));
        }
        z.CopyTo(ReserveSegment());
    }

    /// <summary>A new zeroed row of Fisher z for one segment, to be filled by the caller (block-parallel writers).</summary>
    public double[] ReserveSegment()
    {
        var row = new double[Voxels];
        lock (_fisherZ)
        {
            _fisherZ.Add(row);
        }
        return row;
    }

    /// <summary>
    /// Mean over repeat pairs of the Fisher z of the Pearson r, for columns [col0, col0 + cols) of time × stride
    /// matrices. <paramref name="scratch"/>: 6 × cols doubles.
    /// </summary>
    public static void FisherZOfRepeats(IReadOnlyList<float[]> repeats, int rows, int stride, int col0, int cols, Span<double> z, Span<double> scratch)
    {
        var r = scratch[..cols];
        var work = scratch.Slice(cols, 5 * cols);
        z[..cols].Clear();
        var pairs = 0;
        for (var i = 0; i < repeats.Count; i++)
        {
            for (var j = i + 1; j < repeats.Count; j++)
            {
                ColumnStatistics.PearsonColumns(repeats[i], repeats[j], rows, stride, col0, cols, r, work);
                for (var c = 0; c < cols; c++)
                {
                    z[c] += FisherZ(r[c]);
                }
                pairs++;
            }
        }
        for (var c = 0; c < cols; c++)
        {
            z[c] /= pairs;
        }
    }

    /// <summary>0.5 ln((1 + r)/(1 − r)); |r| = 1 is clamped (the official code would give ±inf and then NaN p-values).</summary>
    public static double FisherZ(double r)
    {
        const double limit = 1 - 1e-12;
        return Math.Atanh(Math.Clamp(r, -limit, limit));
    }

    /// <summary>The t-test across segments for every voxel.</summary>
    public ReliabilityResult Compute()
    {
        var n = Segments;
        if (n < 2)
        {
            throw new InvalidOperationException($"the reliability t-test needs at least 2 training segments, got {n}");
        }
        var t = new double[Voxels];
        var p = new double[Voxels];
        var meanZ = new double[Voxels];
        for (var v = 0; v < Voxels; v++)
        {
            double mean = 0;
            for (var s = 0; s < n; s++)
            {
                mean += _fisherZ[s][v];
            }
            mean /= n;
            double ss = 0;
            for (var s = 0; s < n; s++)
            {
                var d = _fisherZ[s][v] - mean;
                ss += d * d;
            }
            var sd = Math.Sqrt(ss / (n - 1));
            meanZ[v] = mean;
            (t[v], p[v]) = OneSampleTTest(mean, sd, n);
        }
        var adjusted = new double[Voxels];
        for (var v = 0; v < Voxels; v++)
        {
            adjusted[v] = Math.Min(1, p[v] * Voxels);
        }
        return new ReliabilityResult(meanZ, t, p, adjusted, n);
    }

    /// <summary>scipy.stats.ttest_1samp(x, 0) from the sample mean and sd (ddof 1): t and two-sided p.</summary>
    public static (double T, double P) OneSampleTTest(double mean, double sd, int n)
    {
        var df = n - 1;
        if (sd == 0 || double.IsNaN(sd))
        {
            return mean == 0 ? (double.NaN, 1) : (mean > 0 ? double.PositiveInfinity : double.NegativeInfinity, 0);
        }
        var t = mean / (sd / Math.Sqrt(n));
        // Two-sided p = I_{df/(df+t²)}(df/2, 1/2): no 1 − CDF cancellation for large |t|.
        var p = SpecialFunctions.BetaRegularized(df / 2.0, 0.5, df / (df + (t * t)));
        return (t, p);
    }
}

/// <summary>Per-voxel reliability across training segments.</summary>
/// <param name="MeanFisherZ">Mean over segments of the repeat-to-repeat Fisher z.</param>
/// <param name="T">One-sample t statistic of the Fisher z against 0.</param>
/// <param name="P">Two-sided p-value.</param>
/// <param name="AdjustedP">Bonferroni-adjusted p (p × voxels, at most 1).</param>
/// <param name="Segments">Number of segments tested.</param>
public sealed record ReliabilityResult(double[] MeanFisherZ, double[] T, double[] P, double[] AdjustedP, int Segments)
{
    /// <summary>
    /// Voxel indices by increasing adjusted p. Ties (all voxels at the Bonferroni cap of 1, common with few or short
    /// segments) are broken by raw p then index when <paramref name="officialTieBreak"/> is false; the official
    /// min_indices keeps index order among ties (Python's stable sort), which picks arbitrary voxels once fewer than N
    /// survive the correction.
    /// </summary>
    public int[] Ranking(bool officialTieBreak = false)
    {
        var idx = Enumerable.Range(0, AdjustedP.Length).ToArray();
        var key = AdjustedP.Select(p => double.IsNaN(p) ? double.PositiveInfinity : p).ToArray();
        var raw = P.Select(p => double.IsNaN(p) ? double.PositiveInfinity : p).ToArray();
        Array.Sort(idx, (a, b) =>
        {
            var c = key[a].CompareTo(key[b]);
            if (c == 0 && !officialTieBreak)
            {
                c = raw[a].CompareTo(raw[b]);
            }
            return c != 0 ? c : a.CompareTo(b);
        });
        return idx;
    }

    /// <summary>The <paramref name="count"/> most reliable voxels, in increasing voxel order (the official mask order).</summary>
    public int[] SelectMostReliable(int count, bool officialTieBreak = false)
    {
        if (count < 1 || count > AdjustedP.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"cannot select {count} of {AdjustedP.Length} voxels");
        }
        var chosen = Ranking(officialTieBreak)[..count];
        Array.Sort(chosen);
        return chosen;
    }
}
