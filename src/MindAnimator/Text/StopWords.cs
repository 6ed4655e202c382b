namespace MindAnimator.Text;

/// <summary>Stop-word lists for caption augmentation.</summary>
public static class StopWords
{
    /// <summary>
    /// NLTK's <c>stopwords.words('english')</c> as of NLTK 3.8.1 (the reference environment's version): the 179 words
    /// models/data_aug.py keeps out of synonym replacement.
    /// </summary>
    public static readonly IReadOnlySet<string> NltkEnglish = new HashSet<string>(StringComparer.Ordinal)
    {
        "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "you're", "you've", "you'll", "you'd", "your",
        "yours", "yourself", "yourselves", "he", "him", "his", "himself", "she", "she's", "her", "hers", "herself", "it",
        "it's", "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which", "who", "whom", "this",
        "that", "that'll", "these", "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had",
        "having", "do", "does", "did", "doing", "a", "an", "the", "and", "but", "if", "or", "because", "as", "until",
        "while", "of", "at", "by", "for", "with", "about", "against", "between", "into", "through", "during", "before",
        "after", "above", "below", "to", "from", "up", "down", "in", "out", "on", "off", "over", "under", "again",
        "further", "then", "once", "here", "there", "when", "where", "why", "how", "all", "any", "both", "each", "few",
        "more", "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so", "than", "too", "very",
        "s", "t", "can", "will", "just", "don", "don't", "should", "should've", "now", "d", "ll", "m", "o", "re", "ve",
        "y", "ain", "aren", "aren't", "couldn", "couldn't", "didn", "didn't", "doesn", "doesn't", "hadn", "hadn't",
        "hasn", "hasn't", "haven", "haven't", "isn", "isn't", "ma", "mightn", "mightn't", "mustn", "mustn't", "needn",
        "needn't", "shan", "shan't", "shouldn", "shouldn't", "wasn", "wasn't", "weren", "weren't", "won", "won't",
        "wouldn", "wouldn't",
    };

    /// <summary>A stop-word file: one word per line (blank lines and lines starting with '#' ignored), lower-cased.</summary>
    public static IReadOnlySet<string> Read(string path, string setting)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: stop-word file not found ({setting}: one word per line; leave it unset for NLTK's English list).");
        }
        return File.ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
    }
}
