using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Import;
using MindAnimator.Data.Neuro;
using MindAnimator.Preprocessing;
using MindAnimator.Runs;

namespace MindAnimator.Benchmarks;

/// <summary>
/// CIFTI dense time-series read throughput, detrend + z-score of one run, and a whole CC2017 subject imported at real
/// dimensions (18×2 + 5×10 runs of 245 × 91,282 float32; the runs are links to one written file, so reads come from
/// the page cache after the first: the number is compute-bound, not disk-bound).
/// </summary>
public sealed class NeuroImportBenchmark : IBenchmark
{
    public string Name => "neuro-import";

    public string Description => "CIFTI time-series read MB/s, detrend + z-score per run, a full CC2017-sized subject import (fMRI only)";

    public IReadOnlyList<Measurement> Run(BenchmarkContext context)
    {
        const int volumes = 245;
        var columns = context.Quick ? 9_128 : 91_282;
        var cortex = context.Quick ? 5_941 : 59_412;
        var results = new List<Measurement>();
        var models = SyntheticBrainModels(columns, cortex);
        var random = new Random(1);
        var data = new float[volumes * columns];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = 1000 + (float)(random.NextDouble() * 10);
        }
        var file = Path.Combine(context.WorkDir, "run.dtseries.nii");
        CiftiFile.WriteDenseSeries(file, 0, 2, models, data, overwrite: true);
        var megabytes = new FileInfo(file).Length / 1e6;
        CiftiFile.Read(file); // warm the page cache and the JIT

        var readAll = Best(3, () => CiftiFile.Read(file));
        results.Add(new Measurement("cifti_read_full", megabytes / readAll, "MB/s", $"{volumes} × {columns} float32 ({megabytes:F0} MB), page cache warm, incl. transpose to time × grayordinate"));
        var readCortex = Best(3, () => CiftiFile.Read(file, cortex));
        results.Add(new Measurement("cifti_read_cortex", megabytes * cortex / columns / readCortex, "MB/s", $"first {cortex} grayordinates only (prefix of the file)"));

        var settings = new PreprocessSettings();
        var preprocessor = new RunPreprocessor(settings, 240);
        foreach (var width in new[] { columns, cortex })
        {
            var run = width == columns ? data : CiftiFile.Read(file, cortex).Data;
            var seconds = Best(3, () => preprocessor.PrepareRun(run, volumes, width, settings.TrainLagTrs));
            results.Add(new Measurement($"detrend_zscore_{width}", seconds, "s", $"order-4 detrend + z-score of 240 of {volumes} volumes × {width} grayordinates, {Environment.ProcessorCount} threads"));
        }

        var layout = context.Quick ? new Cc2017Layout { TrainSegments = 3, TestSegments = 2, TestRepeats = 3 } : Cc2017Layout.Published;
        var root = Path.Combine(context.WorkDir, "cc2017");
        var runs = 0;
        foreach (var (split, segments, repeats) in new[] { (Splits.Train, layout.TrainSegments, layout.TrainRepeats), (Splits.Test, layout.TestSegments, layout.TestRepeats) })
        {
            for (var s = 1; s <= segments; s++)
            {
                for (var r = 1; r <= repeats; r++)
                {
                    var path = layout.RunPath(root, 1, split, s, r);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.CreateSymbolicLink(path, file);
                    runs++;
                }
            }
        }
        var config = new MindAnimatorConfig { Preprocess = settings with { Grayordinates = cortex } };
        var request = new Cc2017ImportRequest { Root = root, Subject = 1, Output = Path.Combine(context.WorkDir, "out"), Clips = false, Layout = layout, Overwrite = true };
        var subject = Measure.Seconds(() => Cc2017Importer.Run(request, config, NullProgress.Instance, context.Log));
        results.Add(new Measurement("cc2017_subject_fmri", subject, "s", $"{runs} runs of {volumes} × {columns} ({runs * megabytes / 1e3:F1} GB of CIFTI read), first {cortex} kept, selection of 4500, Parquet written"));
        results.Add(new Measurement("peak_rss", Measure.PeakRssMiB(), "MiB"));
        return results;
    }

    private static double Best(int repeats, Action action) => Enumerable.Range(0, repeats).Min(_ => Measure.Seconds(action));

    /// <summary>CORTEX_LEFT and CORTEX_RIGHT surfaces (the cortex), then subcortical voxels, like the HCP 91k grayordinates.</summary>
    public static CiftiMatrixIndicesMap SyntheticBrainModels(int columns, int cortex)
    {
        var left = cortex / 2;
        var right = cortex - left;
        var voxels = columns - cortex;
        var models = new List<CiftiBrainModel>
        {
            CiftiBrainModel.ForSurface(0, "CIFTI_STRUCTURE_CORTEX_LEFT", 32492, Enumerable.Range(0, left).Select(i => (long)i).ToArray()),
            CiftiBrainModel.ForSurface(left, "CIFTI_STRUCTURE_CORTEX_RIGHT", 32492, Enumerable.Range(0, right).Select(i => (long)i).ToArray()),
        };
        if (voxels > 0)
        {
            var ijk = Enumerable.Range(0, voxels).SelectMany(i => new[] { i % 91, i / 91 % 109, i / (91 * 109) }).ToArray();
            models.Add(new CiftiBrainModel(cortex, voxels, CiftiBrainModel.Voxels, "CIFTI_STRUCTURE_BRAIN_STEM", null, Array.Empty<long>(), ijk));
        }
        var volume = new CiftiVolume(new[] { 91, 109, 91 }, -3, new double[] { -2, 0, 0, 90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1 });
        return CiftiMatrixIndicesMap.Brain(1, models, voxels > 0 ? volume : null);
    }
}
