using System.Buffers.Binary;
using System.Text.Json.Nodes;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Video;

namespace MindAnimator.Evaluation;

/// <summary>Clips to score (predictions or ground truth), readable one at a time by clip id.</summary>
public interface IClipSource
{
    /// <summary>What was opened (shown in the output).</summary>
    string Description { get; }

    IReadOnlyList<string> ClipIds { get; }

    /// <summary>(frames, height, width) when the format states it without decoding; null otherwise (GIFs).</summary>
    (int Frames, int Height, int Width)? Shape(string clipId);

    ClipFrames Read(string clipId);
}

/// <summary>Which half of a side-by-side GIF to take (the official scripts: left = ground truth, right = reconstruction).</summary>
public enum GifHalf
{
    Whole,
    Left,
    Right,
}

/// <summary>Opens the inputs `eval` accepts.</summary>
public static class ClipSources
{
    /// <summary>
    /// A clip store folder (index.json), a folder of GIFs (one per clip, named by clip id), a <c>.safetensors</c> file
    /// (one uint8 <c>[frames, height, width, 3]</c> tensor per clip, named by clip id), a folder of such files (what
    /// `reconstruct` writes, one file per clip, shards merged by copying) or a <c>.npy</c> file
    /// (<c>[clips, frames, height, width, 3]</c>, uint8 0–255 or float 0–1; clip ids are the indices 0, 1, …).
    /// </summary>
    public static IClipSource Open(string path, GifHalf half = GifHalf.Whole)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            if (File.Exists(Path.Combine(full, ClipStore.IndexFile)) && half == GifHalf.Whole)
            {
                return new StoreSource(full);
            }
            var gifs = Directory.GetFiles(full, "*.gif");
            if (gifs.Length > 0)
            {
                return new GifFolderSource(full, gifs, half);
            }
            var tensors = Directory.GetFiles(full, "*.safetensors");
            if (tensors.Length > 0 && half == GifHalf.Whole)
            {
                return new TensorFolderSource(full, tensors);
            }
            throw new MindAnimatorException($"{full}: neither a clip store (no index.json) nor a folder of .gif or .safetensors files");
        }
        if (File.Exists(full))
        {
            if (half != GifHalf.Whole)
            {
                throw new MindAnimatorException($"{full}: side-by-side input must be a folder of GIFs");
            }
            return Path.GetExtension(full).ToLowerInvariant() switch
            {
                ".npy" => new NpySource(full),
                ".safetensors" => new SafetensorsSource(full),
                _ => throw new MindAnimatorException($"{full}: unsupported file type; expected a clip store folder, a folder of GIFs, a .safetensors or a .npy file"),
            };
        }
        throw new MindAnimatorException($"{full}: not found");
    }

    /// <summary>Only the given clips of <paramref name="source"/> (e.g. a dataset's test clips out of its whole clip store).</summary>
    public static IClipSource Subset(IClipSource source, IEnumerable<string> clipIds)
    {
        var ids = clipIds.ToList();
        var known = source.ClipIds.ToHashSet(StringComparer.Ordinal);
        var missing = ids.Where(id => !known.Contains(id)).Take(10).ToList();
        if (missing.Count > 0)
        {
            throw new MindAnimatorException($"{source.Description} lacks clip(s) {string.Join(", ", missing)}");
        }
        return new SubsetSource(source, ids);
    }

    private sealed class SubsetSource(IClipSource source, IReadOnlyList<string> ids) : IClipSource
    {
        public string Description { get; } = $"{source.Description}, {ids.Count} of its clips";

        public IReadOnlyList<string> ClipIds => ids;

        public (int Frames, int Height, int Width)? Shape(string clipId) => source.Shape(clipId);

        public ClipFrames Read(string clipId) => source.Read(clipId);
    }

    /// <summary>Clips already in memory (e.g. fresh reconstructions), in the given order.</summary>
    public static IClipSource FromMemory(IEnumerable<ClipFrames> clips, string description) => new MemorySource(clips.ToList(), description);

    private sealed class MemorySource : IClipSource
    {
        private readonly Dictionary<string, ClipFrames> _clips;

        public MemorySource(List<ClipFrames> clips, string description)
        {
            _clips = new Dictionary<string, ClipFrames>(StringComparer.Ordinal);
            foreach (var clip in clips)
            {
                if (!_clips.TryAdd(clip.ClipId, clip))
                {
                    throw new MindAnimatorException($"{description}: duplicate clip id '{clip.ClipId}'");
                }
            }
            ClipIds = clips.Select(c => c.ClipId).ToList();
            Description = description;
        }

        public string Description { get; }

        public IReadOnlyList<string> ClipIds { get; }

        public (int Frames, int Height, int Width)? Shape(string clipId) => (_clips[clipId].Frames, _clips[clipId].Height, _clips[clipId].Width);

        public ClipFrames Read(string clipId) => _clips[clipId];
    }

    private sealed class StoreSource : IClipSource
    {
        private readonly ClipStoreReader _reader;

        public StoreSource(string folder)
        {
            _reader = ClipStore.Open(folder);
            Description = $"clip store {folder} ({_reader.ClipIds.Count} clips, {_reader.Frames}×{_reader.Height}×{_reader.Width})";
        }

        public string Description { get; }

        public IReadOnlyList<string> ClipIds => _reader.ClipIds;

        public (int Frames, int Height, int Width)? Shape(string clipId) => (_reader.Frames, _reader.Height, _reader.Width);

        public ClipFrames Read(string clipId) => _reader.Read(clipId);
    }

    private sealed class GifFolderSource : IClipSource
    {
        private readonly Dictionary<string, string> _files;
        private readonly GifHalf _half;

        public GifFolderSource(string folder, string[] gifs, GifHalf half)
        {
            _half = half;
            _files = gifs.ToDictionary(f => Path.GetFileNameWithoutExtension(f), f => f, StringComparer.Ordinal);
            ClipIds = _files.Keys.OrderBy(k => k, NaturalComparer.Instance).ToList();
            Description = half == GifHalf.Whole
                ? $"GIF folder {folder} ({ClipIds.Count} clips)"
                : $"side-by-side GIF folder {folder} ({ClipIds.Count} clips, {(half == GifHalf.Left ? "left" : "right")} half)";
        }

        public string Description { get; }

        public IReadOnlyList<string> ClipIds { get; }

        public (int Frames, int Height, int Width)? Shape(string clipId) => null;

        public ClipFrames Read(string clipId)
        {
            var path = _files[clipId];
            var clip = VideoFiles.ReadImageFrames(path, clipId);
            if (_half == GifHalf.Whole)
            {
                return clip;
            }
            if (clip.Width % 2 != 0)
            {
                throw new DataFormatException(path, $"side-by-side GIF is {clip.Width} pixels wide, which does not split into two equal halves");
            }
            var w = clip.Width / 2;
            var offset = _half == GifHalf.Left ? 0 : w;
            var rgb = new byte[clip.Frames * clip.Height * w * 3];
            for (var f = 0; f < clip.Frames; f++)
            {
                for (var r = 0; r < clip.Height; r++)
                {
                    clip.Rgb.AsSpan((((f * clip.Height) + r) * clip.Width + offset) * 3, w * 3)
                        .CopyTo(rgb.AsSpan(((f * clip.Height) + r) * w * 3));
                }
            }
            return new ClipFrames(clipId, clip.Frames, clip.Height, w, rgb);
        }
    }

    private sealed class NpySource : IClipSource
    {
        private readonly NpyArray _array;
        private readonly int _frames;
        private readonly int _height;
        private readonly int _width;

        public NpySource(string path)
        {
            _array = Npy.Read(path);
            var s = _array.Shape;
            if (s.Length != 5 || s[4] != 3)
            {
                throw new DataFormatException(path, $"shape [{string.Join(", ", s)}], expected [clips, frames, height, width, 3]");
            }
            if (_array.DType is not (NpyDType.UInt8 or NpyDType.Float32 or NpyDType.Float64))
            {
                throw new DataFormatException(path, $"dtype {_array.Descr}, expected uint8 (0–255) or float32/float64 (0–1)");
            }
            (_frames, _height, _width) = ((int)s[1], (int)s[2], (int)s[3]);
            ClipIds = Enumerable.Range(0, (int)s[0]).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Description = $"tensor file {path} ({s[0]} clips, {_frames}×{_height}×{_width}, {_array.Descr}; clip ids are indices)";
        }

        public string Description { get; }

        public IReadOnlyList<string> ClipIds { get; }

        public (int Frames, int Height, int Width)? Shape(string clipId) => (_frames, _height, _width);

        public ClipFrames Read(string clipId)
        {
            var index = int.Parse(clipId, System.Globalization.CultureInfo.InvariantCulture);
            var n = _frames * _height * _width * 3;
            var rgb = new byte[n];
            if (_array.DType == NpyDType.UInt8)
            {
                _array.Bytes.Slice(index * n, n).CopyTo(rgb);
            }
            else
            {
                // Float frames in [0, 1] become 0–255 bytes by rounding, as saving them to a GIF would.
                if (_array.DType == NpyDType.Float32)
                {
                    var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(_array.Bytes).Slice(index * n, n);
                    for (var i = 0; i < n; i++)
                    {
                        rgb[i] = (byte)Math.Clamp(Math.Round(values[i] * 255.0), 0, 255);
                    }
                }
                else
                {
                    var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(_array.Bytes).Slice(index * n, n);
                    for (var i = 0; i < n; i++)
                    {
                        rgb[i] = (byte)Math.Clamp(Math.Round(values[i] * 255.0), 0, 255);
                    }
                }
            }
            return new ClipFrames(clipId, _frames, _height, _width, rgb);
        }
    }

    private sealed class SafetensorsSource : IClipSource
    {
        private readonly string _path;
        private readonly Dictionary<string, (long Begin, int Frames, int Height, int Width)> _tensors = new(StringComparer.Ordinal);

        public SafetensorsSource(string path)
        {
            _path = path;
            FilePath = path;
            using var stream = File.OpenRead(path);
            Span<byte> size = stackalloc byte[8];
            if (stream.Length < 8 || stream.Read(size) != 8)
            {
                throw new DataFormatException(path, "truncated: not a safetensors file");
            }
            var headerSize = BinaryPrimitives.ReadUInt64LittleEndian(size);
            if (headerSize > (ulong)(stream.Length - 8) || headerSize > 100_000_000)
            {
                throw new DataFormatException(path, "not a safetensors file (bad header size)");
            }
            var json = new byte[headerSize];
            stream.ReadExactly(json);
            JsonObject header;
            try
            {
                header = JsonNode.Parse(json) as JsonObject ?? throw new DataFormatException(path, "safetensors header is not a JSON object");
            }
            catch (System.Text.Json.JsonException e)
            {
                throw new DataFormatException(path, $"safetensors header is not valid JSON ({e.Message})", e);
            }
            var dataStart = 8 + (long)headerSize;
            foreach (var (name, node) in header)
            {
                if (name == "__metadata__")
                {
                    continue;
                }
                var dtype = node?["dtype"]?.GetValue<string>();
                var shape = (node?["shape"] as JsonArray)?.Select(n => n!.GetValue<long>()).ToArray();
                var offsets = (node?["data_offsets"] as JsonArray)?.Select(n => n!.GetValue<long>()).ToArray();
                if (dtype != "U8" || shape is not { Length: 4 } || shape[3] != 3 || offsets is not { Length: 2 })
                {
                    throw new DataFormatException(path, $"tensor '{name}': expected dtype U8 and shape [frames, height, width, 3] (one tensor per clip, named by clip id), got {dtype} [{string.Join(", ", shape ?? Array.Empty<long>())}]");
                }
                if (offsets[1] - offsets[0] != shape[0] * shape[1] * shape[2] * 3 || dataStart + offsets[1] > stream.Length)
                {
                    throw new DataFormatException(path, $"tensor '{name}': data_offsets do not match its shape or the file is truncated");
                }
                _tensors[name] = (dataStart + offsets[0], (int)shape[0], (int)shape[1], (int)shape[2]);
            }
            if (_tensors.Count == 0)
            {
                throw new DataFormatException(path, "holds no clip tensors");
            }
            ClipIds = _tensors.OrderBy(t => t.Value.Begin).Select(t => t.Key).ToList();
            Description = $"tensor file {path} ({ClipIds.Count} clips)";
        }

        public string Description { get; }

        public string FilePath { get; }

        public IReadOnlyList<string> ClipIds { get; }

        public (int Frames, int Height, int Width)? Shape(string clipId)
        {
            var t = _tensors[clipId];
            return (t.Frames, t.Height, t.Width);
        }

        public ClipFrames Read(string clipId)
        {
            var t = _tensors[clipId];
            var rgb = new byte[t.Frames * t.Height * t.Width * 3];
            using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read);
            stream.Seek(t.Begin, SeekOrigin.Begin);
            stream.ReadExactly(rgb);
            return new ClipFrames(clipId, t.Frames, t.Height, t.Width, rgb);
        }
    }

    private sealed class TensorFolderSource : IClipSource
    {
        private readonly Dictionary<string, SafetensorsSource> _fileOf = new(StringComparer.Ordinal);

        public TensorFolderSource(string folder, string[] files)
        {
            foreach (var file in files.Order(StringComparer.Ordinal))
            {
                var source = new SafetensorsSource(file);
                foreach (var id in source.ClipIds)
                {
                    if (_fileOf.TryGetValue(id, out var other))
                    {
                        throw new DataFormatException(file, $"clip '{id}' is also in {Path.GetFileName(other.FilePath)}; each clip may appear once in a folder of tensor files.");
                    }
                    _fileOf[id] = source;
                }
            }
            ClipIds = _fileOf.Keys.Order(NaturalComparer.Instance).ToList();
            Description = $"tensor folder {folder} ({ClipIds.Count} clips in {files.Length} files)";
        }

        public string Description { get; }

        public IReadOnlyList<string> ClipIds { get; }

        public (int Frames, int Height, int Width)? Shape(string clipId) => _fileOf[clipId].Shape(clipId);

        public ClipFrames Read(string clipId) => _fileOf[clipId].Read(clipId);
    }

    /// <summary>Orders "test2" before "test10".</summary>
    private sealed class NaturalComparer : IComparer<string>
    {
        public static readonly NaturalComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (x is null || y is null)
            {
                return string.CompareOrdinal(x, y);
            }
            var (i, j) = (0, 0);
            while (i < x.Length && j < y.Length)
            {
                if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
                {
                    var (si, sj) = (i, j);
                    while (i < x.Length && char.IsAsciiDigit(x[i]))
                    {
                        i++;
                    }
                    while (j < y.Length && char.IsAsciiDigit(y[j]))
                    {
                        j++;
                    }
                    var a = x[si..i].TrimStart('0');
                    var b = y[sj..j].TrimStart('0');
                    var c = a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
                    if (c != 0)
                    {
                        return c;
                    }
                }
                else
                {
                    var c = x[i].CompareTo(y[j]);
                    if (c != 0)
                    {
                        return c;
                    }
                    i++;
                    j++;
                }
            }
            return (x.Length - i).CompareTo(y.Length - j) is var r && r != 0 ? r : string.CompareOrdinal(x, y);
        }
    }
}
