// Mirrors numpy's pickle protocol for arrays (numpy/core/numeric.py and ndarray.__reduce__/__setstate__:
// _reconstruct(ndarray, (0,), b'b') then state (version, shape, dtype, is_fortran, raw bytes)).
using System.Collections;
using System.Runtime.InteropServices;
using System.Text;
using Razorvine.Pickle;

namespace MindAnimator.Data.Import;

/// <summary>A numpy array from a pickle: shape, dtype and its elements as float64 in C order.</summary>
public sealed class PickledArray
{
    public PickledArray(long[] shape, string dtype, double[] values)
    {
        Shape = shape;
        DType = dtype;
        Values = values;
    }

    public long[] Shape { get; }

    /// <summary>numpy's dtype string, e.g. "&lt;f4".</summary>
    public string DType { get; }

    public double[] Values { get; }
}

/// <summary>Reads Python pickles holding dicts of numpy arrays (the Algonauts 2021 release) with Razorvine.Pickle.</summary>
public static class NumpyPickle
{
    static NumpyPickle()
    {
        foreach (var module in new[] { "numpy.core.multiarray", "numpy._core.multiarray" })
        {
            Unpickler.registerConstructor(module, "_reconstruct", new ArrayConstructor());
            Unpickler.registerConstructor(module, "scalar", new ScalarConstructor());
        }
        Unpickler.registerConstructor("numpy", "dtype", new DTypeConstructor());
        // Protocol-2 pickles from Python 3 store bytes as _codecs.encode(text, 'latin1').
        Unpickler.registerConstructor("_codecs", "encode", new CodecsEncode());
        Unpickler.registerConstructor("numpy", "ndarray", new ClassMarker());
    }

    /// <summary>Unpickles <paramref name="path"/>; numpy arrays come back as <see cref="PickledArray"/>.</summary>
    public static object Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new DataFormatException(path, "pickle file not found");
        }
        try
        {
            using var stream = new BufferedStream(File.OpenRead(path), 1 << 20);
            using var unpickler = new Unpickler();
            return Resolve(unpickler.load(stream), path);
        }
        catch (Exception e) when (e is PickleException or InvalidCastException or EndOfStreamException or IOException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new DataFormatException(path, $"not a readable pickle of numpy arrays (truncated, corrupt, or an unsupported object): {e.Message}", e);
        }
    }

    /// <summary>The arrays of a pickled dict, by key.</summary>
    public static IReadOnlyDictionary<string, PickledArray> LoadArrays(string path)
    {
        var result = new Dictionary<string, PickledArray>();
        if (Load(path) is not IDictionary dict)
        {
            throw new DataFormatException(path, "expected a pickled dict of numpy arrays");
        }
        foreach (DictionaryEntry e in dict)
        {
            if (e.Value is PickledArray a)
            {
                result[e.Key?.ToString() ?? ""] = a;
            }
        }
        return result;
    }

    private static object Resolve(object value, string path) => value switch
    {
        NdArrayBuilder b => b.ToArray(path),
        IDictionary d => d.Keys.Cast<object>().ToDictionary(k => k?.ToString() ?? "", k => Resolve(d[k]!, path)),
        _ => value,
    };

    private sealed class CodecsEncode : IObjectConstructor
    {
        public object construct(object[] args) => args.Length > 0 && args[0] is string text ? Encoding.Latin1.GetBytes(text) : Array.Empty<byte>();
    }

    private sealed class ClassMarker : IObjectConstructor
    {
        public object construct(object[] args) => this;
    }

    private sealed class ArrayConstructor : IObjectConstructor
    {
        public object construct(object[] args) => new NdArrayBuilder();
    }

    private sealed class DTypeConstructor : IObjectConstructor
    {
        public object construct(object[] args) => new DTypeBuilder(args.Length > 0 ? args[0]?.ToString() ?? "" : "");
    }

    private sealed class ScalarConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length == 2 && args[0] is DTypeBuilder dt)
            {
                var array = new NdArrayBuilder();
                array.__setstate__(new object[] { 1, Array.Empty<object>(), dt, false, args[1] });
                return array.ToArray("(scalar)").Values[0];
            }
            throw new PickleException("unsupported numpy scalar");
        }
    }

    /// <summary>numpy.dtype: constructed with the type code ("f4"), its byte order set by __setstate__.</summary>
    public sealed class DTypeBuilder
    {
        public DTypeBuilder(string code) => Code = code;

        public string Code { get; }

        public char ByteOrder { get; private set; } = '<';

        public void __setstate__(object[] state)
        {
            if (state.Length > 1 && state[1] is string order && order.Length == 1)
            {
                ByteOrder = order[0];
            }
        }
    }

    /// <summary>numpy.ndarray under construction: filled by __setstate__((version, shape, dtype, fortran, raw)).</summary>
    public sealed class NdArrayBuilder
    {
        private object[]? _state;

        public void __setstate__(object[] state) => _state = state;

        public PickledArray ToArray(string path)
        {
            var s = _state ?? throw new DataFormatException(path, "a numpy array in the pickle has no state");
            var o = s.Length == 5 ? 1 : 0;
            var shape = ((IEnumerable)s[o]).Cast<object>().Select(Convert.ToInt64).ToArray();
            var dtype = s[o + 1] as DTypeBuilder ?? throw new DataFormatException(path, "a numpy array in the pickle has no dtype");
            var fortran = s[o + 2] is true;
            var raw = s[o + 3] switch
            {
                byte[] b => b,
                string text => Encoding.Latin1.GetBytes(text),
                _ => throw new DataFormatException(path, $"numpy array data of dtype {dtype.Code} is stored as {s[o + 3]?.GetType().Name}, not raw bytes (object arrays are not supported)"),
            };
            var count = shape.Aggregate(1L, (a, b) => a * b);
            var values = Decode(raw, dtype, count, path);
            if (fortran && shape.Length > 1)
            {
                values = FortranToC(values, shape);
            }
            var order = dtype.ByteOrder == '>' ? '>' : dtype.ByteOrder == '|' ? '|' : '<';
            return new PickledArray(shape, order + dtype.Code, values);
        }

        private static double[] Decode(byte[] raw, DTypeBuilder dtype, long count, string path)
        {
            var size = dtype.Code.Length > 1 && int.TryParse(dtype.Code[1..], out var n) ? n : 0;
            if (size == 0 || raw.Length != count * size)
            {
                throw new DataFormatException(path, $"numpy array of {count} elements of dtype '{dtype.Code}' has {raw.Length} data bytes");
            }
            if (dtype.ByteOrder == '>' && size > 1)
            {
                for (var i = 0; i < raw.Length; i += size)
                {
                    raw.AsSpan(i, size).Reverse();
                }
            }
            var result = new double[count];
            var span = raw.AsSpan();
            switch (dtype.Code)
            {
                case "f4": Widen(MemoryMarshal.Cast<byte, float>(span), result); break;
                case "f8": MemoryMarshal.Cast<byte, double>(span).CopyTo(result); break;
                case "f2": Widen(MemoryMarshal.Cast<byte, Half>(span), result); break;
                case "i1": Widen(MemoryMarshal.Cast<byte, sbyte>(span), result); break;
                case "u1" or "b1": Widen(span, result); break;
                case "i2": Widen(MemoryMarshal.Cast<byte, short>(span), result); break;
                case "u2": Widen(MemoryMarshal.Cast<byte, ushort>(span), result); break;
                case "i4": Widen(MemoryMarshal.Cast<byte, int>(span), result); break;
                case "u4": Widen(MemoryMarshal.Cast<byte, uint>(span), result); break;
                case "i8": Widen(MemoryMarshal.Cast<byte, long>(span), result); break;
                case "u8": Widen(MemoryMarshal.Cast<byte, ulong>(span), result); break;
                default: throw new DataFormatException(path, $"numpy dtype '{dtype.Code}' is not supported (expected a numeric type)");
            }
            return result;
        }

        private static void Widen<T>(ReadOnlySpan<T> src, double[] dst)
            where T : unmanaged, System.Numerics.INumberBase<T>
        {
            for (var i = 0; i < dst.Length; i++)
            {
                dst[i] = double.CreateTruncating(src[i]);
            }
        }

        private static double[] FortranToC(double[] values, long[] shape)
        {
            var rank = shape.Length;
            var result = new double[values.Length];
            var index = new long[rank];
            for (long c = 0; c < values.Length; c++)
            {
                long f = 0, stride = 1;
                for (var d = 0; d < rank; d++)
                {
                    f += index[d] * stride;
                    stride *= shape[d];
                }
                result[c] = values[f];
                for (var d = rank - 1; d >= 0; d--)
                {
                    if (++index[d] < shape[d])
                    {
                        break;
                    }
                    index[d] = 0;
                }
            }
            return result;
        }
    }
}
