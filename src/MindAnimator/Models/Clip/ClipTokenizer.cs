using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace MindAnimator.Models.Clip;

/// <summary>Token ids and attention mask of one text (1 = real token, 0 = padding).</summary>
public sealed record ClipEncoding(int[] Ids, int[] AttentionMask);

/// <summary>
/// CLIP's byte-level BPE tokenizer as Stable Diffusion v1.5 configures it: ftfy-style clean-up, lower case,
/// CLIP's pre-tokenizer, BPE with "&lt;/w&gt;" word ends, &lt;|startoftext|&gt;/&lt;|endoftext|&gt; around the text,
/// truncation that keeps the end token and right padding with the pad token.
/// </summary>
// Mirrors transformers 4.29 src/transformers/models/clip/tokenization_clip.py (CLIPTokenizer).
public sealed class ClipTokenizer
{
    // CLIP's merges table has 49152 - 256 - 2 entries; transformers reads at most that many lines.
    private const int MaxMerges = 49152 - 256 - 2;
    private const string EndOfWord = "</w>";

    private static readonly string[] Contractions = ["s", "t", "re", "ve", "m", "ll", "d"];

    private readonly Dictionary<string, int> _encoder;
    private readonly string[] _decoder;
    private readonly Dictionary<(string, string), int> _mergeRanks;
    private readonly string[] _byteToChar;
    private readonly Dictionary<char, byte> _charToByte;
    private readonly string[] _specialTokens;
    private readonly HashSet<int> _specialIds;
    private readonly ConcurrentDictionary<string, string[]> _cache = new();

    /// <summary>Builds a tokenizer from its tables (vocab token → id, merges in rank order).</summary>
    public ClipTokenizer(
        IReadOnlyDictionary<string, int> vocab,
        IEnumerable<(string First, string Second)> merges,
        string bosToken = "<|startoftext|>",
        string eosToken = "<|endoftext|>",
        string padToken = "<|endoftext|>",
        string unkToken = "<|endoftext|>",
        int modelMaxLength = 77)
    {
        _encoder = new Dictionary<string, int>(vocab);
        _decoder = new string[_encoder.Count == 0 ? 0 : _encoder.Values.Max() + 1];
        foreach (var (token, id) in _encoder)
        {
            _decoder[id] = token;
        }
        _mergeRanks = new Dictionary<(string, string), int>();
        foreach (var merge in merges)
        {
            _mergeRanks.TryAdd(merge, _mergeRanks.Count);
        }
        (_byteToChar, _charToByte) = BuildByteTables();
        BosId = Lookup(bosToken, "bos_token");
        EosId = Lookup(eosToken, "eos_token");
        PadId = Lookup(padToken, "pad_token");
        UnkId = Lookup(unkToken, "unk_token");
        _specialTokens = new[] { bosToken, eosToken, padToken, unkToken }.Distinct().OrderByDescending(t => t.Length).ToArray();
        _specialIds = [BosId, EosId, PadId, UnkId];
        ModelMaxLength = modelMaxLength;
        foreach (var special in _specialTokens)
        {
            _cache[special] = [special];
        }
    }

    public int BosId { get; }

    public int EosId { get; }

    public int PadId { get; }

    public int UnkId { get; }

    /// <summary>The sequence length the text encoder was trained with (77 for CLIP).</summary>
    public int ModelMaxLength { get; }

    public int VocabSize => _encoder.Count;

    /// <summary>
    /// Loads a Hugging Face <c>tokenizer/</c> folder: vocab.json, merges.txt and the special tokens from
    /// special_tokens_map.json / tokenizer_config.json (model_max_length from the latter).
    /// </summary>
    public static ClipTokenizer FromFolder(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new MindAnimatorException($"{folder}: tokenizer folder not found.");
        }
        var vocabPath = Path.Combine(folder, "vocab.json");
        var mergesPath = Path.Combine(folder, "merges.txt");
        var vocab = ReadVocab(vocabPath);
        var merges = ReadMerges(mergesPath);
        var tokens = new Dictionary<string, string>
        {
            ["bos_token"] = "<|startoftext|>",
            ["eos_token"] = "<|endoftext|>",
            ["pad_token"] = "<|endoftext|>",
            ["unk_token"] = "<|endoftext|>",
        };
        var maxLength = 77;
        var configPath = Path.Combine(folder, "tokenizer_config.json");
        if (File.Exists(configPath))
        {
            using var config = ReadJson(configPath);
            ReadSpecialTokens(config.RootElement, configPath, tokens);
            if (config.RootElement.TryGetProperty("model_max_length", out var max))
            {
                // Some configs store a huge float sentinel meaning "no limit"; CLIP's is 77.
                maxLength = max.ValueKind == JsonValueKind.Number && max.TryGetInt32(out var m) && m > 0 ? m : 77;
            }
        }
        var mapPath = Path.Combine(folder, "special_tokens_map.json");
        if (File.Exists(mapPath))
        {
            using var map = ReadJson(mapPath);
            ReadSpecialTokens(map.RootElement, mapPath, tokens);
        }
        try
        {
            return new ClipTokenizer(vocab, merges, tokens["bos_token"], tokens["eos_token"], tokens["pad_token"], tokens["unk_token"], maxLength);
        }
        catch (MindAnimatorException e)
        {
            throw new DataFormatException(vocabPath, e.Message);
        }
    }

    /// <summary>
    /// Token ids with start/end tokens. With <paramref name="maxLength"/>, longer texts are truncated to
    /// [bos, first maxLength-2 tokens, eos]; with <paramref name="padToMaxLength"/> shorter ones are right-padded
    /// with the pad token (attention mask 0).
    /// </summary>
    public ClipEncoding Encode(string text, int? maxLength = null, bool padToMaxLength = false)
    {
        if (maxLength is < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(maxLength), "maxLength must leave room for the start and end tokens.");
        }
        var body = TokenizeBody(text).Select(t => _encoder.GetValueOrDefault(t, UnkId)).ToList();
        if (maxLength is int limit && body.Count > limit - 2)
        {
            body.RemoveRange(limit - 2, body.Count - (limit - 2));
        }
        var ids = new List<int>(body.Count + 2) { BosId };
        ids.AddRange(body);
        ids.Add(EosId);
        var mask = Enumerable.Repeat(1, ids.Count).ToList();
        if (padToMaxLength && maxLength is int length)
        {
            while (ids.Count < length)
            {
                ids.Add(PadId);
                mask.Add(0);
            }
        }
        return new ClipEncoding(ids.ToArray(), mask.ToArray());
    }

    /// <summary>
    /// Encodes a batch padded/truncated to <paramref name="maxLength"/> (default: <see cref="ModelMaxLength"/>)
    /// as int64 tensors (B, L) on the CPU, as the SD pipeline feeds the text encoder.
    /// </summary>
    public (Tensor InputIds, Tensor AttentionMask) EncodeBatch(IReadOnlyList<string> texts, int? maxLength = null)
    {
        var length = maxLength ?? ModelMaxLength;
        var ids = new long[texts.Count * length];
        var mask = new long[texts.Count * length];
        for (var b = 0; b < texts.Count; b++)
        {
            var encoding = Encode(texts[b], length, padToMaxLength: true);
            for (var i = 0; i < length; i++)
            {
                ids[(b * length) + i] = encoding.Ids[i];
                mask[(b * length) + i] = encoding.AttentionMask[i];
            }
        }
        return (tensor(ids, [texts.Count, length]), tensor(mask, [texts.Count, length]));
    }

    /// <summary>The BPE token strings of <paramref name="text"/> with start/end tokens (no truncation).</summary>
    public IReadOnlyList<string> Tokenize(string text)
    {
        var tokens = new List<string> { _decoder[BosId] };
        tokens.AddRange(TokenizeBody(text));
        tokens.Add(_decoder[EosId]);
        return tokens;
    }

    /// <summary>
    /// Text of token ids: byte-level decoding, "&lt;/w&gt;" → space, and transformers' default clean-up of spaces
    /// before punctuation and contractions.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if (skipSpecialTokens && _specialIds.Contains(id))
            {
                continue;
            }
            if (id < 0 || id >= _decoder.Length || _decoder[id] is null)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is not in the vocabulary.");
            }
            foreach (var c in _decoder[id])
            {
                bytes.Add(_charToByte.TryGetValue(c, out var b) ? b : (byte)'?');
            }
        }
        var text = Encoding.UTF8.GetString(bytes.ToArray()).Replace(EndOfWord, " ").Trim();
        return CleanUpTokenizationSpaces(text);
    }

    private static string CleanUpTokenizationSpaces(string text) => text
        .Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
        .Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re");

    // Special tokens typed in the text are split off first (exact spelling), the pieces between them are cleaned
    // up, pre-tokenized and BPE-encoded separately, as PreTrainedTokenizer.tokenize does.
    private List<string> TokenizeBody(string text)
    {
        var result = new List<string>();
        var start = 0;
        while (start <= text.Length)
        {
            var (position, special) = FindSpecial(text, start);
            var piece = text[start..position];
            if (piece.Length > 0)
            {
                foreach (var word in PreTokenize(ClipTextNormalizer.Normalize(piece)))
                {
                    result.AddRange(Bpe(word));
                }
            }
            if (special is null)
            {
                break;
            }
            result.Add(special);
            start = position + special.Length;
        }
        return result;
    }

    private (int Position, string? Special) FindSpecial(string text, int start)
    {
        var best = (Position: text.Length, Special: (string?)null);
        foreach (var special in _specialTokens)
        {
            var index = text.IndexOf(special, start, StringComparison.Ordinal);
            if (index >= 0 && index < best.Position)
            {
                best = (index, special);
            }
        }
        return best;
    }

    /// <summary>
    /// CLIP's pre-tokenizer regex
    /// <c>&lt;\|startoftext\|&gt;|&lt;\|endoftext\|&gt;|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+</c>
    /// (findall semantics, on code points so letters outside the BMP count as letters), each match turned into
    /// its byte-level string.
    /// </summary>
    internal IEnumerable<string> PreTokenize(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            var rune = Rune.GetRuneAt(text, i);
            var end = i;
            if (ClipTextNormalizer.IsPythonWhitespace(text[i]))
            {
                i++;
                continue;
            }
            var special = _specialTokens.FirstOrDefault(s => string.Compare(text, i, s, 0, s.Length, StringComparison.OrdinalIgnoreCase) == 0 && i + s.Length <= text.Length);
            if (special is not null)
            {
                end = i + special.Length;
            }
            else if (text[i] == '\'' && Contractions.FirstOrDefault(c => string.Compare(text, i + 1, c, 0, c.Length, StringComparison.OrdinalIgnoreCase) == 0 && i + 1 + c.Length <= text.Length) is string contraction)
            {
                end = i + 1 + contraction.Length;
            }
            else if (IsLetter(rune))
            {
                end = i;
                while (end < text.Length && IsLetter(Rune.GetRuneAt(text, end)))
                {
                    end += Rune.GetRuneAt(text, end).Utf16SequenceLength;
                }
            }
            else if (IsNumber(rune))
            {
                end = i + rune.Utf16SequenceLength;
            }
            else
            {
                end = i;
                while (end < text.Length && !ClipTextNormalizer.IsPythonWhitespace(text[end]) && Rune.GetRuneAt(text, end) is var r && !IsLetter(r) && !IsNumber(r))
                {
                    end += r.Utf16SequenceLength;
                }
            }
            yield return ToByteLevel(text[i..end]);
            i = end;
        }
    }

    private static bool IsLetter(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
        or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter;

    private static bool IsNumber(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber
        or UnicodeCategory.OtherNumber;

    private string ToByteLevel(string word)
    {
        var sb = new StringBuilder(word.Length * 2);
        foreach (var b in Encoding.UTF8.GetBytes(word))
        {
            sb.Append(_byteToChar[b]);
        }
        return sb.ToString();
    }

    // Greedy BPE: repeatedly merge the adjacent pair with the lowest merge rank; the last symbol carries "</w>".
    private string[] Bpe(string token)
    {
        if (_cache.TryGetValue(token, out var cached))
        {
            return cached;
        }
        var word = new List<string>();
        var runes = token.EnumerateRunes().Select(r => r.ToString()).ToList();
        for (var i = 0; i < runes.Count; i++)
        {
            word.Add(i == runes.Count - 1 ? runes[i] + EndOfWord : runes[i]);
        }
        while (word.Count > 1)
        {
            var bestRank = int.MaxValue;
            (string, string) best = default;
            for (var i = 0; i < word.Count - 1; i++)
            {
                if (_mergeRanks.TryGetValue((word[i], word[i + 1]), out var rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = (word[i], word[i + 1]);
                }
            }
            if (bestRank == int.MaxValue)
            {
                break;
            }
            var merged = new List<string>(word.Count);
            for (var i = 0; i < word.Count; i++)
            {
                if (i < word.Count - 1 && word[i] == best.Item1 && word[i + 1] == best.Item2)
                {
                    merged.Add(best.Item1 + best.Item2);
                    i++;
                }
                else
                {
                    merged.Add(word[i]);
                }
            }
            word = merged;
        }
        var result = word.ToArray();
        _cache.TryAdd(token, result);
        return result;
    }

    // GPT-2/CLIP bytes_to_unicode: printable Latin-1 bytes stand for themselves, the others for 256 + n.
    internal static (string[] ByteToChar, Dictionary<char, byte> CharToByte) BuildByteTables()
    {
        var byteToChar = new string[256];
        var charToByte = new Dictionary<char, byte>();
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            var c = printable ? (char)b : (char)next++;
            byteToChar[b] = c.ToString();
            charToByte[c] = (byte)b;
        }
        return (byteToChar, charToByte);
    }

    private int Lookup(string token, string field) =>
        _encoder.TryGetValue(token, out var id) ? id : throw new MindAnimatorException($"{field} '{token}' is not in the vocabulary.");

    private static Dictionary<string, int> ReadVocab(string path)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: tokenizer vocabulary not found.");
        }
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(path))
                ?? throw new DataFormatException(path, "expected a JSON object mapping token → id.");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"expected a JSON object mapping token → id ({e.Message}).", e);
        }
    }

    private static List<(string, string)> ReadMerges(string path)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: tokenizer merges file not found.");
        }
        // Like transformers: the first line is the "#version" header, then one "a b" pair per line.
        var lines = File.ReadAllText(path).Trim().Split('\n');
        var merges = new List<(string, string)>();
        foreach (var (line, number) in lines.Skip(1).Take(MaxMerges).Select((l, i) => (l, i + 2)))
        {
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
            {
                throw new DataFormatException(path, $"line {number}: expected two symbols separated by a space, got '{line}'.");
            }
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }

    private static JsonDocument ReadJson(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"invalid JSON ({e.Message}).", e);
        }
    }

    // Special tokens are either plain strings or AddedToken objects {"content": …}.
    private static void ReadSpecialTokens(JsonElement root, string path, Dictionary<string, string> tokens)
    {
        foreach (var field in tokens.Keys.ToList())
        {
            if (!root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            tokens[field] = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString()!,
                JsonValueKind.Object when value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String => content.GetString()!,
                _ => throw new DataFormatException(path, $"field '{field}': expected a string or an object with \"content\"."),
            };
        }
    }
}
