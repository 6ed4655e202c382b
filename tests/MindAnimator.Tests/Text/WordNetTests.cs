using MindAnimator.Tests.Infrastructure;
using MindAnimator.Text;

namespace MindAnimator.Tests.Text;

/// <summary>Runs only where Debian's wordnet-base is installed (scripts/setup.sh installs it).</summary>
public sealed class SystemWordNetFactAttribute : FactAttribute
{
    public SystemWordNetFactAttribute()
    {
        if (!File.Exists(Path.Combine(WordNet.DefaultFolder, "data.noun")))
        {
            Skip = $"WordNet 3.0 not found in {WordNet.DefaultFolder}; install it with `apt-get install wordnet-base` (scripts/setup.sh does) to run this check";
        }
    }
}

public sealed class WordNetTests : IDisposable
{
    private readonly TempDir _dir = TestEnvironment.NewTempDir();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void WordNet_Synonyms_AreTheLemmaNamesOfEverySynsetOfTheWord_CleanedAsTheReference()
    {
        var wordNet = WordNet.Load(TinyWordNet.Vehicles(_dir.File("wn")));
        // Both noun senses of "car", '_' as a space, the word itself left out, ordinal order.
        Assert.Equal(new[] { "auto", "automobile", "motorcar", "railcar", "railway car" }, wordNet.Synonyms("car"));
        // Satellite adjectives: the "(p)" marker is not part of the name, '-' becomes a space.
        Assert.Equal(new[] { "blood red", "reddish", "ruddy" }, wordNet.Synonyms("red"));
        Assert.Empty(wordNet.Synonyms("bicycle"));
        Assert.Empty(wordNet.Synonyms(""));
    }

    [Fact]
    public void WordNet_FindsTheBaseFormsOfInflectedWords_AsNltkMorphy()
    {
        var wordNet = WordNet.Load(TinyWordNet.Vehicles(_dir.File("wn")));
        // Detachment rules: cars → car (noun), drives/driving → drive (verb), redder → red (adjective).
        Assert.Contains("automobile", wordNet.Synonyms("cars"));
        Assert.Contains("car", wordNet.Synonyms("cars"));
        Assert.Equal(new[] { "drive", "motor" }, wordNet.Synonyms("driving"));
        Assert.Equal(new[] { "car" }, wordNet.Morphy("cars", 'n'));
        Assert.Equal(new[] { "drive" }, wordNet.Morphy("drives", 'v'));
        Assert.Equal(new[] { "red" }, wordNet.Morphy("redder", 'a'));
        // Exception lists: ran → run, which no rule could reach.
        Assert.Equal(new[] { "run" }, wordNet.Morphy("ran", 'v'));
        Assert.Equal(new[] { "go", "run" }, wordNet.Synonyms("ran"));
        // Upper case is looked up lower-cased, as wordnet.synsets does.
        Assert.Equal(wordNet.Synonyms("car"), wordNet.Synonyms("Car").Where(s => s != "car"));
    }

    [Fact]
    public void WordNet_MissingFolderOrFile_SaysHowToInstallIt()
    {
        var missing = Assert.Throws<MindAnimatorException>(() => WordNet.Load(_dir.File("nowhere")));
        Assert.Contains(_dir.File("nowhere"), missing.Message);
        Assert.Contains("apt-get install wordnet-base", missing.Message);
        Assert.Contains("semantic.caption_augmentation.wordnet_folder", missing.Message);

        var folder = TinyWordNet.Vehicles(_dir.File("wn"));
        File.Delete(Path.Combine(folder, "data.verb"));
        var file = Assert.Throws<MindAnimatorException>(() => WordNet.Load(folder));
        Assert.Contains("data.verb", file.Message);
    }

    [Fact]
    public void WordNet_AnIndexOffsetThatIsNoSynsetLine_IsAFormatErrorNamingTheDataFile()
    {
        var folder = TinyWordNet.Vehicles(_dir.File("wn"));
        var index = Path.Combine(folder, "index.noun");
        File.WriteAllText(index, File.ReadAllText(index).Replace("road n 1 1 @ 1 0 ", "road n 1 1 @ 1 0 9999999"));
        var wordNet = WordNet.Load(folder);
        var e = Assert.Throws<DataFormatException>(() => wordNet.Synonyms("road"));
        Assert.Contains("data.noun", e.Message);
    }

    [SystemWordNetFact]
    public void SystemWordNet_KnowsTheCommonSynonyms()
    {
        var wordNet = WordNet.Load(WordNet.DefaultFolder);
        Assert.True(wordNet.LemmaCount > 140_000, $"{wordNet.LemmaCount} lemmas");
        var car = wordNet.Synonyms("car");
        Assert.Contains("automobile", car);
        Assert.Contains("motorcar", car);
        Assert.Contains("railway car", car);
        Assert.DoesNotContain("car", car);
        Assert.Contains("automobile", wordNet.Synonyms("cars"));
        // verb.exc: ran → run.
        Assert.Contains("run", wordNet.Synonyms("ran"));
        // data.adj's syntactic markers are stripped from lemma names: ready_to_hand(p).
        Assert.Contains("ready to hand", wordNet.Synonyms("handy"));
        Assert.All(wordNet.Synonyms("walking"), s => Assert.Matches("^[a-z ]*$", s));
    }
}
