namespace MindAnimator.Text;

/// <summary>EDA's parameters (the reference's defaults: eda(sentence, alpha_sr=0.5, alpha_ri=0.2, alpha_rs=0.2, p_rd=0.2, num_aug=9)).</summary>
/// <param name="AlphaSr">Share of the words replaced by a synonym (at least one).</param>
/// <param name="AlphaRi">Share of the word count inserted as synonyms (at least one).</param>
/// <param name="AlphaRs">Share of the word count swapped (at least one swap).</param>
/// <param name="PRd">Probability of deleting each word.</param>
/// <param name="NumAug">Augmented sentences generated per caption (⌊num_aug/4⌋ + 1 per operation), one of which, or the caption itself, is used.</param>
public sealed record EdaParameters(double AlphaSr = 0.5, double AlphaRi = 0.2, double AlphaRs = 0.2, double PRd = 0.2, int NumAug = 9)
{
    /// <summary>Sentences per operation: ⌊num_aug/4⌋ + 1.</summary>
    public int PerOperation => (NumAug / 4) + 1;

    /// <summary>The pool EDA draws from: the caption itself plus four operations × <see cref="PerOperation"/>.</summary>
    public int Candidates => 1 + (4 * PerOperation);
}

/// <summary>The four EDA operations, in the order the reference appends their sentences.</summary>
public enum EdaOperation
{
    None,
    SynonymReplacement,
    RandomInsertion,
    RandomSwap,
    RandomDeletion,
}

// Mirrors Mind-Animator models/data_aug.py (eda; itself jasonwei20/eda_nlp code/eda.py without its text cleaning).

/// <summary>
/// Easy Data Augmentation of a caption (Wei &amp; Zou 2019) as Mind-Animator applies it to its training captions:
/// lower-case, split on single spaces, then one sentence drawn uniformly from the caption itself and
/// ⌊num_aug/4⌋ + 1 sentences of each operation (synonym replacement of non-stop words, random insertion of a
/// synonym of a random word, random swaps, random deletion). All randomness comes from the <see cref="Random"/>
/// passed in, so a seed fixes the output.
/// </summary>
public sealed class EasyDataAugmentation
{
    private readonly ISynonymSource _synonyms;
    private readonly IReadOnlySet<string> _stopWords;

    public EasyDataAugmentation(ISynonymSource synonyms, EdaParameters? parameters = null, IReadOnlySet<string>? stopWords = null)
    {
        _synonyms = synonyms;
        Parameters = parameters ?? new EdaParameters();
        _stopWords = stopWords ?? StopWords.NltkEnglish;
    }

    public EdaParameters Parameters { get; }

    /// <summary>One augmented version of <paramref name="sentence"/> (possibly the lower-cased sentence itself).</summary>
    /// <remarks>
    /// The reference generates all 4·(⌊num_aug/4⌋+1) sentences and then picks one uniformly with the caption; picking
    /// first and generating only that one draws from the same distribution at a thirteenth of the cost.
    /// </remarks>
    public string Augment(string sentence, Random random)
    {
        var pick = random.Next(Parameters.Candidates);
        var operation = pick == 0 ? EdaOperation.None : (EdaOperation)(1 + ((pick - 1) / Parameters.PerOperation));
        return Apply(operation, sentence, random);
    }

    /// <summary>One sentence of <paramref name="operation"/> from <paramref name="sentence"/> with the parameters' strengths.</summary>
    public string Apply(EdaOperation operation, string sentence, Random random)
    {
        sentence = sentence.ToLowerInvariant();
        var words = sentence.Split(' ');
        int Count(double alpha) => Math.Max(1, (int)(alpha * words.Length));
        var result = operation switch
        {
            EdaOperation.None => words.ToList(),
            EdaOperation.SynonymReplacement => SynonymReplacement(words, Count(Parameters.AlphaSr), random),
            EdaOperation.RandomInsertion => RandomInsertion(words, Count(Parameters.AlphaRi), random),
            EdaOperation.RandomSwap => RandomSwap(words, Count(Parameters.AlphaRs), random),
            EdaOperation.RandomDeletion => RandomDeletion(words, Parameters.PRd, random),
            _ => throw new ArgumentOutOfRangeException(nameof(operation)),
        };
        return string.Join(' ', result);
    }

    /// <summary>Replaces every occurrence of up to <paramref name="n"/> distinct non-stop words (in random order) by a random synonym each.</summary>
    public List<string> SynonymReplacement(IReadOnlyList<string> words, int n, Random random)
    {
        var result = words.ToList();
        var candidates = words.Where(w => !_stopWords.Contains(w)).Distinct(StringComparer.Ordinal).ToArray();
        Shuffle(candidates, random);
        var replaced = 0;
        foreach (var word in candidates)
        {
            var synonyms = _synonyms.Synonyms(word);
            if (synonyms.Count >= 1)
            {
                var synonym = synonyms[random.Next(synonyms.Count)];
                for (var i = 0; i < result.Count; i++)
                {
                    if (result[i] == word)
                    {
                        result[i] = synonym;
                    }
                }
                replaced++;
            }
            if (replaced >= n)
            {
                break;
            }
        }
        // A multi-word synonym becomes several words.
        return string.Join(' ', result).Split(' ').ToList();
    }

    /// <summary>
    /// <paramref name="n"/> times: a synonym of a random word (up to 10 tries to find a word that has one) is inserted
    /// before a random word.
    /// </summary>
    public List<string> RandomInsertion(IReadOnlyList<string> words, int n, Random random)
    {
        var result = words.ToList();
        for (var k = 0; k < n; k++)
        {
            IReadOnlyList<string> synonyms = Array.Empty<string>();
            for (var tries = 0; synonyms.Count < 1; tries++)
            {
                if (tries >= 10)
                {
                    break;
                }
                synonyms = _synonyms.Synonyms(result[random.Next(result.Count)]);
            }
            if (synonyms.Count < 1)
            {
                continue;
            }
            var synonym = synonyms[random.Next(synonyms.Count)];
            result.Insert(random.Next(result.Count), synonym);
        }
        return result;
    }

    /// <summary><paramref name="n"/> times: two random positions swap their words (a swap gives up after 3 draws of the same position).</summary>
    public static List<string> RandomSwap(IReadOnlyList<string> words, int n, Random random)
    {
        var result = words.ToList();
        for (var k = 0; k < n; k++)
        {
            var first = random.Next(result.Count);
            var second = first;
            var draws = 0;
            var gaveUp = false;
            while (second == first)
            {
                second = random.Next(result.Count);
                if (++draws > 3)
                {
                    gaveUp = true;
                    break;
                }
            }
            if (!gaveUp)
            {
                (result[first], result[second]) = (result[second], result[first]);
            }
        }
        return result;
    }

    /// <summary>Each word is deleted with probability <paramref name="p"/>; a one-word sentence is kept, and if all are deleted one random word remains.</summary>
    public static List<string> RandomDeletion(IReadOnlyList<string> words, double p, Random random)
    {
        if (words.Count == 1)
        {
            return words.ToList();
        }
        var kept = words.Where(_ => random.NextDouble() > p).ToList();
        return kept.Count > 0 ? kept : new List<string> { words[random.Next(words.Count)] };
    }

    /// <summary>Fisher–Yates from the end, as Python's random.shuffle.</summary>
    private static void Shuffle<T>(T[] items, Random random)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
