using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Import;
using MindAnimator.Tests.Cli;
using MindAnimator.Tests.Infrastructure;
using Serilog.Core;

namespace MindAnimator.Tests.Data.Import;

public class NpyImportTests
{
    private static float[] Responses(int rows, int cols) => Enumerable.Range(0, rows * cols).Select(i => (float)Math.Cos(i * 0.1)).ToArray();

    [Fact]
    public void Import_FmriClipsAndCaptions_WritesADatasetFolder()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var fmri = tmp.File("masked_test.npy");
        var data = Responses(6, 5);
        Npy.Write<float>(fmri, data, new long[] { 6, 5 }, false);
        var clips = tmp.File("clips.npy");
        var pixels = Enumerable.Range(0, 6 * 2 * 4 * 4 * 3).Select(i => (byte)(i % 251)).ToArray();
        Npy.Write<byte>(clips, pixels, new long[] { 6, 2, 4, 4, 3 }, false);
        var captions = tmp.File("captions.json");
        File.WriteAllText(captions, "[" + string.Join(",", Enumerable.Range(0, 6).Select(i => $"\"caption {i}\"")) + "]");
        var output = tmp.File("out");

        var manifest = NpyImporter.Run(new NpyImportRequest { Fmri = fmri, Clips = clips, Captions = captions, ClipsPerSegment = 3, Subject = "sub1", Output = output }, Logger.None);

        Assert.Equal(6, manifest.Samples[Splits.Test]);
        var table = FmriParquet.Read(Path.Combine(output, manifest.Fmri));
        Assert.Equal(new[] { "test-seg01-clip0000", "test-seg01-clip0001", "test-seg01-clip0002", "test-seg02-clip0000", "test-seg02-clip0001", "test-seg02-clip0002" }, table.Samples.Select(s => s.ClipId));
        Assert.Equal(data, table.Samples.SelectMany(s => s.Voxels));
        Assert.All(table.Samples, s => Assert.Equal(10, s.Repeats));
        var store = ClipStore.Open(Path.Combine(output, manifest.Clips!));
        Assert.Equal(table.Samples.Select(s => s.ClipId), store.ClipIds);
        Assert.Equal(pixels[(2 * 4 * 4 * 3)..(2 * 2 * 4 * 4 * 3)], store.Read("test-seg01-clip0001").Rgb);
        var read = CaptionTable.Read(Path.Combine(output, manifest.Captions!));
        Assert.Equal(new KeyValuePair<string, string>("test-seg02-clip0002", "caption 5"), read[5]);
        Assert.Throws<OutputExistsException>(() => NpyImporter.Run(new NpyImportRequest { Fmri = fmri, ClipsPerSegment = 3, Subject = "sub1", Output = output }, Logger.None));
    }

    [Fact]
    public void BadArrays_FailNamingTheFileAndTheProblem()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var fmri = tmp.File("f.npy");
        var data = Responses(4, 3);
        data[7] = float.NaN;
        Npy.Write<float>(fmri, data, new long[] { 4, 3 }, false);
        var e = Assert.Throws<DataFormatException>(() => NpyImporter.ReadFmri(new NpyImportRequest { Fmri = fmri, ClipsPerSegment = 2, Subject = "s", Output = tmp.Path }));
        Assert.Contains(fmri, e.Message);
        Assert.Contains("row 2, voxel 1", e.Message);

        Npy.Write<float>(fmri, Responses(4, 3), new long[] { 4, 3 }, true);
        e = Assert.Throws<DataFormatException>(() => NpyImporter.ReadFmri(new NpyImportRequest { Fmri = fmri, ClipsPerSegment = 3, Subject = "s", Output = tmp.Path }));
        Assert.Contains("--clips-per-segment", e.Message);

        Npy.Write<float>(fmri, Responses(4, 3), new long[] { 2, 2, 3 }, true);
        e = Assert.Throws<DataFormatException>(() => NpyImporter.ReadFmri(new NpyImportRequest { Fmri = fmri, ClipsPerSegment = 2, Subject = "s", Output = tmp.Path }));
        Assert.Contains("2-D", e.Message);
    }

    [Fact]
    public void Cli_ImportsNpy()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var fmri = tmp.File("masked4500_test_data.npy");
        Npy.Write<float>(fmri, Responses(4, 3), new long[] { 4, 3 }, false);
        var output = tmp.File("ds");
        var r = CliProcess.Run("data", "import", "npy", "--fmri", fmri, "--clips-per-segment", "2", "--out", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(4, DatasetManifest.Read(output).Samples[Splits.Test]);
    }
}
