using System.Text.Json;
using MindAnimator.Models.Clip;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Models.Clip;

/// <summary>Parity with transformers' CLIPTokenizer (with ftfy) on every case of the clip_tokenizer fixture.</summary>
public class ClipTokenizerTests
{
    private static readonly Lazy<ClipTokenizer> Tokenizer = new(() => ClipTokenizer.FromFolder(TestEnvironment.Golden("clip_tokenizer")));

    private static readonly Lazy<JsonDocument> Fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestEnvironment.Golden("clip_tokenizer"), "cases.json"))));

    private static IEnumerable<JsonElement> Cases => Fixture.Value.RootElement.GetProperty("cases").EnumerateArray();

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    // Every length the fixture has ids for: "ids_77" → 77, "ids_20" → 20.
    private static IEnumerable<int> FixtureLengths(JsonElement c) => c.EnumerateObject()
        .Where(p => p.Name.StartsWith("ids_", StringComparison.Ordinal) && int.TryParse(p.Name[4..], out _))
        .Select(p => int.Parse(p.Name[4..], System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void SpecialIds_AndVocabSize_MatchFixture()
    {
        var root = Fixture.Value.RootElement;
        var tok = Tokenizer.Value;
        Assert.Equal(root.GetProperty("bos_id").GetInt32(), tok.BosId);
        Assert.Equal(root.GetProperty("eos_id").GetInt32(), tok.EosId);
        Assert.Equal(root.GetProperty("pad_id").GetInt32(), tok.PadId);
        Assert.Equal(root.GetProperty("vocab_size").GetInt32(), tok.VocabSize);
    }

    [Fact]
    public void EveryCase_RawIdsAndTokens_MatchReference()
    {
        var failures = new List<string>();
        var count = 0;
        foreach (var c in Cases)
        {
            count++;
            var name = c.GetProperty("name").GetString();
            var text = c.GetProperty("text").GetString()!;
            var expected = Ints(c.GetProperty("ids_raw"));
            var actual = Tokenizer.Value.Encode(text).Ids;
            if (!expected.SequenceEqual(actual))
            {
                failures.Add($"{name}: expected [{string.Join(",", expected)}] got [{string.Join(",", actual)}]");
            }
            var tokens = c.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()).ToArray();
            if (!tokens.SequenceEqual(Tokenizer.Value.Tokenize(text)))
            {
                failures.Add($"{name}: tokens differ: got [{string.Join(" ", Tokenizer.Value.Tokenize(text))}]");
            }
        }
        Assert.True(count > 0, "fixture has no cases");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void EveryCase_PaddedAndTruncated_MatchReference()
    {
        var failures = new List<string>();
        var checkedLengths = 0;
        foreach (var c in Cases)
        {
            var name = c.GetProperty("name").GetString();
            var text = c.GetProperty("text").GetString()!;
            foreach (var length in FixtureLengths(c))
            {
                checkedLengths++;
                var encoding = Tokenizer.Value.Encode(text, length, padToMaxLength: true);
                var ids = Ints(c.GetProperty($"ids_{length}"));
                var mask = Ints(c.GetProperty($"attention_mask_{length}"));
                if (!ids.SequenceEqual(encoding.Ids) || !mask.SequenceEqual(encoding.AttentionMask))
                {
                    failures.Add($"{name} (max_length {length}): got [{string.Join(",", encoding.Ids)}] mask [{string.Join(",", encoding.AttentionMask)}]");
                }
            }
        }
        Assert.True(checkedLengths > 0, "fixture has no padded encodings");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void EveryCase_Decode_MatchesReference()
    {
        var failures = new List<string>();
        foreach (var c in Cases)
        {
            var expected = c.GetProperty("decoded").GetString();
            var actual = Tokenizer.Value.Decode(Ints(c.GetProperty("ids_raw")));
            if (expected != actual)
            {
                failures.Add($"{c.GetProperty("name").GetString()}: expected '{expected}' got '{actual}'");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void EncodeBatch_IsTheSameAsEncode_AsInt64Tensors()
    {
        var texts = Cases.Take(3).Select(c => c.GetProperty("text").GetString()!).ToArray();
        var (ids, mask) = Tokenizer.Value.EncodeBatch(texts);
        using var _ = ids;
        using var __ = mask;
        Assert.Equal(new long[] { texts.Length, Tokenizer.Value.ModelMaxLength }, ids.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, ids.dtype);
        for (var b = 0; b < texts.Length; b++)
        {
            var single = Tokenizer.Value.Encode(texts[b], Tokenizer.Value.ModelMaxLength, padToMaxLength: true);
            Assert.Equal(single.Ids.Select(i => (long)i), ids[b].data<long>().ToArray());
            Assert.Equal(single.AttentionMask.Select(i => (long)i), mask[b].data<long>().ToArray());
        }
    }

    [Fact]
    public void FromFolder_MissingVocab_NamesTheFile()
    {
        using var tmp = TestEnvironment.NewTempDir();
        File.WriteAllText(tmp.File("merges.txt"), "#version: 0.2\n");
        var e = Assert.Throws<MindAnimatorException>(() => ClipTokenizer.FromFolder(tmp.Path));
        Assert.Contains("vocab.json", e.Message);
    }

    [Fact]
    public void FromFolder_MalformedMerges_NamesFileAndLine()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var golden = TestEnvironment.Golden("clip_tokenizer");
        File.Copy(Path.Combine(golden, "vocab.json"), tmp.File("vocab.json"));
        File.WriteAllText(tmp.File("merges.txt"), "#version: 0.2\ni n\nbroken\n");
        var e = Assert.Throws<DataFormatException>(() => ClipTokenizer.FromFolder(tmp.Path));
        Assert.Contains("merges.txt", e.Message);
        Assert.Contains("line 3", e.Message);
    }

    [Theory]
    [InlineData("\u201cq\u201d \u2018s\u2019", "\"q\" 's'")]
    [InlineData("\ufb01ne \uff26\uff35\uff2c\uff2c\u3000x", "fine FULL x")]
    [InlineData("&amp;lt; &NTILDE; &#x41; &#59;", "< Ñ A &#59;")]
    [InlineData("<b>&amp;", "<b>&amp;")]
    [InlineData("a\u0085b\r\nc", "a…b\nc")]
    [InlineData("cafe\u0301\u200b\u0007", "café\u200b")]
    public void FixText_AppliesFtfyFixers(string input, string expected) =>
        Assert.Equal(expected, ClipTextNormalizer.FixText(input));

    [Theory]
    [InlineData("  A\u00a0B\t\u2003C  ", "a b c")]
    [InlineData("ΟΔΟΣ ΣΑ", "οδος σα")]
    [InlineData("\u0130", "i\u0307")]
    public void Normalize_CollapsesWhitespace_AndLowersLikePython(string input, string expected) =>
        Assert.Equal(expected, ClipTextNormalizer.Normalize(input));
}
