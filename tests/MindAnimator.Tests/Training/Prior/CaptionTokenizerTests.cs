using MindAnimator.Models.Clip;
using MindAnimator.Simulation;
using MindAnimator.Tests.Infrastructure;
using MindAnimator.Training.Prior;

namespace MindAnimator.Tests.Training.Prior;

public sealed class CaptionTokenizerTests
{
    // Captions of a few simulated segments with frequent scene changes, so many templates occur.
    private static List<string> SimulatedCaptions() => Enumerable.Range(1, 6)
        .SelectMany(segment => MovieGenerator.Generate(77, "train", segment, 60, 8, 4, 12, 0.9, 0.5).Clips)
        .Select(c => c.Caption).ToList();

    [Fact]
    public void EverySimulatedCaption_TokenizesToWholeWords_ThroughTheWrittenFolder()
    {
        using var dir = TestEnvironment.NewTempDir();
        CaptionTokenizerBuilder.ForSimulatedCaptions().WriteFolder(dir.Path);
        var tokenizer = ClipTokenizer.FromFolder(dir.Path);
        var captions = SimulatedCaptions();
        Assert.Contains(captions, c => c.Contains(", and then ", StringComparison.Ordinal));
        foreach (var caption in captions)
        {
            var tokens = tokenizer.Tokenize(caption);
            var words = caption.Replace(",", " ,", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .SelectMany(w => w.Split('-')).ToList();
            // "up-right" style words never reach captions; a hyphen would be its own token.
            Assert.Equal(words.Select(w => w + "</w>"), tokens.Skip(1).Take(tokens.Count - 2));
            var encoding = tokenizer.Encode(caption);
            Assert.DoesNotContain(tokenizer.UnkId, encoding.Ids.Skip(1).SkipLast(1));
            Assert.Equal(caption, tokenizer.Decode(encoding.Ids));
        }
    }

    [Fact]
    public void Tables_HaveClipsLayout_AndStayDeterministic()
    {
        var tables = CaptionTokenizerBuilder.ForSimulatedCaptions();
        var again = CaptionTokenizerBuilder.ForSimulatedCaptions();
        Assert.Equal(tables.Vocab.OrderBy(kv => kv.Value), again.Vocab.OrderBy(kv => kv.Value));
        Assert.Equal(tables.Merges, again.Merges);
        var tokenizer = tables.ToTokenizer();
        // 256 byte symbols, the same with </w>, merges, then the two special tokens last (as CLIP).
        Assert.Equal(tables.Vocab.Count - 2, tokenizer.BosId);
        Assert.Equal(tables.Vocab.Count - 1, tokenizer.EosId);
        Assert.Equal(tokenizer.EosId, tokenizer.PadId);
        Assert.Equal(Enumerable.Range(0, tables.Vocab.Count), tables.Vocab.Values.Order());
        foreach (var word in CaptionWriter.Words())
        {
            Assert.Equal(3, tokenizer.Tokenize(word).Count);
        }
        // Text outside the vocabulary still tokenizes, into known pieces.
        var other = tokenizer.Encode("a zebra!");
        Assert.DoesNotContain(tokenizer.UnkId, other.Ids.Skip(1).SkipLast(1));
        Assert.Equal("a zebra!", tokenizer.Decode(other.Ids));
    }

    [Fact]
    public void ExtraCaptionWords_AreAddedWithoutSplittingEarlierWords()
    {
        var tables = CaptionTokenizerBuilder.Build(new[] { "dread", "red", "read", "reader" }, new[] { "a dreadful red reader" });
        var tokenizer = tables.ToTokenizer();
        foreach (var word in new[] { "dread", "red", "read", "reader", "dreadful", "a" })
        {
            Assert.Equal(new[] { word + "</w>" }, tokenizer.Tokenize(word).Skip(1).SkipLast(1));
        }
    }
}
