using System.Text.Json;
using System.Text.Json.Nodes;
using MindAnimator.Config;
using MindAnimator.Data.Formats;
using MindAnimator.Simulation;

namespace MindAnimator.Evaluation;

/// <summary>Writes zero-shot classifier folders (<see cref="ZeroShotSpec"/>) for the simulated data's categories.</summary>
public static class ZeroShotClassifierFolders
{
    public const string Template = "a {}";

    /// <summary>
    /// Writes <paramref name="outFolder"/>/image/zero_shot.json (colour × shape, for N-way-I) and
    /// <paramref name="outFolder"/>/video/zero_shot.json (colour × shape × motion, for N-way-V) for the first
    /// <c>simulation.categories</c> shapes, each pointing at <paramref name="clipFolder"/> by a relative path.
    /// Returns the two folders (image, video).
    /// </summary>
    public static (string Image, string Video) WriteForSimulation(string outFolder, string clipFolder, MindAnimatorConfig config, bool overwrite)
    {
        var categories = config.Simulation.Categories;
        var image = Path.Combine(outFolder, "image");
        var video = Path.Combine(outFolder, "video");
        Write(image, clipFolder, SimulationClasses.ImageClasses(categories), overwrite);
        Write(video, clipFolder, SimulationClasses.VideoClasses(categories), overwrite);
        return (image, video);
    }

    /// <summary>Writes one zero-shot folder: its zero_shot.json with the CLIP folder as a path relative to it.</summary>
    public static void Write(string folder, string clipFolder, IReadOnlyList<string> classes, bool overwrite, string template = Template)
    {
        Directory.CreateDirectory(folder);
        var json = new JsonObject
        {
            ["format"] = ZeroShotSpec.Format,
            ["clip"] = Path.GetRelativePath(Path.GetFullPath(folder), Path.GetFullPath(clipFolder)).Replace('\\', '/'),
            ["template"] = template,
            ["classes"] = new JsonArray(classes.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()),
            ["video"] = ZeroShotSpec.MeanOfFrames,
        };
        AtomicFile.WriteAllText(Path.Combine(folder, ZeroShotSpec.FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), overwrite);
    }
}
