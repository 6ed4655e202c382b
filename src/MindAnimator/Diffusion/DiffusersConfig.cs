using System.Globalization;
using System.Text.Json;

namespace MindAnimator.Diffusion;

/// <summary>
/// A diffusers-style config.json (what `save_config` writes) with typed accessors whose errors name the file and
/// the field. Keys starting with '_' (class name, library version) are metadata.
/// </summary>
public sealed class DiffusersConfig
{
    private readonly JsonElement _root;

    private DiffusersConfig(string path, JsonElement root)
    {
        Path = path;
        _root = root;
    }

    /// <summary>The file the config was read from (used in error messages).</summary>
    public string Path { get; }

    /// <summary>`_class_name`, or null when absent.</summary>
    public string? ClassName => _root.TryGetProperty("_class_name", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static DiffusersConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: config file not found.");
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new DataFormatException(path, "expected a JSON object at the top level.");
            }
            return new DiffusersConfig(path, doc.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"not valid JSON ({e.Message}).", e);
        }
    }

    /// <summary>Parses config text (tests, embedded defaults); <paramref name="source"/> names it in errors.</summary>
    public static DiffusersConfig Parse(string json, string source)
    {
        using var doc = JsonDocument.Parse(json);
        return new DiffusersConfig(source, doc.RootElement.Clone());
    }

    public bool Has(string field) => _root.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null;

    public int GetInt(string field, int? fallback = null) =>
        GetValue(field, fallback, v => v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null, "an integer");

    public double GetDouble(string field, double? fallback = null) =>
        GetValue(field, fallback, v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null, "a number");

    public bool GetBool(string field, bool? fallback = null) =>
        GetValue(field, fallback, v => v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null, "true or false");

    public string GetString(string field, string? fallback = null) =>
        GetRef(field, fallback, v => v.ValueKind == JsonValueKind.String ? v.GetString() : null, "a string");

    public int[] GetIntArray(string field, int[]? fallback = null) =>
        GetRef(field, fallback, v => ArrayOf(v, e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var i) ? i : (int?)null), "a list of integers");

    public string[] GetStringArray(string field, string[]? fallback = null) =>
        GetRef(field, fallback, v => ArrayOf(v, e => e.ValueKind == JsonValueKind.String ? e.GetString() : null), "a list of strings");

    /// <summary>A float list (e.g. `trained_betas`), or null when the field is absent or null.</summary>
    public double[]? GetDoubleArrayOrNull(string field) =>
        Has(field) ? GetRef<double[]>(field, null, v => ArrayOf(v, e => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : (double?)null), "a list of numbers") : null;

    /// <summary>Fails unless the field is absent/null or equals one of <paramref name="allowed"/>.</summary>
    public void RequireOneOf<T>(string field, T actual, params T[] allowed)
    {
        if (!allowed.Contains(actual))
        {
            throw Unsupported(field, Format(actual), string.Join(", ", allowed.Select(a => Format(a))));
        }
    }

    /// <summary>An error for a value this port does not implement.</summary>
    public MindAnimatorException Unsupported(string field, string found, string supported) =>
        new DataFormatException(Path, $"field '{field}' = {found} is not supported (supported: {supported}).");

    private T GetRef<T>(string field, T? fallback, Func<JsonElement, T?> read, string expected)
        where T : class
    {
        if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback ?? throw new DataFormatException(Path, $"field '{field}' is missing (expected {expected}).");
        }
        var result = read(value);
        return result ?? throw new DataFormatException(Path, $"field '{field}' = {value.GetRawText()} is not {expected}.");
    }

    private T GetValue<T>(string field, T? fallback, Func<JsonElement, T?> read, string expected)
        where T : struct
    {
        if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback ?? throw new DataFormatException(Path, $"field '{field}' is missing (expected {expected}).");
        }
        return read(value) ?? throw new DataFormatException(Path, $"field '{field}' = {value.GetRawText()} is not {expected}.");
    }

    private static T[]? ArrayOf<T>(JsonElement v, Func<JsonElement, T?> item)
        where T : struct
    {
        if (v.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        var list = new List<T>();
        foreach (var e in v.EnumerateArray())
        {
            var x = item(e);
            if (x is null)
            {
                return null;
            }
            list.Add(x.Value);
        }
        return list.ToArray();
    }

    private static string[]? ArrayOf(JsonElement v, Func<JsonElement, string?> item)
    {
        if (v.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        var list = new List<string>();
        foreach (var e in v.EnumerateArray())
        {
            var x = item(e);
            if (x is null)
            {
                return null;
            }
            list.Add(x);
        }
        return list.ToArray();
    }

    private static string Format<T>(T value) => value switch
    {
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "null",
    };
}
