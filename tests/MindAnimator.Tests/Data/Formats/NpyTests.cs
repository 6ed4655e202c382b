using System.Runtime.InteropServices;
using System.Text.Json;
using MindAnimator.Data.Formats;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Data.Formats;

public class NpyTests
{
    private static T[] Ramp<T>(int n, Func<int, T> f) => Enumerable.Range(0, n).Select(f).ToArray();

    private static void RoundTrip<T>(T[] data, long[] shape)
        where T : unmanaged
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("a.npy");
        Npy.Write<T>(path, data, shape, overwrite: false);
        var a = Npy.Read(path);
        Assert.Equal(shape, a.Shape);
        Assert.Equal(MemoryMarshal.AsBytes(data.AsSpan()).ToArray(), a.ToArray<T>().SelectMany(x => MemoryMarshal.AsBytes(new[] { x }.AsSpan()).ToArray()).ToArray());
        Assert.Equal(0, Npy.ReadHeader(path).DataOffset % 64);
    }

    [Fact]
    public void RoundTrip_EveryDType_AnyRank_BitExact()
    {
        var specials = new[] { 0f, -0f, float.Epsilon, float.MaxValue, float.NaN, float.NegativeInfinity, 1.1754942E-38f, 0.1f };
        RoundTrip(specials, new long[] { 2, 2, 2 });
        RoundTrip(Ramp(6, i => Math.PI * i - 1e300 * (i % 2)), new long[] { 6 });
        RoundTrip(Ramp(4, i => (Half)(i * 0.3f)), new long[] { 2, 1, 2, 1 });
        RoundTrip(Ramp(3, i => int.MinValue + i), new long[] { 3, 1 });
        RoundTrip(Ramp(2, i => long.MaxValue - i), new long[] { 2 });
        RoundTrip(Ramp(256, i => (byte)i), new long[] { 4, 4, 4, 4 });
        RoundTrip(Ramp(5, i => (sbyte)(i - 2)), new long[] { 5 });
        RoundTrip(Ramp(5, i => (short)(i * -1000)), new long[] { 5 });
        RoundTrip(new[] { 42f }, Array.Empty<long>());
        RoundTrip(Array.Empty<float>(), new long[] { 0, 4500 });
    }

    [Fact]
    public void FortranOrder_IsReturnedInCOrder()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("f.npy");
        long[] shape = { 2, 3, 4 };
        // Element (i, j, k) = 100i + 10j + k, stored first-axis-fastest.
        var fortran = new float[24];
        for (var k = 0; k < 4; k++)
        {
            for (var j = 0; j < 3; j++)
            {
                for (var i = 0; i < 2; i++)
                {
                    fortran[i + (2 * j) + (6 * k)] = (100 * i) + (10 * j) + k;
                }
            }
        }
        Npy.Write<float>(path, fortran, shape, false, fortranOrder: true);
        var a = Npy.Read(path);
        var expected = new List<float>();
        for (var i = 0; i < 2; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                for (var k = 0; k < 4; k++)
                {
                    expected.Add((100 * i) + (10 * j) + k);
                }
            }
        }
        Assert.Equal(expected, a.ToFloat32());
        Assert.True(Npy.ReadHeader(path).FortranOrder);
    }

    [Fact]
    public void ToFloat32_ConvertsEveryDType()
    {
        using var tmp = TestEnvironment.NewTempDir();
        Npy.Write<long>(tmp.File("i8.npy"), new long[] { -3, 7 }, new long[] { 2 }, false);
        Npy.Write<double>(tmp.File("f8.npy"), new[] { 0.1, -2.5 }, new long[] { 2 }, false);
        Npy.Write<Half>(tmp.File("f2.npy"), new[] { (Half)0.5, (Half)(-65504) }, new long[] { 2 }, false);
        Npy.Write<byte>(tmp.File("u1.npy"), new byte[] { 0, 255 }, new long[] { 2 }, false);
        Assert.Equal(new[] { -3f, 7f }, Npy.Read(tmp.File("i8.npy")).ToFloat32());
        Assert.Equal(new[] { 0.1f, -2.5f }, Npy.Read(tmp.File("f8.npy")).ToFloat32());
        Assert.Equal(new[] { 0.5f, -65504f }, Npy.Read(tmp.File("f2.npy")).ToFloat32());
        Assert.Equal(new[] { 0f, 255f }, Npy.Read(tmp.File("u1.npy")).ToFloat32());
        var e = Assert.Throws<InvalidOperationException>(() => Npy.Read(tmp.File("u1.npy")).ToArray<float>());
        Assert.Contains("|u1", e.Message);
    }

    [Fact]
    public void Read_RejectsBadFiles_WithClearMessages()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var good = tmp.File("good.npy");
        Npy.Write<float>(good, new float[12], new long[] { 3, 4 }, false);
        var bytes = File.ReadAllBytes(good);

        var notNpy = tmp.File("bad.npy");
        File.WriteAllBytes(notNpy, "PK\u0003\u0004 this is a zip"u8.ToArray());
        Assert.Equal($"{notNpy}: not a .npy file (the file does not start with the magic string \\x93NUMPY)", Assert.Throws<DataFormatException>(() => Npy.Read(notNpy)).Message);

        var truncated = tmp.File("trunc.npy");
        File.WriteAllBytes(truncated, bytes[..^8]);
        Assert.Equal($"{truncated}: truncated: shape (3, 4) <f4 needs 48 data bytes, the file has 40", Assert.Throws<DataFormatException>(() => Npy.Read(truncated)).Message);

        var headerCut = tmp.File("cut.npy");
        File.WriteAllBytes(headerCut, bytes[..30]);
        Assert.Contains("truncated", Assert.Throws<DataFormatException>(() => Npy.Read(headerCut)).Message);

        foreach (var (descr, name) in new[] { ("<c8", "complex"), ("|O", "object"), ("<U4", "unicode") })
        {
            var p = tmp.File(name + ".npy");
            File.WriteAllBytes(p, System.Text.Encoding.Latin1.GetBytes(System.Text.Encoding.Latin1.GetString(bytes).Replace("'<f4'", $"'{descr}'".PadRight(5))));
            var e = Assert.Throws<DataFormatException>(() => Npy.Read(p));
            Assert.Contains($"unsupported dtype '{descr}'", e.Message);
        }

        var v9 = tmp.File("v9.npy");
        var copy = (byte[])bytes.Clone();
        copy[6] = 9;
        File.WriteAllBytes(v9, copy);
        Assert.Contains("format version 9.0 is not supported", Assert.Throws<DataFormatException>(() => Npy.Read(v9)).Message);

        Assert.Throws<OutputExistsException>(() => Npy.Write<float>(good, new float[1], new long[] { 1 }, false));
        Assert.Throws<ArgumentException>(() => Npy.Write<float>(tmp.File("x.npy"), new float[5], new long[] { 2, 3 }, false));
    }

    /// <summary>A python3 that imports numpy (Debian: /usr/bin/python3 with python3-numpy), or null.</summary>
    internal static string? PythonWithNumpy()
    {
        foreach (var exe in new[] { "python3", "/usr/bin/python3" })
        {
            if (FormatTestData.Run(exe, "-c", "import numpy") is { Code: 0 })
            {
                return exe;
            }
        }
        return null;
    }

    private const string NumpyScript = """
        import json, sys
        import numpy as np
        mode, folder = sys.argv[1], sys.argv[2]
        def cases():
            yield 'f4_c', np.arange(24, dtype='<f4').reshape(2, 3, 4) * np.float32(0.1) - 1
            yield 'f4_fortran', np.asfortranarray(np.arange(12, dtype='<f4').reshape(3, 4) / 7)
            yield 'f4_special', np.array([0x80000000, 1, 0x7f7fffff, 0x7fc00000, 0xff800000, 0x3dcccccd], dtype='<u4').view('<f4')
            yield 'f8_big_endian', (np.arange(6, dtype='>f8') * np.pi).reshape(2, 3)
            yield 'f2', (np.arange(5, dtype='<f2') * np.float16(0.3))
            yield 'i4', np.arange(-4, 4, dtype='<i4').reshape(2, 2, 2)
            yield 'i8', np.array([-(2**62), 2**62 + 1], dtype='<i8')
            yield 'u1', np.arange(256, dtype='|u1').reshape(4, 8, 8)
            yield 'scalar', np.array(3.5, dtype='<f4')
        def describe(a):
            return {'dtype': a.dtype.newbyteorder('<').str if a.dtype.itemsize > 1 else a.dtype.str, 'shape': list(a.shape),
                    'hex': np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes().hex()}
        out = {}
        for name, a in cases():
            p = f'{folder}/{name}.npy'
            if mode == 'write':
                if name == 'f4_c':
                    np.lib.format.write_array(open(p, 'wb'), a, version=(2, 0))
                elif name == 'i4':
                    np.lib.format.write_array(open(p, 'wb'), a, version=(3, 0))
                else:
                    np.save(p, a)
                out[name] = describe(a)
            else:
                out[name] = describe(np.load(p))
        print(json.dumps(out))
        """;

    [Fact]
    public void Numpy_WritesWhatWeRead_AndReadsWhatWeWrite()
    {
        var python = PythonWithNumpy();
        Assert.True(python is not null, "NumPy is needed for this interoperability test: install it with 'apt-get install python3-numpy' (Debian/Ubuntu; used as /usr/bin/python3).");
        using var tmp = TestEnvironment.NewTempDir();
        var script = tmp.File("cases.py");
        File.WriteAllText(script, NumpyScript);
        var fromNumpy = Directory.CreateDirectory(tmp.File("numpy")).FullName;
        var fromUs = Directory.CreateDirectory(tmp.File("ours")).FullName;

        var run = FormatTestData.Run(python!, script, "write", fromNumpy)!.Value;
        Assert.True(run.Code == 0, run.Stderr);
        using var written = JsonDocument.Parse(run.Stdout);
        foreach (var c in written.RootElement.EnumerateObject())
        {
            var a = Npy.Read(Path.Combine(fromNumpy, c.Name + ".npy"));
            Assert.Equal(c.Value.GetProperty("dtype").GetString(), a.Descr);
            Assert.Equal(c.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), a.Shape);
            Assert.Equal(c.Value.GetProperty("hex").GetString(), Convert.ToHexStringLower(a.Bytes));
            WriteSame(Path.Combine(fromUs, c.Name + ".npy"), a);
        }

        run = FormatTestData.Run(python!, script, "read", fromUs)!.Value;
        Assert.True(run.Code == 0, run.Stderr);
        using var read = JsonDocument.Parse(run.Stdout);
        foreach (var c in read.RootElement.EnumerateObject())
        {
            var expected = written.RootElement.GetProperty(c.Name);
            Assert.Equal(expected.GetProperty("hex").GetString(), c.Value.GetProperty("hex").GetString());
            Assert.Equal(expected.GetProperty("shape").GetRawText(), c.Value.GetProperty("shape").GetRawText());
        }
    }

    private static void WriteSame(string path, NpyArray a)
    {
        switch (a.DType)
        {
            case NpyDType.Float32: Npy.Write<float>(path, a.ToArray<float>(), a.Shape, false); break;
            case NpyDType.Float64: Npy.Write<double>(path, a.ToArray<double>(), a.Shape, false); break;
            case NpyDType.Float16: Npy.Write<Half>(path, a.ToArray<Half>(), a.Shape, false); break;
            case NpyDType.Int32: Npy.Write<int>(path, a.ToArray<int>(), a.Shape, false); break;
            case NpyDType.Int64: Npy.Write<long>(path, a.ToArray<long>(), a.Shape, false); break;
            case NpyDType.UInt8: Npy.Write<byte>(path, a.ToArray<byte>(), a.Shape, false); break;
            default: throw new InvalidOperationException(a.Descr);
        }
    }
}
