using System.Globalization;
using System.Text;

namespace MindAnimator.Text;

/// <summary>Where a word's synonyms come from (WordNet, or a fixed table in tests).</summary>
public interface ISynonymSource
{
    /// <summary>The word's synonyms, lower-case, without the word itself, in a fixed (ordinal) order.</summary>
    IReadOnlyList<string> Synonyms(string word);
}

// Mirrors NLTK 3.8.1 nltk/corpus/reader/wordnet.py (synsets() with _morphy, Lemma.name()) over WordNet 3.0's wndb(5WN) files.

/// <summary>
/// The WordNet 3.0 database (index.*, data.*, *.exc as Debian's wordnet-base installs them in /usr/share/wordnet),
/// read as NLTK's <c>wordnet.synsets(word)</c> and its lemma names, for caption augmentation. Index files are parsed at
/// load; a synset line is parsed from the data file (its offset is its byte position) the first time it is asked for.
/// Not thread-safe (one training loop uses it).
/// </summary>
public sealed class WordNet : ISynonymSource
{
    public const string DefaultFolder = "/usr/share/wordnet";

    /// <summary>NLTK's POS_LIST order and the file suffix of each part of speech.</summary>
    private static readonly (char Pos, string Suffix)[] Parts = { ('n', "noun"), ('v', "verb"), ('a', "adj"), ('r', "adv") };

    /// <summary>NLTK's MORPHOLOGICAL_SUBSTITUTIONS (suffix detachment rules of morphy).</summary>
    private static readonly Dictionary<char, (string Old, string New)[]> Rules = new()
    {
        ['n'] = new[] { ("s", ""), ("ses", "s"), ("ves", "f"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"), ("ies", "y") },
        ['v'] = new[] { ("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "") },
        ['a'] = new[] { ("er", ""), ("est", ""), ("er", "e"), ("est", "e") },
        ['r'] = Array.Empty<(string, string)>(),
    };

    private readonly string _folder;
    private readonly Dictionary<string, Dictionary<char, long[]>> _index;
    private readonly Dictionary<char, Dictionary<string, string[]>> _exceptions;
    private readonly Dictionary<char, byte[]> _data;
    private readonly Dictionary<(char, long), string[]> _lemmaNames = new();
    private readonly Dictionary<string, string[]> _synonyms = new(StringComparer.Ordinal);

    private WordNet(string folder, Dictionary<string, Dictionary<char, long[]>> index, Dictionary<char, Dictionary<string, string[]>> exceptions, Dictionary<char, byte[]> data)
    {
        _folder = folder;
        _index = index;
        _exceptions = exceptions;
        _data = data;
    }

    /// <summary>Lemmas in the index (all parts of speech).</summary>
    public int LemmaCount => _index.Count;

    /// <summary>
    /// Reads the WordNet 3.0 files of <paramref name="folder"/>: index.{noun,verb,adj,adv} and data.* are required,
    /// the morphy exception lists *.exc are read where present.
    /// </summary>
    public static WordNet Load(string folder, string setting = "semantic.caption_augmentation.wordnet_folder")
    {
        if (!Directory.Exists(folder))
        {
            throw new MindAnimatorException($"{folder}: WordNet folder not found ({setting}). Caption augmentation needs the WordNet 3.0 database: "
                + "install it with `apt-get install wordnet-base` (Debian/Ubuntu, into /usr/share/wordnet), or put the WordNet 3.0 dict files "
                + "(index.noun, data.noun, … as in NLTK's wordnet corpus) in a folder and set it there, or turn the augmentation off.");
        }
        var index = new Dictionary<string, Dictionary<char, long[]>>(StringComparer.Ordinal);
        var exceptions = new Dictionary<char, Dictionary<string, string[]>>();
        var data = new Dictionary<char, byte[]>();
        foreach (var (pos, suffix) in Parts)
        {
            var indexPath = Required(folder, "index." + suffix, setting);
            ReadIndex(indexPath, index);
            data[pos] = File.ReadAllBytes(Required(folder, "data." + suffix, setting));
            exceptions[pos] = ReadExceptions(Path.Combine(folder, suffix + ".exc"));
        }
        return new WordNet(Path.GetFullPath(folder), index, exceptions, data);
    }

    /// <summary>
    /// As the reference's get_synonyms: the lemma names of every synset of the word (all parts of speech, morphy
    /// base forms included), '_' and '-' as spaces, lower-cased, only a–z and spaces kept, without the word itself.
    /// </summary>
    public IReadOnlyList<string> Synonyms(string word)
    {
        if (_synonyms.TryGetValue(word, out var cached))
        {
            return cached;
        }
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in LemmaNames(word))
        {
            var cleaned = new StringBuilder(name.Length);
            foreach (var c in name.Replace('_', ' ').Replace('-', ' ').ToLowerInvariant())
            {
                if (c is (>= 'a' and <= 'z') or ' ')
                {
                    cleaned.Append(c);
                }
            }
            set.Add(cleaned.ToString());
        }
        set.Remove(word);
        var result = set.Order(StringComparer.Ordinal).ToArray();
        _synonyms[word] = result;
        return result;
    }

    /// <summary>NLTK's <c>[l.name() for s in wordnet.synsets(word) for l in s.lemmas()]</c>.</summary>
    public IEnumerable<string> LemmaNames(string word)
    {
        var lemma = word.ToLowerInvariant();
        foreach (var (pos, _) in Parts)
        {
            foreach (var form in Morphy(lemma, pos))
            {
                foreach (var offset in _index[form][pos])
                {
                    foreach (var name in Synset(pos, offset))
                    {
                        yield return name;
                    }
                }
            }
        }
    }

    /// <summary>NLTK's _morphy: the exception list, else the detachment rules applied until forms in the index appear.</summary>
    public IReadOnlyList<string> Morphy(string form, char pos)
    {
        if (_exceptions[pos].TryGetValue(form, out var bases))
        {
            return InIndex(bases.Prepend(form), pos);
        }
        var forms = ApplyRules(new List<string> { form }, pos);
        var results = InIndex(forms.Prepend(form), pos);
        if (results.Count > 0)
        {
            return results;
        }
        while (forms.Count > 0)
        {
            forms = ApplyRules(forms, pos);
            results = InIndex(forms, pos);
            if (results.Count > 0)
            {
                return results;
            }
        }
        return results;
    }

    private static List<string> ApplyRules(List<string> forms, char pos) =>
        forms.SelectMany(f => Rules[pos].Where(r => f.EndsWith(r.Old, StringComparison.Ordinal)).Select(r => f[..^r.Old.Length] + r.New)).ToList();

    private List<string> InIndex(IEnumerable<string> forms, char pos) =>
        forms.Where(f => _index.TryGetValue(f, out var byPos) && byPos.ContainsKey(pos)).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The lemma names of the synset at <paramref name="offset"/> of data.{pos}, adjective markers such as "(p)" removed.</summary>
    private string[] Synset(char pos, long offset)
    {
        if (_lemmaNames.TryGetValue((pos, offset), out var names))
        {
            return names;
        }
        var bytes = _data[pos];
        var file = Path.Combine(_folder, "data." + Parts.First(p => p.Pos == pos).Suffix);
        if (offset < 0 || offset >= bytes.Length)
        {
            throw new DataFormatException(file, $"synset offset {offset} lies beyond the end of the file ({bytes.Length} bytes); the index and data files do not belong together");
        }
        var end = Array.IndexOf(bytes, (byte)'\n', (int)offset);
        var line = Encoding.UTF8.GetString(bytes, (int)offset, (end < 0 ? bytes.Length : end) - (int)offset);
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 4 || !long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var stated) || stated != offset
            || !int.TryParse(fields[3], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var count) || fields.Length < 4 + (2 * count))
        {
            throw new DataFormatException(file, $"no synset line at byte offset {offset} (expected 'offset lex_filenum ss_type w_cnt word lex_id …', got '{Shorten(line)}')");
        }
        names = new string[count];
        for (var i = 0; i < count; i++)
        {
            var name = fields[4 + (2 * i)];
            // Adjectives may carry a syntactic marker: "(a)", "(p)" or "(ip)".
            var marker = name.IndexOf('(', StringComparison.Ordinal);
            names[i] = marker > 0 && name.EndsWith(')') ? name[..marker] : name;
        }
        _lemmaNames[(pos, offset)] = names;
        return names;
    }

    private static string Required(string folder, string name, string setting)
    {
        var path = Path.Combine(folder, name);
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: not found; {setting} must hold the WordNet 3.0 database files (index.noun, data.noun, index.verb, data.verb, "
                + "index.adj, data.adj, index.adv, data.adv), e.g. from `apt-get install wordnet-base`.");
        }
        return path;
    }

    /// <summary>index.{pos}: "lemma pos synset_cnt p_cnt [ptr_symbol…] sense_cnt tagsense_cnt synset_offset…"; licence lines start with a space.</summary>
    private static void ReadIndex(string path, Dictionary<string, Dictionary<char, long[]>> index)
    {
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Length == 0 || line[0] == ' ')
            {
                continue;
            }
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6 || fields[1].Length != 1 || !int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var synsets)
                || synsets < 1 || fields.Length < 4 + synsets)
            {
                throw new DataFormatException(path, $"line {number}: expected 'lemma pos synset_cnt p_cnt … synset_offset…', got '{Shorten(line)}'");
            }
            var offsets = new long[synsets];
            for (var i = 0; i < synsets; i++)
            {
                if (!long.TryParse(fields[fields.Length - synsets + i], NumberStyles.None, CultureInfo.InvariantCulture, out offsets[i]))
                {
                    throw new DataFormatException(path, $"line {number}: synset offset '{fields[fields.Length - synsets + i]}' is not a number");
                }
            }
            if (!index.TryGetValue(fields[0], out var byPos))
            {
                index[fields[0]] = byPos = new Dictionary<char, long[]>();
            }
            byPos[fields[1][0]] = offsets;
        }
    }

    /// <summary>{pos}.exc: "inflected_form base_form…" per line.</summary>
    private static Dictionary<string, string[]> ReadExceptions(string path)
    {
        var map = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return map;
        }
        foreach (var line in File.ReadLines(path))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 1)
            {
                map[fields[0]] = fields[1..];
            }
        }
        return map;
    }

    private static string Shorten(string line) => line.Length <= 80 ? line : line[..80] + "…";
}
