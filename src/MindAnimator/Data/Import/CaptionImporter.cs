// Reads the captions Mind-Animator ships (Data_preprocess/CC2017/{Train,Test}_captions_new.h5, written with h5py) and caption tables.
using System.Text;
using System.Text.Json;
using MindAnimator.Data.Formats;
using PureHDF;
using Serilog;

namespace MindAnimator.Data.Import;

/// <summary>Reads captions from HDF5 files, CSV, JSON and JSON Lines tables, and writes the tool's caption table.</summary>
public static class CaptionImporter
{
    private static readonly ILogger Logger = Log.ForContext(typeof(CaptionImporter));

    /// <summary>
    /// The strings of a 1-D string dataset of an HDF5 file, in order. <paramref name="dataset"/> null picks the only
    /// 1-D string dataset at the file's root (the official files hold exactly one: Train_captions / Test_captions).
    /// </summary>
    public static string[] ReadH5(string path, string? dataset = null)
    {
        if (!File.Exists(path))
        {
            throw new DataFormatException(path, "caption file not found");
        }
        try
        {
            using var file = H5File.OpenRead(path);
            IH5Dataset ds;
            if (dataset is not null)
            {
                if (!file.LinkExists(dataset))
                {
                    throw new DataFormatException(path, $"no dataset '{dataset}'; the file holds: {string.Join(", ", file.Children().Select(c => c.Name))}");
                }
                ds = file.Dataset(dataset);
            }
            else
            {
                var candidates = file.Children().OfType<IH5Dataset>().Where(d => d.Space.Rank == 1 && IsString(d.Type)).ToList();
                if (candidates.Count != 1)
                {
                    throw new DataFormatException(path, candidates.Count == 0
                        ? $"no 1-D string dataset at the root (found: {string.Join(", ", file.Children().Select(c => c.Name))}); name one with --dataset"
                        : $"several 1-D string datasets ({string.Join(", ", candidates.Select(c => c.Name))}); name one with --dataset");
                }
                ds = candidates[0];
            }
            if (ds.Space.Rank != 1 || !IsString(ds.Type))
            {
                throw new DataFormatException(path, $"dataset '{ds.Name}' is not a 1-D array of strings (rank {ds.Space.Rank}, type class {ds.Type.Class})");
            }
            var captions = ds.Read<string[]>();
            for (var i = 0; i < captions.Length; i++)
            {
                if (captions[i] is null)
                {
                    throw new DataFormatException(path, $"dataset '{ds.Name}': caption {i} is null");
                }
            }
            Logger.Debug("Read {Count} captions from {Path} ({Dataset})", captions.Length, path, ds.Name);
            return captions;
        }
        catch (Exception e) when (e is not MindAnimatorException and not OutOfMemoryException)
        {
            throw new DataFormatException(path, $"not a readable HDF5 caption file (truncated or corrupt?): {e.Message}", e);
        }
    }

    private static bool IsString(IH5DataType t) => t.Class is H5DataTypeClass.String or H5DataTypeClass.VariableLength;

    /// <summary>
    /// A caption table: CSV with a header row, JSON (an array of strings, an array of objects, or an object mapping clip
    /// id → caption) or JSON Lines. Rows have a caption column (<c>caption</c> or <c>text</c>) and optionally a clip id
    /// column (<c>clip_id</c> or <c>id</c>); the id is null when the table has none.
    /// </summary>
    public static IReadOnlyList<(string? ClipId, string Caption)> ReadTable(string path)
    {
        if (!File.Exists(path))
        {
            throw new DataFormatException(path, "caption file not found");
        }
        var ext = Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".csv" or ".tsv" => ReadCsv(path, ext == ".tsv" ? '\t' : ','),
            ".json" => ReadJson(path),
            ".jsonl" or ".ndjson" => ReadJsonLines(path),
            _ => throw new DataFormatException(path, $"unknown caption file type '{ext}' (expected .h5/.hdf5, .csv, .tsv, .json or .jsonl)"),
        };
    }

    /// <summary>Captions in clip order from any supported file (.h5/.hdf5 or a table); ids as the table gives them.</summary>
    public static IReadOnlyList<(string? ClipId, string Caption)> ReadAny(string path, string? dataset = null)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        return ext is ".h5" or ".hdf5" or ".hdf" ? ReadH5(path, dataset).Select(c => ((string?)null, c)).ToList() : ReadTable(path);
    }

    /// <summary>
    /// Clip ids for captions given in dataset order: segment s (1-based) holds clips
    /// [(s − 1)·clipsPerSegment, s·clipsPerSegment), named like the rest of the tool (<see cref="ClipIds"/>).
    /// </summary>
    public static List<KeyValuePair<string, string>> AssignClipIds(IReadOnlyList<(string? ClipId, string Caption)> captions, string split, int clipsPerSegment, string source)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(clipsPerSegment, 1);
        if (captions.Any(c => c.ClipId is not null))
        {
            return captions.Select(c => new KeyValuePair<string, string>(c.ClipId ?? throw new DataFormatException(source, "some rows have a clip id and some do not"), c.Caption)).ToList();
        }
        if (captions.Count % clipsPerSegment != 0)
        {
            throw new DataFormatException(source, $"{captions.Count} captions is not a whole number of segments of {clipsPerSegment} clips; set --clips-per-segment");
        }
        return captions.Select((c, i) => new KeyValuePair<string, string>(ClipIds.Clip(split, (i / clipsPerSegment) + 1, i % clipsPerSegment), c.Caption)).ToList();
    }

    private static List<(string?, string)> ReadCsv(string path, char separator)
    {
        var rows = Csv.Parse(File.ReadAllText(path, Encoding.UTF8), separator, path);
        if (rows.Count == 0)
        {
            throw new DataFormatException(path, "empty caption table; expected a header row with a 'caption' column");
        }
        var header = rows[0].Select(h => h.Trim().ToLowerInvariant()).ToList();
        var captionCol = FirstIndex(header, "caption", "text", "captions");
        var idCol = FirstIndex(header, "clip_id", "id", "clip");
        if (captionCol < 0)
        {
            throw new DataFormatException(path, $"no 'caption' (or 'text') column in the header ({string.Join(", ", rows[0])})");
        }
        var result = new List<(string?, string)>();
        for (var r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.Count == 1 && row[0].Length == 0)
            {
                continue;
            }
            if (row.Count != header.Count)
            {
                throw new DataFormatException(path, $"row {r + 1}: {row.Count} fields, the header has {header.Count}");
            }
            result.Add((idCol >= 0 ? row[idCol] : null, row[captionCol]));
        }
        return result;
    }

    private static int FirstIndex(List<string> header, params string[] names)
    {
        foreach (var n in names)
        {
            var i = header.IndexOf(n);
            if (i >= 0)
            {
                return i;
            }
        }
        return -1;
    }

    private static List<(string?, string)> ReadJson(string path)
    {
        using var doc = ParseJson(path, File.ReadAllText(path, Encoding.UTF8), "the file");
        var root = doc.RootElement;
        var result = new List<(string?, string)>();
        switch (root.ValueKind)
        {
            case JsonValueKind.Array:
                var i = 0;
                foreach (var e in root.EnumerateArray())
                {
                    result.Add(e.ValueKind == JsonValueKind.String ? (null, e.GetString()!) : FromObject(e, path, $"element {i}"));
                    i++;
                }
                break;
            case JsonValueKind.Object:
                foreach (var p in root.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.String)
                    {
                        throw new DataFormatException(path, $"key '{p.Name}': expected a caption string, got {p.Value.ValueKind}");
                    }
                    result.Add((p.Name, p.Value.GetString()!));
                }
                break;
            default:
                throw new DataFormatException(path, $"expected a JSON array or object of captions, got {root.ValueKind}");
        }
        return result;
    }

    private static List<(string?, string)> ReadJsonLines(string path)
    {
        var result = new List<(string?, string)>();
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            using var doc = ParseJson(path, text, $"line {line}");
            result.Add(doc.RootElement.ValueKind == JsonValueKind.String ? (null, doc.RootElement.GetString()!) : FromObject(doc.RootElement, path, $"line {line}"));
        }
        return result;
    }

    private static JsonDocument ParseJson(string path, string text, string where)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"{where}: not valid JSON ({e.Message})", e);
        }
    }

    private static (string?, string) FromObject(JsonElement e, string path, string where)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new DataFormatException(path, $"{where}: expected an object with 'caption' (and optionally 'clip_id'), got {e.ValueKind}");
        }
        string? Get(params string[] names)
        {
            foreach (var n in names)
            {
                if (e.TryGetProperty(n, out var v))
                {
                    return v.ValueKind == JsonValueKind.String ? v.GetString() : v.ValueKind == JsonValueKind.Number ? v.GetRawText() : throw new DataFormatException(path, $"{where}: field '{n}' must be a string");
                }
            }
            return null;
        }
        var caption = Get("caption", "text") ?? throw new DataFormatException(path, $"{where}: no 'caption' (or 'text') field");
        return (Get("clip_id", "id"), caption);
    }

    /// <summary>Minimal RFC 4180 CSV: quoted fields may hold separators, newlines and doubled quotes.</summary>
    private static class Csv
    {
        public static List<List<string>> Parse(string text, char sep, string path)
        {
            var rows = new List<List<string>>();
            var row = new List<string>();
            var field = new StringBuilder();
            var quoted = false;
            var line = 1;
            for (var i = 0; i < text.Length; i++)
            {
                var ch = text[i];
                if (quoted)
                {
                    if (ch == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            field.Append('"');
                            i++;
                        }
                        else
                        {
                            quoted = false;
                        }
                    }
                    else
                    {
                        line += ch == '\n' ? 1 : 0;
                        field.Append(ch);
                    }
                }
                else if (ch == '"' && field.Length == 0)
                {
                    quoted = true;
                }
                else if (ch == sep)
                {
                    row.Add(field.ToString());
                    field.Clear();
                }
                else if (ch is '\n' or '\r')
                {
                    if (ch == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                    {
                        i++;
                    }
                    row.Add(field.ToString());
                    field.Clear();
                    rows.Add(row);
                    row = new List<string>();
                    line++;
                }
                else
                {
                    field.Append(ch);
                }
            }
            if (quoted)
            {
                throw new DataFormatException(path, $"line {line}: a quoted field is not closed");
            }
            if (field.Length > 0 || row.Count > 0)
            {
                row.Add(field.ToString());
                rows.Add(row);
            }
            return rows;
        }
    }
}

/// <summary>Clip ids and segment names shared by the importers (the same scheme as the simulator).</summary>
public static class ClipIds
{
    public static string Segment(string split, int segmentNumber) => $"{split}-seg{segmentNumber:D2}";

    public static string Clip(string split, int segmentNumber, int clipIndex) => $"{Segment(split, segmentNumber)}-clip{clipIndex:D4}";
}

/// <summary>What `data import captions` combines: captions in clip order per split, and tables with clip ids.</summary>
public sealed record CaptionImportRequest
{
    public string? Train { get; init; }

    public string? Test { get; init; }

    public IReadOnlyList<string> Tables { get; init; } = Array.Empty<string>();

    /// <summary>HDF5 dataset name; null picks the only string dataset.</summary>
    public string? Dataset { get; init; }

    public int ClipsPerSegment { get; init; } = 240;

    public required string Output { get; init; }

    public bool Overwrite { get; init; }
}

public static class CaptionImport
{
    /// <summary>Reads every input, names the clips, checks ids are unique and writes the caption table.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Run(CaptionImportRequest request, ILogger log)
    {
        var all = new List<KeyValuePair<string, string>>();
        foreach (var (file, split) in new[] { (request.Train, Splits.Train), (request.Test, Splits.Test) })
        {
            if (file is null)
            {
                continue;
            }
            var captions = CaptionImporter.ReadAny(file, request.Dataset);
            all.AddRange(CaptionImporter.AssignClipIds(captions, split, request.ClipsPerSegment, file));
            log.Information("{Split} captions: {Count} from {Path}", split, captions.Count, file);
        }
        foreach (var table in request.Tables)
        {
            var rows = CaptionImporter.ReadAny(table, request.Dataset);
            if (rows.Any(r => r.ClipId is null))
            {
                throw new DataFormatException(table, "a table given with --table needs a clip id for every row (column 'clip_id'); give captions in clip order with --train/--test instead");
            }
            all.AddRange(rows.Select(r => new KeyValuePair<string, string>(r.ClipId!, r.Caption)));
            log.Information("Captions: {Count} from {Path}", rows.Count, table);
        }
        if (all.Count == 0)
        {
            throw new MindAnimatorException("no captions to import: give --train, --test or --table");
        }
        var duplicate = all.GroupBy(c => c.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new MindAnimatorException($"clip id '{duplicate.Key}' has {duplicate.Count()} captions across the inputs; each clip needs exactly one");
        }
        CaptionTable.Write(request.Output, all, request.Overwrite);
        log.Information("Wrote {Count} captions to {Path}", all.Count, request.Output);
        return all;
    }
}
