// Mirrors nibabel 5.0 nibabel/nifti1.py (Nifti1Extensions.from_fileobj, Nifti1Image data layout) and nibabel/nifti2.py.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace MindAnimator.Data.Neuro;

/// <summary>A header extension: its code (32 = CIFTI XML, 6 = comment, …), its content and its size on disk.</summary>
/// <param name="SizeOnDisk">esize: content plus the 8-byte esize/ecode header, a multiple of 16 in valid files.</param>
public sealed record NiftiExtension(int Code, byte[] Content, int SizeOnDisk)
{
    public const int CiftiCode = 32;
}

/// <summary>
/// A NIfTI-1 or NIfTI-2 image in memory: the header as stored, its extensions and the data in the file's element
/// order (first index fastest, i.e. Fortran order: element (i, j, k, t) at i + nᵢ(j + nⱼ(k + nₖ t))), converted to
/// this machine's byte order.
/// </summary>
public sealed class NiftiImage
{
    private readonly byte[] _data;

    internal NiftiImage(string path, NiftiHeader header, IReadOnlyList<NiftiExtension> extensions, byte[] data, long elements)
    {
        Path = path;
        Header = header;
        Extensions = extensions;
        _data = data;
        LoadedElements = elements;
    }

    public string Path { get; }

    public NiftiHeader Header { get; }

    public IReadOnlyList<NiftiExtension> Extensions { get; }

    public long[] Shape => Header.Shape;

    public NiftiDataType DataType => Header.Datatype;

    /// <summary>Elements read (all of them unless a prefix was asked for).</summary>
    public long LoadedElements { get; }

    /// <summary>The raw elements' bytes, file order, native byte order.</summary>
    public ReadOnlySpan<byte> RawBytes => _data;

    /// <summary>Flat (file-order) position of an index in array order (i, j, k, …).</summary>
    public long FlatIndex(ReadOnlySpan<long> index)
    {
        var shape = Shape;
        if (index.Length != shape.Length)
        {
            throw new ArgumentException($"index has {index.Length} dimensions, the image {shape.Length}", nameof(index));
        }
        long flat = 0, stride = 1;
        for (var d = 0; d < shape.Length; d++)
        {
            if (index[d] < 0 || index[d] >= shape[d])
            {
                throw new ArgumentOutOfRangeException(nameof(index), $"index {index[d]} outside dimension {d} of size {shape[d]}");
            }
            flat += index[d] * stride;
            stride *= shape[d];
        }
        return flat;
    }

    /// <summary>The stored value of element <paramref name="flat"/> (file order), before scaling.</summary>
    public double RawValue(long flat)
    {
        RequireScalar();
        if (flat < 0 || flat >= LoadedElements)
        {
            throw new ArgumentOutOfRangeException(nameof(flat), flat, $"element index outside the {LoadedElements} loaded elements");
        }
        var s = _data.AsSpan();
        var i = (int)flat;
        return DataType switch
        {
            NiftiDataType.UInt8 => s[i],
            NiftiDataType.Int8 => (sbyte)s[i],
            NiftiDataType.Int16 => MemoryMarshal.Cast<byte, short>(s)[i],
            NiftiDataType.UInt16 => MemoryMarshal.Cast<byte, ushort>(s)[i],
            NiftiDataType.Int32 => MemoryMarshal.Cast<byte, int>(s)[i],
            NiftiDataType.UInt32 => MemoryMarshal.Cast<byte, uint>(s)[i],
            NiftiDataType.Int64 => MemoryMarshal.Cast<byte, long>(s)[i],
            NiftiDataType.UInt64 => MemoryMarshal.Cast<byte, ulong>(s)[i],
            NiftiDataType.Float32 => MemoryMarshal.Cast<byte, float>(s)[i],
            NiftiDataType.Float64 => MemoryMarshal.Cast<byte, double>(s)[i],
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>raw × slope + inter (float64), with nibabel's effective scaling.</summary>
    public double ScaledValue(long flat)
    {
        var (slope, inter) = Header.EffectiveScaling;
        return (RawValue(flat) * slope) + inter;
    }

    /// <summary>Every loaded element, scaled, as float64 (file order).</summary>
    public double[] ToFloat64()
    {
        RequireScalar();
        var result = new double[LoadedElements];
        var s = _data.AsSpan();
        switch (DataType)
        {
            case NiftiDataType.UInt8: Widen(s, result); break;
            case NiftiDataType.Int8: Widen(MemoryMarshal.Cast<byte, sbyte>(s), result); break;
            case NiftiDataType.Int16: Widen(MemoryMarshal.Cast<byte, short>(s), result); break;
            case NiftiDataType.UInt16: Widen(MemoryMarshal.Cast<byte, ushort>(s), result); break;
            case NiftiDataType.Int32: Widen(MemoryMarshal.Cast<byte, int>(s), result); break;
            case NiftiDataType.UInt32: Widen(MemoryMarshal.Cast<byte, uint>(s), result); break;
            case NiftiDataType.Int64: Widen(MemoryMarshal.Cast<byte, long>(s), result); break;
            case NiftiDataType.UInt64: Widen(MemoryMarshal.Cast<byte, ulong>(s), result); break;
            case NiftiDataType.Float32: Widen(MemoryMarshal.Cast<byte, float>(s), result); break;
            case NiftiDataType.Float64: MemoryMarshal.Cast<byte, double>(s).CopyTo(result); break;
        }
        var (slope, inter) = Header.EffectiveScaling;
        if (slope != 1 || inter != 0)
        {
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = (result[i] * slope) + inter;
            }
        }
        return result;
    }

    /// <summary>Every loaded element, scaled, as float32 (file order); float32 data without scaling is copied as is.</summary>
    public float[] ToFloat32()
    {
        var (slope, inter) = Header.EffectiveScaling;
        if (DataType == NiftiDataType.Float32 && slope == 1 && inter == 0)
        {
            return MemoryMarshal.Cast<byte, float>(_data.AsSpan(0, checked((int)(LoadedElements * 4)))).ToArray();
        }
        var d = ToFloat64();
        var result = new float[d.Length];
        for (var i = 0; i < d.Length; i++)
        {
            result[i] = (float)d[i];
        }
        return result;
    }

    private void RequireScalar()
    {
        if (!NiftiDataTypes.IsScalar(DataType))
        {
            throw new DataFormatException(Path, $"datatype {NiftiDataTypes.Name(DataType)} has no single real value per element; only RawBytes can be read");
        }
    }

    private static void Widen<T>(ReadOnlySpan<T> src, Span<double> dst)
        where T : unmanaged, System.Numerics.INumberBase<T>
    {
        for (var i = 0; i < dst.Length; i++)
        {
            dst[i] = double.CreateTruncating(src[i]);
        }
    }
}

/// <summary>Reads NIfTI-1 and NIfTI-2 files (.nii, .nii.gz, .hdr/.img pairs), either byte order, with extensions.</summary>
public static class NiftiFile
{
    private const int ExtensionFlagBytes = 4;

    /// <summary>Reads header, extensions and data.</summary>
    public static NiftiImage Read(string path) => Read(path, elementLimit: -1);

    /// <summary>
    /// Reads header, extensions and the first <paramref name="elementLimit"/> elements in file order (all when
    /// negative). For a CIFTI matrix (rows fastest on disk) the first n·rows elements are the first n columns.
    /// </summary>
    public static NiftiImage Read(string path, long elementLimit) => Read(path, _ => elementLimit);

    /// <summary>As <see cref="Read(string, long)"/>, with the number of elements chosen once the header is known.</summary>
    public static NiftiImage Read(string path, Func<NiftiHeader, long> elementLimit)
    {
        using var stream = Open(path);
        try
        {
            return ReadCore(path, stream, elementLimit);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt gzip stream: {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new DataFormatException(path, $"truncated: {e.Message}", e);
        }
    }

    /// <summary>Reads only the header and the extensions.</summary>
    public static (NiftiHeader Header, IReadOnlyList<NiftiExtension> Extensions) ReadHeader(string path)
    {
        var image = Read(path, elementLimit: 0);
        return (image.Header, image.Extensions);
    }

    private static Stream Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new DataFormatException(path, "file not found");
        }
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        Span<byte> magic = stackalloc byte[2];
        var n = fs.Read(magic);
        fs.Position = 0;
        if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            return new BufferedStream(new GZipStream(fs, CompressionMode.Decompress), 1 << 20);
        }
        return fs;
    }

    private static NiftiImage ReadCore(string path, Stream stream, Func<NiftiHeader, long> elementLimitOf)
    {
        var head = new byte[NiftiHeader.Nifti2Size + ExtensionFlagBytes];
        var got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (got == 0)
        {
            throw new DataFormatException(path, "empty file, expected a NIfTI header");
        }
        var header = NiftiHeader.Parse(head.AsSpan(0, got), path);
        var headerSize = header.SizeofHdr;

        // Everything between the header and the data: the extension flag and the extensions.
        var preambleEnd = header.SingleFile ? (long)header.VoxOffset : long.MaxValue;
        var preamble = new MemoryStream();
        preamble.Write(head, headerSize, got - headerSize);
        if (header.SingleFile)
        {
            if (preambleEnd > int.MaxValue)
            {
                throw new DataFormatException(path, $"vox_offset {header.VoxOffset} is implausibly large");
            }
            CopyExactly(stream, preamble, preambleEnd - headerSize - preamble.Length, path, "the header extensions before vox_offset");
        }
        else
        {
            stream.CopyTo(preamble);
        }
        var extensions = ParseExtensions(preamble.GetBuffer().AsSpan(0, (int)Math.Min(preamble.Length, preambleEnd - headerSize)), header, path);

        var count = header.ElementCount;
        var elementLimit = elementLimitOf(header);
        // An uncompressed file's size is known: a truncated file fails even when only a prefix is read.
        if (header.SingleFile && stream is FileStream fs && fs.Length < (long)header.VoxOffset + (count * header.ItemSize))
        {
            throw new DataFormatException(path, $"truncated: shape ({string.Join(", ", header.Shape)}) {NiftiDataTypes.Name(header.Datatype)} needs {count * header.ItemSize} data bytes from offset {header.VoxOffset}, the file has {fs.Length} bytes in all");
        }
        if (elementLimit >= 0)
        {
            count = Math.Min(count, elementLimit);
        }
        var bytes = count * header.ItemSize;
        if (bytes > Array.MaxLength)
        {
            throw new DataFormatException(path, $"the data ({bytes} bytes) is too large to read at once; read a prefix");
        }
        var data = new byte[bytes];
        if (header.SingleFile)
        {
            // The preamble copy may have read into the data (when vox_offset < header + 4 for a file without extensions).
            var over = (int)Math.Max(0, preamble.Length - (preambleEnd - headerSize));
            var fromPreamble = (int)Math.Min(over, bytes);
            preamble.GetBuffer().AsSpan((int)(preambleEnd - headerSize), fromPreamble).CopyTo(data);
            ReadData(stream, data.AsSpan(fromPreamble), path, header, (long)header.VoxOffset);
        }
        else
        {
            var imagePath = ImagePath(path);
            using var img = Open(imagePath);
            CopyExactly(img, Stream.Null, (long)header.VoxOffset, imagePath, "the bytes before vox_offset");
            ReadData(img, data, imagePath, header, (long)header.VoxOffset);
        }
        SwapIfNeeded(data, header);
        return new NiftiImage(path, header, extensions, data, count);
    }

    private static void ReadData(Stream stream, Span<byte> data, string path, NiftiHeader header, long offset)
    {
        var n = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (n < data.Length)
        {
            throw new DataFormatException(path, $"truncated: shape ({string.Join(", ", header.Shape)}) {NiftiDataTypes.Name(header.Datatype)} needs {header.ElementCount * header.ItemSize} data bytes from offset {offset}, the file ends after {n} of the {data.Length} read");
        }
    }

    private static void CopyExactly(Stream src, Stream dst, long count, string path, string what)
    {
        var buffer = new byte[1 << 16];
        var left = count;
        while (left > 0)
        {
            var n = src.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0)
            {
                throw new DataFormatException(path, $"truncated: the file ends inside {what} ({count - left} of {count} bytes)");
            }
            dst.Write(buffer, 0, n);
            left -= n;
        }
    }

    private static List<NiftiExtension> ParseExtensions(ReadOnlySpan<byte> b, NiftiHeader header, string path)
    {
        var result = new List<NiftiExtension>();
        if (b.Length < ExtensionFlagBytes || b[0] == 0)
        {
            return result;
        }
        var pos = ExtensionFlagBytes;
        while (pos + 8 <= b.Length)
        {
            var esize = header.LittleEndian ? BinaryPrimitives.ReadInt32LittleEndian(b[pos..]) : BinaryPrimitives.ReadInt32BigEndian(b[pos..]);
            var ecode = header.LittleEndian ? BinaryPrimitives.ReadInt32LittleEndian(b[(pos + 4)..]) : BinaryPrimitives.ReadInt32BigEndian(b[(pos + 4)..]);
            var at = header.SizeofHdr + pos;
            if (esize < 8)
            {
                throw new DataFormatException(path, $"header extension at byte {at}: esize {esize} is less than its own 8-byte header");
            }
            if (pos + (long)esize > b.Length)
            {
                throw new DataFormatException(path, $"header extension at byte {at} (code {ecode}): esize {esize} runs past {(header.SingleFile ? $"vox_offset {header.VoxOffset}" : "the end of the header file")}");
            }
            result.Add(new NiftiExtension(ecode, b.Slice(pos + 8, esize - 8).ToArray(), esize));
            pos += esize;
        }
        return result;
    }

    private static void SwapIfNeeded(byte[] data, NiftiHeader header)
    {
        var unit = NiftiDataTypes.SwapUnit(header.Datatype);
        if (header.LittleEndian == BitConverter.IsLittleEndian || unit == 1)
        {
            return;
        }
        for (var i = 0; i + unit <= data.Length; i += unit)
        {
            data.AsSpan(i, unit).Reverse();
        }
    }

    private static string ImagePath(string headerPath)
    {
        foreach (var (h, i) in new[] { (".hdr.gz", ".img.gz"), (".hdr", ".img") })
        {
            if (headerPath.EndsWith(h, StringComparison.OrdinalIgnoreCase))
            {
                return headerPath[..^h.Length] + i;
            }
        }
        throw new DataFormatException(headerPath, "the header says the image data lives in a separate file (magic ni1/ni2), but the file name does not end in .hdr");
    }
}
