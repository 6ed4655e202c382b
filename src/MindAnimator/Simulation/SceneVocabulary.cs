namespace MindAnimator.Simulation;

/// <summary>A named colour, RGB in [0, 1].</summary>
public sealed record NamedColor(string Name, float R, float G, float B)
{
    public float Luminance => (0.299f * R) + (0.587f * G) + (0.114f * B);
}

/// <summary>The fixed vocabulary of the procedural movies: shapes, colours, textures, backgrounds, motions.</summary>
public static class SceneVocabulary
{
    /// <summary>Object categories; a config's <c>simulation.categories</c> uses the first N.</summary>
    public static readonly string[] Shapes =
    {
        "circle", "square", "triangle", "star", "cross", "ring", "diamond", "heart", "hexagon", "crescent", "arrow", "ellipse",
    };

    public static readonly NamedColor[] ObjectColors =
    {
        new("red", 0.9f, 0.12f, 0.1f),
        new("green", 0.15f, 0.75f, 0.2f),
        new("blue", 0.15f, 0.3f, 0.95f),
        new("yellow", 0.95f, 0.9f, 0.15f),
        new("orange", 1f, 0.55f, 0.05f),
        new("purple", 0.6f, 0.2f, 0.8f),
        new("cyan", 0.1f, 0.85f, 0.9f),
        new("pink", 1f, 0.5f, 0.75f),
        new("white", 0.97f, 0.97f, 0.97f),
    };

    public static readonly NamedColor[] BackgroundColors =
    {
        new("black", 0.03f, 0.03f, 0.03f),
        new("gray", 0.45f, 0.45f, 0.45f),
        new("blue", 0.1f, 0.15f, 0.5f),
        new("green", 0.1f, 0.4f, 0.15f),
        new("brown", 0.45f, 0.28f, 0.12f),
        new("purple", 0.35f, 0.12f, 0.45f),
        new("white", 0.92f, 0.92f, 0.9f),
        new("beige", 0.85f, 0.78f, 0.6f),
    };

    public static readonly string[] Textures = { "solid", "striped", "dotted", "checkered" };

    public static readonly string[] Backgrounds = { "plain", "striped", "gradient", "checkered" };

    public static readonly string[] Motions = { "still", "translate", "rotate", "scale" };

    /// <summary>Eight directions, counter-clockwise from "right" in 45° steps (screen up = 90°).</summary>
    public static readonly string[] Directions = { "right", "up-right", "up", "up-left", "left", "down-left", "down", "down-right" };

    /// <summary>Translation speeds in frame widths per second.</summary>
    public static readonly (string Name, double Value)[] TranslationSpeeds = { ("slow", 0.05), ("medium", 0.1), ("fast", 0.18) };

    /// <summary>Rotation speeds in radians per second.</summary>
    public static readonly (string Name, double Value)[] RotationSpeeds = { ("slow", Math.PI / 3), ("medium", Math.PI * 2 / 3), ("fast", Math.PI * 1.2) };

    /// <summary>Growth rates of ln(size) per second.</summary>
    public static readonly (string Name, double Value)[] ScaleSpeeds = { ("slow", 0.2), ("medium", 0.35), ("fast", 0.55) };

    /// <summary>Object radius (the shape's bounding circle) as a share of the frame width.</summary>
    public static readonly (string Name, double Value)[] Sizes = { ("small", 0.1), ("medium", 0.15), ("large", 0.21) };

    public static NamedColor ObjectColor(string name) => ObjectColors.First(c => c.Name == name);

    public static NamedColor BackgroundColor(string name) => BackgroundColors.First(c => c.Name == name);

    public static int DirectionIndex(string direction) => Array.IndexOf(Directions, direction);

    public static double DirectionDegrees(int index) => index * 45.0;
}
