using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MindAnimator.Data.Formats;

/// <summary>
/// Stimulus clips on disk: a folder of safetensors shards, one uint8 tensor <c>[frames, height, width, 3]</c> per clip
/// named by its clip id, plus <c>index.json</c> (format, frame count and size, and which shard holds each clip in
/// dataset order). Any safetensors reader opens a shard (<c>safetensors.numpy.load_file</c>, <c>safe_open</c>);
/// random access by clip id costs one header parse per shard and one seek. Shards are capped by size so a
/// 512×512 dataset streams through memory.
/// </summary>
public static class ClipStore
{
    public const string FormatVersion = "mindanim-clips/1";
    public const string IndexFile = "index.json";

    /// <summary>Default shard size cap: 256 MiB.</summary>
    public const long DefaultShardBytes = 256L << 20;

    /// <summary>Starts writing a store into <paramref name="folder"/>; nothing appears there until <see cref="ClipStoreWriter.Complete"/>.</summary>
    public static ClipStoreWriter Create(string folder, bool overwrite, long shardBytes = DefaultShardBytes) => new(folder, overwrite, shardBytes);

    /// <summary>Writes all <paramref name="clips"/> (in order) as a store.</summary>
    public static void Write(string folder, IEnumerable<ClipFrames> clips, bool overwrite, long shardBytes = DefaultShardBytes)
    {
        using var writer = Create(folder, overwrite, shardBytes);
        foreach (var clip in clips)
        {
            writer.Add(clip);
        }
        writer.Complete();
    }

    public static ClipStoreReader Open(string folder) => new(folder);
}

/// <summary>Streams clips into shards inside a hidden staging folder that is moved into place on completion.</summary>
public sealed class ClipStoreWriter : IDisposable
{
    private readonly string _folder;
    private readonly string _staging;
    private readonly bool _overwrite;
    private readonly long _shardBytes;
    private readonly List<ClipFrames> _pending = new();
    private readonly List<(string ClipId, int Shard)> _index = new();
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private long _pendingBytes;
    private int _shards;
    private (int Frames, int Height, int Width)? _shape;
    private bool _completed;

    internal ClipStoreWriter(string folder, bool overwrite, long shardBytes)
    {
        if (shardBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(shardBytes), "shard size must be positive");
        }
        _folder = Path.GetFullPath(folder);
        _overwrite = overwrite;
        _shardBytes = shardBytes;
        AtomicFile.EnsureWritableFolder(_folder, overwrite);
        var parent = Path.GetDirectoryName(_folder)!;
        Directory.CreateDirectory(parent);
        _staging = Path.Combine(parent, $".{Path.GetFileName(_folder)}.partial-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_staging);
    }

    public int Count => _index.Count;

    public void Add(ClipFrames clip)
    {
        if (_completed)
        {
            throw new InvalidOperationException("the clip store is already complete");
        }
        if (string.IsNullOrEmpty(clip.ClipId))
        {
            throw new ArgumentException("clip id must not be empty", nameof(clip));
        }
        if (!_ids.Add(clip.ClipId))
        {
            throw new MindAnimatorException($"{_folder}: duplicate clip id '{clip.ClipId}'");
        }
        var shape = (clip.Frames, clip.Height, clip.Width);
        _shape ??= shape;
        if (_shape != shape)
        {
            throw new MindAnimatorException(
                $"{_folder}: clip '{clip.ClipId}' is {clip.Frames}×{clip.Height}×{clip.Width}, expected {_shape.Value.Frames}×{_shape.Value.Height}×{_shape.Value.Width} like the other clips");
        }
        if (clip.Rgb.Length != clip.Frames * clip.FrameBytes)
        {
            throw new ArgumentException($"clip '{clip.ClipId}' holds {clip.Rgb.Length} bytes, expected {clip.Frames * clip.FrameBytes}", nameof(clip));
        }
        if (_pending.Count > 0 && _pendingBytes + clip.Rgb.Length > _shardBytes)
        {
            Flush();
        }
        _pending.Add(clip);
        _pendingBytes += clip.Rgb.Length;
    }

    /// <summary>Writes the last shard and the index, then moves the store into place.</summary>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }
        if (_shape is null)
        {
            throw new MindAnimatorException($"{_folder}: no clips to write");
        }
        Flush();
        var index = new JsonObject
        {
            ["format"] = ClipStore.FormatVersion,
            ["frames"] = _shape.Value.Frames,
            ["height"] = _shape.Value.Height,
            ["width"] = _shape.Value.Width,
            ["channels"] = 3,
            ["dtype"] = "uint8",
            ["layout"] = "frames,height,width,rgb",
            ["shards"] = new JsonArray(Enumerable.Range(0, _shards).Select(s => (JsonNode)ShardName(s)).ToArray()),
            ["clips"] = new JsonArray(_index.Select(e => (JsonNode)new JsonArray(e.ClipId, e.Shard)).ToArray()),
        };
        File.WriteAllText(Path.Combine(_staging, ClipStore.IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        if (Directory.Exists(_folder))
        {
            if (!_overwrite)
            {
                throw new OutputExistsException(_folder);
            }
            Directory.Delete(_folder, recursive: true);
        }
        Directory.Move(_staging, _folder);
        _completed = true;
    }

    public void Dispose()
    {
        if (!_completed && Directory.Exists(_staging))
        {
            Directory.Delete(_staging, recursive: true);
        }
    }

    internal static string ShardName(int shard) => $"shard-{shard:D5}.safetensors";

    private void Flush()
    {
        if (_pending.Count == 0)
        {
            return;
        }
        var entries = _pending.Select(c => new SafetensorsEntry(c.ClipId, "U8", new long[] { c.Frames, c.Height, c.Width, 3 }, c.Rgb)).ToList();
        SafetensorsWriter.Write(Path.Combine(_staging, ShardName(_shards)), entries, overwrite: false,
            new Dictionary<string, string> { ["format"] = ClipStore.FormatVersion });
        _index.AddRange(_pending.Select(c => (c.ClipId, _shards)));
        _shards++;
        _pending.Clear();
        _pendingBytes = 0;
    }
}

/// <summary>Random access to a clip store by clip id; validates the index and each shard header it opens.</summary>
public sealed class ClipStoreReader
{
    private readonly string _folder;
    private readonly string[] _shards;
    private readonly Dictionary<string, int> _shardOf;
    private readonly Dictionary<int, Dictionary<string, (long Begin, long End)>> _headers = new();
    private readonly object _gate = new();

    internal ClipStoreReader(string folder)
    {
        _folder = Path.GetFullPath(folder);
        var indexPath = Path.Combine(_folder, ClipStore.IndexFile);
        if (!Directory.Exists(_folder))
        {
            throw new MindAnimatorException($"{_folder}: clip store folder not found");
        }
        if (!File.Exists(indexPath))
        {
            throw new DataFormatException(indexPath, "missing: a clip store folder must hold index.json (is this a clip store written by mindanim?)");
        }
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(indexPath));
        }
        catch (JsonException e)
        {
            throw new DataFormatException(indexPath, $"not valid JSON ({e.Message})", e);
        }
        if (root is not JsonObject obj)
        {
            throw new DataFormatException(indexPath, "expected a JSON object");
        }
        var format = Field<string>(obj, "format", indexPath);
        if (format != ClipStore.FormatVersion)
        {
            throw new DataFormatException(indexPath, $"field 'format' is '{format}', expected '{ClipStore.FormatVersion}'");
        }
        Frames = Positive(obj, "frames", indexPath);
        Height = Positive(obj, "height", indexPath);
        Width = Positive(obj, "width", indexPath);
        _shards = (obj["shards"] as JsonArray ?? throw new DataFormatException(indexPath, "field 'shards' missing or not a list"))
            .Select(n => n?.GetValue<string>() ?? throw new DataFormatException(indexPath, "field 'shards' holds a null entry")).ToArray();
        var clips = obj["clips"] as JsonArray ?? throw new DataFormatException(indexPath, "field 'clips' missing or not a list");
        var ids = new List<string>(clips.Count);
        _shardOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in clips)
        {
            if (entry is not JsonArray { Count: 2 } pair || pair[0] is null || pair[1] is null)
            {
                throw new DataFormatException(indexPath, "field 'clips': each entry must be [clip_id, shard]");
            }
            var id = pair[0]!.GetValue<string>();
            var shard = pair[1]!.GetValue<int>();
            if (shard < 0 || shard >= _shards.Length)
            {
                throw new DataFormatException(indexPath, $"field 'clips': clip '{id}' names shard {shard}, but there are {_shards.Length}");
            }
            if (!_shardOf.TryAdd(id, shard))
            {
                throw new DataFormatException(indexPath, $"field 'clips': duplicate clip id '{id}'");
            }
            ids.Add(id);
        }
        ClipIds = ids;
    }

    public int Frames { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>Clip ids in the order they were written.</summary>
    public IReadOnlyList<string> ClipIds { get; }

    public bool Contains(string clipId) => _shardOf.ContainsKey(clipId);

    /// <summary>Reads one clip; thread-safe.</summary>
    public ClipFrames Read(string clipId)
    {
        if (!_shardOf.TryGetValue(clipId, out var shard))
        {
            throw new MindAnimatorException($"{_folder}: no clip '{clipId}' in this clip store");
        }
        var header = Header(shard);
        var path = Path.Combine(_folder, _shards[shard]);
        if (!header.TryGetValue(clipId, out var range))
        {
            throw new DataFormatException(path, $"the index puts clip '{clipId}' in this shard, but its header has no such tensor");
        }
        var bytes = new byte[range.End - range.Begin];
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            stream.Seek(range.Begin, SeekOrigin.Begin);
            stream.ReadExactly(bytes);
        }
        return new ClipFrames(clipId, Frames, Height, Width, bytes);
    }

    /// <summary>Every clip in written order.</summary>
    public IEnumerable<ClipFrames> ReadAll() => ClipIds.Select(Read);

    private Dictionary<string, (long Begin, long End)> Header(int shard)
    {
        lock (_gate)
        {
            if (_headers.TryGetValue(shard, out var cached))
            {
                return cached;
            }
            var parsed = ParseShardHeader(Path.Combine(_folder, _shards[shard]));
            _headers[shard] = parsed;
            return parsed;
        }
    }

    private Dictionary<string, (long Begin, long End)> ParseShardHeader(string path)
    {
        if (!File.Exists(path))
        {
            throw new DataFormatException(path, "shard listed in index.json is missing");
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var length = stream.Length;
        Span<byte> size = stackalloc byte[8];
        if (length < 8 || stream.Read(size) != 8)
        {
            throw new DataFormatException(path, "truncated: shorter than the 8-byte safetensors header size");
        }
        var headerSize = BinaryPrimitives.ReadUInt64LittleEndian(size);
        if (headerSize > (ulong)(length - 8) || headerSize > 100_000_000)
        {
            throw new DataFormatException(path, $"truncated or corrupt: header of {headerSize} bytes in a {length}-byte file");
        }
        var json = new byte[headerSize];
        stream.ReadExactly(json);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(json) as JsonObject ?? throw new DataFormatException(path, "safetensors header is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"safetensors header is not valid JSON ({e.Message})", e);
        }
        var dataStart = 8 + (long)headerSize;
        var result = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        var frameBytes = (long)Frames * Height * Width * 3;
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                continue;
            }
            if (node is not JsonObject t || t["dtype"]?.GetValue<string>() != "U8")
            {
                throw new DataFormatException(path, $"tensor '{name}': expected dtype U8");
            }
            var shape = (t["shape"] as JsonArray)?.Select(n => n!.GetValue<long>()).ToArray();
            if (shape is null || !shape.SequenceEqual(new long[] { Frames, Height, Width, 3 }))
            {
                throw new DataFormatException(path, $"tensor '{name}': shape [{string.Join(",", shape ?? Array.Empty<long>())}], expected [{Frames},{Height},{Width},3] as index.json says");
            }
            var offsets = (t["data_offsets"] as JsonArray)?.Select(n => n!.GetValue<long>()).ToArray();
            if (offsets is not { Length: 2 } || offsets[1] - offsets[0] != frameBytes)
            {
                throw new DataFormatException(path, $"tensor '{name}': data_offsets do not span {frameBytes} bytes");
            }
            if (dataStart + offsets[1] > length)
            {
                throw new DataFormatException(path, $"truncated: tensor '{name}' ends at byte {dataStart + offsets[1]} but the file has {length} bytes");
            }
            result[name] = (dataStart + offsets[0], dataStart + offsets[1]);
        }
        return result;
    }

    private static T Field<T>(JsonObject obj, string name, string path)
    {
        try
        {
            return obj[name] is { } node ? node.GetValue<T>() : throw new DataFormatException(path, $"field '{name}' is missing");
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new DataFormatException(path, $"field '{name}' has the wrong type, expected {typeof(T).Name}", e);
        }
    }

    private static int Positive(JsonObject obj, string name, string path)
    {
        var v = Field<int>(obj, name, path);
        return v > 0 ? v : throw new DataFormatException(path, $"field '{name}' is {v}, expected a positive integer");
    }
}
