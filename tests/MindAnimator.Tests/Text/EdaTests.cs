using MindAnimator.Tests.Infrastructure;
using MindAnimator.Text;

namespace MindAnimator.Tests.Text;

public sealed class EdaTests : IDisposable
{
    private const string Caption = "A red car is on the road";

    private readonly TempDir _dir = TestEnvironment.NewTempDir();
    private readonly WordNet _wordNet;

    public EdaTests()
    {
        _wordNet = WordNet.Load(TinyWordNet.Vehicles(_dir.File("wn")));
    }

    public void Dispose() => _dir.Dispose();

    private static string[] Words(string s) => s.Split(' ');

    [Fact]
    public void Eda_SynonymReplacement_UsesOnlyWordNetSynonyms_AndLeavesStopWordsAlone()
    {
        // "a" and "on" have WordNet synonyms (angstrom, along) but are NLTK stop words.
        var eda = new EasyDataAugmentation(_wordNet, new EdaParameters(AlphaSr: 1));
        var original = Words(Caption.ToLowerInvariant());
        var seen = new HashSet<string>();
        for (var seed = 0; seed < 40; seed++)
        {
            var words = Words(eda.Apply(EdaOperation.SynonymReplacement, Caption, new Random(seed)));
            // Every word of the caption with synonyms is replaced (n = 7 ≥ the 3 such words); multi-word synonyms split.
            var i = 0;
            foreach (var word in original)
            {
                if (word is "red" or "car" or "road")
                {
                    var synonym = _wordNet.Synonyms(word).Single(s => words.Skip(i).Take(Words(s).Length).SequenceEqual(Words(s)));
                    seen.Add(synonym);
                    i += Words(synonym).Length;
                }
                else
                {
                    Assert.Equal(word, words[i]);
                    i++;
                }
            }
            Assert.Equal(words.Length, i);
        }
        // Over the seeds every synonym gets drawn, never anything else.
        Assert.Equal(new[] { "blood red", "reddish", "ruddy" }.Concat(_wordNet.Synonyms("car")).Append("route").Order(), seen.Order());

        // n limits the number of distinct words replaced: alpha_sr 0 still replaces one.
        var one = new EasyDataAugmentation(_wordNet, new EdaParameters(AlphaSr: 0));
        for (var seed = 0; seed < 20; seed++)
        {
            var words = one.SynonymReplacement(original, 1, new Random(seed));
            Assert.Equal(1, new[] { "red", "car", "road" }.Count(w => !words.Contains(w)));
        }
    }

    [Fact]
    public void Eda_ACustomStopWordList_IsHonoured()
    {
        var eda = new EasyDataAugmentation(_wordNet, new EdaParameters(AlphaSr: 1), new HashSet<string> { "car", "road" });
        for (var seed = 0; seed < 10; seed++)
        {
            // NLTK's stop words "a" and "on" are ordinary words here (angstrom, along); car and road are not replaced.
            var words = eda.SynonymReplacement(Words("a car on the road"), 10, new Random(seed));
            Assert.Contains("car", words);
            Assert.Contains("road", words);
            Assert.DoesNotContain("a", words);
            Assert.DoesNotContain("on", words);
        }
    }

    [Fact]
    public void Eda_RandomDeletion_DeletesEachWordWithProbabilityP_ButNeverEverything()
    {
        var words = Enumerable.Range(0, 4000).Select(i => "w" + i).ToList();
        var kept = EasyDataAugmentation.RandomDeletion(words, 0.2, new Random(3));
        Assert.InRange(words.Count - kept.Count, 700, 900);
        // The survivors keep their order.
        Assert.Equal(kept, words.Where(kept.ToHashSet().Contains));
        Assert.Equal(words, EasyDataAugmentation.RandomDeletion(words, 0, new Random(3)));
        for (var seed = 0; seed < 10; seed++)
        {
            var last = Assert.Single(EasyDataAugmentation.RandomDeletion(Words("a red car"), 1, new Random(seed)));
            Assert.Contains(last, Words("a red car"));
        }
        Assert.Equal(new[] { "car" }, EasyDataAugmentation.RandomDeletion(new[] { "car" }, 1, new Random(0)));
    }

    [Fact]
    public void Eda_RandomSwap_ExchangesPairsOfWords()
    {
        var words = Words("one two three four five six seven eight");
        for (var seed = 0; seed < 20; seed++)
        {
            var once = EasyDataAugmentation.RandomSwap(words, 1, new Random(seed));
            Assert.Equal(words.Order(), once.Order());
            var moved = Enumerable.Range(0, words.Length).Where(i => once[i] != words[i]).ToList();
            Assert.Equal(2, moved.Count);
            Assert.Equal(words[moved[0]], once[moved[1]]);
            Assert.Equal(words[moved[1]], once[moved[0]]);
            Assert.Equal(words.Order(), EasyDataAugmentation.RandomSwap(words, 3, new Random(seed)).Order());
        }
        // One word cannot swap: the draw gives up instead of looping.
        Assert.Equal(new[] { "car" }, EasyDataAugmentation.RandomSwap(new[] { "car" }, 5, new Random(0)));
    }

    [Fact]
    public void Eda_RandomInsertion_InsertsSynonymsOfTheSentencesWords()
    {
        var eda = new EasyDataAugmentation(_wordNet);
        var words = Words("a red car on the road");
        // A later insertion may pick an inserted word: synonyms of the words and of their synonyms.
        var synonyms = words.SelectMany(_wordNet.Synonyms).SelectMany(s => _wordNet.Synonyms(s).Append(s)).ToHashSet();
        for (var seed = 0; seed < 20; seed++)
        {
            var result = eda.RandomInsertion(words, 2, new Random(seed));
            Assert.Equal(words.Length + 2, result.Count);
            // The original words keep their order; the two extra entries are synonyms.
            var extra = new List<string>(result);
            var at = 0;
            foreach (var w in words)
            {
                at = extra.IndexOf(w, at);
                Assert.True(at >= 0, $"seed {seed}: '{w}' lost from [{string.Join(", ", result)}]");
                extra.RemoveAt(at);
            }
            Assert.Equal(2, extra.Count);
            Assert.All(extra, e => Assert.Contains(e, synonyms));
        }
        // No word with synonyms: nothing is inserted.
        Assert.Equal(Words("the of and"), eda.RandomInsertion(Words("the of and"), 3, new Random(1)));
    }

    [Fact]
    public void Eda_Augment_IsFixedBySeed_AndDrawsEveryOperationAndTheCaptionItself()
    {
        var eda = new EasyDataAugmentation(_wordNet);
        var captions = Enumerable.Repeat(Caption, 200).ToList();
        List<string> Run(int seed)
        {
            var random = new Random(seed);
            return captions.Select(c => eda.Augment(c, random)).ToList();
        }
        var a = Run(11);
        Assert.Equal(a, Run(11));
        Assert.NotEqual(a, Run(12));
        // 1 of 13 candidates is the (lower-cased) caption itself; the rest come from the four operations.
        var unchanged = a.Count(s => s == Caption.ToLowerInvariant());
        Assert.InRange(unchanged, 4, 40);
        Assert.Contains(a, s => Words(s).Length < 7);
        Assert.Contains(a, s => Words(s).Length > 7 && !s.Contains("blood"));
        Assert.Contains(a, s => Words(s).Length == 7 && Words(s).Order().SequenceEqual(Words(Caption.ToLowerInvariant()).Order()) && s != Caption.ToLowerInvariant());
        Assert.Contains(a, s => s.Contains("automobile") || s.Contains("route") || s.Contains("ruddy"));
        Assert.Equal(13, new EdaParameters().Candidates);
    }
}
