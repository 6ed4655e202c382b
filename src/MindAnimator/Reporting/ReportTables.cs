using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MindAnimator.Evaluation;

namespace MindAnimator.Reporting;

/// <summary>Report tables built from what `eval` (results.json) and `permtest` (permtest.json) write.</summary>
public static class ReportTables
{
    /// <summary>The metric table of an evaluation: mean ± std, bootstrap CI, clip count and chance level per column.</summary>
    public static ReportTable FromEval(EvalResult result, string title = "Metrics") =>
        FromEvalJson(EvalReport.ToJson(result), "evaluation result", title);

    /// <summary>Reads a results.json written by `mindanim eval` into its metric table.</summary>
    public static ReportTable ReadEvalResults(string path, string title = "Metrics") => FromEvalJson(ReadObject(path), path, title);

    /// <summary>The metric table of a results.json object (format <see cref="EvalReport.FormatVersion"/>).</summary>
    /// <param name="source">Names the object in error messages (its file path).</param>
    public static ReportTable FromEvalJson(JsonObject results, string source, string title = "Metrics")
    {
        var format = results["format"] is JsonValue f && f.TryGetValue<string>(out var s) ? s : null;
        if (format != EvalReport.FormatVersion)
        {
            throw new DataFormatException(source, $"field 'format' is '{format}', expected '{EvalReport.FormatVersion}' (a results.json written by mindanim eval)");
        }
        var metrics = results["metrics"] as JsonObject ?? throw new DataFormatException(source, "field 'metrics' missing or not an object");
        var rows = new List<(string Name, JsonObject Metric)>();
        foreach (var (name, node) in metrics)
        {
            rows.Add((name, node as JsonObject ?? throw new DataFormatException(source, $"metrics.{name} is not an object")));
        }
        var withChance = rows.Any(r => r.Metric["chance"] is not null);
        var header = new List<string> { "Metric", "Mean ± std", "CI of the mean", "Clips" };
        if (withChance)
        {
            header.Add("Chance");
        }
        var table = new List<IReadOnlyList<string>>();
        var levels = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (name, m) in rows)
        {
            var field = $"metrics.{name}";
            var higher = m["higher_is_better"] is JsonValue h && h.TryGetValue<bool>(out var hb) ? hb : (bool?)null;
            var clips = (int)Number(m, "clips", field, source);
            var nonFinite = m["non_finite_clips"] is null ? 0 : (int)Number(m, "non_finite_clips", field, source);
            var level = Number(m, "confidence_level", field, source);
            levels.Add($"{Format(level * 100)}% ({Format(Number(m, "bootstrap_resamples", field, source))} resamples)");
            var row = new List<string>
            {
                name + (higher switch { true => " ↑", false => " ↓", null => "" }),
                $"{Format(Number(m, "mean", field, source))} ± {Format(Number(m, "std", field, source))}",
                $"{Format(Number(m, "ci_low", field, source))} – {Format(Number(m, "ci_high", field, source))}",
                nonFinite > 0 ? $"{clips} ({nonFinite} non-finite left out)" : clips.ToString(CultureInfo.InvariantCulture),
            };
            if (withChance)
            {
                row.Add(m["chance"] is null ? "" : Format(Number(m, "chance", field, source)));
            }
            table.Add(row);
        }
        var note = "Mean and population std over clips; percentile-bootstrap CI of the mean"
            + (levels.Count > 0 ? $" at {string.Join(", ", levels)}" : "")
            + ". ↑ higher is better, ↓ lower is better.";
        return new ReportTable(title, header, table, note);
    }

    /// <summary>Reads a permtest.json written by `mindanim permtest` into a one-row table.</summary>
    public static ReportTable ReadPermutationTest(string path, string title = "Frame-order permutation test") =>
        FromPermutationTestJson(ReadObject(path), path, title);

    /// <summary>The table of a permtest.json object (what <see cref="FrameShuffleReport"/> writes).</summary>
    public static ReportTable FromPermutationTestJson(JsonObject permtest, string source, string title = "Frame-order permutation test")
    {
        var metric = permtest["metric"] is JsonValue mv && mv.TryGetValue<string>(out var ms) ? ms : throw new DataFormatException(source, "field 'metric' missing (a permtest.json written by mindanim permtest)");
        var lower = permtest["lower_is_better"] is JsonValue lv && lv.TryGetValue<bool>(out var lb) && lb;
        var overall = permtest["overall"] as JsonObject ?? throw new DataFormatException(source, "field 'overall' missing or not an object");
        var clips = Number(permtest, "clips", "", source);
        var header = new[] { "Metric", "Score, frames in order", "Permutations", "p (mean ± std over repeats)", "Conservative p", "Clips with p < 0.05" };
        var row = new[]
        {
            metric + (lower ? " ↓" : " ↑"),
            Format(Number(permtest, "mean_score", "", source)),
            $"{Format(Number(permtest, "permutations", "", source))} × {Format(Number(permtest, "repeats", "", source))} repeats",
            $"{Format(Number(overall, "p_mean", "overall", source))} ± {Format(Number(overall, "p_std", "overall", source))}",
            Format(Number(overall, "p_conservative", "overall", source)),
            $"{Format(Number(permtest, "clips_with_p_below_0_05", "", source))} of {Format(clips)}",
        };
        var definition = permtest["p_definition"] is JsonValue pv && pv.TryGetValue<string>(out var ps) ? ps : null;
        return new ReportTable(title, header, new[] { row }, definition is null ? null : "p: " + definition + ".");
    }

    /// <summary>Four significant digits; nan and ±inf spelled out.</summary>
    public static string Format(double v) =>
        double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf" : v.ToString("G4", CultureInfo.InvariantCulture);

    private static JsonObject ReadObject(string path)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: file not found");
        }
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new DataFormatException(path, "expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"not valid JSON ({e.Message})", e);
        }
    }

    // Non-finite values are stored as the strings "nan", "inf" and "-inf" (see EvalReport).
    private static double Number(JsonObject parent, string name, string parentPath, string source)
    {
        var path = parentPath.Length == 0 ? name : $"{parentPath}.{name}";
        return parent[name] switch
        {
            // Through the JSON text: an in-memory node may hold an int, a long or a double.
            JsonValue v when v.GetValueKind() == JsonValueKind.Number => double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture),
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>() switch
            {
                "nan" or "NaN" => double.NaN,
                "inf" or "Infinity" => double.PositiveInfinity,
                "-inf" or "-Infinity" => double.NegativeInfinity,
                var other => throw new DataFormatException(source, $"field '{path}' is '{other}', expected a number"),
            },
            null => throw new DataFormatException(source, $"field '{path}' missing, expected a number"),
            _ => throw new DataFormatException(source, $"field '{path}' is not a number"),
        };
    }
}
