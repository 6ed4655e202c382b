// Mirrors zscore_normalize / np.corrcoef in Mind-Animator Data_preprocess/CC2017/step4_fMRI_preparation_FLSR.py
// and sklearn.preprocessing.StandardScaler (ddof 0, zero scale replaced by 1).
namespace MindAnimator.Preprocessing;

/// <summary>Per-column (per-voxel) statistics on row-major time × voxel matrices, accumulated in double.</summary>
public static class ColumnStatistics
{
    /// <summary>
    /// Z-scores columns [col0, col0 + cols) over <paramref name="rows"/> rows in place (population std, ddof 0).
    /// A constant column becomes 0 (the official code would produce NaN). <paramref name="scratch"/>: 2 × cols doubles.
    /// </summary>
    public static void ZScoreColumns(Span<float> data, int rows, int stride, int col0, int cols, Span<double> scratch)
    {
        var mean = scratch[..cols];
        var scale = scratch.Slice(cols, cols);
        MeanAndStd(data, rows, stride, col0, cols, mean, scale);
        for (var c = 0; c < cols; c++)
        {
            scale[c] = scale[c] > 0 ? 1.0 / scale[c] : 0;
        }
        for (var r = 0; r < rows; r++)
        {
            var row = data.Slice((r * stride) + col0, cols);
            for (var c = 0; c < cols; c++)
            {
                row[c] = (float)((row[c] - mean[c]) * scale[c]);
            }
        }
    }

    /// <summary>Z-scores every column of a rows × cols matrix in place.</summary>
    public static void ZScore(float[] data, int rows, int cols, int maxThreads = 0) =>
        ForColumnBlocks(cols, maxThreads, 2, (c0, n, scratch) => ZScoreColumns(data, rows, cols, c0, n, scratch));

    /// <summary>Mean and population standard deviation (ddof 0) of columns [col0, col0 + cols), two-pass.</summary>
    public static void MeanAndStd(ReadOnlySpan<float> data, int rows, int stride, int col0, int cols, Span<double> mean, Span<double> std)
    {
        mean[..cols].Clear();
        std[..cols].Clear();
        for (var r = 0; r < rows; r++)
        {
            var row = data.Slice((r * stride) + col0, cols);
            for (var c = 0; c < cols; c++)
            {
                mean[c] += row[c];
            }
        }
        for (var c = 0; c < cols; c++)
        {
            mean[c] /= rows;
        }
        for (var r = 0; r < rows; r++)
        {
            var row = data.Slice((r * stride) + col0, cols);
            for (var c = 0; c < cols; c++)
            {
                var d = row[c] - mean[c];
                std[c] += d * d;
            }
        }
        for (var c = 0; c < cols; c++)
        {
            std[c] = Math.Sqrt(std[c] / rows);
        }
    }

    /// <summary>
    /// Pearson correlation between the same columns of two matrices (np.corrcoef(a[:, j], b[:, j])[0, 1]);
    /// 0 where either column is constant. <paramref name="scratch"/>: 5 × cols doubles.
    /// </summary>
    public static void PearsonColumns(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int rows, int stride, int col0, int cols, Span<double> result, Span<double> scratch)
    {
        var sa = scratch[..cols];
        var sb = scratch.Slice(cols, cols);
        var saa = scratch.Slice(2 * cols, cols);
        var sbb = scratch.Slice(3 * cols, cols);
        var sab = scratch.Slice(4 * cols, cols);
        scratch[..(5 * cols)].Clear();
        // Centre on the first row first: sums of squares of raw fMRI values would lose precision.
        for (var r = 0; r < rows; r++)
        {
            var ra = a.Slice((r * stride) + col0, cols);
            var rb = b.Slice((r * stride) + col0, cols);
            var a0 = a.Slice(col0, cols);
            var b0 = b.Slice(col0, cols);
            for (var c = 0; c < cols; c++)
            {
                double x = ra[c] - a0[c];
                double y = rb[c] - b0[c];
                sa[c] += x;
                sb[c] += y;
                saa[c] += x * x;
                sbb[c] += y * y;
                sab[c] += x * y;
            }
        }
        for (var c = 0; c < cols; c++)
        {
            var va = saa[c] - (sa[c] * sa[c] / rows);
            var vb = sbb[c] - (sb[c] * sb[c] / rows);
            var cov = sab[c] - (sa[c] * sb[c] / rows);
            result[c] = va > 0 && vb > 0 ? Math.Clamp(cov / Math.Sqrt(va * vb), -1, 1) : 0;
        }
    }

    /// <summary>
    /// StandardScaler.fit_transform on a rows × cols matrix in place: per column (x − mean) / std, ddof 0, a zero
    /// std replaced by 1 as sklearn does. Returns the fitted means and scales.
    /// </summary>
    public static (double[] Mean, double[] Scale) StandardScale(float[] data, int rows, int cols, int maxThreads = 0)
    {
        if ((long)rows * cols != data.Length)
        {
            throw new ArgumentException($"expected a {rows} × {cols} matrix, got {data.Length} values", nameof(data));
        }
        var means = new double[cols];
        var scales = new double[cols];
        ForColumnBlocks(cols, maxThreads, 0, (c0, n, _) =>
        {
            var mean = means.AsSpan(c0, n);
            var scale = scales.AsSpan(c0, n);
            MeanAndStd(data, rows, cols, c0, n, mean, scale);
            for (var c = 0; c < n; c++)
            {
                if (scale[c] < MachineEpsilonTimes10 * Math.Max(1, Math.Abs(mean[c])))
                {
                    scale[c] = 1;
                }
            }
            for (var r = 0; r < rows; r++)
            {
                var row = data.AsSpan((r * cols) + c0, n);
                for (var c = 0; c < n; c++)
                {
                    row[c] = (float)((row[c] - mean[c]) / scale[c]);
                }
            }
        });
        return (means, scales);
    }

    internal const int BlockColumns = 512;

    // sklearn's _handle_zeros_in_scale threshold (10 · float64 machine epsilon).
    private const double MachineEpsilonTimes10 = 10 * 2.220446049250313e-16;

    /// <summary>Runs <paramref name="body"/>(col0, cols, scratch) over fixed column blocks in parallel.</summary>
    internal static void ForColumnBlocks(int cols, int maxThreads, int scratchPerColumn, Action<int, int, double[]> body)
    {
        var blocks = (cols + BlockColumns - 1) / BlockColumns;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxThreads > 0 ? maxThreads : Environment.ProcessorCount };
        Parallel.For(0, blocks, options, () => new double[Math.Max(1, scratchPerColumn * BlockColumns)], (b, _, scratch) =>
        {
            var c0 = b * BlockColumns;
            body(c0, Math.Min(BlockColumns, cols - c0), scratch);
            return scratch;
        }, _ => { });
    }
}
