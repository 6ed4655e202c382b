namespace MindAnimator.Simulation;

/// <summary>
/// One caption per clip from the scene parameters, in the style of the BLIP-2 captions of CC2017 (lower case,
/// no full stop, "…, and then …" when the scene changes within the clip). Verbs vary a little.
/// </summary>
public static class CaptionWriter
{
    private static readonly string[] TranslateVerbs = { "drifting", "moving", "sliding", "gliding" };
    private static readonly string[] StillVerbs = { "resting", "sitting still", "standing still", "floating in place" };
    private static readonly string[] RotateVerbs = { "spinning", "rotating", "turning" };
    private static readonly string[] GrowVerbs = { "growing", "getting bigger", "expanding" };
    private static readonly string[] ShrinkVerbs = { "shrinking", "getting smaller", "contracting" };

    /// <summary>
    /// Every word a caption can contain (and the comma): the vocabulary the demo prior's tokenizer is built from.
    /// Kept beside the templates so that a new template word is listed here too.
    /// </summary>
    public static IReadOnlyList<string> Words()
    {
        var phrases = new List<string> { "a an and then , slowly quickly small large clockwise counterclockwise" };
        phrases.AddRange(SceneVocabulary.Shapes);
        phrases.AddRange(SceneVocabulary.ObjectColors.Select(c => c.Name));
        phrases.AddRange(SceneVocabulary.BackgroundColors.Select(c => c.Name));
        phrases.AddRange(SceneVocabulary.Textures.Where(t => t != "solid"));
        phrases.AddRange(TranslateVerbs.Concat(StillVerbs).Concat(RotateVerbs).Concat(GrowVerbs).Concat(ShrinkVerbs));
        phrases.AddRange(SceneVocabulary.Directions.Select(DirectionWords));
        phrases.AddRange(SceneVocabulary.Backgrounds.Select(b => BackgroundPhrase(b, string.Empty)));
        return phrases.SelectMany(p => p.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).ToList();
    }

    public static string Caption(IReadOnlyList<ScenePart> parts, ref SimRandom rng)
    {
        var phrases = new List<string>(parts.Count);
        foreach (var p in parts)
        {
            phrases.Add(Describe(p.Scene, ref rng));
        }
        return string.Join(", and then ", phrases);
    }

    public static string Describe(SceneSpec s, ref SimRandom rng)
    {
        var size = s.Size switch { "small" => "small ", "large" => "large ", _ => string.Empty };
        var texture = s.Texture == "solid" ? string.Empty : s.Texture + " ";
        var article = StartsWithVowel(size + s.Color) ? "an" : "a";
        return $"{article} {size}{s.Color} {texture}{s.Shape} {MotionPhrase(s, ref rng)} {BackgroundPhrase(s)}";
    }

    private static string MotionPhrase(SceneSpec s, ref SimRandom rng)
    {
        var adverb = s.Speed switch { "slow" => "slowly ", "fast" => "quickly ", _ => string.Empty };
        return s.Motion switch
        {
            "translate" => $"{adverb}{rng.Pick(TranslateVerbs)} {DirectionWords(s.Direction)}",
            "rotate" => $"{adverb}{rng.Pick(RotateVerbs)} {s.Direction}",
            "scale" => adverb + rng.Pick(s.Direction == "grow" ? GrowVerbs : ShrinkVerbs),
            _ => rng.Pick(StillVerbs),
        };
    }

    /// <summary>The words used in captions for each of the eight directions.</summary>
    public static string DirectionWords(string direction) => direction switch
    {
        "up-right" => "up and to the right",
        "up-left" => "up and to the left",
        "down-left" => "down and to the left",
        "down-right" => "down and to the right",
        "right" => "to the right",
        "left" => "to the left",
        _ => direction,
    };

    private static string BackgroundPhrase(SceneSpec s) => BackgroundPhrase(s.Background, s.BackgroundColor);

    /// <summary>How captions place the object in front of a background of a kind and colour.</summary>
    public static string BackgroundPhrase(string background, string color) => background switch
    {
        "plain" => $"on a plain {color} background",
        "striped" => $"over a striped {color} background",
        "gradient" => $"in front of a {color} gradient background",
        _ => $"on a checkered {color} background",
    };

    private static bool StartsWithVowel(string word) => word.Length > 0 && "aeiou".Contains(word[0]);
}
