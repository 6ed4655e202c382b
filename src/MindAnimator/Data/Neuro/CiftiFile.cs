// Mirrors nibabel 5.0 nibabel/cifti2/cifti2.py (Cifti2Image: NIfTI-2 container, dims 5 and 6 = matrix rows and columns).
using System.Runtime.InteropServices;
using System.Text;
using MindAnimator.Data.Formats;

namespace MindAnimator.Data.Neuro;

/// <summary>
/// A CIFTI-2 matrix: <see cref="Rows"/> × <see cref="Columns"/> values (e.g. time points × grayordinates for a
/// dtseries), held row-major in <see cref="Data"/> (value (r, c) at r · Columns + c). On disk the row index varies
/// fastest (NIfTI dim 5), so the file holds each column's values contiguously.
/// </summary>
public sealed class CiftiImage
{
    internal CiftiImage(string path, NiftiHeader nifti, IReadOnlyList<NiftiExtension> extensions, CiftiHeader cifti, int rows, int columns, float[] data)
    {
        Path = path;
        Nifti = nifti;
        Extensions = extensions;
        Header = cifti;
        Rows = rows;
        Columns = columns;
        Data = data;
    }

    public string Path { get; }

    public NiftiHeader Nifti { get; }

    public IReadOnlyList<NiftiExtension> Extensions { get; }

    public CiftiHeader Header { get; }

    public int Rows { get; }

    /// <summary>Columns held in <see cref="Data"/> (fewer than the file's when a prefix was read).</summary>
    public int Columns { get; }

    /// <summary>Columns in the file (NIfTI dim 6).</summary>
    public long FileColumns => Nifti.Dim[6];

    /// <summary>Rows × Columns, row-major, scaled to float32.</summary>
    public float[] Data { get; }

    public float this[int row, int column] => Data[((long)row * Columns) + column];

    /// <summary>The map of the rows (dimension 0) and of the columns (dimension 1).</summary>
    public CiftiMatrixIndicesMap RowMap => Header.MapFor(0) ?? throw new DataFormatException(Path, "the CIFTI XML has no map for matrix dimension 0");

    public CiftiMatrixIndicesMap ColumnMap => Header.MapFor(1) ?? throw new DataFormatException(Path, "the CIFTI XML has no map for matrix dimension 1");
}

/// <summary>Reads and writes CIFTI-2 files (.dtseries.nii, .dscalar.nii, .dlabel.nii, .dconn.nii, …).</summary>
public static class CiftiFile
{
    /// <summary>Reads the whole matrix.</summary>
    public static CiftiImage Read(string path) => Read(path, maxColumns: -1);

    /// <summary>
    /// Reads the first <paramref name="maxColumns"/> columns only (all when negative): e.g. the cortical surface
    /// grayordinates of a dtseries, which come first. Only that prefix of the file's data is read.
    /// </summary>
    public static CiftiImage Read(string path, long maxColumns)
    {
        // One pass: the header decides how many elements to read; the XML is parsed once.
        var image = NiftiFile.Read(path, h => h.Dim[0] >= 6 ? h.Dim[5] * (maxColumns < 0 ? h.Dim[6] : Math.Min(maxColumns, h.Dim[6])) : 0);
        var cifti = Check(path, image.Header, image.Extensions);
        var nifti = image.Header;
        var rows = nifti.Dim[5];
        var cols = image.LoadedElements / Math.Max(1, rows);
        if (rows * cols > Array.MaxLength)
        {
            throw new DataFormatException(path, $"a {rows} × {cols} matrix is too large to read at once");
        }
        var data = new float[rows * cols];
        if (nifti.Datatype == NiftiDataType.Float32 && nifti.EffectiveScaling == (1, 0))
        {
            Transpose(MemoryMarshal.Cast<byte, float>(image.RawBytes), data, (int)cols, (int)rows);
        }
        else
        {
            Transpose(image.ToFloat32(), data, (int)cols, (int)rows);
        }
        return new CiftiImage(path, nifti, image.Extensions, cifti, (int)rows, (int)cols, data);
    }

    /// <summary>The NIfTI-2 header, extensions and parsed CIFTI-2 XML, checked against each other; no data is read.</summary>
    public static (NiftiHeader Nifti, IReadOnlyList<NiftiExtension> Extensions, CiftiHeader Cifti) ReadHeader(string path)
    {
        var (nifti, extensions) = NiftiFile.ReadHeader(path);
        return (nifti, extensions, Check(path, nifti, extensions));
    }

    private static CiftiHeader Check(string path, NiftiHeader nifti, IReadOnlyList<NiftiExtension> extensions)
    {
        var ext = extensions.FirstOrDefault(e => e.Code == NiftiExtension.CiftiCode)
            ?? throw new DataFormatException(path, $"not a CIFTI-2 file: no header extension with code {NiftiExtension.CiftiCode} (CIFTI XML){(extensions.Count > 0 ? $"; extension codes found: {string.Join(", ", extensions.Select(e => e.Code))}" : "")}");
        if (nifti.Version != 2)
        {
            throw new DataFormatException(path, "CIFTI-2 files must be NIfTI-2; this one is NIfTI-1");
        }
        if (nifti.Dim[0] < 6 || nifti.Dim[1] != 1 || nifti.Dim[2] != 1 || nifti.Dim[3] != 1 || nifti.Dim[4] != 1)
        {
            throw new DataFormatException(path, $"dim [{string.Join(", ", nifti.Dim)}]: a CIFTI-2 matrix needs dim[0] ≥ 6 and dims 1–4 equal to 1");
        }
        if (nifti.Dim[0] > 6 && nifti.Dim[7] != 1)
        {
            throw new DataFormatException(path, $"dim [{string.Join(", ", nifti.Dim)}]: only 2-D CIFTI matrices are supported");
        }
        var cifti = CiftiHeader.Parse(ext.Content, path);
        for (var d = 0; d < 2; d++)
        {
            var map = cifti.MapFor(d);
            if (map is not null && map.Size != nifti.Dim[5 + d])
            {
                throw new DataFormatException(path, $"matrix dimension {d} has {nifti.Dim[5 + d]} indices (dim[{5 + d}]) but its {map.IndicesMapToDataType} map describes {map.Size}");
            }
        }
        return cifti;
    }

    /// <summary>
    /// Writes a CIFTI-2 file: <paramref name="rowMajor"/> is rows × columns with rows described by the map of dimension
    /// 0 and columns by that of dimension 1. The intent follows the row map: series → dtseries, scalars → dscalar,
    /// labels → dlabel.
    /// </summary>
    public static void Write(string path, CiftiHeader header, ReadOnlySpan<float> rowMajor, bool overwrite)
    {
        var rowMap = header.MapFor(0) ?? throw new ArgumentException("the header needs a map for dimension 0", nameof(header));
        var colMap = header.MapFor(1) ?? throw new ArgumentException("the header needs a map for dimension 1", nameof(header));
        var rows = rowMap.Size;
        var cols = colMap.Size;
        if (rows * cols != rowMajor.Length)
        {
            throw new ArgumentException($"the maps describe a {rows} × {cols} matrix but {rowMajor.Length} values were given", nameof(rowMajor));
        }
        var (intent, intentName) = rowMap.IndicesMapToDataType switch
        {
            CiftiIndexTypes.Series => CiftiIntents.DenseSeries,
            CiftiIndexTypes.Scalars => CiftiIntents.DenseScalar,
            CiftiIndexTypes.Labels => CiftiIntents.DenseLabel,
            _ => throw new NotSupportedException($"writing a CIFTI file whose rows are {rowMap.IndicesMapToDataType} is not supported"),
        };
        var xml = Encoding.UTF8.GetBytes(header.ToXml());
        var esize = (xml.Length + 8 + 15) / 16 * 16;
        var voxOffset = NiftiHeader.Nifti2Size + 4 + esize;
        var nifti = new NiftiHeader
        {
            Version = 2,
            Magic = "n+2",
            Dim = new long[] { 6, 1, 1, 1, 1, rows, cols, 1 },
            Pixdim = new double[] { 1, 1, 1, 1, 1, 1, 1, 1 },
            Datatype = NiftiDataType.Float32,
            Bitpix = 32,
            VoxOffset = voxOffset,
            SclSlope = 1,
            SclInter = 0,
            IntentCode = intent,
            IntentName = intentName,
        };
        var onDisk = new float[rowMajor.Length];
        Transpose(rowMajor, onDisk, (int)rows, (int)cols);

        using var w = AtomicFile.Create(path, overwrite);
        var s = w.Stream;
        var head = new byte[NiftiHeader.Nifti2Size + 4];
        nifti.WriteTo(head);
        head[NiftiHeader.Nifti2Size] = 1;
        s.Write(head);
        var ext = new byte[esize];
        BitConverter.TryWriteBytes(ext.AsSpan(0, 4), esize);
        BitConverter.TryWriteBytes(ext.AsSpan(4, 4), NiftiExtension.CiftiCode);
        xml.CopyTo(ext, 8);
        s.Write(ext);
        s.Write(MemoryMarshal.AsBytes(onDisk.AsSpan()));
        w.Commit();
    }

    /// <summary>Writes a dense scalar file (one row per named map) over the given brain models.</summary>
    public static void WriteDenseScalar(string path, IReadOnlyList<string> mapNames, CiftiMatrixIndicesMap brainModels, ReadOnlySpan<float> rowMajor, bool overwrite) =>
        Write(path, new CiftiHeader("2", new[] { CiftiMatrixIndicesMap.Scalars(0, mapNames), brainModels with { AppliesToMatrixDimension = new[] { 1 } } }, new Dictionary<string, string>()), rowMajor, overwrite);

    /// <summary>Writes a dense time series (rows = time points) over the given brain models.</summary>
    public static void WriteDenseSeries(string path, double start, double step, CiftiMatrixIndicesMap brainModels, ReadOnlySpan<float> rowMajor, bool overwrite)
    {
        var cols = brainModels.Size;
        var rows = cols == 0 ? 0 : rowMajor.Length / cols;
        Write(path, new CiftiHeader("2", new[] { CiftiMatrixIndicesMap.Series(0, rows, start, step), brainModels with { AppliesToMatrixDimension = new[] { 1 } } }, new Dictionary<string, string>()), rowMajor, overwrite);
    }

    /// <summary>dst (cols × rows) = transpose of src (rows × cols), in cache-friendly tiles.</summary>
    internal static void Transpose(ReadOnlySpan<float> src, Span<float> dst, int rows, int cols)
    {
        const int tile = 64;
        for (var r0 = 0; r0 < rows; r0 += tile)
        {
            var r1 = Math.Min(rows, r0 + tile);
            for (var c0 = 0; c0 < cols; c0 += tile)
            {
                var c1 = Math.Min(cols, c0 + tile);
                for (var r = r0; r < r1; r++)
                {
                    var row = src.Slice(r * cols, cols);
                    for (var c = c0; c < c1; c++)
                    {
                        dst[(c * rows) + r] = row[c];
                    }
                }
            }
        }
    }
}

/// <summary>Per-voxel maps (e.g. decoder weights) over the voxels of an fMRI table, as a CIFTI-2 dscalar for Connectome Workbench.</summary>
public static class CiftiVoxelMaps
{
    /// <summary>Vertices of the fs_LR 32k surfaces CC2017's grayordinates live on.</summary>
    public const int Fs32kVertices = 32492;

    /// <summary>
    /// Surface brain models for <paramref name="voxels"/> (their structure and vertex), in table order. Each structure's
    /// voxels must be contiguous, as CIFTI requires; voxels that are not surface vertices cannot be written.
    /// </summary>
    public static CiftiMatrixIndicesMap BrainModels(IReadOnlyList<VoxelInfo> voxels, int surfaceVertices = Fs32kVertices)
    {
        var models = new List<CiftiBrainModel>();
        var start = 0;
        while (start < voxels.Count)
        {
            var structure = voxels[start].Structure;
            if (!structure.StartsWith("CIFTI_STRUCTURE_", StringComparison.Ordinal) || voxels[start].Vertex < 0)
            {
                throw new MindAnimatorException($"voxel {start} ({structure}, vertex {voxels[start].Vertex}) is not a surface vertex; only surface grayordinates can be written as a CIFTI dscalar");
            }
            var end = start;
            while (end < voxels.Count && voxels[end].Structure == structure)
            {
                end++;
            }
            if (models.Any(m => m.BrainStructure == structure))
            {
                throw new MindAnimatorException($"the voxels of {structure} are not contiguous (again at voxel {start}); CIFTI needs one block per structure");
            }
            var vertices = voxels.Skip(start).Take(end - start).Select(v => (long)v.Vertex).ToArray();
            models.Add(CiftiBrainModel.ForSurface(start, structure, surfaceVertices, vertices));
            start = end;
        }
        return CiftiMatrixIndicesMap.Brain(1, models);
    }

    /// <summary>Writes named per-voxel maps (each of voxels.Count values) as a dscalar.</summary>
    public static void Write(string path, IReadOnlyList<VoxelInfo> voxels, IReadOnlyList<(string Name, float[] Values)> maps, bool overwrite, int surfaceVertices = Fs32kVertices)
    {
        var data = new float[maps.Count * voxels.Count];
        for (var m = 0; m < maps.Count; m++)
        {
            if (maps[m].Values.Length != voxels.Count)
            {
                throw new ArgumentException($"map '{maps[m].Name}' has {maps[m].Values.Length} values for {voxels.Count} voxels", nameof(maps));
            }
            maps[m].Values.CopyTo(data, m * voxels.Count);
        }
        CiftiFile.WriteDenseScalar(path, maps.Select(m => m.Name).ToList(), BrainModels(voxels, surfaceVertices), data, overwrite);
    }
}
