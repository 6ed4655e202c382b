using System.Diagnostics;
using MathNet.Numerics;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Import;
using MindAnimator.Data.Neuro;
using MindAnimator.Runs;
using MindAnimator.Tests.Data.Neuro;
using MindAnimator.Tests.Infrastructure;
using Serilog.Core;

namespace MindAnimator.Tests.Data.Import;

public class HcpImportTests
{
    private const int Volumes = 20;
    private const string Subject = "100610";

    /// <summary>Two movie runs, a dlabel atlas and 24-fps test movies in the HCP layout.</summary>
    private static (string Root, string Atlas, string ClipTimes, string Stimuli) MakeTree(TempDir tmp, CiftiMatrixIndicesMap models)
    {
        var root = tmp.File("hcp");
        var random = new Random(3);
        var columns = (int)models.Size;
        foreach (var (movie, dir) in new[] { (1, "AP"), (2, "PA") })
        {
            var name = $"tfMRI_MOVIE{movie}_7T_{dir}";
            var path = Path.Combine(root, Subject, "MNINonLinear", "Results", name, $"{name}_Atlas.dtseries.nii");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var data = Enumerable.Range(0, Volumes * columns).Select(i => (float)(100 + (i % columns) + (0.3 * (i / columns)) + random.NextDouble())).ToArray();
            CiftiFile.WriteDenseSeries(path, 0, 1, models, data, overwrite: false);
        }
        // Labels 0..3 cycling over the grayordinates; keys 1 and 2 are kept.
        var atlas = tmp.File("atlas.dlabel.nii");
        var labels = new CiftiMatrixIndicesMap
        {
            AppliesToMatrixDimension = new[] { 0 },
            IndicesMapToDataType = CiftiIndexTypes.Labels,
            NamedMaps = new[] { new CiftiNamedMap("areas", Enumerable.Range(0, 4).Select(k => new CiftiLabel(k, $"area{k}", 1, 0, 0, 1)).ToList()) },
        };
        CiftiFile.Write(atlas, new CiftiHeader("2", new[] { labels, models }, new Dictionary<string, string>()), Enumerable.Range(0, columns).Select(g => (float)(g % 4)).ToArray(), overwrite: false);
        var clipTimes = tmp.File("clip_times.csv");
        File.WriteAllText(clipTimes, "movie,start,end\n1,48,144\n2,24,96\n");
        var stimuli = tmp.File("stimuli");
        Directory.CreateDirectory(stimuli);
        foreach (var movie in new[] { 1, 2 })
        {
            var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true };
            foreach (var a in new[] { "-v", "error", "-f", "lavfi", "-i", "testsrc=size=32x32:rate=24:duration=8", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", Path.Combine(stimuli, $"7T_MOVIE{movie}_CC{movie}_v2.mp4") })
            {
                psi.ArgumentList.Add(a);
            }
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
        }
        return (root, atlas, clipTimes, stimuli);
    }

    [Fact]
    public void Import_TinyTree_OneSamplePerClipSecond_AtlasRoisAndPolyfitReference()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var models = NeuroFileTests.SmallBrainModels();
        var (root, atlas, clipTimes, stimuli) = MakeTree(tmp, models);
        var config = new MindAnimatorConfig { Preprocess = new PreprocessSettings { Grayordinates = 8 }, Data = new DataSettings { FrameSize = 16, ValidationFraction = 0 } };
        var request = new HcpImportRequest { Root = root, Subject = Subject, ClipTimes = clipTimes, Movies = new[] { 1, 2 }, TestClips = 2, Atlas = atlas, RoiKeys = new[] { 1, 2 }, Stimuli = stimuli, Output = tmp.File("out") };
        var manifest = HcpImporter.Run(request, config, NullProgress.Instance, Logger.None);

        // Seconds 2..5 of movie 1 and 1..3 of movie 2; the last two are test. Clip indices count within each movie.
        Assert.Equal((5, 2), (manifest.Samples[Splits.Train], manifest.Samples[Splits.Test]));
        var table = FmriParquet.Read(Path.Combine(request.Output, manifest.Fmri));
        Assert.Equal(new[] { 1, 2, 5, 6 }, table.Voxels.Select(v => v.SourceIndex));
        Assert.Equal(new[] { "area1", "area2", "area1", "area2" }, table.Voxels.Select(v => v.Roi));
        Assert.Equal(new[] { "train-seg01-clip0000", "train-seg01-clip0001", "train-seg01-clip0002", "train-seg01-clip0003", "train-seg02-clip0000", "test-seg02-clip0001", "test-seg02-clip0002" }, table.Samples.Select(s => s.ClipId));

        // Reference: numpy-style polyfit over the whole run, z-score, volume = second + 4, then scale the train rows.
        var g = table.Voxels[2].SourceIndex;
        var train = new List<double>();
        foreach (var (movie, seconds) in new[] { (1, new[] { 2, 3, 4, 5 }), (2, new[] { 1 }) })
        {
            var run = CiftiFile.Read(HcpImporter.RunPath(root, Subject, movie));
            var x = Enumerable.Range(0, Volumes).Select(t => (double)t).ToArray();
            var y = x.Select(t => (double)run[(int)t, g]).ToArray();
            var p = Fit.Polynomial(x, y, 4);
            var r = y.Select((v, t) => v - Polynomial.Evaluate(x[t], p)).ToArray();
            var (m, sd) = (r.Average(), Math.Sqrt(r.Select(v => (v - r.Average()) * (v - r.Average())).Average()));
            train.AddRange(seconds.Select(s => (r[s + 4] - m) / sd));
        }
        var mean = train.Average();
        var scale = Math.Sqrt(train.Select(v => (v - mean) * (v - mean)).Average());
        for (var i = 0; i < train.Count; i++)
        {
            Assert.True(Math.Abs(((train[i] - mean) / scale) - table.Samples[i].Voxels[2]) < 1e-4, $"row {i}: {table.Samples[i].Voxels[2]} vs {(train[i] - mean) / scale}");
        }

        var store = ClipStore.Open(Path.Combine(request.Output, manifest.Clips!));
        Assert.Equal(table.Samples.Select(s => s.ClipId), store.ClipIds);
        Assert.Equal(8, store.Read(store.ClipIds[^1]).Frames);
    }

    [Fact]
    public void Errors_NameThePath()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var models = NeuroFileTests.SmallBrainModels();
        var (root, _, clipTimes, _) = MakeTree(tmp, models);
        var config = new MindAnimatorConfig { Preprocess = new PreprocessSettings { Grayordinates = 8 } };
        var request = new HcpImportRequest { Root = root, Subject = Subject, ClipTimes = clipTimes, Movies = new[] { 1, 2, 3 }, Output = tmp.File("out") };
        var e = Assert.Throws<MindAnimatorException>(() => HcpImporter.Run(request, config, NullProgress.Instance, Logger.None));
        Assert.Contains("tfMRI_MOVIE3_7T_*", e.Message);

        e = Assert.Throws<MindAnimatorException>(() => HcpImporter.Run(request with { Subject = "999999" }, config, NullProgress.Instance, Logger.None));
        Assert.Contains(Path.Combine(root, "999999"), e.Message);

        File.WriteAllText(clipTimes, "movie,start,end\n1,48,480\n");
        e = Assert.Throws<DataFormatException>(() => HcpImporter.Run(request with { Movies = new[] { 1 } }, config, NullProgress.Instance, Logger.None));
        Assert.Contains("volume", e.Message);
        Assert.Contains("tfMRI_MOVIE1_7T_AP_Atlas.dtseries.nii", e.Message);
    }
}
