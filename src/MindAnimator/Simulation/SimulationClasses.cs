namespace MindAnimator.Simulation;

/// <summary>
/// The categories of the simulated movies as class names for zero-shot N-way classification, worded as the
/// captions word them: image classes are object colour × shape ("yellow heart"), video classes add the motion
/// ("yellow heart spinning").
/// </summary>
public static class SimulationClasses
{
    /// <summary>One caption verb per motion class; scaling is two classes because captions tell growing from shrinking.</summary>
    public static readonly IReadOnlyList<(string Motion, string Direction, string Verb)> MotionClasses = new[]
    {
        ("still", string.Empty, "resting"),
        ("translate", string.Empty, "moving"),
        ("rotate", string.Empty, "spinning"),
        ("scale", "grow", "growing"),
        ("scale", "shrink", "shrinking"),
    };

    /// <summary>Caption contexts the class names are embedded in (and averaged over), so prompts read like the captions a CLIP trained on them saw.</summary>
    public const int TemplateCount = 24;

    /// <summary>
    /// Prompt templates for image classes: "a {size}{} {motion} {background}" over a fixed spread of sizes, motions and
    /// backgrounds, so the class embedding averages out everything but colour and shape.
    /// </summary>
    public static IReadOnlyList<string> ImageTemplates() => Contexts().Select(c =>
    {
        var (motion, _, verb) = MotionClasses[c.Index % MotionClasses.Count];
        var phrase = motion == "translate" ? $"{verb} {CaptionWriter.DirectionWords(SceneVocabulary.Directions[c.Index % SceneVocabulary.Directions.Length])}" : verb;
        return $"a {c.Size}{{}} {phrase} {c.Background}";
    }).ToList();

    /// <summary>Prompt templates for video classes (whose names end in the motion verb): "a {size}{} {background}".</summary>
    public static IReadOnlyList<string> VideoTemplates() => Contexts().Select(c => $"a {c.Size}{{}} {c.Background}").ToList();

    private static IEnumerable<(int Index, string Size, string Background)> Contexts() => Enumerable.Range(0, TemplateCount).Select(k =>
    {
        var size = SceneVocabulary.Sizes[k % SceneVocabulary.Sizes.Length].Name;
        var background = CaptionWriter.BackgroundPhrase(SceneVocabulary.Backgrounds[k % SceneVocabulary.Backgrounds.Length],
            SceneVocabulary.BackgroundColors[(k * 3) % SceneVocabulary.BackgroundColors.Length].Name);
        // Captions name small and large objects only.
        return (k, size == "medium" ? string.Empty : size + " ", background);
    });

    /// <summary>The shapes a config with <paramref name="categories"/> object categories draws from.</summary>
    public static IReadOnlyList<string> Shapes(int categories)
    {
        if (categories < 1 || categories > SceneVocabulary.Shapes.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(categories), $"categories must be 1–{SceneVocabulary.Shapes.Length}, got {categories}");
        }
        return SceneVocabulary.Shapes.Take(categories).ToList();
    }

    /// <summary>Colour × shape: the classes of single frames.</summary>
    public static IReadOnlyList<string> ImageClasses(int categories) =>
        SceneVocabulary.ObjectColors.SelectMany(c => Shapes(categories).Select(s => ImageClass(c.Name, s))).ToList();

    /// <summary>Colour × shape × motion: the classes of clips.</summary>
    public static IReadOnlyList<string> VideoClasses(int categories) =>
        SceneVocabulary.ObjectColors.SelectMany(c => Shapes(categories).SelectMany(s => MotionClasses.Select(m => $"{ImageClass(c.Name, s)} {m.Verb}"))).ToList();

    public static string ImageClass(string color, string shape) => $"{color} {shape}";

    /// <summary>The class of a scene's object: its image class followed by its motion verb.</summary>
    public static string VideoClass(SceneSpec scene) => $"{ImageClass(scene.Color, scene.Shape)} {MotionVerb(scene.Motion, scene.Direction)}";

    public static string MotionVerb(string motion, string direction)
    {
        foreach (var m in MotionClasses)
        {
            if (m.Motion == motion && (m.Direction.Length == 0 || m.Direction == direction))
            {
                return m.Verb;
            }
        }
        throw new ArgumentException($"no motion class for motion '{motion}' direction '{direction}'");
    }
}
