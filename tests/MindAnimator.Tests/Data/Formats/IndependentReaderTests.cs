using System.Text.Json;
using MindAnimator.Data.Formats;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Data.Formats;

/// <summary>
/// Proves that a Parquet implementation other than Parquet.Net reads our files: hyparquet (pure JavaScript, npm),
/// because Debian 12 packages no Parquet reader (no pyarrow, fastparquet or duckdb). scripts/setup.sh installs it.
/// </summary>
public class IndependentReaderTests
{
    public const string HyparquetVersion = "1.31.5";

    /// <summary>$MINDANIM_HYPARQUET, else ${XDG_CACHE_HOME:-~/.cache}/mindanim/node/node_modules/hyparquet.</summary>
    public static string HyparquetDir
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("MINDANIM_HYPARQUET");
            if (!string.IsNullOrEmpty(env))
            {
                return env;
            }
            var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (string.IsNullOrEmpty(cache))
            {
                cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            }
            return Path.Combine(cache, "mindanim", "node", "node_modules", "hyparquet");
        }
    }

    private const string Script = """
        import { pathToFileURL } from 'node:url';
        const [lib, main, sidecar] = process.argv.slice(2);
        const hp = await import(pathToFileURL(lib + '/src/node.js').href);
        async function read(path) {
          const file = await hp.asyncBufferFromFile(path);
          const meta = await hp.parquetMetadataAsync(file);
          const rows = await hp.parquetReadObjects({ file });
          const kv = Object.fromEntries((meta.key_value_metadata ?? []).map(e => [e.key, e.value]));
          return { kv, rows };
        }
        const m = await read(main);
        // Bit patterns, so that -0, subnormals and extremes are compared exactly.
        for (const r of m.rows) r.voxels = Array.from(new Int32Array(Float32Array.from(r.voxels).buffer));
        const v = await read(sidecar);
        console.log(JSON.stringify({ main: m, voxels: v }));
        """;

    [Fact]
    public void Hyparquet_ReadsOurFmriTable_BitExact()
    {
        var dir = HyparquetDir;
        var install = $"npm install --prefix \"{Path.GetFullPath(Path.Combine(dir, "..", ".."))}\" hyparquet@{HyparquetVersion}";
        Assert.True(FormatTestData.Run("node", "--version") is { Code: 0 }, "node is not installed; install it (apt-get install nodejs npm), then: " + install);
        Assert.True(File.Exists(Path.Combine(dir, "src", "node.js")), $"hyparquet (the independent Parquet reader) is missing at {dir}; install it with: {install}");

        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("fmri.parquet");
        var table = FormatTestData.Table(rows: FmriParquet.RowGroupRows + 5, voxels: 23);
        FmriParquet.Write(path, table, false);
        var script = tmp.File("read.mjs");
        File.WriteAllText(script, Script);

        var run = FormatTestData.Run("node", script, dir, path, FmriParquet.VoxelTablePath(path))!.Value;
        Assert.True(run.Code == 0, "hyparquet failed: " + run.Stderr);
        using var doc = JsonDocument.Parse(run.Stdout);
        var main = doc.RootElement.GetProperty("main");
        var rows = main.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(table.Samples.Count, rows.Count);
        for (var r = 0; r < rows.Count; r++)
        {
            var s = table.Samples[r];
            var row = rows[r];
            Assert.Equal(s.ClipId, row.GetProperty("clip_id").GetString());
            Assert.Equal(s.Subject, row.GetProperty("subject").GetString());
            Assert.Equal(s.Split, row.GetProperty("split").GetString());
            Assert.Equal(s.Segment, row.GetProperty("segment").GetString());
            Assert.Equal(s.ClipIndex, row.GetProperty("clip_index").GetInt32());
            Assert.Equal(s.Repeats, row.GetProperty("repeats").GetInt32());
            Assert.Equal(FormatTestData.Bits(s.Voxels), row.GetProperty("voxels").EnumerateArray().Select(e => e.GetInt32()));
        }
        var kv = main.GetProperty("kv");
        foreach (var (k, v) in table.Metadata)
        {
            Assert.Equal(v, kv.GetProperty(k).GetString());
        }
        Assert.Equal(FmriParquet.FormatVersion, kv.GetProperty("mindanim.format").GetString());

        var voxels = doc.RootElement.GetProperty("voxels").GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(table.Voxels.Count, voxels.Count);
        for (var i = 0; i < voxels.Count; i++)
        {
            var v = voxels[i];
            var e = table.Voxels[i];
            Assert.Equal(e, new MindAnimator.Data.VoxelInfo(
                v.GetProperty("index").GetInt32(), v.GetProperty("source_index").GetInt32(), v.GetProperty("structure").GetString()!,
                v.GetProperty("vertex").GetInt32(), v.GetProperty("roi").GetString()!, v.GetProperty("population").GetString()!));
        }
    }
}
