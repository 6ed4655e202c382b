using System.Diagnostics;
using MathNet.Numerics;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Import;
using MindAnimator.Data.Neuro;
using MindAnimator.Runs;
using MindAnimator.Tests.Infrastructure;
using Serilog.Core;

namespace MindAnimator.Tests.Data.Import;

/// <summary>A tiny CC2017-shaped tree: the published folder layout with small runs, surfaces and videos.</summary>
internal sealed class TinyCc2017 : IDisposable
{
    public const int ReliableVoxels = 8;
    public const int ExtraVolumes = 4;

    public static readonly Cc2017Layout Layout = new() { TrainSegments = 3, TestSegments = 2, TrainRepeats = 2, TestRepeats = 3, ClipsPerSegment = 16 };

    private readonly TempDir _tmp = TestEnvironment.NewTempDir();

    public TinyCc2017(int subject = 1, bool videos = false)
    {
        Subject = subject;
        Models = BrainModels();
        var random = new Random(11);
        var volumes = Layout.ClipsPerSegment + ExtraVolumes;
        foreach (var (split, segments, repeats) in new[] { ("train", Layout.TrainSegments, Layout.TrainRepeats), ("test", Layout.TestSegments, Layout.TestRepeats) })
        {
            for (var s = 1; s <= segments; s++)
            {
                // The stimulus drives the reliable voxels identically in every repeat; noise and drift differ.
                var stimulus = Enumerable.Range(0, volumes).Select(_ => Gaussian(random)).ToArray();
                for (var r = 1; r <= repeats; r++)
                {
                    var data = new float[volumes * Columns];
                    var drift = Gaussian(random);
                    for (var t = 0; t < volumes; t++)
                    {
                        for (var v = 0; v < Columns; v++)
                        {
                            var signal = v < ReliableVoxels ? 3 * stimulus[t] * (1 + (0.1 * v)) : 0;
                            data[(t * Columns) + v] = (float)(1000 + (10 * v) + (drift * t * 0.5) + signal + Gaussian(random));
                        }
                    }
                    var path = Layout.RunPath(Root, subject, split, s, r);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    CiftiFile.WriteDenseSeries(path, 0, 2, Models, data, overwrite: false);
                }
                if (videos)
                {
                    MakeVideo(Layout.StimulusPath(Root, split, s), Layout.ClipsPerSegment * 2);
                }
            }
        }
    }

    public int Subject { get; }

    public string Root => Path.Combine(_tmp.Path, "cc2017");

    public string Output => Path.Combine(_tmp.Path, "out");

    public CiftiMatrixIndicesMap Models { get; }

    /// <summary>22 cortical surface vertices, then 4 subcortical voxels the import must leave out.</summary>
    public static int Grayordinates => 22;

    public int Columns => (int)Models.Size;

    public static MindAnimatorConfig Config(int select = 5) => new()
    {
        Preprocess = new PreprocessSettings { Grayordinates = Grayordinates, SelectVoxels = select },
        Data = new DataSettings { FrameSize = 32 },
        Threads = 2,
    };

    public Cc2017ImportRequest Request(bool clips = false) => new() { Root = Root, Subject = Subject, Output = Output, Layout = Layout, Clips = clips };

    public void Dispose() => _tmp.Dispose();

    private static CiftiMatrixIndicesMap BrainModels()
    {
        var left = CiftiBrainModel.ForSurface(0, "CIFTI_STRUCTURE_CORTEX_LEFT", 32492, Enumerable.Range(0, 12).Select(i => (long)(i * 3)).ToArray());
        var right = CiftiBrainModel.ForSurface(12, "CIFTI_STRUCTURE_CORTEX_RIGHT", 32492, Enumerable.Range(0, 10).Select(i => (long)(100 + i)).ToArray());
        var thalamus = new CiftiBrainModel(22, 4, CiftiBrainModel.Voxels, "CIFTI_STRUCTURE_THALAMUS_LEFT", null, Array.Empty<long>(), Enumerable.Range(0, 12).ToArray());
        var volume = new CiftiVolume(new[] { 20, 20, 20 }, -3, new double[] { 2, 0, 0, -20, 0, 2, 0, -20, 0, 0, 2, -20, 0, 0, 0, 1 });
        return CiftiMatrixIndicesMap.Brain(1, new[] { left, right, thalamus }, volume);
    }

    private static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    private static void MakeVideo(string path, int seconds)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-v", "error", "-f", "lavfi", "-i", $"testsrc=size=64x48:rate=30:duration={seconds}", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", path })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"ffmpeg failed: {err}");
    }
}

public class Cc2017ImportTests
{
    [Fact]
    public void Import_TinyTree_PreprocessesSelectsAndWritesTheDataset()
    {
        using var tree = new TinyCc2017(videos: true);
        var config = TinyCc2017.Config();
        var manifest = Cc2017Importer.Run(tree.Request(clips: true), config, NullProgress.Instance, Logger.None);

        var layout = TinyCc2017.Layout;
        var trainRows = layout.TrainSegments * layout.ClipsPerSegment;
        var val = (int)Math.Round(config.Data.ValidationFraction * trainRows);
        Assert.Equal(trainRows - val, manifest.Samples[Splits.Train]);
        Assert.Equal(val, manifest.Samples[Splits.Val]);
        Assert.Equal(layout.TestSegments * layout.ClipsPerSegment, manifest.Samples[Splits.Test]);

        var table = FmriParquet.Read(Path.Combine(tree.Output, manifest.Fmri));
        Assert.Equal(config.Preprocess.SelectVoxels, table.VoxelCount);
        // The stimulus-driven vertices are the reliable ones; the subcortical voxels lie beyond the kept grayordinates.
        Assert.All(table.Voxels, v => Assert.InRange(v.SourceIndex, 0, TinyCc2017.ReliableVoxels - 1));
        var (structure, vertex) = tree.Models.Grayordinates();
        Assert.All(table.Voxels, v => Assert.Equal((structure[v.SourceIndex], (int)vertex[v.SourceIndex]), (v.Structure, v.Vertex)));
        Assert.Equal("train-seg01-clip0000", table.Samples[0].ClipId);
        Assert.Equal("test-seg02-clip0015", table.Samples[^1].ClipId);

        // Clips: 8 frames at the configured size, one per fMRI sample, same ids.
        var store = ClipStore.Open(Path.Combine(tree.Output, manifest.Clips!));
        Assert.Equal(table.Samples.Select(s => s.ClipId), store.ClipIds);
        var clip = store.Read("test-seg01-clip0003");
        Assert.Equal((8, 32, 32), (clip.Frames, clip.Height, clip.Width));
    }

    /// <summary>A test value against an independent computation: numpy-style polyfit per voxel, z-score, average, scale.</summary>
    [Fact]
    public void TestSamples_MatchAPerVoxelPolyfitReference()
    {
        using var tree = new TinyCc2017();
        var config = TinyCc2017.Config();
        // test1 read from volume 1 as the official script does, the other test segments from the configured lag.
        var layout = TinyCc2017.Layout with { LagOverrides = new Dictionary<string, int> { ["test1"] = 1 } };
        var manifest = Cc2017Importer.Run(tree.Request() with { Layout = layout }, config, NullProgress.Instance, Logger.None);
        var table = FmriParquet.Read(Path.Combine(tree.Output, manifest.Fmri));
        var n = layout.ClipsPerSegment;
        for (var j = 0; j < table.VoxelCount; j++)
        {
            var g = table.Voxels[j].SourceIndex;
            var averaged = new List<double>();
            for (var s = 1; s <= layout.TestSegments; s++)
            {
                var sum = new double[n];
                for (var r = 1; r <= layout.TestRepeats; r++)
                {
                    var run = CiftiFile.Read(layout.RunPath(tree.Root, tree.Subject, "test", s, r));
                    var lag = s == 1 ? 1 : config.Preprocess.TestLagTrs;
                    var y = Enumerable.Range(lag, n).Select(t => (double)run[t, g]).ToArray();
                    var x = Enumerable.Range(0, n).Select(t => (double)t).ToArray();
                    var p = Fit.Polynomial(x, y, config.Preprocess.DetrendOrder);
                    var resid = y.Select((v, t) => v - Polynomial.Evaluate(x[t], p)).ToArray();
                    var mean = resid.Average();
                    var sd = Math.Sqrt(resid.Select(v => (v - mean) * (v - mean)).Average());
                    for (var t = 0; t < n; t++)
                    {
                        sum[t] += (resid[t] - mean) / sd / layout.TestRepeats;
                    }
                }
                averaged.AddRange(sum);
            }
            var m = averaged.Average();
            var scale = Math.Sqrt(averaged.Select(v => (v - m) * (v - m)).Average());
            var actual = table.Samples.Where(x => x.Split == Splits.Test).Select(x => (double)x.Voxels[j]).ToArray();
            for (var i = 0; i < actual.Length; i++)
            {
                Assert.True(Math.Abs(((averaged[i] - m) / scale) - actual[i]) < 1e-4, $"voxel {j} (grayordinate {g}), test row {i}: {actual[i]} vs reference {(averaged[i] - m) / scale}");
            }
        }
    }

    [Fact]
    public void MissingSubject_NamesThePathAndTheSubjectsPresent()
    {
        using var tree = new TinyCc2017();
        var e = Assert.Throws<MindAnimatorException>(() => Cc2017Importer.Run(tree.Request() with { Subject = 4 }, TinyCc2017.Config(), NullProgress.Instance, Logger.None));
        Assert.Contains(Path.Combine(tree.Root, "subject4"), e.Message);
        Assert.Contains("subject1", e.Message);
    }

    [Fact]
    public void MissingRun_NamesThePath()
    {
        using var tree = new TinyCc2017();
        var path = TinyCc2017.Layout.RunPath(tree.Root, 1, "test", 2, 3);
        File.Delete(path);
        var e = Assert.Throws<MindAnimatorException>(() => Cc2017Importer.Run(tree.Request(), TinyCc2017.Config(), NullProgress.Instance, Logger.None));
        Assert.Contains(path, e.Message);
        Assert.Contains("missing", e.Message);
        Assert.False(File.Exists(Path.Combine(tree.Output, DatasetFolder.FmriFile)));
    }

    [Fact]
    public void MissingVideo_NamesThePath()
    {
        using var tree = new TinyCc2017();
        var e = Assert.Throws<MindAnimatorException>(() => Cc2017Importer.Run(tree.Request(clips: true), TinyCc2017.Config(), NullProgress.Instance, Logger.None));
        Assert.Contains(TinyCc2017.Layout.StimulusPath(tree.Root, "train", 1), e.Message);
        Assert.Contains("--no-clips", e.Message);
    }

    [Fact]
    public void TooFewVolumes_NamesThePath()
    {
        using var tree = new TinyCc2017();
        var path = TinyCc2017.Layout.RunPath(tree.Root, 1, "test", 1, 2);
        var run = CiftiFile.Read(path);
        var rows = TinyCc2017.Layout.ClipsPerSegment; // fewer than lag + clips
        CiftiFile.WriteDenseSeries(path, 0, 2, run.ColumnMap, run.Data.AsSpan(0, rows * run.Columns), overwrite: true);
        var e = Assert.Throws<MindAnimatorException>(() => Cc2017Importer.Run(tree.Request(), TinyCc2017.Config(), NullProgress.Instance, Logger.None));
        Assert.Contains(path, e.Message);
        Assert.Contains($"{rows} volumes", e.Message);
    }

    [Fact]
    public void CorruptRun_NamesThePath()
    {
        using var tree = new TinyCc2017();
        var path = TinyCc2017.Layout.RunPath(tree.Root, 1, "train", 2, 1);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 50)]);
        var e = Assert.Throws<DataFormatException>(() => Cc2017Importer.Run(tree.Request(), TinyCc2017.Config(), NullProgress.Instance, Logger.None));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void TooFewGrayordinates_NamesThePathAndTheSetting()
    {
        using var tree = new TinyCc2017();
        var config = TinyCc2017.Config() with { Preprocess = new PreprocessSettings { Grayordinates = 59412, SelectVoxels = 5 } };
        var e = Assert.Throws<DataFormatException>(() => Cc2017Importer.Run(tree.Request(), config, NullProgress.Instance, Logger.None));
        Assert.Contains("preprocess.grayordinates", e.Message);
    }

    [Fact]
    public void Cli_MissingSubject_IsAUserErrorNamingThePath()
    {
        using var tree = new TinyCc2017();
        var config = Path.Combine(TestEnvironment.RepoRoot, "configs", "cc2017.yaml");
        var r = MindAnimator.Tests.Cli.CliProcess.Run("data", "import", "cc2017", "--root", tree.Root, "--subject", "2", "--out", tree.Output, "--no-clips", "--config", config);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(Path.Combine(tree.Root, "subject2"), r.Stderr);

        // Without a config the demo's preprocessing would apply: refused, naming the config to use.
        var noConfig = MindAnimator.Tests.Cli.CliProcess.Run("data", "import", "cc2017", "--root", tree.Root, "--subject", "1", "--out", tree.Output, "--no-clips");
        Assert.Equal(1, noConfig.ExitCode);
        Assert.Contains("configs/cc2017.yaml", noConfig.Stderr);
    }

    [Fact]
    public void ExcludedRun_IsNotRequiredAndNotAveraged()
    {
        using var tree = new TinyCc2017();
        var path = TinyCc2017.Layout.RunPath(tree.Root, 1, "test", 2, 3);
        File.Delete(path);
        var request = tree.Request() with { Layout = TinyCc2017.Layout with { ExcludedRuns = new[] { "1/test2/3" } } };
        var manifest = Cc2017Importer.Run(request, TinyCc2017.Config(), NullProgress.Instance, Logger.None);
        var table = FmriParquet.Read(Path.Combine(tree.Output, manifest.Fmri));
        Assert.All(table.Samples.Where(s => s.Segment == "test-seg02"), s => Assert.Equal(2, s.Repeats));
        Assert.All(table.Samples.Where(s => s.Segment == "test-seg01"), s => Assert.Equal(3, s.Repeats));
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7, 8, 10 }, Cc2017Layout.Published.Runs(3, "test", 2));
    }
}
