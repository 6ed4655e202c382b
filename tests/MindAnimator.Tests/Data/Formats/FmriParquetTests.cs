using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Tests.Infrastructure;
using Parquet;
using Parquet.Schema;

namespace MindAnimator.Tests.Data.Formats;

public class FmriParquetTests
{
    [Fact]
    public void RoundTrip_IsBitExact_WithVoxelTableAndMetadata_AcrossRowGroups()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("fmri.parquet");
        var table = FormatTestData.Table(rows: FmriParquet.RowGroupRows + 37, voxels: 19);
        FmriParquet.Write(path, table, overwrite: false);

        Assert.Equal(new[] { "fmri.parquet", "fmri.voxels.parquet" }, FormatTestData.FileNames(tmp.Path));
        FormatTestData.AssertBitEqual(table, FmriParquet.Read(path));
    }

    [Fact]
    public void ReadSummary_ReturnsRowsAndVoxelCount_WithoutTheSidecar()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("t.parquet");
        var table = FormatTestData.Table(7, 5);
        FmriParquet.Write(path, table, false);
        File.Delete(FmriParquet.VoxelTablePath(path));

        var summary = FmriParquet.ReadSummary(path);
        Assert.Equal(5, summary.VoxelCount);
        Assert.Equal(table.Samples.Select(s => (s.ClipId, s.Split, s.Repeats)), summary.Samples.Select(s => (s.ClipId, s.Split, s.Repeats)));
        Assert.Equal("0.1.0", summary.Metadata["tool_version"]);
        var e = Assert.Throws<DataFormatException>(() => FmriParquet.Read(path));
        Assert.Contains("t.voxels.parquet is missing", e.Message);
    }

    [Fact]
    public void Write_RefusesToOverwrite_UnlessAsked()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("fmri.parquet");
        FmriParquet.Write(path, FormatTestData.Table(3, 4, seed: 1), false);
        var before = File.ReadAllBytes(path);

        var e = Assert.Throws<OutputExistsException>(() => FmriParquet.Write(path, FormatTestData.Table(3, 4, seed: 2), false));
        Assert.Contains("--force", e.Message);
        Assert.Contains(path, e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));

        var replacement = FormatTestData.Table(5, 6, seed: 2);
        FmriParquet.Write(path, replacement, overwrite: true);
        FormatTestData.AssertBitEqual(replacement, FmriParquet.Read(path));
        Assert.Equal(2, FormatTestData.FileNames(tmp.Path).Length);
    }

    [Fact]
    public void Write_RejectsInvalidTables_AndLeavesNoFile()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("fmri.parquet");
        var table = FormatTestData.Table(4, 6);

        var nan = Assert.Throws<DataFormatException>(() => FmriParquet.Write(path, table.With(2, s => s with { Voxels = s.Voxels.Select((v, i) => i == 4 ? float.NaN : v).ToArray() }), false));
        Assert.Contains("clip 'seg2_clip0002'", nan.Message);
        Assert.Contains("voxel 4 is NaN", nan.Message);

        var inf = Assert.Throws<DataFormatException>(() => FmriParquet.Write(path, table.With(1, s => s with { Voxels = s.Voxels.Select((v, i) => i == 0 ? float.NegativeInfinity : v).ToArray() }), false));
        Assert.Contains("voxel 0 is -Infinity", inf.Message);

        var count = Assert.Throws<DataFormatException>(() => FmriParquet.Write(path, table.With(3, s => s with { Voxels = new float[5] }), false));
        Assert.Contains("row 3 (clip 'seg0_clip0003'): 5 voxels, expected 6", count.Message);

        var dup = Assert.Throws<DataFormatException>(() => FmriParquet.Write(path, table.With(3, s => s with { ClipId = "seg1_clip0001" }), false));
        Assert.Contains("duplicate clip id: 'seg1_clip0001' (rows 1 and 3)", dup.Message);

        var split = Assert.Throws<DataFormatException>(() => FmriParquet.Write(path, table.With(0, s => s with { Split = "training" }), false));
        Assert.Contains("split 'training', expected one of train, val, test", split.Message);

        Assert.Throws<ArgumentException>(() => FmriParquet.Write(path, table with { Metadata = new Dictionary<string, string> { ["mindanim.format"] = "x" } }, false));
        Assert.Empty(FormatTestData.FileNames(tmp.Path));
    }

    public static TheoryData<string, Func<FmriTable, FmriTable>, string> BadFiles => new()
    {
        { "nan", t => t.With(1, s => s with { Voxels = s.Voxels.Select((v, i) => i == 3 ? float.NaN : v).ToArray() }), "row 1 (clip 'seg1_clip0001'): voxel 3 is NaN, expected a finite number" },
        { "inf", t => t.With(2, s => s with { Voxels = s.Voxels.Select((v, i) => i == 5 ? float.PositiveInfinity : v).ToArray() }), "row 2 (clip 'seg2_clip0002'): voxel 5 is Infinity" },
        { "ragged", t => t.With(2, s => s with { Voxels = new float[4] }), "row 2 (clip 'seg2_clip0002'): 4 voxels, but row 0 has 6" },
        { "vs sidecar", t => t with { Voxels = t.Voxels.Take(5).ToList() }, "rows have 6 voxels but the file's metadata mindanim.voxel_count says 5" },
        { "dup", t => t.With(2, s => s with { ClipId = "seg0_clip0000" }), "duplicate clip id: 'seg0_clip0000' (rows 0 and 2)" },
        { "split", t => t.With(1, s => s with { Split = "Test" }), "row 1 (clip 'seg1_clip0001'): split 'Test', expected one of train, val, test" },
        { "empty id", t => t.With(1, s => s with { ClipId = "" }), "column 'clip_id', row 1: empty string" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task Read_RejectsBadContent_NamingFileRowAndField(string name, Func<FmriTable, FmriTable> corrupt, string expected)
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File(name.Replace(' ', '_') + ".parquet");
        await FmriParquet.WriteAsync(path, corrupt(FormatTestData.Table(4, 6)), false, validate: false, default);

        var e = Assert.Throws<DataFormatException>(() => FmriParquet.Read(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task Read_NamesMissingColumns()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("partial.parquet");
        var id = new DataField<string>("clip_id");
        var split = new DataField<string>("split");
        using (var fs = File.Create(path))
        {
            await using var w = await ParquetWriter.CreateAsync(new ParquetSchema(id, split), fs);
            using var rg = w.CreateRowGroup();
            await rg.WriteAsync(id, new[] { "a" });
            await rg.WriteAsync(split, new[] { "train" });
        }

        var e = Assert.Throws<DataFormatException>(() => FmriParquet.Read(path));
        Assert.Contains("missing columns 'subject', 'segment', 'clip_index', 'repeats', 'voxels'", e.Message);
    }

    [Fact]
    public void Read_ReportsTruncatedAndForeignFilesClearly()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("fmri.parquet");
        FmriParquet.Write(path, FormatTestData.Table(20, 50), false);
        var bytes = File.ReadAllBytes(path);

        var truncated = tmp.File("truncated.parquet");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        File.Copy(FmriParquet.VoxelTablePath(path), FmriParquet.VoxelTablePath(truncated));
        var e1 = Assert.Throws<DataFormatException>(() => FmriParquet.Read(truncated));
        Assert.StartsWith(truncated + ": ", e1.Message);
        Assert.Contains("Parquet", e1.Message);
        Assert.DoesNotContain("\n", e1.Message);

        var text = tmp.File("text.parquet");
        File.WriteAllText(text, "clip_id,split\na,train\n");
        var e2 = Assert.Throws<DataFormatException>(() => FmriParquet.Read(text));
        Assert.StartsWith(text + ": not a readable Parquet file", e2.Message);

        var e3 = Assert.Throws<DataFormatException>(() => FmriParquet.Read(tmp.File("absent.parquet")));
        Assert.EndsWith("absent.parquet: file not found", e3.Message);
    }

    [Fact]
    public void Read_RejectsASidecarFromAnotherWrite()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var a = tmp.File("a.parquet");
        var b = tmp.File("b.parquet");
        FmriParquet.Write(a, FormatTestData.Table(3, 4, seed: 1), false);
        FmriParquet.Write(b, FormatTestData.Table(3, 4, seed: 2), false);
        File.Copy(FmriParquet.VoxelTablePath(b), FmriParquet.VoxelTablePath(a), overwrite: true);

        var e = Assert.Throws<DataFormatException>(() => FmriParquet.Read(a));
        Assert.Contains("a.voxels.parquet", e.Message);
        Assert.Contains("rewrite both files together", e.Message);
    }

    [Fact]
    public void EnsureCompatible_RejectsDifferentVoxelSelections()
    {
        var a = FormatTestData.Table(2, 6);
        FmriParquet.EnsureCompatible(a, FormatTestData.Table(3, 6, seed: 9), "train.parquet", "test.parquet");

        var e1 = Assert.Throws<DataFormatException>(() => FmriParquet.EnsureCompatible(a, FormatTestData.Table(2, 7), "train.parquet", "test.parquet"));
        Assert.Equal("test.parquet: has 7 voxels but train.parquet has 6; both must come from the same voxel selection", e1.Message);

        var moved = a with { Voxels = a.Voxels.Select(v => v.Index == 4 ? v with { SourceIndex = 5 } : v).ToList() };
        var e2 = Assert.Throws<DataFormatException>(() => FmriParquet.EnsureCompatible(a, moved, "train.parquet", "test.parquet"));
        Assert.Contains("voxel 4 is CIFTI_STRUCTURE_CORTEX_LEFT#5", e2.Message);
    }

    [Fact]
    public async Task Read_AcceptsPandasStyleColumns_NullableInt64AndFloat64Lists()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("pandas.parquet");
        FmriParquet.Write(path, FormatTestData.Table(2, 3), false); // for the sidecar
        var voxels = new ListField("voxels", new DataField<double?>("element"));
        var element = (DataField)voxels.Item;
        var fields = new Field[]
        {
            new DataField<string>("clip_id"), new DataField<string>("subject"), new DataField<string>("split"), new DataField<string>("segment"),
            new DataField<long?>("clip_index"), new DataField<long?>("repeats"), voxels,
        };
        using (var fs = File.Create(path))
        {
            await using var w = await ParquetWriter.CreateAsync(new ParquetSchema(fields), fs);
            using var rg = w.CreateRowGroup();
            await rg.WriteAsync((DataField)fields[0], new[] { "x", "y" });
            await rg.WriteAsync((DataField)fields[1], new[] { "s", "s" });
            await rg.WriteAsync((DataField)fields[2], new[] { "train", "test" });
            await rg.WriteAsync((DataField)fields[3], new[] { "g", "g" });
            await rg.WriteAsync<long>((DataField)fields[4], new ReadOnlyMemory<long?>(new long?[] { 7, 8 }), null, null, default);
            await rg.WriteAsync<long>((DataField)fields[5], new ReadOnlyMemory<long?>(new long?[] { 2, 10 }), null, null, default);
            var def = Enumerable.Repeat(element.MaxDefinitionLevel, 6).ToArray();
            await rg.WriteAllPartsAsync<double>(element, new double[] { 0.5, 1.25, -3, 4, 5, 1e-3 }, def, new[] { 0, 1, 1, 0, 1, 1 }, default);
        }

        var t = FmriParquet.Read(path);
        Assert.Equal(new[] { "x", "y" }, t.Samples.Select(s => s.ClipId));
        Assert.Equal(new[] { 7, 8 }, t.Samples.Select(s => s.ClipIndex));
        Assert.Equal(new[] { 2, 10 }, t.Samples.Select(s => s.Repeats));
        Assert.Equal(new[] { 4f, 5f, 1e-3f }, t.Samples[1].Voxels);
    }
}
