using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MindAnimator.Data.Formats;

namespace MindAnimator.Evaluation;

/// <summary>One column of a comparison between two evaluations of the same clips.</summary>
/// <param name="Official">Mind-Animator's bootstrap_with_wilcoxon.py variant: Wilcoxon on 100 paired bootstrap means (seeded) — reported for reproduction only; it overstates significance.</param>
public sealed record ColumnComparison(string Column, int Clips, double MeanThis, double MeanOther, WilcoxonResult PerClip, WilcoxonResult Official);

/// <summary>Writes and reads `eval` results: results.json (definitions, provenance, summaries, per-clip values) and per_clip.csv.</summary>
public static class EvalReport
{
    public const string FormatVersion = "mindanim-eval/1";
    public const string JsonFile = "results.json";
    public const string CsvFile = "per_clip.csv";
    public const int OfficialBootstrapResamples = 100;

    /// <summary>Why only numbers with the same definitions compare (stated in every results file).</summary>
    public const string Comparability =
        "Every metric follows the definition of Mind-Animator's official Evaluation_Metrics scripts (" + MetricCatalog.Repository + "), " +
        "which produced the published CC2017 numbers; numbers computed with other definitions are not comparable " +
        "(e.g. later papers' CLIP-pcc uses ViT-L/14, all frame pairs and no VIFI gate). Summaries: mean and population std over clips " +
        "(numpy's np.mean/np.std, as the official scripts print) of per-clip values (each the mean over the clip's frames), " +
        "clips with a NaN or infinite value left out and counted; percentile-bootstrap CI of the mean.";

    public static JsonObject ToJson(EvalResult result, IReadOnlyList<ColumnComparison>? comparisons = null, string? comparedWith = null)
    {
        var metrics = new JsonObject();
        foreach (var c in result.Columns)
        {
            var m = new JsonObject
            {
                ["metric"] = c.Metric.Name,
                ["definition"] = c.Metric.Definition,
                ["official_script"] = $"{MetricCatalog.Repository} {c.Metric.Reference}",
                ["higher_is_better"] = c.Metric.HigherIsBetter,
                ["mean"] = Number(c.Summary.Mean),
                ["std"] = Number(c.Summary.Std),
                ["ci_low"] = Number(c.Summary.CiLow),
                ["ci_high"] = Number(c.Summary.CiHigh),
                ["confidence_level"] = c.Summary.ConfidenceLevel,
                ["bootstrap_resamples"] = c.Summary.Resamples,
                ["clips"] = c.Summary.Count,
                ["non_finite_clips"] = c.Summary.NonFiniteCount,
            };
            if (c.Chance is { } chance)
            {
                m["chance"] = chance;
            }
            metrics[c.Name] = m;
        }
        var perClip = new JsonObject();
        foreach (var c in result.Columns)
        {
            perClip[c.Name] = new JsonArray(c.PerClip.Select(Number).ToArray());
        }
        var root = new JsonObject
        {
            ["format"] = FormatVersion,
            ["tool"] = $"mindanim {Runs.ToolInfo.Version}",
            ["prediction"] = result.Prediction,
            ["ground_truth"] = result.GroundTruth,
            ["clips"] = result.ClipIds.Count,
            ["frames"] = result.Frames,
            ["height"] = result.Height,
            ["width"] = result.Width,
            ["settings"] = new JsonObject
            {
                ["seed"] = result.Options.Seed,
                ["trials"] = result.Options.Trials,
                ["bootstrap_resamples"] = result.Options.BootstrapResamples,
                ["confidence_level"] = result.Options.ConfidenceLevel,
                ["vifi_gate"] = result.Options.VifiGate,
                ["match"] = result.Options.MatchByOrder ? "order" : "id",
            },
            ["models"] = new JsonObject(result.Models.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["comparability"] = Comparability,
            ["metrics"] = metrics,
            ["clip_ids"] = new JsonArray(result.ClipIds.Select(id => (JsonNode)id).ToArray()),
            ["ground_truth_ids"] = new JsonArray(result.GroundTruthIds.Select(id => (JsonNode)id).ToArray()),
            ["per_clip"] = perClip,
        };
        if (comparisons is not null)
        {
            root["comparison"] = new JsonObject
            {
                ["other"] = comparedWith,
                ["test"] = "two-sided Wilcoxon signed-rank test of the paired per-clip values (scipy.stats.wilcoxon defaults); 'official_bootstrap' repeats Mind-Animator's bootstrap_with_wilcoxon.py (Wilcoxon on 100 bootstrap means per method) for reproduction only",
                ["columns"] = new JsonObject(comparisons.Select(c => KeyValuePair.Create(c.Column, (JsonNode?)new JsonObject
                {
                    ["clips"] = c.Clips,
                    ["mean_this"] = Number(c.MeanThis),
                    ["mean_other"] = Number(c.MeanOther),
                    ["median_difference"] = Number(c.PerClip.MedianDifference),
                    ["n_nonzero"] = c.PerClip.N,
                    ["statistic"] = Number(c.PerClip.Statistic),
                    ["p_value"] = Number(c.PerClip.PValue),
                    ["method"] = c.PerClip.Method,
                    ["official_bootstrap"] = new JsonObject
                    {
                        ["statistic"] = Number(c.Official.Statistic),
                        ["p_value"] = Number(c.Official.PValue),
                        ["method"] = c.Official.Method,
                    },
                }))),
            };
        }
        return root;
    }

    /// <summary>Writes results.json and per_clip.csv into <paramref name="folder"/> (atomically; no overwrite without <paramref name="overwrite"/>).</summary>
    public static (string Json, string Csv) Write(string folder, EvalResult result, bool overwrite, IReadOnlyList<ColumnComparison>? comparisons = null, string? comparedWith = null)
    {
        Directory.CreateDirectory(folder);
        var json = Path.Combine(folder, JsonFile);
        var csv = Path.Combine(folder, CsvFile);
        AtomicFile.EnsureWritable(json, overwrite);
        AtomicFile.EnsureWritable(csv, overwrite);
        AtomicFile.WriteAllText(json, ToJson(result, comparisons, comparedWith).ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }), overwrite);
        AtomicFile.WriteAllText(csv, ToCsv(result), overwrite);
        return (json, csv);
    }

    public static string ToCsv(EvalResult result)
    {
        var sb = new StringBuilder();
        sb.Append("clip_id,ground_truth_id");
        foreach (var c in result.Columns)
        {
            sb.Append(',').Append(c.Name);
        }
        sb.Append('\n');
        for (var i = 0; i < result.ClipIds.Count; i++)
        {
            sb.Append(CsvField(result.ClipIds[i])).Append(',').Append(CsvField(result.GroundTruthIds[i]));
            foreach (var c in result.Columns)
            {
                sb.Append(',').Append(Format(c.PerClip[i]));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Per-clip values of a results.json (clip ids and one array per column).</summary>
    public static (IReadOnlyList<string> ClipIds, IReadOnlyDictionary<string, double[]> Columns) ReadPerClip(string path)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: results file not found");
        }
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new DataFormatException(path, "expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"not valid JSON ({e.Message})", e);
        }
        if (root["format"]?.GetValue<string>() != FormatVersion)
        {
            throw new DataFormatException(path, $"field 'format' is not '{FormatVersion}' (is this a results.json written by mindanim eval?)");
        }
        var ids = (root["clip_ids"] as JsonArray ?? throw new DataFormatException(path, "field 'clip_ids' missing")).Select(n => n!.GetValue<string>()).ToList();
        var perClip = root["per_clip"] as JsonObject ?? throw new DataFormatException(path, "field 'per_clip' missing");
        var columns = new Dictionary<string, double[]>();
        foreach (var (name, node) in perClip)
        {
            var values = (node as JsonArray ?? throw new DataFormatException(path, $"per_clip.{name} is not a list")).Select(Parse).ToArray();
            if (values.Length != ids.Count)
            {
                throw new DataFormatException(path, $"per_clip.{name} holds {values.Length} values for {ids.Count} clips");
            }
            columns[name] = values;
        }
        return (ids, columns);
    }

    /// <summary>Paired tests between this evaluation and another results.json over the columns both hold.</summary>
    public static IReadOnlyList<ColumnComparison> Compare(EvalResult result, string otherPath, int seed)
    {
        var (otherIds, otherColumns) = ReadPerClip(otherPath);
        var index = otherIds.Select((id, i) => (id, i)).ToDictionary(t => t.id, t => t.i, StringComparer.Ordinal);
        var missing = result.ClipIds.Where(id => !index.ContainsKey(id)).ToList();
        var extra = otherIds.Where(id => !result.ClipIds.Contains(id)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            throw new MindAnimatorException($"{otherPath}: scores other clips than this evaluation ({missing.Count} of this evaluation's clip ids missing there, e.g. {string.Join(", ", missing.Take(5))}; {extra.Count} extra, e.g. {string.Join(", ", extra.Take(5))}); a paired test needs the same clips");
        }
        var shared = result.Columns.Where(c => otherColumns.ContainsKey(c.Name)).ToList();
        if (shared.Count == 0)
        {
            throw new MindAnimatorException($"{otherPath}: has none of the metrics of this evaluation ({string.Join(", ", result.Columns.Select(c => c.Name))})");
        }
        var comparisons = new List<ColumnComparison>();
        foreach (var column in shared)
        {
            var other = result.ClipIds.Select(id => otherColumns[column.Name][index[id]]).ToArray();
            var pairs = column.PerClip.Zip(other).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)).ToArray();
            var x = pairs.Select(p => p.First).ToArray();
            var y = pairs.Select(p => p.Second).ToArray();
            var perClip = EvalStatistics.Wilcoxon(x, y);
            var random = new Random(seed);
            var official = x.Length == 0
                ? perClip
                : EvalStatistics.Wilcoxon(EvalStatistics.BootstrapMeans(x, OfficialBootstrapResamples, random), EvalStatistics.BootstrapMeans(y, OfficialBootstrapResamples, random));
            comparisons.Add(new ColumnComparison(column.Name, x.Length, x.Length > 0 ? x.Average() : double.NaN, y.Length > 0 ? y.Average() : double.NaN, perClip, official));
        }
        return comparisons;
    }

    public static string Format(double v) => double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf" : v.ToString("R", CultureInfo.InvariantCulture);

    private static JsonNode Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : JsonValue.Create(Format(v));

    private static double Parse(JsonNode? node) => node is null ? double.NaN
        : node.GetValueKind() == JsonValueKind.String
            ? node.GetValue<string>() switch
            {
                "inf" => double.PositiveInfinity,
                "-inf" => double.NegativeInfinity,
                _ => double.NaN,
            }
            : node.GetValue<double>();

    private static string CsvField(string s) => s.IndexOfAny(new[] { ',', '"', '\n' }) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}
