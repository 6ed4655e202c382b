// Mirrors the format of numpy/lib/format.py (NPY versions 1.0, 2.0 and 3.0).
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace MindAnimator.Data.Formats;

/// <summary>Element types of <c>.npy</c> files that we read and write.</summary>
public enum NpyDType
{
    Bool,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float16,
    Float32,
    Float64,
}

/// <summary>An n-d array read from a <c>.npy</c> file, held in C (row-major) order and native little-endian bytes.</summary>
public sealed class NpyArray
{
    private readonly byte[] data;

    internal NpyArray(NpyDType dtype, long[] shape, byte[] data)
    {
        DType = dtype;
        Shape = shape;
        this.data = data;
        Length = shape.Aggregate(1L, (a, b) => a * b);
    }

    public NpyDType DType { get; }

    /// <summary>The numpy spelling of <see cref="DType"/> (e.g. <c>&lt;f4</c>).</summary>
    public string Descr => Npy.Descr(DType);

    public long[] Shape { get; }

    public int Rank => Shape.Length;

    public long Length { get; }

    /// <summary>The elements' bytes, C order, little-endian.</summary>
    public ReadOnlySpan<byte> Bytes => data;

    /// <summary>The elements as <typeparamref name="T"/>; the file's dtype must be exactly that type.</summary>
    public T[] ToArray<T>()
        where T : unmanaged
    {
        var want = Npy.DTypeOf<T>();
        if (want != DType)
        {
            throw new InvalidOperationException($"the array's dtype is {Descr} ({DType}), not {Npy.Descr(want)}; use ToFloat32/ToFloat64 to convert");
        }
        return MemoryMarshal.Cast<byte, T>(data).ToArray();
    }

    /// <summary>All elements converted to float32 (exact for f2/f4, i1/u1/i2/u2, b1; rounded for wider types).</summary>
    public float[] ToFloat32()
    {
        var result = new float[Length];
        var s = data.AsSpan();
        switch (DType)
        {
            case NpyDType.Float32:
                MemoryMarshal.Cast<byte, float>(s).CopyTo(result);
                break;
            case NpyDType.Float64:
                Convert(MemoryMarshal.Cast<byte, double>(s), result, v => (float)v);
                break;
            case NpyDType.Float16:
                Convert(MemoryMarshal.Cast<byte, Half>(s), result, v => (float)v);
                break;
            default:
                var d = ToFloat64();
                for (var i = 0; i < d.Length; i++)
                {
                    result[i] = (float)d[i];
                }
                break;
        }
        return result;
    }

    /// <summary>All elements converted to float64 (exact except for int64/uint64 beyond 2^53).</summary>
    public double[] ToFloat64()
    {
        var r = new double[Length];
        var s = data.AsSpan();
        switch (DType)
        {
            case NpyDType.Bool:
            case NpyDType.UInt8:
                Convert(s, r, v => v);
                break;
            case NpyDType.Int8:
                Convert(MemoryMarshal.Cast<byte, sbyte>(s), r, v => v);
                break;
            case NpyDType.Int16:
                Convert(MemoryMarshal.Cast<byte, short>(s), r, v => v);
                break;
            case NpyDType.UInt16:
                Convert(MemoryMarshal.Cast<byte, ushort>(s), r, v => v);
                break;
            case NpyDType.Int32:
                Convert(MemoryMarshal.Cast<byte, int>(s), r, v => v);
                break;
            case NpyDType.UInt32:
                Convert(MemoryMarshal.Cast<byte, uint>(s), r, v => v);
                break;
            case NpyDType.Int64:
                Convert(MemoryMarshal.Cast<byte, long>(s), r, v => v);
                break;
            case NpyDType.UInt64:
                Convert(MemoryMarshal.Cast<byte, ulong>(s), r, v => v);
                break;
            case NpyDType.Float16:
                Convert(MemoryMarshal.Cast<byte, Half>(s), r, v => (double)v);
                break;
            case NpyDType.Float32:
                Convert(MemoryMarshal.Cast<byte, float>(s), r, v => v);
                break;
            case NpyDType.Float64:
                MemoryMarshal.Cast<byte, double>(s).CopyTo(r);
                break;
        }
        return r;
    }

    private static void Convert<TIn, TOut>(ReadOnlySpan<TIn> input, Span<TOut> output, Func<TIn, TOut> f)
    {
        for (var i = 0; i < input.Length; i++)
        {
            output[i] = f(input[i]);
        }
    }
}

/// <summary>Reads and writes NumPy <c>.npy</c> files (format versions 1, 2, 3; C or Fortran order; any rank).</summary>
public static class Npy
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>The header of a <c>.npy</c> file: enough to check shape and dtype without reading the data.</summary>
    public sealed record Header(NpyDType DType, string Descr, bool FortranOrder, long[] Shape, int Version, long DataOffset)
    {
        public long Length => Shape.Aggregate(1L, (a, b) => a * b);

        public long DataBytes => Length * ItemSize(DType);
    }

    public static NpyArray Read(string path)
    {
        using var fs = OpenRead(path);
        var header = ReadHeader(fs, path);
        var expected = header.DataBytes;
        var actual = fs.Length - header.DataOffset;
        if (actual < expected)
        {
            throw new DataFormatException(path, $"truncated: shape {ShapeText(header.Shape)} {header.Descr} needs {expected} data bytes, the file has {actual}");
        }
        if (actual > expected)
        {
            throw new DataFormatException(path, $"{actual - expected} unexpected bytes after the data of shape {ShapeText(header.Shape)} {header.Descr} (expected {expected} data bytes, found {actual})");
        }
        if (expected > Array.MaxLength)
        {
            throw new DataFormatException(path, $"array of {expected} bytes is too large to read at once");
        }
        var data = new byte[expected];
        fs.Position = header.DataOffset;
        fs.ReadExactly(data);

        var size = ItemSize(header.DType);
        if (header.Descr[0] == '>' && size > 1)
        {
            SwapBytes(data, size);
        }
        if (header.FortranOrder && header.Shape.Length > 1)
        {
            data = FortranToC(data, header.Shape, size);
        }
        return new NpyArray(header.DType, header.Shape, data);
    }

    public static Header ReadHeader(string path)
    {
        using var fs = OpenRead(path);
        return ReadHeader(fs, path);
    }

    /// <summary>Writes <paramref name="data"/> (C order, or Fortran order when asked) with the given shape.</summary>
    public static void Write<T>(string path, ReadOnlySpan<T> data, ReadOnlySpan<long> shape, bool overwrite, bool fortranOrder = false)
        where T : unmanaged
    {
        var dtype = DTypeOf<T>();
        var count = 1L;
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"negative dimension in shape {ShapeText(shape.ToArray())}", nameof(shape));
            }
            count *= d;
        }
        if (count != data.Length)
        {
            throw new ArgumentException($"shape {ShapeText(shape.ToArray())} has {count} elements but {data.Length} were given", nameof(data));
        }
        var dict = $"{{'descr': '{Descr(dtype)}', 'fortran_order': {(fortranOrder ? "True" : "False")}, 'shape': {ShapeText(shape.ToArray())}, }}";
        // numpy pads with spaces so that the data starts at a multiple of 64 bytes, and ends the header with '\n'.
        var version = dict.Length + 1 + 10 > ushort.MaxValue ? 2 : 1;
        var prefix = version == 1 ? 10 : 12;
        var total = prefix + dict.Length + 1;
        var padded = (total + 63) / 64 * 64;
        var headerText = dict + new string(' ', padded - total) + "\n";
        var bytes = Encoding.ASCII.GetBytes(headerText);

        using var w = AtomicFile.Create(path, overwrite);
        var s = w.Stream;
        s.Write(Magic);
        s.WriteByte((byte)version);
        s.WriteByte(0);
        Span<byte> len = stackalloc byte[4];
        if (version == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)bytes.Length);
            s.Write(len[..2]);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)bytes.Length);
            s.Write(len);
        }
        s.Write(bytes);
        s.Write(MemoryMarshal.AsBytes(data));
        w.Commit();
    }

    public static string Descr(NpyDType t) => t switch
    {
        NpyDType.Bool => "|b1",
        NpyDType.Int8 => "|i1",
        NpyDType.UInt8 => "|u1",
        NpyDType.Int16 => "<i2",
        NpyDType.UInt16 => "<u2",
        NpyDType.Int32 => "<i4",
        NpyDType.UInt32 => "<u4",
        NpyDType.Int64 => "<i8",
        NpyDType.UInt64 => "<u8",
        NpyDType.Float16 => "<f2",
        NpyDType.Float32 => "<f4",
        NpyDType.Float64 => "<f8",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public static int ItemSize(NpyDType t) => t switch
    {
        NpyDType.Bool or NpyDType.Int8 or NpyDType.UInt8 => 1,
        NpyDType.Int16 or NpyDType.UInt16 or NpyDType.Float16 => 2,
        NpyDType.Int32 or NpyDType.UInt32 or NpyDType.Float32 => 4,
        _ => 8,
    };

    internal static NpyDType DTypeOf<T>()
        where T : unmanaged
    {
        var t = typeof(T);
        return t == typeof(float) ? NpyDType.Float32
            : t == typeof(double) ? NpyDType.Float64
            : t == typeof(Half) ? NpyDType.Float16
            : t == typeof(int) ? NpyDType.Int32
            : t == typeof(long) ? NpyDType.Int64
            : t == typeof(byte) ? NpyDType.UInt8
            : t == typeof(sbyte) ? NpyDType.Int8
            : t == typeof(short) ? NpyDType.Int16
            : t == typeof(ushort) ? NpyDType.UInt16
            : t == typeof(uint) ? NpyDType.UInt32
            : t == typeof(ulong) ? NpyDType.UInt64
            : t == typeof(bool) ? NpyDType.Bool
            : throw new NotSupportedException($"{t.Name} has no .npy dtype");
    }

    private static FileStream OpenRead(string path)
    {
        if (!File.Exists(path))
        {
            throw new DataFormatException(path, "file not found");
        }
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    private static Header ReadHeader(FileStream fs, string path)
    {
        Span<byte> pre = stackalloc byte[12];
        var got = fs.ReadAtLeast(pre, pre.Length, throwOnEndOfStream: false);
        if (got < 10 || !pre[..6].SequenceEqual(Magic))
        {
            throw new DataFormatException(path, "not a .npy file (the file does not start with the magic string \\x93NUMPY)");
        }
        int major = pre[6];
        long headerLength;
        int prefix;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(pre[8..]);
            prefix = 10;
        }
        else if (major is 2 or 3)
        {
            if (got < 12)
            {
                throw new DataFormatException(path, "truncated .npy header");
            }
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(pre[8..]);
            prefix = 12;
        }
        else
        {
            throw new DataFormatException(path, $".npy format version {major}.{pre[7]} is not supported (expected 1.0, 2.0 or 3.0)");
        }
        if (prefix + headerLength > fs.Length)
        {
            throw new DataFormatException(path, $"truncated: the .npy header says it is {headerLength} bytes long, the file has only {fs.Length} bytes");
        }
        var raw = new byte[headerLength];
        fs.Position = prefix;
        fs.ReadExactly(raw);
        var text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(raw);

        var descrMatch = Regex.Match(text, @"['""]descr['""]\s*:\s*(?:'([^']*)'|""([^""]*)""|(\[))");
        if (!descrMatch.Success)
        {
            throw new DataFormatException(path, $"the .npy header has no 'descr' entry: {text.Trim()}");
        }
        if (descrMatch.Groups[3].Success)
        {
            throw new DataFormatException(path, "unsupported dtype: structured (record) arrays are not supported; expected a plain numeric dtype such as <f4");
        }
        var descr = descrMatch.Groups[1].Success ? descrMatch.Groups[1].Value : descrMatch.Groups[2].Value;
        var dtype = ParseDescr(descr) ?? throw new DataFormatException(path, $"unsupported dtype '{descr}' (supported: {string.Join(", ", Enum.GetValues<NpyDType>().Select(Descr))}, also big-endian '>')");

        var fortran = Regex.Match(text, @"['""]fortran_order['""]\s*:\s*(True|False)");
        if (!fortran.Success)
        {
            throw new DataFormatException(path, $"the .npy header has no 'fortran_order' entry: {text.Trim()}");
        }
        var shapeMatch = Regex.Match(text, @"['""]shape['""]\s*:\s*\(([^)]*)\)");
        if (!shapeMatch.Success)
        {
            throw new DataFormatException(path, $"the .npy header has no 'shape' entry: {text.Trim()}");
        }
        var shape = new List<long>();
        foreach (var part in shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!long.TryParse(part.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out var d))
            {
                throw new DataFormatException(path, $"the .npy header's shape ({shapeMatch.Groups[1].Value}) is not a tuple of non-negative integers");
            }
            shape.Add(d);
        }
        return new Header(dtype, descr, fortran.Groups[1].Value == "True", shape.ToArray(), major, prefix + headerLength);
    }

    private static NpyDType? ParseDescr(string descr)
    {
        if (descr.Length < 2)
        {
            return null;
        }
        var order = descr[0];
        var code = descr[1..];
        if (order is not ('<' or '>' or '|' or '='))
        {
            order = '=';
            code = descr;
        }
        NpyDType? t = code switch
        {
            "b1" or "?" => NpyDType.Bool,
            "i1" => NpyDType.Int8,
            "u1" => NpyDType.UInt8,
            "i2" => NpyDType.Int16,
            "u2" => NpyDType.UInt16,
            "i4" => NpyDType.Int32,
            "u4" => NpyDType.UInt32,
            "i8" => NpyDType.Int64,
            "u8" => NpyDType.UInt64,
            "f2" => NpyDType.Float16,
            "f4" => NpyDType.Float32,
            "f8" => NpyDType.Float64,
            _ => null,
        };
        if (t is { } dt && order == '|' && ItemSize(dt) > 1)
        {
            return null;
        }
        return t;
    }

    private static void SwapBytes(byte[] data, int size)
    {
        for (var i = 0; i < data.Length; i += size)
        {
            data.AsSpan(i, size).Reverse();
        }
    }

    /// <summary>Reorders elements stored first-axis-fastest into last-axis-fastest order.</summary>
    private static byte[] FortranToC(byte[] data, long[] shape, int size)
    {
        var rank = shape.Length;
        var fStride = new long[rank];
        var stride = 1L;
        for (var k = 0; k < rank; k++)
        {
            fStride[k] = stride;
            stride *= shape[k];
        }
        var result = new byte[data.Length];
        var idx = new long[rank];
        long src = 0;
        var n = data.Length / size;
        for (var o = 0; o < n; o++)
        {
            Buffer.BlockCopy(data, (int)(src * size), result, o * size, size);
            // Advance the C-order odometer (last axis fastest), keeping the Fortran offset in step.
            for (var k = rank - 1; k >= 0; k--)
            {
                idx[k]++;
                src += fStride[k];
                if (idx[k] < shape[k])
                {
                    break;
                }
                src -= fStride[k] * shape[k];
                idx[k] = 0;
            }
        }
        return result;
    }

    private static string ShapeText(long[] shape) => shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
}
