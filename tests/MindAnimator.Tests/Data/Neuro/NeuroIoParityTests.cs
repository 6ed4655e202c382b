using System.Text.Json;
using MindAnimator.Data.Neuro;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Data.Neuro;

/// <summary>
/// Every file of golden/neuro_io against the JSON of what nibabel 5.0 read from it. Everything compared comes from
/// the JSON; nothing here knows a particular file.
/// </summary>
public class NeuroIoParityTests
{
    // Header fields are float32/float64 values copied exactly; statistics of the data may be summed in another order.
    private const double HeaderRtol = 1e-12;
    private const double StatsRtol = 1e-9;

    public static IEnumerable<object[]> Fixtures()
    {
        var dir = Path.Combine(TestEnvironment.SharedRoot, "golden", "neuro_io");
        if (!Directory.Exists(dir))
        {
            yield return new object[] { "(missing)" };
            yield break;
        }
        foreach (var json in Directory.GetFiles(dir, "*.json").OrderBy(f => f, StringComparer.Ordinal))
        {
            yield return new object[] { Path.GetFileName(json) };
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void File_MatchesNibabel(string jsonName)
    {
        var dir = TestEnvironment.Golden("neuro_io");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, jsonName)));
        var spec = doc.RootElement;
        var path = Path.Combine(dir, spec.GetProperty("file").GetString()!);
        var errors = new List<string>();
        var isCifti = spec.TryGetProperty("cifti_matrix_indices_maps", out _);

        var image = NiftiFile.Read(path);
        var h = image.Header;
        CheckHeader(spec, h, errors);
        Check(errors, "gzip", spec.GetProperty("gzip").GetBoolean(), IsGzip(path));
        Check(errors, "datatype_name", spec.GetProperty("datatype_name").GetString(), NiftiDataTypes.Name(h.Datatype));
        Check(errors, "units_xyzt", string.Join(",", spec.GetProperty("units_xyzt").EnumerateArray().Select(e => e.GetString())), $"{h.SpatialUnit},{h.TemporalUnit}");
        // nibabel reports a CIFTI extension's size after re-serialising its parsed XML, not the esize in the file,
        // so only the code is compared for those.
        static string Ext(int code, int size) => code == NiftiExtension.CiftiCode ? $"{code}" : $"{code}:{size}";
        var exts = spec.GetProperty("extensions").EnumerateArray().Select(e => Ext(e.GetProperty("code").GetInt32(), e.GetProperty("size_on_disk_bytes").GetInt32()));
        Check(errors, "extensions", string.Join(";", exts), string.Join(";", image.Extensions.Select(e => Ext(e.Code, e.SizeOnDisk))));
        var zooms = spec.GetProperty("zooms_from_pixdim").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        CheckNumbers(errors, "zooms_from_pixdim", zooms, h.Pixdim[1..(zooms.Length + 1)], HeaderRtol);
        if (spec.TryGetProperty("TR_pixdim4", out var tr))
        {
            CheckNumber(errors, "TR_pixdim4", tr.GetDouble(), h.Pixdim[4], HeaderRtol);
        }
        if (spec.TryGetProperty("nibabel_effective_scaling", out var scaling))
        {
            CheckNumber(errors, "effective slope", scaling.GetProperty("slope").GetDouble(), h.EffectiveScaling.Slope, HeaderRtol);
            CheckNumber(errors, "effective inter", scaling.GetProperty("inter").GetDouble(), h.EffectiveScaling.Inter, HeaderRtol);
        }
        if (spec.TryGetProperty("affine", out var affine))
        {
            var a = h.Affine();
            var rows = affine.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
            for (var i = 0; i < 4; i++)
            {
                CheckNumbers(errors, $"affine row {i}", rows[i], Enumerable.Range(0, 4).Select(j => a[i, j]).ToArray(), 1e-9, atol: 1e-9);
            }
        }

        var shape = spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        double[] values;
        Func<long[], (double Raw, double Scaled)> sample;
        if (isCifti)
        {
            var cifti = CiftiFile.Read(path);
            Check(errors, "shape", string.Join(",", shape), $"{cifti.Rows},{cifti.Columns}");
            values = cifti.Data.Select(v => (double)v).ToArray();
            sample = idx => (cifti[(int)idx[0], (int)idx[1]], cifti[(int)idx[0], (int)idx[1]]);
            CheckCifti(spec, cifti, errors);
        }
        else
        {
            Check(errors, "shape", string.Join(",", shape), string.Join(",", image.Shape));
            values = image.ToFloat64();
            sample = idx => (image.RawValue(image.FlatIndex(idx)), image.ScaledValue(image.FlatIndex(idx)));
        }
        CheckNumber(errors, "data_sum", spec.GetProperty("data_sum").GetDouble(), values.Sum(), StatsRtol, atol: 1e-9);
        CheckNumber(errors, "data_mean", spec.GetProperty("data_mean").GetDouble(), values.Average(), StatsRtol, atol: 1e-9);
        CheckNumber(errors, "data_min", spec.GetProperty("data_min").GetDouble(), values.Min(), StatsRtol);
        CheckNumber(errors, "data_max", spec.GetProperty("data_max").GetDouble(), values.Max(), StatsRtol);
        foreach (var s in spec.GetProperty("samples").EnumerateArray())
        {
            var idx = s.GetProperty("index").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var (raw, scaled) = sample(idx);
            CheckNumber(errors, $"raw at [{string.Join(",", idx)}]", s.GetProperty("raw").GetDouble(), raw, HeaderRtol);
            CheckNumber(errors, $"scaled at [{string.Join(",", idx)}]", s.GetProperty("scaled").GetDouble(), scaled, StatsRtol);
        }
        Assert.True(errors.Count == 0, $"{jsonName}:\n" + string.Join("\n", errors));
    }

    private static void CheckHeader(JsonElement spec, NiftiHeader h, List<string> errors)
    {
        Check(errors, "endianness", spec.GetProperty("endianness").GetString(), h.LittleEndian ? "<" : ">");
        foreach (var field in spec.GetProperty("header").EnumerateObject())
        {
            var actual = h.Field(field.Name);
            var name = "header." + field.Name;
            switch (field.Value.ValueKind)
            {
                case JsonValueKind.String:
                    Check(errors, name, field.Value.GetString(), actual as string);
                    break;
                case JsonValueKind.Number:
                    CheckNumber(errors, name, field.Value.GetDouble(), ToDouble(actual), HeaderRtol);
                    break;
                case JsonValueKind.Array:
                    var expected = field.Value.EnumerateArray().Select(v => v.GetDouble()).ToArray();
                    var got = actual switch
                    {
                        long[] l => l.Select(v => (double)v).ToArray(),
                        double[] d => d,
                        _ => Array.Empty<double>(),
                    };
                    CheckNumbers(errors, name, expected, got, HeaderRtol);
                    break;
                default:
                    errors.Add($"{name}: unexpected JSON kind {field.Value.ValueKind}");
                    break;
            }
        }
    }

    private static void CheckCifti(JsonElement spec, CiftiImage image, List<string> errors)
    {
        Check(errors, "cifti_version", spec.GetProperty("cifti_version").GetString(), image.Header.Version);
        foreach (var m in spec.GetProperty("cifti_matrix_indices_maps").EnumerateArray())
        {
            var dims = m.GetProperty("applies_to_matrix_dimension").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var where = $"map[{string.Join(",", dims)}]";
            var map = image.Header.Maps.FirstOrDefault(x => x.AppliesToMatrixDimension.SequenceEqual(dims));
            if (map is null)
            {
                errors.Add($"{where}: missing");
                continue;
            }
            Check(errors, where + ".type", m.GetProperty("indices_map_to_data_type").GetString(), map.IndicesMapToDataType);
            if (m.TryGetProperty("number_of_series_points", out var np))
            {
                Check(errors, where + ".points", np.GetInt64(), map.NumberOfSeriesPoints);
                Check(errors, where + ".exponent", m.GetProperty("series_exponent").GetInt32(), map.SeriesExponent);
                CheckNumber(errors, where + ".start", m.GetProperty("series_start").GetDouble(), map.SeriesStart ?? double.NaN, HeaderRtol);
                CheckNumber(errors, where + ".step", m.GetProperty("series_step").GetDouble(), map.SeriesStep ?? double.NaN, HeaderRtol);
                Check(errors, where + ".unit", m.GetProperty("series_unit").GetString(), map.SeriesUnit);
            }
            if (m.TryGetProperty("brain_models", out var models))
            {
                var list = models.EnumerateArray().ToList();
                Check(errors, where + ".brain model count", list.Count, map.BrainModels.Count);
                for (var i = 0; i < Math.Min(list.Count, map.BrainModels.Count); i++)
                {
                    CheckBrainModel(list[i], map.BrainModels[i], $"{where}.brain_models[{i}]", errors);
                }
            }
            if (m.TryGetProperty("volume_dimensions", out var vd))
            {
                Check(errors, where + ".volume_dimensions", string.Join(",", vd.EnumerateArray().Select(e => e.GetInt32())), map.Volume is null ? "(none)" : string.Join(",", map.Volume.Dimensions));
                var vt = m.GetProperty("volume_transform");
                Check(errors, where + ".meter_exponent", vt.GetProperty("meter_exponent").GetInt32(), map.Volume?.MeterExponent);
                var matrix = vt.GetProperty("matrix").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();
                CheckNumbers(errors, where + ".transform", matrix, map.Volume?.Transform ?? Array.Empty<double>(), HeaderRtol);
            }
            if (m.TryGetProperty("named_maps", out var named))
            {
                var list = named.EnumerateArray().ToList();
                Check(errors, where + ".named map count", list.Count, map.NamedMaps.Count);
                for (var i = 0; i < Math.Min(list.Count, map.NamedMaps.Count); i++)
                {
                    CheckNamedMap(list[i], map.NamedMaps[i], $"{where}.named_maps[{i}]", errors);
                }
            }
        }
        foreach (var axis in spec.GetProperty("cifti_axes").EnumerateArray())
        {
            var d = axis.GetProperty("axis").GetInt32();
            var map = image.Header.MapFor(d);
            var where = $"axis {d}";
            if (map is null)
            {
                errors.Add($"{where}: no map");
                continue;
            }
            Check(errors, where + ".size", axis.GetProperty("size").GetInt64(), map.Size);
            if (axis.TryGetProperty("structures", out var structures))
            {
                var expected = structures.EnumerateArray().Select(s => $"{s.GetProperty("name").GetString()}:{s.GetProperty("start").GetInt64()}-{s.GetProperty("stop").GetInt64()}");
                var actual = map.BrainModels.Select(b => $"{b.BrainStructure}:{b.IndexOffset}-{b.IndexOffset + b.IndexCount}");
                Check(errors, where + ".structures", string.Join(" ", expected), string.Join(" ", actual));
            }
        }
        if (spec.TryGetProperty("label_values", out var labels))
        {
            var counts = image.Data.GroupBy(v => (double)v).OrderBy(g => g.Key).Select(g => (g.Key, (long)g.Count())).ToList();
            Check(errors, "label_values.n_unique", labels.GetProperty("n_unique").GetInt32(), counts.Count);
            var head = labels.GetProperty("head").EnumerateArray().Select(p => (p[0].GetDouble(), p[1].GetInt64())).ToList();
            Check(errors, "label_values.head", string.Join(" ", head), string.Join(" ", counts.Take(head.Count)));
        }
    }

    private static void CheckBrainModel(JsonElement e, CiftiBrainModel b, string where, List<string> errors)
    {
        Check(errors, where + ".index_offset", e.GetProperty("index_offset").GetInt64(), b.IndexOffset);
        Check(errors, where + ".index_count", e.GetProperty("index_count").GetInt64(), b.IndexCount);
        Check(errors, where + ".model_type", e.GetProperty("model_type").GetString(), b.ModelType);
        Check(errors, where + ".brain_structure", e.GetProperty("brain_structure").GetString(), b.BrainStructure);
        var nv = e.GetProperty("surface_number_of_vertices");
        Check(errors, where + ".surface_number_of_vertices", nv.ValueKind == JsonValueKind.Null ? null : nv.GetInt64(), b.SurfaceNumberOfVertices);
        if (e.TryGetProperty("vertex_indices_head", out var head))
        {
            var h = head.EnumerateArray().Select(v => v.GetInt64()).ToArray();
            var t = e.GetProperty("vertex_indices_tail").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            Check(errors, where + ".vertex head", string.Join(",", h), string.Join(",", b.VertexIndices.Take(h.Length)));
            Check(errors, where + ".vertex tail", string.Join(",", t), string.Join(",", b.VertexIndices.Skip(b.VertexIndices.Length - t.Length)));
            Check(errors, where + ".vertex sum", e.GetProperty("vertex_indices_sum").GetInt64(), b.VertexIndices.Sum());
        }
        if (e.TryGetProperty("voxel_indices_ijk_head", out var ijkHead))
        {
            var h = ijkHead.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetInt32())).ToArray();
            Check(errors, where + ".ijk head", string.Join(",", h), string.Join(",", b.VoxelIjk.Take(h.Length)));
            var sum = e.GetProperty("voxel_indices_ijk_sum").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            var actual = Enumerable.Range(0, 3).Select(k => Enumerable.Range(0, (int)b.IndexCount).Sum(i => (long)b.VoxelIjk[(3 * i) + k])).ToArray();
            Check(errors, where + ".ijk sum", string.Join(",", sum), string.Join(",", actual));
        }
    }

    private static void CheckNamedMap(JsonElement e, CiftiNamedMap n, string where, List<string> errors)
    {
        Check(errors, where + ".map_name", e.GetProperty("map_name").GetString(), n.MapName);
        if (!e.TryGetProperty("n_labels", out var nl))
        {
            return;
        }
        var table = n.LabelTable ?? Array.Empty<CiftiLabel>();
        Check(errors, where + ".n_labels", nl.GetInt32(), table.Count);
        var head = e.GetProperty("labels_head").EnumerateArray().ToList();
        var tail = e.GetProperty("labels_tail").EnumerateArray().ToList();
        var pairs = head.Select((l, i) => (l, i)).Concat(tail.Select((l, i) => (l, table.Count - tail.Count + i)));
        foreach (var (l, i) in pairs)
        {
            if (i < 0 || i >= table.Count)
            {
                errors.Add($"{where}: label {i} missing");
                continue;
            }
            var label = table[i];
            Check(errors, $"{where}.label[{i}].key", l.GetProperty("key").GetInt32(), label.Key);
            Check(errors, $"{where}.label[{i}].label", l.GetProperty("label").GetString(), label.Name);
            var rgba = l.GetProperty("rgba").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            CheckNumbers(errors, $"{where}.label[{i}].rgba", rgba, new[] { label.Red, label.Green, label.Blue, label.Alpha }, HeaderRtol);
        }
    }

    private static bool IsGzip(string path)
    {
        var b = new byte[2];
        using var fs = File.OpenRead(path);
        return fs.Read(b) == 2 && b[0] == 0x1f && b[1] == 0x8b;
    }

    private static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        _ => double.NaN,
    };

    private static void Check<T>(List<string> errors, string what, T expected, T actual)
    {
        if (!EqualityComparer<T>.Default.Equals(expected, actual))
        {
            errors.Add($"{what}: expected {expected}, got {actual}");
        }
    }

    private static void CheckNumber(List<string> errors, string what, double expected, double actual, double rtol, double atol = 0)
    {
        var ok = (double.IsNaN(expected) && double.IsNaN(actual)) || expected == actual || Math.Abs(expected - actual) <= atol + (rtol * Math.Abs(expected));
        if (!ok)
        {
            errors.Add($"{what}: expected {expected:R}, got {actual:R}");
        }
    }

    private static void CheckNumbers(List<string> errors, string what, double[] expected, double[] actual, double rtol, double atol = 0)
    {
        if (expected.Length != actual.Length)
        {
            errors.Add($"{what}: expected {expected.Length} values, got {actual.Length}");
            return;
        }
        for (var i = 0; i < expected.Length; i++)
        {
            CheckNumber(errors, $"{what}[{i}]", expected[i], actual[i], rtol, atol);
        }
    }
}
