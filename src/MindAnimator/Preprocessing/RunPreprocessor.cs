// Mirrors the per-run steps of Mind-Animator Data_preprocess/CC2017/step4_fMRI_preparation_FLSR.py:
// volumes [lag, lag + 240) → order-4 detrend → z-score → average over repeats → select voxels → standard-scale.
using MindAnimator.Config;

namespace MindAnimator.Preprocessing;

/// <summary>
/// Turns raw runs (time × voxel float32, row-major) into clip samples: keep the lagged window of volumes aligned to
/// the clips, detrend, z-score per voxel, then average the volumes of each clip. Shared by the simulator (which
/// streams column blocks through <see cref="PrepareColumns"/>) and the real-data importers (whole runs).
/// </summary>
public sealed class RunPreprocessor
{
    private readonly PolynomialDetrender _detrender;

    public RunPreprocessor(PreprocessSettings settings, int clipsPerRun, int volumesPerClip = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(clipsPerRun, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(volumesPerClip, 1);
        Settings = settings;
        ClipsPerRun = clipsPerRun;
        VolumesPerClip = volumesPerClip;
        _detrender = new PolynomialDetrender(WindowVolumes, settings.DetrendOrder);
    }

    public PreprocessSettings Settings { get; }

    public int ClipsPerRun { get; }

    public int VolumesPerClip { get; }

    /// <summary>Volumes kept per run (clips × volumes per clip).</summary>
    public int WindowVolumes => ClipsPerRun * VolumesPerClip;

    /// <summary>Doubles of scratch <see cref="PrepareColumns"/> needs per column.</summary>
    public int ScratchPerColumn => Math.Max(_detrender.BasisSize, 2);

    /// <summary>The lag in volumes for a split: training and validation runs use the train lag, test runs the test lag.</summary>
    public int LagFor(string split) => split == Data.Splits.Test ? Settings.TestLagTrs : Settings.TrainLagTrs;

    /// <summary>Checks a run is long enough for its lagged window; the message names <paramref name="source"/>.</summary>
    public void CheckRunLength(int timepoints, int lag, string source)
    {
        if (lag + WindowVolumes > timepoints)
        {
            throw new MindAnimatorException($"{source}: a run of {timepoints} volumes has no volumes [{lag}..{lag + WindowVolumes - 1}] for a lag of {lag} TRs and {ClipsPerRun} clips × {VolumesPerClip} volumes");
        }
    }

    /// <summary>Lagged window of a whole run, detrended and z-scored: a new WindowVolumes × voxels matrix.</summary>
    public float[] PrepareRun(ReadOnlySpan<float> run, int timepoints, int voxels, int lag, string source = "run", int maxThreads = 0)
    {
        if ((long)timepoints * voxels != run.Length)
        {
            throw new MindAnimatorException($"{source}: expected {timepoints} × {voxels} values, got {run.Length}");
        }
        CheckRunLength(timepoints, lag, source);
        var window = run.Slice(lag * voxels, WindowVolumes * voxels).ToArray();
        ColumnStatistics.ForColumnBlocks(voxels, maxThreads, ScratchPerColumn, (c0, n, scratch) => PrepareColumns(window, voxels, c0, n, scratch));
        return window;
    }

    /// <summary>Detrends and z-scores columns [col0, col0 + cols) of a window (WindowVolumes × stride) in place.</summary>
    public void PrepareColumns(Span<float> window, int stride, int col0, int cols, Span<double> scratch)
    {
        _detrender.ApplyColumns(window, stride, col0, cols, scratch);
        if (Settings.ZScore)
        {
            ColumnStatistics.ZScoreColumns(window, WindowVolumes, stride, col0, cols, scratch);
        }
    }

    /// <summary>
    /// Adds the clip samples (mean of each clip's volumes) of columns [col0, col0 + cols) of a prepared window to
    /// <paramref name="sums"/> (clips × <paramref name="sumStride"/>, same columns), for repeat averaging.
    /// </summary>
    public void AccumulateClipSamples(ReadOnlySpan<float> window, int stride, int col0, int cols, Span<float> sums, int sumStride, int sumCol0)
    {
        var inv = 1f / VolumesPerClip;
        for (var k = 0; k < ClipsPerRun; k++)
        {
            var dst = sums.Slice((k * sumStride) + sumCol0, cols);
            for (var m = 0; m < VolumesPerClip; m++)
            {
                var src = window.Slice((((k * VolumesPerClip) + m) * stride) + col0, cols);
                for (var c = 0; c < cols; c++)
                {
                    dst[c] += src[c] * inv;
                }
            }
        }
    }

    /// <summary>Clip samples averaged over the prepared windows of a segment's repeats: clips × voxels.</summary>
    public float[] AverageRepeats(IReadOnlyList<float[]> preparedWindows, int voxels)
    {
        if (preparedWindows.Count == 0)
        {
            throw new ArgumentException("no repeats to average", nameof(preparedWindows));
        }
        var sums = new float[ClipsPerRun * voxels];
        foreach (var w in preparedWindows)
        {
            if (w.Length != WindowVolumes * voxels)
            {
                throw new ArgumentException($"each prepared window must be {WindowVolumes} × {voxels} values, got {w.Length}", nameof(preparedWindows));
            }
            AccumulateClipSamples(w, voxels, 0, voxels, sums, voxels, 0);
        }
        var inv = 1f / preparedWindows.Count;
        for (var i = 0; i < sums.Length; i++)
        {
            sums[i] *= inv;
        }
        return sums;
    }

    /// <summary>Columns <paramref name="selected"/> of a rows × voxels matrix, as a new rows × selected matrix.</summary>
    public static float[] SelectColumns(ReadOnlySpan<float> data, int rows, int voxels, IReadOnlyList<int> selected)
    {
        var outCols = selected.Count;
        var result = new float[rows * outCols];
        for (var r = 0; r < rows; r++)
        {
            var src = data.Slice(r * voxels, voxels);
            var dst = result.AsSpan(r * outCols, outCols);
            for (var j = 0; j < outCols; j++)
            {
                dst[j] = src[selected[j]];
            }
        }
        return result;
    }
}
