using System.Diagnostics;
using Parquet;
using Parquet.Schema;
using Serilog;

namespace MindAnimator.Data.Formats;

/// <summary>One row of an fMRI table without its voxel vector (cheap to read: the voxel column is skipped).</summary>
public sealed record FmriSampleInfo(string ClipId, string Subject, string Split, string Segment, int ClipIndex, int Repeats);

/// <summary>
/// fMRI samples as Parquet, readable by pandas/pyarrow, DuckDB, Spark, hyparquet.
/// <para>
/// <c>NAME.parquet</c>: one row per clip sample, columns <c>clip_id</c> (string), <c>subject</c> (string), <c>split</c>
/// (string: train/val/test), <c>segment</c> (string), <c>clip_index</c> (int32), <c>repeats</c> (int32),
/// <c>voxels</c> (list&lt;float32&gt;, the same length in every row); file key-value metadata holds the table's
/// provenance (<see cref="FmriTable.Metadata"/>, e.g. tool version, preprocessing, seed) plus
/// <c>mindanim.format</c>, <c>mindanim.voxel_count</c>, <c>mindanim.voxels_file</c> and <c>mindanim.table_id</c>.
/// </para>
/// <para>
/// <c>NAME.voxels.parquet</c> (sidecar, same folder): one row per voxel, columns <c>index</c> (int32, 0..n-1 in
/// order), <c>source_index</c> (int32), <c>structure</c>, <c>vertex</c> (int32, -1 if none), <c>roi</c>,
/// <c>population</c> (strings); its metadata repeats <c>mindanim.table_id</c> so a sidecar from another write is
/// detected. Both files are written to temp files and moved into place together (sidecar first).
/// </para>
/// Readers also accept what pandas writes for the same columns (nullable columns without nulls, int64 integers,
/// list&lt;float64&gt; voxels, which are rounded to float32).
/// </summary>
public static class FmriParquet
{
    public const string FormatVersion = "mindanim-fmri/1";
    public const string ReservedMetadataPrefix = "mindanim.";
    internal const string FormatKey = "mindanim.format";
    internal const string VoxelCountKey = "mindanim.voxel_count";
    internal const string VoxelsFileKey = "mindanim.voxels_file";
    internal const string TableIdKey = "mindanim.table_id";

    /// <summary>Rows per Parquet row group: ~4.6 MB of voxels at 4500 voxels; keeps pyarrow/pandas reads streaming.</summary>
    internal const int RowGroupRows = 256;

    public static readonly string[] SampleColumns = { "clip_id", "subject", "split", "segment", "clip_index", "repeats" };
    public const string VoxelColumn = "voxels";
    public static readonly string[] VoxelTableColumns = { "index", "source_index", "structure", "vertex", "roi", "population" };

    private static readonly ILogger Logger = Log.ForContext(typeof(FmriParquet));

    /// <summary>The voxel table written beside <paramref name="path"/>: <c>x/NAME.parquet</c> → <c>x/NAME.voxels.parquet</c>.</summary>
    public static string VoxelTablePath(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var name = Path.GetFileName(path);
        var stem = name.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? name[..^".parquet".Length] : name;
        return Path.Combine(dir, stem + ".voxels.parquet");
    }

    public static void Write(string path, FmriTable table, bool overwrite) =>
        WriteAsync(path, table, overwrite).GetAwaiter().GetResult();

    public static Task WriteAsync(string path, FmriTable table, bool overwrite, CancellationToken ct = default) =>
        WriteAsync(path, table, overwrite, validate: true, ct);

    /// <summary><paramref name="validate"/> false lets tests write the malformed files the reader must reject.</summary>
    internal static async Task WriteAsync(string path, FmriTable table, bool overwrite, bool validate, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        if (validate)
        {
            Validate(table, path);
        }
        foreach (var key in table.Metadata.Keys)
        {
            if (key.StartsWith(ReservedMetadataPrefix, StringComparison.Ordinal))
            {
                throw new ArgumentException($"metadata key '{key}' is reserved (keys starting with '{ReservedMetadataPrefix}' are written by the format itself)", nameof(table));
            }
        }
        var voxelPath = VoxelTablePath(path);
        AtomicFile.EnsureWritable(path, overwrite);
        AtomicFile.EnsureWritable(voxelPath, overwrite);
        var tableId = Guid.NewGuid().ToString("N");

        using var voxelFile = AtomicFile.Create(voxelPath, overwrite);
        using var mainFile = AtomicFile.Create(path, overwrite);
        await WriteVoxelTableAsync(voxelFile.Stream, table.Voxels, tableId, ct).ConfigureAwait(false);
        await WriteSamplesAsync(mainFile.Stream, table, Path.GetFileName(voxelPath), tableId, ct).ConfigureAwait(false);
        AtomicFile.CommitAll(voxelFile, mainFile);
        Logger.Debug("Wrote {Rows} fMRI samples × {Voxels} voxels to {Path} in {Seconds:F2} s", table.Samples.Count, table.VoxelCount, path, sw.Elapsed.TotalSeconds);
    }

    private static async Task WriteSamplesAsync(Stream stream, FmriTable table, string voxelsFile, string tableId, CancellationToken ct)
    {
        var clipId = new DataField<string>("clip_id");
        var subject = new DataField<string>("subject");
        var split = new DataField<string>("split");
        var segment = new DataField<string>("segment");
        var clipIndex = new DataField<int>("clip_index");
        var repeats = new DataField<int>("repeats");
        var voxels = new ListField(VoxelColumn, new DataField<float>("element"));
        var element = (DataField)voxels.Item;
        var schema = new ParquetSchema(clipId, subject, split, segment, clipIndex, repeats, voxels);

        var options = new ParquetOptions { CompressionMethod = CompressionMethod.Snappy };
        await using var writer = await ParquetWriter.CreateAsync(schema, stream, options, false, ct).ConfigureAwait(false);
        var meta = new Dictionary<string, string>(table.Metadata)
        {
            [FormatKey] = FormatVersion,
            [VoxelCountKey] = table.VoxelCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [VoxelsFileKey] = voxelsFile,
            [TableIdKey] = tableId,
        };
        writer.CustomMetadata = meta;

        var samples = table.Samples;
        var n = samples.Count > 0 ? samples.Max(s => s.Voxels.Length) : 0;
        var maxRows = Math.Min(RowGroupRows, Math.Max(1, samples.Count));
        var values = new float[maxRows * n];
        var rep = new int[maxRows * n];
        var def = new int[maxRows * n];
        Array.Fill(def, element.MaxDefinitionLevel);
        for (var start = 0; start < samples.Count || start == 0; start += RowGroupRows)
        {
            var rows = Math.Min(RowGroupRows, samples.Count - start);
            var part = Enumerable.Range(start, rows).Select(i => samples[i]).ToList();
            using var rg = writer.CreateRowGroup();
            await rg.WriteAsync(clipId, part.Select(s => s.ClipId).ToArray()).ConfigureAwait(false);
            await rg.WriteAsync(subject, part.Select(s => s.Subject).ToArray()).ConfigureAwait(false);
            await rg.WriteAsync(split, part.Select(s => s.Split).ToArray()).ConfigureAwait(false);
            await rg.WriteAsync(segment, part.Select(s => s.Segment).ToArray()).ConfigureAwait(false);
            await rg.WriteAsync<int>(clipIndex, new ReadOnlyMemory<int>(part.Select(s => s.ClipIndex).ToArray()), null, null, ct).ConfigureAwait(false);
            await rg.WriteAsync<int>(repeats, new ReadOnlyMemory<int>(part.Select(s => s.Repeats).ToArray()), null, null, ct).ConfigureAwait(false);
            var count = 0;
            foreach (var s in part)
            {
                var len = s.Voxels.Length;
                s.Voxels.AsSpan().CopyTo(values.AsSpan(count, len));
                rep.AsSpan(count, len).Fill(1);
                rep[count] = 0;
                count += len;
            }
            await rg.WriteAllPartsAsync<float>(element, new ReadOnlyMemory<float>(values, 0, count), new ReadOnlyMemory<int>(def, 0, count), new ReadOnlyMemory<int>(rep, 0, count), ct).ConfigureAwait(false);
            if (samples.Count == 0)
            {
                break;
            }
        }
    }

    private static async Task WriteVoxelTableAsync(Stream stream, IReadOnlyList<VoxelInfo> voxels, string tableId, CancellationToken ct)
    {
        var index = new DataField<int>("index");
        var source = new DataField<int>("source_index");
        var structure = new DataField<string>("structure");
        var vertex = new DataField<int>("vertex");
        var roi = new DataField<string>("roi");
        var population = new DataField<string>("population");
        var schema = new ParquetSchema(index, source, structure, vertex, roi, population);
        await using var writer = await ParquetWriter.CreateAsync(schema, stream, new ParquetOptions { CompressionMethod = CompressionMethod.Snappy }, false, ct).ConfigureAwait(false);
        writer.CustomMetadata = new Dictionary<string, string> { [FormatKey] = FormatVersion, [TableIdKey] = tableId };
        using var rg = writer.CreateRowGroup();
        await rg.WriteAsync<int>(index, new ReadOnlyMemory<int>(voxels.Select(v => v.Index).ToArray()), null, null, ct).ConfigureAwait(false);
        await rg.WriteAsync<int>(source, new ReadOnlyMemory<int>(voxels.Select(v => v.SourceIndex).ToArray()), null, null, ct).ConfigureAwait(false);
        await rg.WriteAsync(structure, voxels.Select(v => v.Structure).ToArray()).ConfigureAwait(false);
        await rg.WriteAsync<int>(vertex, new ReadOnlyMemory<int>(voxels.Select(v => v.Vertex).ToArray()), null, null, ct).ConfigureAwait(false);
        await rg.WriteAsync(roi, voxels.Select(v => v.Roi).ToArray()).ConfigureAwait(false);
        await rg.WriteAsync(population, voxels.Select(v => v.Population).ToArray()).ConfigureAwait(false);
    }

    public static FmriTable Read(string path) => ReadAsync(path).GetAwaiter().GetResult();

    public static Task<FmriTable> ReadAsync(string path, CancellationToken ct = default) =>
        Guard(path, async () =>
        {
            var sw = Stopwatch.StartNew();
            var (infos, voxels, meta) = await ReadCoreAsync(path, withVoxels: true, ct).ConfigureAwait(false);
            var voxelTable = await ReadVoxelTableAsync(path, meta, ct).ConfigureAwait(false);
            var samples = new FmriSample[infos.Count];
            for (var i = 0; i < samples.Length; i++)
            {
                var s = infos[i];
                if (voxels![i].Length != voxelTable.Count)
                {
                    throw new DataFormatException(path, $"row {i} (clip '{s.ClipId}'): {voxels[i].Length} voxels, but the voxel table {Path.GetFileName(VoxelTablePath(path))} has {voxelTable.Count}");
                }
                samples[i] = new FmriSample
                {
                    ClipId = s.ClipId,
                    Subject = s.Subject,
                    Split = s.Split,
                    Segment = s.Segment,
                    ClipIndex = s.ClipIndex,
                    Repeats = s.Repeats,
                    Voxels = voxels[i],
                };
            }
            Logger.Debug("Read {Rows} fMRI samples × {Voxels} voxels from {Path} in {Seconds:F2} s", samples.Length, voxelTable.Count, path, sw.Elapsed.TotalSeconds);
            return new FmriTable(samples, voxelTable, UserMetadata(meta));
        });

    /// <summary>The rows without voxel vectors, the voxel count and the metadata; reads neither voxels nor sidecar.</summary>
    public static FmriTableSummary ReadSummary(string path) => Guard(path, async () =>
    {
        var (infos, _, meta) = await ReadCoreAsync(path, withVoxels: false, default).ConfigureAwait(false);
        meta.TryGetValue(VoxelCountKey, out var vc);
        var count = int.TryParse(vc, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var c) ? c : -1;
        return new FmriTableSummary(path, infos, count, UserMetadata(meta));
    }).GetAwaiter().GetResult();

    /// <summary>Reads only the voxel table of the fMRI table at <paramref name="path"/> (its sidecar).</summary>
    public static IReadOnlyList<VoxelInfo> ReadVoxelTable(string path) => Guard(VoxelTablePath(path), async () =>
    {
        await using var reader = await OpenAsync(path, default).ConfigureAwait(false);
        return await ReadVoxelTableAsync(path, reader.CustomMetadata ?? new Dictionary<string, string>(), default).ConfigureAwait(false);
    }).GetAwaiter().GetResult();

    /// <summary>
    /// Fails when two tables cannot be used together (e.g. a train and a test file): different voxel counts, or
    /// voxels that come from different sources (source index or structure differ at some position).
    /// </summary>
    public static void EnsureCompatible(FmriTable a, FmriTable b, string aName = "first table", string bName = "second table")
    {
        if (a.VoxelCount != b.VoxelCount)
        {
            throw new DataFormatException(bName, $"has {b.VoxelCount} voxels but {aName} has {a.VoxelCount}; both must come from the same voxel selection");
        }
        for (var i = 0; i < a.VoxelCount; i++)
        {
            var va = a.Voxels[i];
            var vb = b.Voxels[i];
            if (va.SourceIndex != vb.SourceIndex || va.Structure != vb.Structure)
            {
                throw new DataFormatException(bName, $"voxel {i} is {vb.Structure}#{vb.SourceIndex} but in {aName} it is {va.Structure}#{va.SourceIndex}; both must come from the same voxel selection");
            }
        }
    }

    /// <summary>Checks a table before writing it or after reading it; the message names <paramref name="path"/>.</summary>
    public static void Validate(FmriTable table, string path)
    {
        var n = table.VoxelCount;
        if (n == 0)
        {
            throw new DataFormatException(path, "the voxel table is empty; expected at least one voxel");
        }
        for (var i = 0; i < n; i++)
        {
            if (table.Voxels[i].Index != i)
            {
                throw new DataFormatException(path, $"voxel table row {i} has index {table.Voxels[i].Index}, expected {i} (indices must be 0..{n - 1} in order)");
            }
        }
        ValidateSamples(path, table.Samples.Select(s => new FmriSampleInfo(s.ClipId, s.Subject, s.Split, s.Segment, s.ClipIndex, s.Repeats)).ToList());
        for (var r = 0; r < table.Samples.Count; r++)
        {
            var s = table.Samples[r];
            if (s.Voxels is null || s.Voxels.Length != n)
            {
                throw new DataFormatException(path, $"row {r} (clip '{s.ClipId}'): {s.Voxels?.Length ?? 0} voxels, expected {n} (the voxel table's size)");
            }
            var bad = FirstNonFinite(s.Voxels);
            if (bad >= 0)
            {
                throw new DataFormatException(path, $"row {r} (clip '{s.ClipId}'): voxel {bad} is {Show(s.Voxels[bad])}, expected a finite number");
            }
        }
    }

    private static void ValidateSamples(string path, IReadOnlyList<FmriSampleInfo> rows)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var duplicates = new List<string>();
        for (var r = 0; r < rows.Count; r++)
        {
            var s = rows[r];
            if (string.IsNullOrEmpty(s.ClipId))
            {
                throw new DataFormatException(path, $"row {r}: empty clip_id");
            }
            if (Array.IndexOf(Splits.All, s.Split) < 0)
            {
                throw new DataFormatException(path, $"row {r} (clip '{s.ClipId}'): split '{s.Split}', expected one of {string.Join(", ", Splits.All)}");
            }
            if (s.ClipIndex < 0 || s.Repeats < 0)
            {
                throw new DataFormatException(path, $"row {r} (clip '{s.ClipId}'): clip_index {s.ClipIndex} and repeats {s.Repeats} must not be negative");
            }
            if (!seen.TryAdd(s.ClipId, r))
            {
                duplicates.Add($"'{s.ClipId}' (rows {seen[s.ClipId]} and {r})");
            }
        }
        if (duplicates.Count > 0)
        {
            throw new DataFormatException(path, $"{duplicates.Count} duplicate clip id{(duplicates.Count > 1 ? "s" : "")}: {string.Join(", ", duplicates.Take(5))}{(duplicates.Count > 5 ? ", …" : "")}");
        }
    }

    private static string Show(float v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static int FirstNonFinite(ReadOnlySpan<float> v)
    {
        for (var i = 0; i < v.Length; i++)
        {
            if (!float.IsFinite(v[i]))
            {
                return i;
            }
        }
        return -1;
    }

    private static IReadOnlyDictionary<string, string> UserMetadata(IReadOnlyDictionary<string, string> meta) =>
        meta.Where(kv => !kv.Key.StartsWith(ReservedMetadataPrefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);

    private static async Task<ParquetReader> OpenAsync(string path, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            throw new DataFormatException(path, "file not found");
        }
        try
        {
            return await ParquetReader.CreateAsync(path, null, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not MindAnimatorException and not OperationCanceledException)
        {
            throw new DataFormatException(path, $"not a readable Parquet file (truncated or corrupt?): {e.Message}", e);
        }
    }

    private static async Task<(List<FmriSampleInfo> Infos, List<float[]>? Voxels, Dictionary<string, string> Meta)> ReadCoreAsync(string path, bool withVoxels, CancellationToken ct)
    {
        await using var reader = await OpenAsync(path, ct).ConfigureAwait(false);
        var meta = reader.CustomMetadata ?? new Dictionary<string, string>();
        if (meta.TryGetValue(FormatKey, out var fmt) && fmt != FormatVersion)
        {
            throw new DataFormatException(path, $"format '{fmt}' is not supported by this version (expected '{FormatVersion}')");
        }
        var cols = new ParquetColumns(path, reader.Schema);
        cols.RequireColumns(SampleColumns.Append(VoxelColumn));
        var element = cols.ListElement(VoxelColumn, typeof(float), typeof(double));
        var infos = new List<FmriSampleInfo>();
        var voxels = withVoxels ? new List<float[]>() : null;
        long firstRow = 0;
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            var ids = await cols.ReadStringsAsync(rg, "clip_id", firstRow, false, ct).ConfigureAwait(false);
            var subjects = await cols.ReadStringsAsync(rg, "subject", firstRow, true, ct).ConfigureAwait(false);
            var splits = await cols.ReadStringsAsync(rg, "split", firstRow, false, ct).ConfigureAwait(false);
            var segments = await cols.ReadStringsAsync(rg, "segment", firstRow, true, ct).ConfigureAwait(false);
            var clipIndex = await cols.ReadInt32Async(rg, "clip_index", firstRow, ct).ConfigureAwait(false);
            var repeats = await cols.ReadInt32Async(rg, "repeats", firstRow, ct).ConfigureAwait(false);
            for (var i = 0; i < ids.Length; i++)
            {
                infos.Add(new FmriSampleInfo(ids[i], subjects[i], splits[i], segments[i], clipIndex[i], repeats[i]));
            }
            if (voxels is not null)
            {
                await ReadVoxelRowsAsync(path, rg, element, ids, firstRow, voxels, ct).ConfigureAwait(false);
            }
            firstRow += rg.RowCount;
        }
        ValidateSamples(path, infos);
        if (voxels is not null)
        {
            var n = voxels.Count > 0 ? voxels[0].Length : 0;
            for (var r = 0; r < voxels.Count; r++)
            {
                if (voxels[r].Length != n)
                {
                    throw new DataFormatException(path, $"row {r} (clip '{infos[r].ClipId}'): {voxels[r].Length} voxels, but row 0 has {n}; every row must have the same number");
                }
            }
            if (meta.TryGetValue(VoxelCountKey, out var declared) && voxels.Count > 0 && declared != n.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                throw new DataFormatException(path, $"rows have {n} voxels but the file's metadata {VoxelCountKey} says {declared}");
            }
        }
        return (infos, voxels, meta);
    }

    private static async Task ReadVoxelRowsAsync(string path, ParquetRowGroupReader rg, DataField element, string[] ids, long firstRow, List<float[]> output, CancellationToken ct)
    {
        var levels = checked((int)(rg.GetMetadata(element)?.MetaData?.NumValues ?? 0));
        var def = new int[levels];
        var rep = new int[levels];
        float[] values;
        if (element.ClrType == typeof(float))
        {
            values = new float[levels];
            await rg.ReadRawAsync<float>(element, values, def, rep, ct).ConfigureAwait(false);
        }
        else
        {
            var d = new double[levels];
            await rg.ReadRawAsync<double>(element, d, def, rep, ct).ConfigureAwait(false);
            values = new float[levels];
            for (var i = 0; i < levels; i++)
            {
                values[i] = (float)d[i];
            }
        }

        // Walk the levels: repetition 0 starts a row; a value is present only at the maximum definition level
        // (lower levels are null lists, empty lists or null elements, none of which a voxel vector may contain).
        var maxDef = element.MaxDefinitionLevel;
        var row = -1;
        var valueCursor = 0;
        var rowValues = new List<int>(ids.Length);
        var rowFirstValue = new List<int>(ids.Length);
        for (var i = 0; i < levels; i++)
        {
            if (rep[i] == 0)
            {
                row++;
                if (row >= ids.Length)
                {
                    throw new DataFormatException(path, $"column '{VoxelColumn}' has more rows than the other columns ({ids.Length} in row group)");
                }
                rowValues.Add(0);
                rowFirstValue.Add(valueCursor);
            }
            if (def[i] == maxDef)
            {
                var v = values[valueCursor];
                if (!float.IsFinite(v))
                {
                    throw new DataFormatException(path, $"row {firstRow + row} (clip '{ids[row]}'): voxel {rowValues[row]} is {Show(v)}, expected a finite number");
                }
                valueCursor++;
                rowValues[row]++;
            }
            else if (element.IsNullable && def[i] == maxDef - 1)
            {
                throw new DataFormatException(path, $"row {firstRow + row} (clip '{ids[row]}'): voxel {rowValues[row]} is null, expected a finite number");
            }
        }
        if (row + 1 != ids.Length)
        {
            throw new DataFormatException(path, $"column '{VoxelColumn}' has {row + 1} rows in a row group where the other columns have {ids.Length}");
        }
        for (var r = 0; r < ids.Length; r++)
        {
            output.Add(values.AsSpan(rowFirstValue[r], rowValues[r]).ToArray());
        }
    }

    private static async Task<IReadOnlyList<VoxelInfo>> ReadVoxelTableAsync(string path, IReadOnlyDictionary<string, string> mainMeta, CancellationToken ct)
    {
        var voxelPath = VoxelTablePath(path);
        if (!File.Exists(voxelPath))
        {
            throw new DataFormatException(path, $"its voxel table {Path.GetFileName(voxelPath)} is missing (it must lie beside the fMRI table; write both with mindanim)");
        }
        await using var reader = await OpenAsync(voxelPath, ct).ConfigureAwait(false);
        var meta = reader.CustomMetadata ?? new Dictionary<string, string>();
        if (mainMeta.TryGetValue(TableIdKey, out var id) && meta.TryGetValue(TableIdKey, out var vid) && id != vid)
        {
            throw new DataFormatException(voxelPath, $"belongs to another write than {Path.GetFileName(path)} (table ids {vid} and {id} differ); rewrite both files together");
        }
        var cols = new ParquetColumns(voxelPath, reader.Schema);
        cols.RequireColumns(VoxelTableColumns);
        var result = new List<VoxelInfo>();
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var rg = reader.OpenRowGroupReader(g);
            long first = result.Count;
            var index = await cols.ReadInt32Async(rg, "index", first, ct).ConfigureAwait(false);
            var source = await cols.ReadInt32Async(rg, "source_index", first, ct).ConfigureAwait(false);
            var structure = await cols.ReadStringsAsync(rg, "structure", first, true, ct).ConfigureAwait(false);
            var vertex = await cols.ReadInt32Async(rg, "vertex", first, ct).ConfigureAwait(false);
            var roi = await cols.ReadStringsAsync(rg, "roi", first, true, ct).ConfigureAwait(false);
            var population = await cols.ReadStringsAsync(rg, "population", first, true, ct).ConfigureAwait(false);
            for (var i = 0; i < index.Length; i++)
            {
                if (index[i] != result.Count)
                {
                    throw new DataFormatException(voxelPath, $"row {result.Count}: index {index[i]}, expected {result.Count} (indices must be 0..n-1 in order)");
                }
                result.Add(new VoxelInfo(index[i], source[i], structure[i], vertex[i], roi[i], population[i]));
            }
        }
        if (result.Count == 0)
        {
            throw new DataFormatException(voxelPath, "no voxels; expected at least one row");
        }
        return result;
    }

    /// <summary>Turns any failure of the Parquet library into a one-line <see cref="DataFormatException"/> naming the file.</summary>
    private static async Task<T> Guard<T>(string path, Func<Task<T>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not MindAnimatorException and not OperationCanceledException and not OutOfMemoryException)
        {
            throw new DataFormatException(path, $"cannot be read as an fMRI table (truncated or corrupt?): {e.GetType().Name}: {e.Message}", e);
        }
    }
}

/// <summary>An fMRI table's rows without voxel vectors (see <see cref="FmriParquet.ReadSummary"/>).</summary>
/// <param name="VoxelCount">From the file's metadata; -1 when the file does not declare it.</param>
public sealed record FmriTableSummary(string Path, IReadOnlyList<FmriSampleInfo> Samples, int VoxelCount, IReadOnlyDictionary<string, string> Metadata);
