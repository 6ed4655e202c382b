// Mirrors the header layouts of nibabel 5.0 nibabel/nifti1.py (header_dtd) and nibabel/nifti2.py (header_dtd).
using System.Buffers.Binary;
using System.Text;

namespace MindAnimator.Data.Neuro;

/// <summary>NIfTI datatype codes (nifti1.h).</summary>
public enum NiftiDataType : short
{
    UInt8 = 2,
    Int16 = 4,
    Int32 = 8,
    Float32 = 16,
    Complex64 = 32,
    Float64 = 64,
    Rgb24 = 128,
    Int8 = 256,
    UInt16 = 512,
    UInt32 = 768,
    Int64 = 1024,
    UInt64 = 1280,
    Float128 = 1536,
    Complex128 = 1792,
    Complex256 = 2048,
    Rgba32 = 2304,
}

/// <summary>Sizes and names of <see cref="NiftiDataType"/>.</summary>
public static class NiftiDataTypes
{
    /// <summary>Bytes per element, or 0 for a code this reader does not know.</summary>
    public static int ItemSize(NiftiDataType t) => t switch
    {
        NiftiDataType.UInt8 or NiftiDataType.Int8 => 1,
        NiftiDataType.Int16 or NiftiDataType.UInt16 => 2,
        NiftiDataType.Int32 or NiftiDataType.UInt32 or NiftiDataType.Float32 => 4,
        NiftiDataType.Int64 or NiftiDataType.UInt64 or NiftiDataType.Float64 or NiftiDataType.Complex64 => 8,
        NiftiDataType.Rgb24 => 3,
        NiftiDataType.Rgba32 => 4,
        NiftiDataType.Complex128 or NiftiDataType.Float128 => 16,
        NiftiDataType.Complex256 => 32,
        _ => 0,
    };

    /// <summary>Bytes swapped per value when the file's byte order differs (complex numbers swap each part).</summary>
    public static int SwapUnit(NiftiDataType t) => t switch
    {
        NiftiDataType.Complex64 => 4,
        NiftiDataType.Complex128 => 8,
        NiftiDataType.Rgb24 or NiftiDataType.Rgba32 => 1,
        _ => ItemSize(t),
    };

    /// <summary>True for the types that have one real value per element (the ones scaling applies to).</summary>
    public static bool IsScalar(NiftiDataType t) => t is NiftiDataType.UInt8 or NiftiDataType.Int8 or NiftiDataType.Int16 or NiftiDataType.UInt16
        or NiftiDataType.Int32 or NiftiDataType.UInt32 or NiftiDataType.Int64 or NiftiDataType.UInt64 or NiftiDataType.Float32 or NiftiDataType.Float64;

    /// <summary>numpy's name of the type, as nibabel reports it.</summary>
    public static string Name(NiftiDataType t) => t switch
    {
        NiftiDataType.UInt8 => "uint8",
        NiftiDataType.Int8 => "int8",
        NiftiDataType.Int16 => "int16",
        NiftiDataType.UInt16 => "uint16",
        NiftiDataType.Int32 => "int32",
        NiftiDataType.UInt32 => "uint32",
        NiftiDataType.Int64 => "int64",
        NiftiDataType.UInt64 => "uint64",
        NiftiDataType.Float32 => "float32",
        NiftiDataType.Float64 => "float64",
        NiftiDataType.Float128 => "float128",
        NiftiDataType.Complex64 => "complex64",
        NiftiDataType.Complex128 => "complex128",
        NiftiDataType.Complex256 => "complex256",
        NiftiDataType.Rgb24 => "RGB",
        NiftiDataType.Rgba32 => "RGBA",
        _ => $"unknown({(short)t})",
    };
}

/// <summary>
/// A NIfTI-1 or NIfTI-2 header exactly as stored in the file (both versions widened to the NIfTI-2 types). Field
/// names follow nifti1.h; <see cref="Field"/> looks them up by those names.
/// </summary>
public sealed record NiftiHeader
{
    public const int Nifti1Size = 348;
    public const int Nifti2Size = 540;

    /// <summary>1 or 2.</summary>
    public int Version { get; init; } = 2;

    public bool LittleEndian { get; init; } = true;

    public int SizeofHdr => Version == 1 ? Nifti1Size : Nifti2Size;

    /// <summary>"n+1"/"n+2" (single file) or "ni1"/"ni2" (header and image in separate files).</summary>
    public string Magic { get; init; } = "n+2";

    /// <summary>dim[0] is the number of dimensions, dim[1..] their sizes.</summary>
    public long[] Dim { get; init; } = { 0, 1, 1, 1, 1, 1, 1, 1 };

    public double[] Pixdim { get; init; } = { 1, 1, 1, 1, 1, 1, 1, 1 };

    public NiftiDataType Datatype { get; init; } = NiftiDataType.Float32;

    public int Bitpix { get; init; } = 32;

    public double VoxOffset { get; init; }

    public double SclSlope { get; init; } = 1;

    public double SclInter { get; init; }

    public int XyztUnits { get; init; }

    public int IntentCode { get; init; }

    public string IntentName { get; init; } = "";

    public double IntentP1 { get; init; }

    public double IntentP2 { get; init; }

    public double IntentP3 { get; init; }

    public int SliceCode { get; init; }

    public long SliceStart { get; init; }

    public long SliceEnd { get; init; }

    public double SliceDuration { get; init; }

    public double Toffset { get; init; }

    public double CalMin { get; init; }

    public double CalMax { get; init; }

    public string Descrip { get; init; } = "";

    public string AuxFile { get; init; } = "";

    public int QformCode { get; init; }

    public int SformCode { get; init; }

    public double QuaternB { get; init; }

    public double QuaternC { get; init; }

    public double QuaternD { get; init; }

    public double QoffsetX { get; init; }

    public double QoffsetY { get; init; }

    public double QoffsetZ { get; init; }

    public double[] SrowX { get; init; } = new double[4];

    public double[] SrowY { get; init; } = new double[4];

    public double[] SrowZ { get; init; } = new double[4];

    public int DimInfo { get; init; }

    /// <summary>True when the data lives in this file (magic "n+1"/"n+2").</summary>
    public bool SingleFile => Magic.Length >= 2 && Magic[1] == '+';

    /// <summary>The array shape: dim[1..dim[0]].</summary>
    public long[] Shape => Dim[1..(int)(Dim[0] + 1)];

    /// <summary>Number of elements.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public int ItemSize => NiftiDataTypes.ItemSize(Datatype);

    /// <summary>The header field named as in nifti1.h / nibabel (e.g. "scl_slope", "srow_x"); null for an unknown name.</summary>
    public object? Field(string name) => name switch
    {
        "sizeof_hdr" => (long)SizeofHdr,
        "magic" => Magic,
        "dim" => Dim,
        "pixdim" => Pixdim,
        "datatype" => (long)(short)Datatype,
        "bitpix" => (long)Bitpix,
        "vox_offset" => VoxOffset,
        "scl_slope" => SclSlope,
        "scl_inter" => SclInter,
        "xyzt_units" => (long)XyztUnits,
        "intent_code" => (long)IntentCode,
        "intent_name" => IntentName,
        "intent_p1" => IntentP1,
        "intent_p2" => IntentP2,
        "intent_p3" => IntentP3,
        "slice_code" => (long)SliceCode,
        "slice_start" => SliceStart,
        "slice_end" => SliceEnd,
        "slice_duration" => SliceDuration,
        "toffset" => Toffset,
        "cal_min" => CalMin,
        "cal_max" => CalMax,
        "descrip" => Descrip,
        "aux_file" => AuxFile,
        "qform_code" => (long)QformCode,
        "sform_code" => (long)SformCode,
        "quatern_b" => QuaternB,
        "quatern_c" => QuaternC,
        "quatern_d" => QuaternD,
        "qoffset_x" => QoffsetX,
        "qoffset_y" => QoffsetY,
        "qoffset_z" => QoffsetZ,
        "srow_x" => SrowX,
        "srow_y" => SrowY,
        "srow_z" => SrowZ,
        "dim_info" => (long)DimInfo,
        _ => null,
    };

    /// <summary>The slope and intercept nibabel applies: none (1, 0) when scl_slope is 0 or not finite.</summary>
    public (double Slope, double Inter) EffectiveScaling
    {
        get
        {
            if (SclSlope == 0 || !double.IsFinite(SclSlope))
            {
                return (1, 0);
            }
            return (SclSlope, double.IsFinite(SclInter) ? SclInter : 0);
        }
    }

    /// <summary>Spatial units from xyzt_units (nifti1.h codes): unknown, meter, mm, micron.</summary>
    public string SpatialUnit => (XyztUnits & 0x07) switch
    {
        1 => "meter",
        2 => "mm",
        3 => "micron",
        _ => "unknown",
    };

    /// <summary>Temporal units from xyzt_units: unknown, sec, msec, usec, hz, ppm, rads.</summary>
    public string TemporalUnit => (XyztUnits & 0x38) switch
    {
        8 => "sec",
        16 => "msec",
        24 => "usec",
        32 => "hz",
        40 => "ppm",
        48 => "rads",
        _ => "unknown",
    };

    /// <summary>
    /// The voxel-to-world affine (row-major 4 × 4) nibabel chooses: the sform when sform_code &gt; 0, else the qform
    /// when qform_code &gt; 0, else a diagonal from the voxel sizes centred on the volume.
    /// </summary>
    public double[,] Affine()
    {
        if (SformCode > 0)
        {
            return SformAffine();
        }
        return QformCode > 0 ? QformAffine() : BaseAffine();
    }

    public double[,] SformAffine()
    {
        var a = new double[4, 4];
        for (var c = 0; c < 4; c++)
        {
            a[0, c] = SrowX[c];
            a[1, c] = SrowY[c];
            a[2, c] = SrowZ[c];
        }
        a[3, 3] = 1;
        return a;
    }

    /// <summary>The qform: quaternion rotation, voxel sizes and qfac (pixdim[0]; anything but ±1 counts as 1).</summary>
    public double[,] QformAffine()
    {
        double b = (float)QuaternB, c = (float)QuaternC, d = (float)QuaternD;
        var w2 = 1.0 - ((b * b) + (c * c) + (d * d));
        // nibabel's threshold: float32 rounding of b, c, d may push w² slightly below zero.
        var a = w2 < 0 ? 0 : Math.Sqrt(w2);
        if (w2 < 0 && w2 < -3 * 1.1920929e-07)
        {
            throw new MindAnimatorException($"the qform quaternion ({b}, {c}, {d}) is not a rotation (b² + c² + d² > 1)");
        }
        var r = new double[3, 3]
        {
            { (a * a) + (b * b) - (c * c) - (d * d), 2 * ((b * c) - (a * d)), 2 * ((b * d) + (a * c)) },
            { 2 * ((b * c) + (a * d)), (a * a) + (c * c) - (b * b) - (d * d), 2 * ((c * d) - (a * b)) },
            { 2 * ((b * d) - (a * c)), 2 * ((c * d) + (a * b)), (a * a) + (d * d) - (c * c) - (b * b) },
        };
        var qfac = Pixdim[0] is -1 ? -1.0 : 1.0;
        var zooms = new[] { Pixdim[1], Pixdim[2], Pixdim[3] * qfac };
        var m = new double[4, 4];
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                m[i, j] = r[i, j] * zooms[j];
            }
        }
        m[0, 3] = QoffsetX;
        m[1, 3] = QoffsetY;
        m[2, 3] = QoffsetZ;
        m[3, 3] = 1;
        return m;
    }

    /// <summary>nibabel's get_base_affine: LAS-flipped voxel sizes with the volume centre at the origin.</summary>
    public double[,] BaseAffine()
    {
        var m = new double[4, 4];
        var zooms = new[] { -Pixdim[1], Pixdim[2], Pixdim[3] };
        for (var i = 0; i < 3; i++)
        {
            var size = Dim[0] > i ? Dim[i + 1] : 1;
            m[i, i] = zooms[i];
            m[i, 3] = -(size - 1) / 2.0 * zooms[i];
        }
        m[3, 3] = 1;
        return m;
    }

    /// <summary>Parses a header from its bytes (at least <see cref="Nifti1Size"/> or <see cref="Nifti2Size"/> of them).</summary>
    public static NiftiHeader Parse(ReadOnlySpan<byte> b, string path)
    {
        if (b.Length < 4)
        {
            throw new DataFormatException(path, $"truncated: {b.Length} bytes, too short for a NIfTI header");
        }
        var le = BinaryPrimitives.ReadInt32LittleEndian(b);
        var be = BinaryPrimitives.ReadInt32BigEndian(b);
        int version;
        bool little;
        if (le is Nifti1Size or Nifti2Size)
        {
            (version, little) = (le == Nifti1Size ? 1 : 2, true);
        }
        else if (be is Nifti1Size or Nifti2Size)
        {
            (version, little) = (be == Nifti1Size ? 1 : 2, false);
        }
        else
        {
            throw new DataFormatException(path, $"not a NIfTI file: sizeof_hdr is {le} (expected {Nifti1Size} for NIfTI-1 or {Nifti2Size} for NIfTI-2)");
        }
        var size = version == 1 ? Nifti1Size : Nifti2Size;
        if (b.Length < size)
        {
            throw new DataFormatException(path, $"truncated: the NIfTI-{version} header needs {size} bytes, the file has {b.Length}");
        }
        var r = new FieldReader(b[..size].ToArray(), little);
        var header = version == 1 ? ParseNifti1(r) : ParseNifti2(r);
        header.Check(path);
        return header;
    }

    private static NiftiHeader ParseNifti1(FieldReader r) => new()
    {
        Version = 1,
        LittleEndian = r.Little,
        DimInfo = r.U8(39),
        Dim = Enumerable.Range(0, 8).Select(i => (long)r.I16(40 + (2 * i))).ToArray(),
        IntentP1 = r.F32(56),
        IntentP2 = r.F32(60),
        IntentP3 = r.F32(64),
        IntentCode = r.I16(68),
        Datatype = (NiftiDataType)r.I16(70),
        Bitpix = r.I16(72),
        SliceStart = r.I16(74),
        Pixdim = Enumerable.Range(0, 8).Select(i => (double)r.F32(76 + (4 * i))).ToArray(),
        VoxOffset = r.F32(108),
        SclSlope = r.F32(112),
        SclInter = r.F32(116),
        SliceEnd = r.I16(120),
        SliceCode = r.U8(122),
        XyztUnits = r.U8(123),
        CalMax = r.F32(124),
        CalMin = r.F32(128),
        SliceDuration = r.F32(132),
        Toffset = r.F32(136),
        Descrip = r.Text(148, 80),
        AuxFile = r.Text(228, 24),
        QformCode = r.I16(252),
        SformCode = r.I16(254),
        QuaternB = r.F32(256),
        QuaternC = r.F32(260),
        QuaternD = r.F32(264),
        QoffsetX = r.F32(268),
        QoffsetY = r.F32(272),
        QoffsetZ = r.F32(276),
        SrowX = Enumerable.Range(0, 4).Select(i => (double)r.F32(280 + (4 * i))).ToArray(),
        SrowY = Enumerable.Range(0, 4).Select(i => (double)r.F32(296 + (4 * i))).ToArray(),
        SrowZ = Enumerable.Range(0, 4).Select(i => (double)r.F32(312 + (4 * i))).ToArray(),
        IntentName = r.Text(328, 16),
        Magic = r.Magic(344, 4),
    };

    private static NiftiHeader ParseNifti2(FieldReader r) => new()
    {
        Version = 2,
        LittleEndian = r.Little,
        Magic = r.Magic(4, 8),
        Datatype = (NiftiDataType)r.I16(12),
        Bitpix = r.I16(14),
        Dim = Enumerable.Range(0, 8).Select(i => r.I64(16 + (8 * i))).ToArray(),
        IntentP1 = r.F64(80),
        IntentP2 = r.F64(88),
        IntentP3 = r.F64(96),
        Pixdim = Enumerable.Range(0, 8).Select(i => r.F64(104 + (8 * i))).ToArray(),
        VoxOffset = r.I64(168),
        SclSlope = r.F64(176),
        SclInter = r.F64(184),
        CalMax = r.F64(192),
        CalMin = r.F64(200),
        SliceDuration = r.F64(208),
        Toffset = r.F64(216),
        SliceStart = r.I64(224),
        SliceEnd = r.I64(232),
        Descrip = r.Text(240, 80),
        AuxFile = r.Text(320, 24),
        QformCode = r.I32(344),
        SformCode = r.I32(348),
        QuaternB = r.F64(352),
        QuaternC = r.F64(360),
        QuaternD = r.F64(368),
        QoffsetX = r.F64(376),
        QoffsetY = r.F64(384),
        QoffsetZ = r.F64(392),
        SrowX = Enumerable.Range(0, 4).Select(i => r.F64(400 + (8 * i))).ToArray(),
        SrowY = Enumerable.Range(0, 4).Select(i => r.F64(432 + (8 * i))).ToArray(),
        SrowZ = Enumerable.Range(0, 4).Select(i => r.F64(464 + (8 * i))).ToArray(),
        SliceCode = r.I32(496),
        XyztUnits = r.I32(500),
        IntentCode = r.I32(504),
        IntentName = r.Text(508, 16),
        DimInfo = r.U8(524),
    };

    private void Check(string path)
    {
        var expectMagic = Version == 1 ? new[] { "n+1", "ni1" } : new[] { "n+2", "ni2" };
        if (!expectMagic.Contains(Magic))
        {
            throw new DataFormatException(path, $"bad NIfTI-{Version} magic '{Magic}' (expected '{expectMagic[0]}' or '{expectMagic[1]}')");
        }
        if (Dim[0] is < 1 or > 7)
        {
            throw new DataFormatException(path, $"dim[0] = {Dim[0]}: the number of dimensions must be 1..7");
        }
        for (var i = 1; i <= Dim[0]; i++)
        {
            if (Dim[i] < 0)
            {
                throw new DataFormatException(path, $"dim[{i}] = {Dim[i]}: dimension sizes must be ≥ 0");
            }
        }
        if (NiftiDataTypes.ItemSize(Datatype) == 0)
        {
            throw new DataFormatException(path, $"datatype {(short)Datatype} is not a NIfTI datatype this reader knows (uint8, int8, int16, uint16, int32, uint32, int64, uint64, float32, float64, complex, RGB)");
        }
        if (SingleFile && VoxOffset < SizeofHdr)
        {
            throw new DataFormatException(path, $"vox_offset {VoxOffset} lies inside the {SizeofHdr}-byte header");
        }
    }

    /// <summary>Writes this header (little-endian) into <paramref name="b"/> (<see cref="SizeofHdr"/> bytes).</summary>
    public void WriteTo(Span<byte> b)
    {
        b[..SizeofHdr].Clear();
        if (Version != 2)
        {
            throw new NotSupportedException("only NIfTI-2 headers are written");
        }
        BinaryPrimitives.WriteInt32LittleEndian(b, Nifti2Size);
        "n+2\0\r\n\u001a\n"u8.CopyTo(b[4..]);
        BinaryPrimitives.WriteInt16LittleEndian(b[12..], (short)Datatype);
        BinaryPrimitives.WriteInt16LittleEndian(b[14..], (short)Bitpix);
        for (var i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(b[(16 + (8 * i))..], Dim[i]);
            BinaryPrimitives.WriteDoubleLittleEndian(b[(104 + (8 * i))..], Pixdim[i]);
        }
        BinaryPrimitives.WriteDoubleLittleEndian(b[80..], IntentP1);
        BinaryPrimitives.WriteDoubleLittleEndian(b[88..], IntentP2);
        BinaryPrimitives.WriteDoubleLittleEndian(b[96..], IntentP3);
        BinaryPrimitives.WriteInt64LittleEndian(b[168..], (long)VoxOffset);
        BinaryPrimitives.WriteDoubleLittleEndian(b[176..], SclSlope);
        BinaryPrimitives.WriteDoubleLittleEndian(b[184..], SclInter);
        BinaryPrimitives.WriteDoubleLittleEndian(b[192..], CalMax);
        BinaryPrimitives.WriteDoubleLittleEndian(b[200..], CalMin);
        BinaryPrimitives.WriteDoubleLittleEndian(b[208..], SliceDuration);
        BinaryPrimitives.WriteDoubleLittleEndian(b[216..], Toffset);
        BinaryPrimitives.WriteInt64LittleEndian(b[224..], SliceStart);
        BinaryPrimitives.WriteInt64LittleEndian(b[232..], SliceEnd);
        WriteText(b.Slice(240, 80), Descrip);
        WriteText(b.Slice(320, 24), AuxFile);
        BinaryPrimitives.WriteInt32LittleEndian(b[344..], QformCode);
        BinaryPrimitives.WriteInt32LittleEndian(b[348..], SformCode);
        BinaryPrimitives.WriteDoubleLittleEndian(b[352..], QuaternB);
        BinaryPrimitives.WriteDoubleLittleEndian(b[360..], QuaternC);
        BinaryPrimitives.WriteDoubleLittleEndian(b[368..], QuaternD);
        BinaryPrimitives.WriteDoubleLittleEndian(b[376..], QoffsetX);
        BinaryPrimitives.WriteDoubleLittleEndian(b[384..], QoffsetY);
        BinaryPrimitives.WriteDoubleLittleEndian(b[392..], QoffsetZ);
        for (var i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(b[(400 + (8 * i))..], SrowX[i]);
            BinaryPrimitives.WriteDoubleLittleEndian(b[(432 + (8 * i))..], SrowY[i]);
            BinaryPrimitives.WriteDoubleLittleEndian(b[(464 + (8 * i))..], SrowZ[i]);
        }
        BinaryPrimitives.WriteInt32LittleEndian(b[496..], SliceCode);
        BinaryPrimitives.WriteInt32LittleEndian(b[500..], XyztUnits);
        BinaryPrimitives.WriteInt32LittleEndian(b[504..], IntentCode);
        WriteText(b.Slice(508, 16), IntentName);
        b[524] = (byte)DimInfo;
    }

    private static void WriteText(Span<byte> dst, string text)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        bytes.AsSpan(0, Math.Min(bytes.Length, dst.Length)).CopyTo(dst);
    }

    private sealed class FieldReader
    {
        private readonly byte[] _b;

        public FieldReader(byte[] b, bool little)
        {
            _b = b;
            Little = little;
        }

        public bool Little { get; }

        public int U8(int o) => _b[o];

        public short I16(int o) => Little ? BinaryPrimitives.ReadInt16LittleEndian(_b.AsSpan(o)) : BinaryPrimitives.ReadInt16BigEndian(_b.AsSpan(o));

        public int I32(int o) => Little ? BinaryPrimitives.ReadInt32LittleEndian(_b.AsSpan(o)) : BinaryPrimitives.ReadInt32BigEndian(_b.AsSpan(o));

        public long I64(int o) => Little ? BinaryPrimitives.ReadInt64LittleEndian(_b.AsSpan(o)) : BinaryPrimitives.ReadInt64BigEndian(_b.AsSpan(o));

        public float F32(int o) => Little ? BinaryPrimitives.ReadSingleLittleEndian(_b.AsSpan(o)) : BinaryPrimitives.ReadSingleBigEndian(_b.AsSpan(o));

        public double F64(int o) => Little ? BinaryPrimitives.ReadDoubleLittleEndian(_b.AsSpan(o)) : BinaryPrimitives.ReadDoubleBigEndian(_b.AsSpan(o));

        // numpy's fixed-length bytes drop trailing NULs only (an embedded NUL stays, as nibabel shows it).
        public string Text(int o, int n)
        {
            var s = _b.AsSpan(o, n);
            var end = s.Length;
            while (end > 0 && s[end - 1] == 0)
            {
                end--;
            }
            return Encoding.Latin1.GetString(s[..end]);
        }

        // The magic ends at its first NUL ("n+2\0\r\n\x1a\n").
        public string Magic(int o, int n)
        {
            var s = _b.AsSpan(o, n);
            var end = s.IndexOf((byte)0);
            return Encoding.Latin1.GetString(end < 0 ? s : s[..end]);
        }
    }
}
