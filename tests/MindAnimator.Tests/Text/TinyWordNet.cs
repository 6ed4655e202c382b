using System.Text;

namespace MindAnimator.Tests.Text;

/// <summary>A synset of the tiny database: part of speech (n, v, a, s, r) and its words as data files spell them.</summary>
internal sealed record TinySynset(char Pos, params string[] Words);

/// <summary>
/// Writes a WordNet database in the real wndb(5WN) layout (licence header lines, synset lines whose offset is their
/// byte position, index lines listing those offsets, *.exc exception lists) from a handful of synsets.
/// </summary>
internal static class TinyWordNet
{
    private static readonly (char Pos, string Suffix)[] Parts = { ('n', "noun"), ('v', "verb"), ('a', "adj"), ('r', "adv") };

    public static string Write(string folder, IEnumerable<TinySynset> synsets, IEnumerable<(char Pos, string Inflected, string Base)>? exceptions = null)
    {
        Directory.CreateDirectory(folder);
        var all = synsets.ToList();
        var exc = (exceptions ?? Array.Empty<(char, string, string)>()).ToList();
        foreach (var (pos, suffix) in Parts)
        {
            // Satellite adjectives ('s') live in data.adj and are indexed under 'a'.
            var mine = all.Where(s => (s.Pos == 's' ? 'a' : s.Pos) == pos).ToList();
            var data = new StringBuilder("  1 This software and database is a tiny test copy in the WordNet 3.0 layout.  \n  2 \n");
            var index = new SortedDictionary<string, List<long>>(StringComparer.Ordinal);
            foreach (var s in mine)
            {
                var offset = Encoding.UTF8.GetByteCount(data.ToString());
                var words = string.Join(' ', s.Words.Select(w => w + " 0"));
                data.Append($"{offset:D8} 00 {s.Pos} {s.Words.Length:x2} {words} 000 | a test synset  \n");
                foreach (var w in s.Words)
                {
                    var marker = w.IndexOf('(');
                    var lemma = (marker > 0 ? w[..marker] : w).ToLowerInvariant();
                    if (!index.TryGetValue(lemma, out var offsets))
                    {
                        index[lemma] = offsets = new List<long>();
                    }
                    offsets.Add(offset);
                }
            }
            File.WriteAllText(Path.Combine(folder, "data." + suffix), data.ToString());
            var lines = new StringBuilder("  1 This software and database is a tiny test copy in the WordNet 3.0 layout.  \n");
            foreach (var (lemma, offsets) in index)
            {
                lines.Append($"{lemma} {pos} {offsets.Count} 1 @ {offsets.Count} 0 {string.Join(' ', offsets.Select(o => o.ToString("D8")))}  \n");
            }
            File.WriteAllText(Path.Combine(folder, "index." + suffix), lines.ToString());
            File.WriteAllLines(Path.Combine(folder, suffix + ".exc"), exc.Where(e => e.Pos == pos).Select(e => $"{e.Inflected} {e.Base}"));
        }
        return folder;
    }

    /// <summary>A small vocabulary about cars on roads.</summary>
    public static string Vehicles(string folder) => Write(folder, new[]
    {
        new TinySynset('n', "car", "auto", "automobile", "motorcar"),
        new TinySynset('n', "car", "railcar", "railway_car"),
        new TinySynset('n', "road", "route"),
        new TinySynset('v', "drive", "motor"),
        new TinySynset('v', "run", "go"),
        new TinySynset('s', "red", "reddish", "ruddy", "blood-red(p)"),
        // Stop words that WordNet knows: synonym replacement must leave them alone.
        new TinySynset('n', "a", "angstrom", "angstrom_unit"),
        new TinySynset('r', "on", "along"),
    }, new[] { ('v', "ran", "run"), ('a', "redder", "red") });
}
