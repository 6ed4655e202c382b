// Reads the preprocessed arrays the Mind-Animator authors release (e.g. masked4500_test_data.npy: clips × selected voxels).
using System.Buffers.Binary;
using System.Globalization;
using MindAnimator.Data.Formats;
using Serilog;

namespace MindAnimator.Data.Import;

/// <summary>What `data import npy` turns into a dataset folder.</summary>
public sealed record NpyImportRequest
{
    /// <summary>clips × voxels array of preprocessed responses.</summary>
    public required string Fmri { get; init; }

    /// <summary>Optional clips × frames × height × width × 3 uint8 array (or float in [0, 1]) of the stimuli.</summary>
    public string? Clips { get; init; }

    /// <summary>Optional captions in clip order (.h5, .csv, .json, .jsonl).</summary>
    public string? Captions { get; init; }

    public string Split { get; init; } = Splits.Test;

    public required string Subject { get; init; }

    /// <summary>Clips per movie segment, for clip ids and segment names (CC2017: 240).</summary>
    public int ClipsPerSegment { get; init; } = 240;

    /// <summary>Repeats averaged in the source data (CC2017: 10 for test, 2 for training).</summary>
    public int? Repeats { get; init; }

    public required string Output { get; init; }

    public bool Overwrite { get; init; }
}

/// <summary>Turns released .npy arrays into the tool's fMRI Parquet, clip store and captions.</summary>
public static class NpyImporter
{
    public static DatasetManifest Run(NpyImportRequest request, ILogger log)
    {
        if (!Splits.All.Contains(request.Split))
        {
            throw new MindAnimatorException($"split '{request.Split}' is not one of {string.Join(", ", Splits.All)}");
        }
        var folder = Path.GetFullPath(request.Output);
        Directory.CreateDirectory(folder);
        DatasetFolder.EnsureWritable(folder, request.Overwrite, DatasetFolder.FmriFile, DatasetFolder.ClipsFolder, CaptionTable.DefaultFileName);

        var table = ReadFmri(request);
        log.Information("Read {Rows} clips × {Voxels} voxels from {Path}", table.Samples.Count, table.VoxelCount, request.Fmri);
        var ids = table.Samples.Select(s => s.ClipId).ToList();

        string? captions = null;
        if (request.Captions is not null)
        {
            var rows = CaptionImporter.ReadAny(request.Captions);
            if (rows.Count != ids.Count)
            {
                throw new DataFormatException(request.Captions, $"{rows.Count} captions for {ids.Count} fMRI rows in {request.Fmri}; expected one caption per row");
            }
            var named = rows.Any(r => r.ClipId is not null) ? rows.Select(r => new KeyValuePair<string, string>(r.ClipId ?? "", r.Caption)) : rows.Select((r, i) => new KeyValuePair<string, string>(ids[i], r.Caption));
            CaptionTable.Write(Path.Combine(folder, CaptionTable.DefaultFileName), named, request.Overwrite);
            captions = CaptionTable.DefaultFileName;
        }

        int frames = 0, size = 0;
        if (request.Clips is not null)
        {
            (frames, size) = WriteClips(request.Clips, ids, Path.Combine(folder, DatasetFolder.ClipsFolder), request.Overwrite, log);
        }
        FmriParquet.Write(Path.Combine(folder, DatasetFolder.FmriFile), table, request.Overwrite);
        var manifest = new DatasetManifest
        {
            Source = "npy",
            Subject = request.Subject,
            Fmri = DatasetFolder.FmriFile,
            Clips = request.Clips is null ? null : DatasetFolder.ClipsFolder,
            Captions = captions,
            FramesPerClip = frames,
            FrameRateHz = frames > 0 ? 4 : 0,
            FrameSize = size,
            Voxels = table.VoxelCount,
            Samples = DatasetFolder.SampleCounts(table),
        };
        manifest.Write(folder, request.Overwrite);
        log.Information("Wrote the dataset to {Folder}", folder);
        return manifest;
    }

    /// <summary>The fMRI array as a table: row i is clip i of segment i / clipsPerSegment + 1.</summary>
    public static FmriTable ReadFmri(NpyImportRequest request)
    {
        var path = request.Fmri;
        var array = Npy.Read(path);
        if (array.Rank != 2)
        {
            throw new DataFormatException(path, $"shape ({string.Join(", ", array.Shape)}): expected a 2-D array clips × voxels");
        }
        var (rows, cols) = ((int)array.Shape[0], (int)array.Shape[1]);
        if (rows == 0 || cols == 0)
        {
            throw new DataFormatException(path, $"shape ({rows}, {cols}): the array is empty");
        }
        if (request.ClipsPerSegment < 1 || rows % request.ClipsPerSegment != 0)
        {
            throw new DataFormatException(path, $"{rows} rows is not a whole number of segments of {request.ClipsPerSegment} clips; set --clips-per-segment (e.g. to {rows} for one segment)");
        }
        var data = array.ToFloat32();
        for (var i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i]))
            {
                throw new DataFormatException(path, $"row {i / cols}, voxel {i % cols} is {data[i]}; expected finite values (preprocessed responses)");
            }
        }
        var repeats = request.Repeats ?? (request.Split == Splits.Test ? 10 : 2);
        var samples = new FmriSample[rows];
        for (var r = 0; r < rows; r++)
        {
            var segment = (r / request.ClipsPerSegment) + 1;
            var k = r % request.ClipsPerSegment;
            samples[r] = new FmriSample
            {
                ClipId = ClipIds.Clip(request.Split, segment, k),
                Subject = request.Subject,
                Split = request.Split,
                Segment = ClipIds.Segment(request.Split, segment),
                ClipIndex = k,
                Repeats = repeats,
                Voxels = data.AsSpan(r * cols, cols).ToArray(),
            };
        }
        var voxels = Enumerable.Range(0, cols).Select(i => new VoxelInfo(i, i, "UNKNOWN", -1, "", "")).ToArray();
        var meta = new Dictionary<string, string>
        {
            ["source"] = "npy",
            ["source_file"] = Path.GetFileName(path),
            ["source_dtype"] = array.Descr,
            ["note"] = "preprocessed by the data's authors; voxel identities are not recorded in the array",
        };
        return new FmriTable(samples, voxels, meta);
    }

    /// <summary>
    /// Streams an N × frames × H × W × 3 array (uint8, or float in [0, 1]) into a clip store, one clip in memory at a
    /// time. Returns frames per clip and frame size.
    /// </summary>
    public static (int Frames, int Size) WriteClips(string path, IReadOnlyList<string> ids, string folder, bool overwrite, ILogger log)
    {
        var header = Npy.ReadHeader(path);
        var s = header.Shape;
        if (s.Length != 5 || s[4] != 3)
        {
            throw new DataFormatException(path, $"shape ({string.Join(", ", s)}): expected clips × frames × height × width × 3");
        }
        if (header.FortranOrder)
        {
            throw new DataFormatException(path, "Fortran-ordered clip arrays are not supported; save it with numpy.ascontiguousarray");
        }
        if (s[0] != ids.Count)
        {
            throw new DataFormatException(path, $"{s[0]} clips for {ids.Count} fMRI rows; expected one clip per row");
        }
        if (header.DType is not (NpyDType.UInt8 or NpyDType.Float32 or NpyDType.Float64))
        {
            throw new DataFormatException(path, $"dtype {header.Descr}: expected uint8 (0–255) or float32/float64 (0–1)");
        }
        var (frames, h, w) = ((int)s[1], (int)s[2], (int)s[3]);
        var values = (long)frames * h * w * 3;
        var item = Npy.ItemSize(header.DType);
        var expected = header.DataOffset + (values * item * s[0]);
        var length = new FileInfo(path).Length;
        if (length < expected)
        {
            throw new DataFormatException(path, $"truncated: {s[0]} clips need {expected} bytes, the file has {length}");
        }
        var bigEndian = header.Descr.StartsWith('>');
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        fs.Position = header.DataOffset;
        var raw = new byte[values * item];
        using var store = ClipStore.Create(folder, overwrite);
        for (var c = 0; c < ids.Count; c++)
        {
            fs.ReadExactly(raw);
            var rgb = header.DType == NpyDType.UInt8 ? (byte[])raw.Clone() : ToBytes(raw, header.DType, bigEndian, path, c);
            store.Add(new ClipFrames(ids[c], frames, h, w, rgb));
        }
        store.Complete();
        log.Information("Wrote {Clips} clips ({Frames} frames of {H}×{W}) to {Folder}", ids.Count, frames, h, w, folder);
        if (h != w)
        {
            log.Warning("Clip frames are {H}×{W}, not square; later stages expect square frames", h, w);
        }
        return (frames, h);
    }

    private static byte[] ToBytes(byte[] raw, NpyDType type, bool bigEndian, string path, int clip)
    {
        var n = raw.Length / Npy.ItemSize(type);
        var result = new byte[n];
        for (var i = 0; i < n; i++)
        {
            double v = type == NpyDType.Float32
                ? (bigEndian ? BinaryPrimitives.ReadSingleBigEndian(raw.AsSpan(i * 4)) : BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i * 4)))
                : (bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(raw.AsSpan(i * 8)) : BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan(i * 8)));
            if (!double.IsFinite(v) || v < -1e-3 || v > 1 + 1e-3)
            {
                throw new DataFormatException(path, $"clip {clip}: value {v.ToString(CultureInfo.InvariantCulture)} outside [0, 1]; float clips must be scaled to [0, 1] (or save them as uint8)");
            }
            result[i] = (byte)Math.Clamp(Math.Round(v * 255), 0, 255);
        }
        return result;
    }
}
