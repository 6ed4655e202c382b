using System.Text;
using System.Text.Json;

namespace MindAnimator.Data.Formats;

/// <summary>
/// Captions per clip as JSON Lines (<c>captions.jsonl</c>): one object <c>{"clip_id": …, "caption": …}</c> a line,
/// in dataset order; <c>pandas.read_json(path, lines=True)</c> reads it. Clip ids are unique.
/// </summary>
public static class CaptionTable
{
    public const string DefaultFileName = "captions.jsonl";

    public static void Write(string path, IEnumerable<KeyValuePair<string, string>> captions, bool overwrite)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var text = new StringBuilder();
        foreach (var (id, caption) in captions)
        {
            if (!seen.Add(id))
            {
                throw new MindAnimatorException($"{path}: duplicate clip id '{id}' in the captions to write");
            }
            text.Append(JsonSerializer.Serialize(new Row(id, caption), Options)).Append('\n');
        }
        AtomicFile.WriteAllText(path, text.ToString(), overwrite);
    }

    /// <summary>
    /// Captions by clip id, each of <paramref name="clipIds"/> required: a clip without one is an error naming the file,
    /// how many <paramref name="clipsNoun"/> lack one and the first of them.
    /// </summary>
    public static Dictionary<string, string> ReadFor(string path, IEnumerable<string> clipIds, string clipsNoun)
    {
        var captions = Read(path).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var missing = clipIds.Where(id => !captions.ContainsKey(id)).ToList();
        if (missing.Count > 0)
        {
            throw new DataFormatException(path, $"no caption for {missing.Count} {clipsNoun} (first: {string.Join(", ", missing.Take(5))})");
        }
        return captions;
    }

    /// <summary>Captions by clip id, in file order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: caption file not found");
        }
        var result = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            Row? row;
            try
            {
                row = JsonSerializer.Deserialize<Row>(text, Options);
            }
            catch (JsonException e)
            {
                throw new DataFormatException(path, $"line {line}: not a JSON object with clip_id and caption ({e.Message})", e);
            }
            if (row?.ClipId is not { Length: > 0 } id)
            {
                throw new DataFormatException(path, $"line {line}: field 'clip_id' missing or empty");
            }
            if (row.Caption is null)
            {
                throw new DataFormatException(path, $"line {line}: field 'caption' missing");
            }
            if (!seen.Add(id))
            {
                throw new DataFormatException(path, $"line {line}: duplicate clip id '{id}'");
            }
            result.Add(new(id, row.Caption));
        }
        return result;
    }

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private sealed record Row(string? ClipId, string? Caption);
}
