using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MindAnimator.Data.Formats;
using MindAnimator.Models.Clip;

namespace MindAnimator.Training.Prior;

/// <summary>The tables of a CLIP BPE tokenizer: vocabulary (token → id) and merges in rank order.</summary>
public sealed record CaptionTokenizerTables(IReadOnlyDictionary<string, int> Vocab, IReadOnlyList<(string First, string Second)> Merges)
{
    public const string StartToken = "<|startoftext|>";
    public const string EndToken = "<|endoftext|>";

    public ClipTokenizer ToTokenizer(int modelMaxLength = 77) => new(Vocab, Merges, modelMaxLength: modelMaxLength);

    /// <summary>
    /// Writes a Hugging Face tokenizer folder (vocab.json, merges.txt, special_tokens_map.json, tokenizer_config.json)
    /// that <see cref="ClipTokenizer.FromFolder"/> and transformers' CLIPTokenizer read.
    /// </summary>
    public void WriteFolder(string folder, int modelMaxLength = 77)
    {
        Directory.CreateDirectory(folder);
        var vocab = new JsonObject();
        foreach (var (token, id) in Vocab.OrderBy(kv => kv.Value))
        {
            vocab[token] = id;
        }
        var json = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        AtomicFile.WriteAllText(Path.Combine(folder, "vocab.json"), vocab.ToJsonString(json), overwrite: true);
        var merges = new StringBuilder("#version: 0.2\n");
        foreach (var (first, second) in Merges)
        {
            merges.Append(first).Append(' ').Append(second).Append('\n');
        }
        AtomicFile.WriteAllText(Path.Combine(folder, "merges.txt"), merges.ToString(), overwrite: true);
        var special = new JsonObject { ["bos_token"] = StartToken, ["eos_token"] = EndToken, ["pad_token"] = EndToken, ["unk_token"] = EndToken };
        AtomicFile.WriteAllText(Path.Combine(folder, "special_tokens_map.json"), special.ToJsonString(json), overwrite: true);
        var config = new JsonObject
        {
            ["tokenizer_class"] = "CLIPTokenizer",
            ["model_max_length"] = modelMaxLength,
            ["do_lower_case"] = true,
            ["bos_token"] = StartToken,
            ["eos_token"] = EndToken,
            ["pad_token"] = EndToken,
            ["unk_token"] = EndToken,
        };
        AtomicFile.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), config.ToJsonString(json), overwrite: true);
    }
}

/// <summary>
/// Builds a CLIP-format byte-level BPE tokenizer whose vocabulary holds every given word as one token, so each caption of
/// the simulator tokenizes to whole words. The vocabulary is CLIP's layout in miniature: the 256 byte symbols, the same
/// with "&lt;/w&gt;", one entry per merge result, then &lt;|startoftext|&gt; and &lt;|endoftext|&gt;. Any other text still
/// tokenizes (into bytes and known pieces).
/// </summary>
// Mirrors the vocabulary layout of OpenAI CLIP clip/simple_tokenizer.py (bytes_to_unicode, merges, special tokens).
public static class CaptionTokenizerBuilder
{
    private const string EndOfWord = "</w>";

    /// <summary>Tables for <paramref name="words"/> and the words of <paramref name="texts"/> (cleaned and split as CLIP does).</summary>
    public static CaptionTokenizerTables Build(IEnumerable<string> words, IEnumerable<string>? texts = null)
    {
        var (byteToChar, _) = ClipTokenizer.BuildByteTables();
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var c in byteToChar)
        {
            vocab[c] = vocab.Count;
        }
        foreach (var c in byteToChar)
        {
            vocab[c + EndOfWord] = vocab.Count;
        }
        var specials = new Dictionary<string, int>(vocab) { [CaptionTokenizerTables.StartToken] = vocab.Count, [CaptionTokenizerTables.EndToken] = vocab.Count + 1 };
        var splitter = new ClipTokenizer(specials, Array.Empty<(string, string)>());

        // Byte-level words in first-seen order, so the tables depend only on the inputs.
        var byteWords = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in words.Concat(texts ?? Array.Empty<string>()))
        {
            foreach (var word in splitter.PreTokenize(ClipTextNormalizer.Normalize(text)))
            {
                if (seen.Add(word))
                {
                    byteWords.Add(word);
                }
            }
        }

        var merges = new List<(string, string)>();
        var ranks = new Dictionary<(string, string), int>();
        foreach (var word in byteWords)
        {
            // New merges rank after every existing one, so the words already whole stay whole: join what the
            // current merges leave of this word, left to right.
            var pieces = Apply(Symbols(word), ranks);
            while (pieces.Count > 1)
            {
                var pair = (pieces[0], pieces[1]);
                if (ranks.TryAdd(pair, ranks.Count))
                {
                    merges.Add(pair);
                    // Like CLIP, every merge result is a token, so text outside the captions decodes too.
                    vocab.TryAdd(pair.Item1 + pair.Item2, vocab.Count);
                }
                pieces = Apply(pieces, ranks);
            }
        }
        vocab[CaptionTokenizerTables.StartToken] = vocab.Count;
        vocab[CaptionTokenizerTables.EndToken] = vocab.Count;
        return new CaptionTokenizerTables(vocab, merges);
    }

    /// <summary>The tokenizer of the simulator's captions: every word <see cref="Simulation.CaptionWriter"/> can write, plus the words of <paramref name="captions"/>.</summary>
    public static CaptionTokenizerTables ForSimulatedCaptions(IEnumerable<string>? captions = null) =>
        Build(Simulation.CaptionWriter.Words(), captions);

    private static List<string> Symbols(string word)
    {
        var runes = word.EnumerateRunes().Select(r => r.ToString()).ToList();
        runes[^1] += EndOfWord;
        return runes;
    }

    // Greedy BPE as CLIP applies it: merge the lowest-ranked adjacent pair until none is in the table.
    private static List<string> Apply(List<string> word, Dictionary<(string, string), int> ranks)
    {
        while (word.Count > 1)
        {
            var best = -1;
            var bestRank = int.MaxValue;
            for (var i = 0; i < word.Count - 1; i++)
            {
                if (ranks.TryGetValue((word[i], word[i + 1]), out var rank) && rank < bestRank)
                {
                    (best, bestRank) = (i, rank);
                }
            }
            if (best < 0)
            {
                break;
            }
            var pair = (word[best], word[best + 1]);
            var merged = new List<string>(word.Count);
            for (var i = 0; i < word.Count; i++)
            {
                if (i < word.Count - 1 && (word[i], word[i + 1]) == pair)
                {
                    merged.Add(word[i] + word[i + 1]);
                    i++;
                }
                else
                {
                    merged.Add(word[i]);
                }
            }
            word = merged;
        }
        return word;
    }
}
