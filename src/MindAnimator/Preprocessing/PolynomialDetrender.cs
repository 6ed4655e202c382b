// Mirrors amri_sig_detrend in Mind-Animator Data_preprocess/CC2017/step4_fMRI_preparation_FLSR.py (np.polyfit per voxel),
// computed as one least-squares projection per run.
using System.Numerics;

namespace MindAnimator.Preprocessing;

/// <summary>
/// Removes a polynomial trend of order <see cref="Order"/> from every voxel of a time × voxel run: residual =
/// X − Q(QᵀX) with Q an orthonormal basis of the polynomials on the run's time axis. The residual equals np.polyfit's
/// (any basis of the same polynomial space gives the same least-squares fit) without a fit per voxel.
/// </summary>
public sealed class PolynomialDetrender
{
    // Column blocks: wide enough for SIMD, narrow enough that K rows of coefficients stay in L1.
    private const int BlockColumns = 512;

    private readonly double[] _basis; // T × K, row-major

    public PolynomialDetrender(int timepoints, int order)
    {
        if (timepoints < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(timepoints), timepoints, "a run needs at least one time point");
        }
        if (order < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, "the polynomial order must be ≥ 0");
        }
        Timepoints = timepoints;
        Order = Math.Min(order, timepoints - 1);
        _basis = BuildBasis(timepoints, Order + 1);
    }

    public int Timepoints { get; }

    /// <summary>The order used (the requested one, capped at T − 1).</summary>
    public int Order { get; }

    public int BasisSize => Order + 1;

    /// <summary>Q[t, k] of the orthonormal basis.</summary>
    public double Basis(int t, int k) => _basis[(t * BasisSize) + k];

    /// <summary>Detrends a whole time × voxel matrix in place, column blocks in parallel.</summary>
    public void Apply(float[] data, int voxels, int maxThreads = 0)
    {
        CheckShape(data.Length, voxels);
        var blocks = (voxels + BlockColumns - 1) / BlockColumns;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxThreads > 0 ? maxThreads : Environment.ProcessorCount };
        Parallel.For(0, blocks, options, () => new double[BasisSize * BlockColumns], (b, _, scratch) =>
        {
            var c0 = b * BlockColumns;
            ApplyColumns(data, voxels, c0, Math.Min(BlockColumns, voxels - c0), scratch);
            return scratch;
        }, _ => { });
    }

    /// <summary>
    /// Detrends columns [col0, col0 + cols) of a time × <paramref name="stride"/> row-major matrix in place.
    /// <paramref name="scratch"/> needs BasisSize × cols doubles.
    /// </summary>
    public void ApplyColumns(Span<float> data, int stride, int col0, int cols, Span<double> scratch)
    {
        if (cols == 0)
        {
            return;
        }
        if (data.Length < ((Timepoints - 1) * stride) + col0 + cols)
        {
            throw new ArgumentException($"matrix of {data.Length} values is smaller than {Timepoints} time points × stride {stride}", nameof(data));
        }
        var k = BasisSize;
        var coef = scratch[..(k * cols)];
        coef.Clear();
        // C = QᵀX, accumulated row by row so X is read once, contiguously.
        for (var t = 0; t < Timepoints; t++)
        {
            var row = data.Slice((t * stride) + col0, cols);
            for (var j = 0; j < k; j++)
            {
                Axpy(_basis[(t * k) + j], row, coef.Slice(j * cols, cols));
            }
        }
        // X −= QC.
        for (var t = 0; t < Timepoints; t++)
        {
            var row = data.Slice((t * stride) + col0, cols);
            SubtractCombination(row, _basis.AsSpan(t * k, k), coef, cols);
        }
    }

    private void CheckShape(int length, int voxels)
    {
        if (voxels < 0 || (long)Timepoints * voxels != length)
        {
            throw new ArgumentException($"expected a {Timepoints} × {voxels} matrix ({(long)Timepoints * voxels} values), got {length} values");
        }
    }

    // acc[i] += a · x[i] in double.
    private static void Axpy(double a, ReadOnlySpan<float> x, Span<double> acc)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var va = new Vector<double>(a);
            var n = Vector<float>.Count;
            for (; i <= x.Length - n; i += n)
            {
                Vector.Widen(new Vector<float>(x.Slice(i, n)), out var lo, out var hi);
                var accLo = new Vector<double>(acc.Slice(i, n / 2));
                var accHi = new Vector<double>(acc.Slice(i + (n / 2), n / 2));
                (accLo + (va * lo)).CopyTo(acc.Slice(i, n / 2));
                (accHi + (va * hi)).CopyTo(acc.Slice(i + (n / 2), n / 2));
            }
        }
        for (; i < x.Length; i++)
        {
            acc[i] += a * x[i];
        }
    }

    // row[i] −= Σ_j q[j] · coef[j, i], computed in double.
    private static void SubtractCombination(Span<float> row, ReadOnlySpan<double> q, ReadOnlySpan<double> coef, int cols)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && cols >= Vector<float>.Count)
        {
            var n = Vector<float>.Count;
            var h = n / 2;
            for (; i <= cols - n; i += n)
            {
                Vector.Widen(new Vector<float>(row.Slice(i, n)), out var lo, out var hi);
                for (var j = 0; j < q.Length; j++)
                {
                    var vq = new Vector<double>(q[j]);
                    lo -= vq * new Vector<double>(coef.Slice((j * cols) + i, h));
                    hi -= vq * new Vector<double>(coef.Slice((j * cols) + i + h, h));
                }
                Vector.Narrow(lo, hi).CopyTo(row.Slice(i, n));
            }
        }
        for (; i < cols; i++)
        {
            double v = row[i];
            for (var j = 0; j < q.Length; j++)
            {
                v -= q[j] * coef[(j * cols) + i];
            }
            row[i] = (float)v;
        }
    }

    // Legendre polynomials on [-1, 1] (well conditioned), then Gram–Schmidt twice so QᵀQ = I to rounding.
    private static double[] BuildBasis(int t, int k)
    {
        var q = new double[t * k];
        for (var i = 0; i < t; i++)
        {
            var x = t == 1 ? 0 : -1 + (2.0 * i / (t - 1));
            double p0 = 1, p1 = x;
            for (var j = 0; j < k; j++)
            {
                double v;
                if (j == 0)
                {
                    v = p0;
                }
                else if (j == 1)
                {
                    v = p1;
                }
                else
                {
                    v = (((2 * j) - 1) * x * p1 - ((j - 1) * p0)) / j;
                    p0 = p1;
                    p1 = v;
                }
                q[(i * k) + j] = v;
            }
        }
        for (var pass = 0; pass < 2; pass++)
        {
            for (var j = 0; j < k; j++)
            {
                for (var m = 0; m < j; m++)
                {
                    double dot = 0;
                    for (var i = 0; i < t; i++)
                    {
                        dot += q[(i * k) + j] * q[(i * k) + m];
                    }
                    for (var i = 0; i < t; i++)
                    {
                        q[(i * k) + j] -= dot * q[(i * k) + m];
                    }
                }
                double norm = 0;
                for (var i = 0; i < t; i++)
                {
                    norm += q[(i * k) + j] * q[(i * k) + j];
                }
                norm = Math.Sqrt(norm);
                for (var i = 0; i < t; i++)
                {
                    q[(i * k) + j] /= norm;
                }
            }
        }
        return q;
    }
}
