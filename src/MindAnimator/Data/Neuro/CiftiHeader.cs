// Mirrors the CIFTI-2 XML model of nibabel 5.0 nibabel/cifti2/cifti2.py and its parser parse_cifti2.py.
using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace MindAnimator.Data.Neuro;

/// <summary>The index types of a CIFTI-2 matrix dimension.</summary>
public static class CiftiIndexTypes
{
    public const string BrainModels = "CIFTI_INDEX_TYPE_BRAIN_MODELS";
    public const string Parcels = "CIFTI_INDEX_TYPE_PARCELS";
    public const string Series = "CIFTI_INDEX_TYPE_SERIES";
    public const string Scalars = "CIFTI_INDEX_TYPE_SCALARS";
    public const string Labels = "CIFTI_INDEX_TYPE_LABELS";
}

/// <summary>NIfTI intent codes and names of the CIFTI-2 file kinds.</summary>
public static class CiftiIntents
{
    public static readonly (int Code, string Name) DenseSeries = (3002, "ConnDenseSeries");
    public static readonly (int Code, string Name) DenseScalar = (3006, "ConnDenseScalar");
    public static readonly (int Code, string Name) DenseLabel = (3007, "ConnDenseLabel");
}

/// <summary>One brain model: a run of grayordinates on one structure (surface vertices or voxels).</summary>
/// <param name="VertexIndices">Surface vertex of each grayordinate (surface models), else empty.</param>
/// <param name="VoxelIjk">i, j, k of each grayordinate, flattened (voxel models), else empty.</param>
public sealed record CiftiBrainModel(
    long IndexOffset,
    long IndexCount,
    string ModelType,
    string BrainStructure,
    long? SurfaceNumberOfVertices,
    long[] VertexIndices,
    int[] VoxelIjk)
{
    public const string Surface = "CIFTI_MODEL_TYPE_SURFACE";
    public const string Voxels = "CIFTI_MODEL_TYPE_VOXELS";

    public bool IsSurface => ModelType == Surface;

    public static CiftiBrainModel ForSurface(long offset, string structure, long surfaceVertices, long[] vertices) =>
        new(offset, vertices.Length, Surface, structure, surfaceVertices, vertices, Array.Empty<int>());
}

/// <summary>An entry of a label table.</summary>
public sealed record CiftiLabel(int Key, string Name, double Red, double Green, double Blue, double Alpha);

/// <summary>A named map of a scalars or labels dimension (one row of a dscalar/dlabel).</summary>
public sealed record CiftiNamedMap(string MapName, IReadOnlyList<CiftiLabel>? LabelTable = null);

/// <summary>The volume the voxel brain models index, with its ijk → xyz transform (row-major 4 × 4).</summary>
public sealed record CiftiVolume(int[] Dimensions, int MeterExponent, double[] Transform);

/// <summary>One MatrixIndicesMap: what the indices of one or more matrix dimensions mean.</summary>
public sealed record CiftiMatrixIndicesMap
{
    public required int[] AppliesToMatrixDimension { get; init; }

    public required string IndicesMapToDataType { get; init; }

    public long? NumberOfSeriesPoints { get; init; }

    public int? SeriesExponent { get; init; }

    public double? SeriesStart { get; init; }

    public double? SeriesStep { get; init; }

    public string? SeriesUnit { get; init; }

    public IReadOnlyList<CiftiBrainModel> BrainModels { get; init; } = Array.Empty<CiftiBrainModel>();

    public CiftiVolume? Volume { get; init; }

    public IReadOnlyList<CiftiNamedMap> NamedMaps { get; init; } = Array.Empty<CiftiNamedMap>();

    /// <summary>Parcel names (parcels maps; their surface/voxel contents are not modelled).</summary>
    public IReadOnlyList<string> ParcelNames { get; init; } = Array.Empty<string>();

    /// <summary>The number of indices this map describes along its dimension.</summary>
    public long Size => IndicesMapToDataType switch
    {
        CiftiIndexTypes.Series => NumberOfSeriesPoints ?? 0,
        CiftiIndexTypes.BrainModels => BrainModels.Count == 0 ? 0 : BrainModels.Max(b => b.IndexOffset + b.IndexCount),
        CiftiIndexTypes.Scalars or CiftiIndexTypes.Labels => NamedMaps.Count,
        CiftiIndexTypes.Parcels => ParcelNames.Count,
        _ => 0,
    };

    public static CiftiMatrixIndicesMap Series(int dimension, long points, double start, double step, string unit = "SECOND") => new()
    {
        AppliesToMatrixDimension = new[] { dimension },
        IndicesMapToDataType = CiftiIndexTypes.Series,
        NumberOfSeriesPoints = points,
        SeriesExponent = 0,
        SeriesStart = start,
        SeriesStep = step,
        SeriesUnit = unit,
    };

    public static CiftiMatrixIndicesMap Scalars(int dimension, IEnumerable<string> names) => new()
    {
        AppliesToMatrixDimension = new[] { dimension },
        IndicesMapToDataType = CiftiIndexTypes.Scalars,
        NamedMaps = names.Select(n => new CiftiNamedMap(n)).ToList(),
    };

    public static CiftiMatrixIndicesMap Brain(int dimension, IReadOnlyList<CiftiBrainModel> models, CiftiVolume? volume = null) => new()
    {
        AppliesToMatrixDimension = new[] { dimension },
        IndicesMapToDataType = CiftiIndexTypes.BrainModels,
        BrainModels = models,
        Volume = volume,
    };

    /// <summary>Structure and surface vertex (−1 for voxels) of every grayordinate of a brain-models map, in index order.</summary>
    public (string[] Structure, long[] Vertex) Grayordinates()
    {
        var n = Size;
        var structure = new string[n];
        var vertex = new long[n];
        Array.Fill(structure, "");
        Array.Fill(vertex, -1L);
        foreach (var b in BrainModels)
        {
            for (var i = 0; i < b.IndexCount; i++)
            {
                structure[b.IndexOffset + i] = b.BrainStructure;
                if (b.IsSurface)
                {
                    vertex[b.IndexOffset + i] = b.VertexIndices[i];
                }
            }
        }
        return (structure, vertex);
    }
}

/// <summary>The CIFTI-2 XML of a file (NIfTI extension code 32): the matrix' index maps and its metadata.</summary>
public sealed record CiftiHeader(string Version, IReadOnlyList<CiftiMatrixIndicesMap> Maps, IReadOnlyDictionary<string, string> MetaData)
{
    /// <summary>The map of matrix dimension <paramref name="dimension"/> (0 = rows, 1 = columns).</summary>
    public CiftiMatrixIndicesMap? MapFor(int dimension) => Maps.FirstOrDefault(m => m.AppliesToMatrixDimension.Contains(dimension));

    public static CiftiHeader Parse(byte[] xml, string path)
    {
        XDocument doc;
        try
        {
            // Writers pad the extension with NULs to a multiple of 16 bytes.
            var text = Encoding.UTF8.GetString(xml).TrimEnd('\0', ' ', '\n', '\r', '\t');
            doc = XDocument.Parse(text);
        }
        catch (XmlException e)
        {
            throw new DataFormatException(path, $"the CIFTI-2 XML extension is not well-formed XML: {e.Message}", e);
        }
        var root = doc.Root!;
        if (root.Name.LocalName != "CIFTI")
        {
            throw new DataFormatException(path, $"the CIFTI extension's root element is <{root.Name.LocalName}>, expected <CIFTI>");
        }
        var version = (string?)root.Attribute("Version") ?? "";
        if (!version.StartsWith('2'))
        {
            throw new DataFormatException(path, $"CIFTI version '{version}' is not supported (expected 2)");
        }
        var matrix = root.Element("Matrix") ?? throw new DataFormatException(path, "the CIFTI XML has no <Matrix> element");
        var maps = matrix.Elements("MatrixIndicesMap").Select(m => ParseMap(m, path)).ToList();
        return new CiftiHeader(version, maps, ParseMetaData(matrix.Element("MetaData")));
    }

    private static Dictionary<string, string> ParseMetaData(XElement? e)
    {
        var d = new Dictionary<string, string>();
        foreach (var md in e?.Elements("MD") ?? Enumerable.Empty<XElement>())
        {
            d[((string?)md.Element("Name") ?? "").Trim()] = ((string?)md.Element("Value") ?? "").Trim();
        }
        return d;
    }

    private static CiftiMatrixIndicesMap ParseMap(XElement m, string path)
    {
        var type = Attr(m, "IndicesMapToDataType", path);
        var dims = Attr(m, "AppliesToMatrixDimension", path).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => ParseInt(s, "AppliesToMatrixDimension", path)).ToArray();
        var map = new CiftiMatrixIndicesMap { AppliesToMatrixDimension = dims, IndicesMapToDataType = type };
        switch (type)
        {
            case CiftiIndexTypes.Series:
                return map with
                {
                    NumberOfSeriesPoints = ParseLong(Attr(m, "NumberOfSeriesPoints", path), "NumberOfSeriesPoints", path),
                    SeriesExponent = (int)ParseLong(Attr(m, "SeriesExponent", path), "SeriesExponent", path),
                    SeriesStart = ParseDouble(Attr(m, "SeriesStart", path), "SeriesStart", path),
                    SeriesStep = ParseDouble(Attr(m, "SeriesStep", path), "SeriesStep", path),
                    SeriesUnit = Attr(m, "SeriesUnit", path),
                };
            case CiftiIndexTypes.BrainModels:
                var volume = m.Element("Volume");
                return map with
                {
                    BrainModels = m.Elements("BrainModel").Select(b => ParseBrainModel(b, path)).ToList(),
                    Volume = volume is null ? null : ParseVolume(volume, path),
                };
            case CiftiIndexTypes.Scalars:
            case CiftiIndexTypes.Labels:
                return map with { NamedMaps = m.Elements("NamedMap").Select(n => ParseNamedMap(n, type == CiftiIndexTypes.Labels, path)).ToList() };
            case CiftiIndexTypes.Parcels:
                return map with { ParcelNames = m.Elements("Parcel").Select(p => (string?)p.Attribute("Name") ?? "").ToList() };
            default:
                throw new DataFormatException(path, $"unknown CIFTI IndicesMapToDataType '{type}'");
        }
    }

    private static CiftiBrainModel ParseBrainModel(XElement b, string path)
    {
        var offset = ParseLong(Attr(b, "IndexOffset", path), "IndexOffset", path);
        var count = ParseLong(Attr(b, "IndexCount", path), "IndexCount", path);
        var type = Attr(b, "ModelType", path);
        var structure = Attr(b, "BrainStructure", path);
        var where = $"BrainModel {structure}";
        if (type == CiftiBrainModel.Surface)
        {
            var nv = ParseLong(Attr(b, "SurfaceNumberOfVertices", path), "SurfaceNumberOfVertices", path);
            var vertices = ParseNumbers((string?)b.Element("VertexIndices") ?? "", path, where + " VertexIndices", long.Parse);
            if (vertices.Length != count)
            {
                throw new DataFormatException(path, $"{where}: {vertices.Length} VertexIndices for IndexCount {count}");
            }
            if (vertices.Any(v => v < 0 || v >= nv))
            {
                throw new DataFormatException(path, $"{where}: a vertex index lies outside 0..{nv - 1} (SurfaceNumberOfVertices {nv})");
            }
            return new CiftiBrainModel(offset, count, type, structure, nv, vertices, Array.Empty<int>());
        }
        if (type == CiftiBrainModel.Voxels)
        {
            var ijk = ParseNumbers((string?)b.Element("VoxelIndicesIJK") ?? "", path, where + " VoxelIndicesIJK", int.Parse);
            if (ijk.Length != count * 3)
            {
                throw new DataFormatException(path, $"{where}: {ijk.Length} VoxelIndicesIJK numbers for IndexCount {count} (expected {count * 3})");
            }
            return new CiftiBrainModel(offset, count, type, structure, null, Array.Empty<long>(), ijk);
        }
        throw new DataFormatException(path, $"{where}: unknown ModelType '{type}'");
    }

    private static CiftiVolume ParseVolume(XElement v, string path)
    {
        var dims = ParseNumbers(Attr(v, "VolumeDimensions", path).Replace(',', ' '), path, "VolumeDimensions", int.Parse);
        var t = v.Element("TransformationMatrixVoxelIndicesIJKtoXYZ") ?? throw new DataFormatException(path, "<Volume> has no TransformationMatrixVoxelIndicesIJKtoXYZ");
        var exp = (int)ParseLong(Attr(t, "MeterExponent", path), "MeterExponent", path);
        var m = ParseNumbers(t.Value, path, "TransformationMatrixVoxelIndicesIJKtoXYZ", double.Parse);
        if (m.Length != 16 || dims.Length != 3)
        {
            throw new DataFormatException(path, $"<Volume>: expected 3 dimensions and a 4 × 4 transform, got {dims.Length} and {m.Length} numbers");
        }
        return new CiftiVolume(dims, exp, m);
    }

    private static CiftiNamedMap ParseNamedMap(XElement n, bool labels, string path)
    {
        var name = ((string?)n.Element("MapName") ?? "").Trim();
        if (!labels)
        {
            return new CiftiNamedMap(name);
        }
        var table = n.Element("LabelTable")?.Elements("Label").Select(l => new CiftiLabel(
            (int)ParseLong(Attr(l, "Key", path), "Label Key", path),
            l.Value.Trim(),
            ParseDouble(Attr(l, "Red", path), "Red", path),
            ParseDouble(Attr(l, "Green", path), "Green", path),
            ParseDouble(Attr(l, "Blue", path), "Blue", path),
            ParseDouble(Attr(l, "Alpha", path), "Alpha", path))).ToList() ?? new List<CiftiLabel>();
        return new CiftiNamedMap(name, table);
    }

    private static string Attr(XElement e, string name, string path) =>
        (string?)e.Attribute(name) ?? throw new DataFormatException(path, $"CIFTI XML <{e.Name.LocalName}> lacks the attribute {name}");

    private static long ParseLong(string s, string field, string path) =>
        long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new DataFormatException(path, $"CIFTI XML {field} '{s}' is not an integer");

    private static int ParseInt(string s, string field, string path) => checked((int)ParseLong(s, field, path));

    private static double ParseDouble(string s, string field, string path) =>
        double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new DataFormatException(path, $"CIFTI XML {field} '{s}' is not a number");

    private static T[] ParseNumbers<T>(string text, string path, string field, Func<string, IFormatProvider, T> parse)
    {
        var parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var result = new T[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            try
            {
                result[i] = parse(parts[i], CultureInfo.InvariantCulture);
            }
            catch (FormatException)
            {
                throw new DataFormatException(path, $"CIFTI XML {field}: '{parts[i]}' is not a number");
            }
        }
        return result;
    }

    /// <summary>The XML as Connectome Workbench and nibabel write it.</summary>
    public string ToXml()
    {
        var matrix = new XElement("Matrix");
        if (MetaData.Count > 0)
        {
            matrix.Add(new XElement("MetaData", MetaData.Select(kv => new XElement("MD", new XElement("Name", kv.Key), new XElement("Value", kv.Value)))));
        }
        foreach (var m in Maps)
        {
            matrix.Add(MapXml(m));
        }
        var doc = new XDocument(new XDeclaration("1.0", "UTF-8", null), new XElement("CIFTI", new XAttribute("Version", Version), matrix));
        var sb = new StringBuilder();
        using (var w = XmlWriter.Create(new StringWriterUtf8(sb), new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) }))
        {
            doc.Save(w);
        }
        return sb.ToString();
    }

    private static XElement MapXml(CiftiMatrixIndicesMap m)
    {
        var e = new XElement("MatrixIndicesMap",
            new XAttribute("AppliesToMatrixDimension", string.Join(",", m.AppliesToMatrixDimension)),
            new XAttribute("IndicesMapToDataType", m.IndicesMapToDataType));
        switch (m.IndicesMapToDataType)
        {
            case CiftiIndexTypes.Series:
                e.Add(new XAttribute("NumberOfSeriesPoints", m.NumberOfSeriesPoints ?? 0),
                    new XAttribute("SeriesExponent", m.SeriesExponent ?? 0),
                    new XAttribute("SeriesStart", Num(m.SeriesStart ?? 0)),
                    new XAttribute("SeriesStep", Num(m.SeriesStep ?? 1)),
                    new XAttribute("SeriesUnit", m.SeriesUnit ?? "SECOND"));
                break;
            case CiftiIndexTypes.BrainModels:
                if (m.Volume is { } v)
                {
                    e.Add(new XElement("Volume", new XAttribute("VolumeDimensions", string.Join(",", v.Dimensions)),
                        new XElement("TransformationMatrixVoxelIndicesIJKtoXYZ", new XAttribute("MeterExponent", v.MeterExponent), string.Join(" ", v.Transform.Select(Num)))));
                }
                foreach (var b in m.BrainModels)
                {
                    var be = new XElement("BrainModel",
                        new XAttribute("IndexOffset", b.IndexOffset),
                        new XAttribute("IndexCount", b.IndexCount),
                        new XAttribute("ModelType", b.ModelType),
                        new XAttribute("BrainStructure", b.BrainStructure));
                    if (b.IsSurface)
                    {
                        be.Add(new XAttribute("SurfaceNumberOfVertices", b.SurfaceNumberOfVertices ?? 0), new XElement("VertexIndices", string.Join(" ", b.VertexIndices)));
                    }
                    else
                    {
                        var rows = Enumerable.Range(0, (int)b.IndexCount).Select(i => $"{b.VoxelIjk[3 * i]} {b.VoxelIjk[(3 * i) + 1]} {b.VoxelIjk[(3 * i) + 2]}");
                        be.Add(new XElement("VoxelIndicesIJK", string.Join("\n", rows)));
                    }
                    e.Add(be);
                }
                break;
            case CiftiIndexTypes.Scalars:
            case CiftiIndexTypes.Labels:
                foreach (var n in m.NamedMaps)
                {
                    var ne = new XElement("NamedMap");
                    if (n.LabelTable is { } table)
                    {
                        ne.Add(new XElement("LabelTable", table.Select(l => new XElement("Label",
                            new XAttribute("Key", l.Key), new XAttribute("Red", Num(l.Red)), new XAttribute("Green", Num(l.Green)),
                            new XAttribute("Blue", Num(l.Blue)), new XAttribute("Alpha", Num(l.Alpha)), l.Name))));
                    }
                    ne.Add(new XElement("MapName", n.MapName));
                    e.Add(ne);
                }
                break;
            default:
                throw new NotSupportedException($"writing {m.IndicesMapToDataType} maps is not supported");
        }
        return e;
    }

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private sealed class StringWriterUtf8 : StringWriter
    {
        public StringWriterUtf8(StringBuilder sb)
            : base(sb, CultureInfo.InvariantCulture)
        {
        }

        public override Encoding Encoding => new UTF8Encoding(false);
    }
}
