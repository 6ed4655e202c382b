using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.InteropServices;
using MindAnimator.Data.Neuro;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Data.Neuro;

/// <summary>Runs only where Connectome Workbench's wb_command is on PATH (Debian: apt-get install connectome-workbench).</summary>
public sealed class WbCommandFactAttribute : FactAttribute
{
    public WbCommandFactAttribute()
    {
        if (WbCommand.Path is null)
        {
            Skip = "wb_command not found on PATH; install Debian's connectome-workbench package to run this check";
        }
    }
}

internal static class WbCommand
{
    public static string? Path { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(d => System.IO.Path.Combine(d, "wb_command")).FirstOrDefault(File.Exists);

    public static (int ExitCode, string Output) Run(params string[] args)
    {
        var psi = new ProcessStartInfo(Path!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        // Workbench's Qt wants a platform even for command-line use.
        psi.Environment["QT_QPA_PLATFORM"] = "offscreen";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }
}

public class NeuroFileTests
{
    /// <summary>A small brain-models map: two surface models and a voxel model with its volume.</summary>
    internal static CiftiMatrixIndicesMap SmallBrainModels()
    {
        var left = CiftiBrainModel.ForSurface(0, "CIFTI_STRUCTURE_CORTEX_LEFT", 32492, new long[] { 3, 10, 11, 500, 32491 });
        var right = CiftiBrainModel.ForSurface(5, "CIFTI_STRUCTURE_CORTEX_RIGHT", 32492, new long[] { 0, 7, 9 });
        var thalamus = new CiftiBrainModel(8, 2, CiftiBrainModel.Voxels, "CIFTI_STRUCTURE_THALAMUS_LEFT", null, Array.Empty<long>(), new[] { 1, 2, 3, 4, 5, 6 });
        var volume = new CiftiVolume(new[] { 10, 12, 8 }, -3, new double[] { -2, 0, 0, 90, 0, 2, 0, -126, 0, 0, 2, -72, 0, 0, 0, 1 });
        return CiftiMatrixIndicesMap.Brain(1, new[] { left, right, thalamus }, volume);
    }

    private static float[] Ramp(int n) => Enumerable.Range(0, n).Select(i => (float)Math.Sin(i * 0.37) * 100 + i).ToArray();

    [Fact]
    public void DenseScalar_WriteThenRead_RoundTrips()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("weights.dscalar.nii");
        var models = SmallBrainModels();
        var data = Ramp(2 * 10);
        CiftiFile.WriteDenseScalar(path, new[] { "weight_a", "weight b" }, models, data, overwrite: false);

        var image = CiftiFile.Read(path);
        Assert.Equal(2, image.Rows);
        Assert.Equal(10, image.Columns);
        Assert.Equal(data, image.Data);
        Assert.Equal(CiftiIntents.DenseScalar.Code, image.Nifti.IntentCode);
        Assert.Equal(new[] { "weight_a", "weight b" }, image.RowMap.NamedMaps.Select(m => m.MapName));
        var cols = image.ColumnMap;
        Assert.Equal(models.BrainModels.Count, cols.BrainModels.Count);
        for (var i = 0; i < models.BrainModels.Count; i++)
        {
            var (a, b) = (models.BrainModels[i], cols.BrainModels[i]);
            Assert.Equal((a.IndexOffset, a.IndexCount, a.ModelType, a.BrainStructure, a.SurfaceNumberOfVertices), (b.IndexOffset, b.IndexCount, b.ModelType, b.BrainStructure, b.SurfaceNumberOfVertices));
            Assert.Equal(a.VertexIndices, b.VertexIndices);
            Assert.Equal(a.VoxelIjk, b.VoxelIjk);
        }
        Assert.Equal(models.Volume!.Transform, cols.Volume!.Transform);
        Assert.Equal(models.Volume.Dimensions, cols.Volume.Dimensions);
        var (structure, vertex) = cols.Grayordinates();
        Assert.Equal("CIFTI_STRUCTURE_CORTEX_RIGHT", structure[6]);
        Assert.Equal(7, vertex[6]);
        Assert.Equal(-1, vertex[9]);
        Assert.Throws<MindAnimator.Data.Formats.OutputExistsException>(() => CiftiFile.WriteDenseScalar(path, new[] { "a", "b" }, models, data, overwrite: false));
    }

    [Fact]
    public void DenseSeries_WriteThenRead_ColumnsPrefixIsTheFirstGrayordinates()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("run.dtseries.nii");
        var data = Ramp(7 * 10);
        CiftiFile.WriteDenseSeries(path, 0, 2, SmallBrainModels(), data, overwrite: false);
        var full = CiftiFile.Read(path);
        Assert.Equal((7, 10), (full.Rows, full.Columns));
        Assert.Equal(data, full.Data);
        Assert.Equal(2.0, full.RowMap.SeriesStep);
        Assert.Equal("SECOND", full.RowMap.SeriesUnit);

        var prefix = CiftiFile.Read(path, maxColumns: 4);
        Assert.Equal((7, 4, 10L), (prefix.Rows, prefix.Columns, prefix.FileColumns));
        for (var r = 0; r < 7; r++)
        {
            for (var c = 0; c < 4; c++)
            {
                Assert.Equal(data[(r * 10) + c], prefix[r, c]);
            }
        }
    }

    [WbCommandFact]
    public void DenseScalar_IsAcceptedByWorkbench()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("weights.dscalar.nii");
        CiftiFile.WriteDenseScalar(path, new[] { "weight_a", "weight_b" }, SmallBrainModels(), Ramp(20), overwrite: false);
        var (code, output) = WbCommand.Run("-file-information", path);
        Assert.True(code == 0, $"wb_command -file-information failed ({code}):\n{output}");
        Assert.Contains("weight_b", output);
        Assert.Contains("CortexLeft", output.Replace("CORTEX_LEFT", "CortexLeft"));

        var series = tmp.File("run.dtseries.nii");
        CiftiFile.WriteDenseSeries(series, 0, 2, SmallBrainModels(), Ramp(30), overwrite: false);
        (code, output) = WbCommand.Run("-file-information", series);
        Assert.True(code == 0, $"wb_command -file-information failed ({code}):\n{output}");
    }

    [Theory]
    [InlineData(NiftiDataType.UInt8)]
    [InlineData(NiftiDataType.Int8)]
    [InlineData(NiftiDataType.Int16)]
    [InlineData(NiftiDataType.UInt16)]
    [InlineData(NiftiDataType.Int32)]
    [InlineData(NiftiDataType.UInt32)]
    [InlineData(NiftiDataType.Int64)]
    [InlineData(NiftiDataType.UInt64)]
    [InlineData(NiftiDataType.Float32)]
    [InlineData(NiftiDataType.Float64)]
    public void EveryScalarDatatype_IsReadAndScaled(NiftiDataType type)
    {
        using var tmp = TestEnvironment.NewTempDir();
        var values = new double[] { 0, 1, 2, 100, 7, 3 };
        var size = NiftiDataTypes.ItemSize(type);
        var raw = new byte[values.Length * size];
        for (var i = 0; i < values.Length; i++)
        {
            var span = raw.AsSpan(i * size, size);
            switch (type)
            {
                case NiftiDataType.UInt8: span[0] = (byte)values[i]; break;
                case NiftiDataType.Int8: span[0] = (byte)(sbyte)-values[i]; values[i] = -values[i]; break;
                case NiftiDataType.Int16: MemoryMarshal.Write(span, (short)values[i]); break;
                case NiftiDataType.UInt16: MemoryMarshal.Write(span, (ushort)values[i]); break;
                case NiftiDataType.Int32: MemoryMarshal.Write(span, (int)values[i]); break;
                case NiftiDataType.UInt32: MemoryMarshal.Write(span, (uint)values[i]); break;
                case NiftiDataType.Int64: MemoryMarshal.Write(span, (long)values[i]); break;
                case NiftiDataType.UInt64: MemoryMarshal.Write(span, (ulong)values[i]); break;
                case NiftiDataType.Float32: MemoryMarshal.Write(span, (float)values[i]); break;
                case NiftiDataType.Float64: MemoryMarshal.Write(span, values[i]); break;
            }
        }
        var path = tmp.File("x.nii.gz");
        WriteNifti2(path, new NiftiHeader { Dim = new long[] { 3, 1, 2, 3, 1, 1, 1, 1 }, Datatype = type, Bitpix = size * 8, SclSlope = 0.5, SclInter = 10 }, raw, gzip: true);

        var image = NiftiFile.Read(path);
        Assert.Equal(new long[] { 1, 2, 3 }, image.Shape);
        Assert.Equal(values, Enumerable.Range(0, values.Length).Select(i => image.RawValue(i)));
        Assert.Equal(values.Select(v => (v * 0.5) + 10), image.ToFloat64());
        Assert.Equal(values[5] * 0.5 + 10, image.ScaledValue(image.FlatIndex(new long[] { 0, 1, 2 })));
    }

    [Fact]
    public void Qform_RotatesScalesAndFlipsAsTheQuaternionSays()
    {
        // 90° about z: a = cos 45°, d = sin 45°; qfac −1 flips the third axis.
        var s = Math.Sqrt(0.5);
        var h = new NiftiHeader
        {
            Dim = new long[] { 3, 4, 4, 4, 1, 1, 1, 1 },
            Pixdim = new double[] { -1, 2, 3, 4, 1, 1, 1, 1 },
            QformCode = 1,
            QuaternD = s,
            QoffsetX = 5,
            QoffsetY = 6,
            QoffsetZ = 7,
        };
        var a = h.Affine();
        var expected = new double[,] { { 0, -3, 0, 5 }, { 2, 0, 0, 6 }, { 0, 0, -4, 7 }, { 0, 0, 0, 1 } };
        for (var i = 0; i < 4; i++)
        {
            for (var j = 0; j < 4; j++)
            {
                Assert.True(Math.Abs(expected[i, j] - a[i, j]) < 1e-6, $"affine[{i},{j}] = {a[i, j]}, expected {expected[i, j]}");
            }
        }
        var basis = (h with { QformCode = 0 }).Affine();
        Assert.Equal((-2.0, 3.0, 4.0), (basis[0, 0], basis[1, 1], basis[2, 2]));
        Assert.Equal((3.0, -4.5, -6.0), (basis[0, 3], basis[1, 3], basis[2, 3]));
    }

    [Fact]
    public void TruncatedFile_FailsNamingThePath()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var source = Path.Combine(TestEnvironment.Golden("neuro_io"), "synthetic_surface.dtseries.nii");
        var bytes = File.ReadAllBytes(source);
        var path = tmp.File("cut.dtseries.nii");
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        var e = Assert.Throws<DataFormatException>(() => CiftiFile.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);

        File.WriteAllBytes(path, bytes[..300]);
        e = Assert.Throws<DataFormatException>(() => CiftiFile.Read(path));
        Assert.Contains("truncated", e.Message);

        File.WriteAllBytes(path, bytes[..1000]);
        e = Assert.Throws<DataFormatException>(() => CiftiFile.Read(path));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void CorruptFiles_FailNamingThePathAndTheProblem()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var dir = TestEnvironment.Golden("neuro_io");

        var gz = File.ReadAllBytes(Path.Combine(dir, "example4d.nii.gz"));
        for (var i = gz.Length / 2; i < (gz.Length / 2) + 64; i++)
        {
            gz[i] ^= 0x5a;
        }
        var path = tmp.File("bad.nii.gz");
        File.WriteAllBytes(path, gz);
        var e = Assert.Throws<DataFormatException>(() => NiftiFile.Read(path));
        Assert.Contains(path, e.Message);

        var junk = tmp.File("junk.nii");
        File.WriteAllBytes(junk, Enumerable.Range(0, 600).Select(i => (byte)(i * 7)).ToArray());
        e = Assert.Throws<DataFormatException>(() => NiftiFile.Read(junk));
        Assert.Contains("sizeof_hdr", e.Message);

        var xml = File.ReadAllBytes(Path.Combine(dir, "synthetic_surface.dtseries.nii"));
        var at = xml.AsSpan().IndexOf("<Matrix>"u8);
        "<Matrox>"u8.CopyTo(xml.AsSpan(at));
        var badXml = tmp.File("badxml.dtseries.nii");
        File.WriteAllBytes(badXml, xml);
        e = Assert.Throws<DataFormatException>(() => CiftiFile.Read(badXml));
        Assert.Contains("XML", e.Message);

        var nifti1 = Path.Combine(dir, "functional.nii");
        e = Assert.Throws<DataFormatException>(() => CiftiFile.Read(nifti1));
        Assert.Contains("not a CIFTI-2 file", e.Message);

        e = Assert.Throws<DataFormatException>(() => NiftiFile.Read(tmp.File("absent.nii")));
        Assert.Contains("not found", e.Message);
    }

    internal static void WriteNifti2(string path, NiftiHeader header, byte[] data, bool gzip)
    {
        var h = header with { Version = 2, Magic = "n+2", VoxOffset = NiftiHeader.Nifti2Size + 4 };
        var bytes = new byte[NiftiHeader.Nifti2Size + 4 + data.Length];
        h.WriteTo(bytes);
        data.CopyTo(bytes, NiftiHeader.Nifti2Size + 4);
        using var fs = File.Create(path);
        if (gzip)
        {
            using var z = new GZipStream(fs, CompressionLevel.Fastest);
            z.Write(bytes);
        }
        else
        {
            fs.Write(bytes);
        }
    }

    [Fact]
    public void VoxelMaps_FromTableVoxels_RoundTripThroughDscalar()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var voxels = new[]
        {
            new MindAnimator.Data.VoxelInfo(0, 10, "CIFTI_STRUCTURE_CORTEX_LEFT", 12, "", ""),
            new MindAnimator.Data.VoxelInfo(1, 40, "CIFTI_STRUCTURE_CORTEX_LEFT", 50, "", ""),
            new MindAnimator.Data.VoxelInfo(2, 30000, "CIFTI_STRUCTURE_CORTEX_RIGHT", 7, "", ""),
        };
        var path = tmp.File("weights.dscalar.nii");
        CiftiVoxelMaps.Write(path, voxels, new[] { ("mean_abs_weight", new[] { 1f, 2f, 3f }) }, overwrite: false);
        var image = CiftiFile.Read(path);
        Assert.Equal(new[] { 1f, 2f, 3f }, image.Data);
        var (structure, vertex) = image.ColumnMap.Grayordinates();
        Assert.Equal(voxels.Select(v => v.Structure), structure);
        Assert.Equal(voxels.Select(v => (long)v.Vertex), vertex);
        if (WbCommand.Path is not null)
        {
            var (code, output) = WbCommand.Run("-file-information", path);
            Assert.True(code == 0, output);
        }

        var simulated = new[] { new MindAnimator.Data.VoxelInfo(0, 0, "SIMULATED", -1, "", "") };
        var e = Assert.Throws<MindAnimatorException>(() => CiftiVoxelMaps.Write(tmp.File("x.dscalar.nii"), simulated, new[] { ("w", new[] { 1f }) }, overwrite: false));
        Assert.Contains("surface", e.Message);
    }
}
