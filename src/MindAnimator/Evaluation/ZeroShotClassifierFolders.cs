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
    /// <c>simulation.categories</c> shapes, each pointing at <paramref name="clipFolder"/> by a relative path, with
    /// caption-like prompt templates (<see cref="SimulationClasses.ImageTemplates"/>, <see cref="SimulationClasses.VideoTemplates"/>).
    /// Returns the two folders (image, video).
    /// </summary>
    public static (string Image, string Video) WriteForSimulation(string outFolder, string clipFolder, MindAnimatorConfig config, bool overwrite)
    {
        var categories = config.Simulation.Categories;
        var image = Path.Combine(outFolder, "image");
        var video = Path.Combine(outFolder, "video");
        Write(image, clipFolder, SimulationClasses.ImageClasses(categories), SimulationClasses.ImageTemplates(), overwrite);
        Write(video, clipFolder, SimulationClasses.VideoClasses(categories), SimulationClasses.VideoTemplates(), overwrite);
        return (image, video);
    }

    /// <summary>
    /// Writes a zero-shot folder whose classes are the distinct <paramref name="captions"/> themselves (template "{}"),
    /// in first-seen order: N-way then asks whether the reconstruction is matched to the ground truth's caption — what a
    /// CLIP trained on whole captions (the demo prior's) tells apart far better than short colour–shape prompts. The
    /// same folder serves frames and clips.
    /// </summary>
    public static string WriteForCaptions(string folder, string clipFolder, IEnumerable<string> captions, bool overwrite)
    {
        var classes = captions.Distinct(StringComparer.Ordinal).ToList();
        Write(folder, clipFolder, classes, overwrite, "{}");
        return folder;
    }

    /// <summary>Writes one zero-shot folder with one prompt template.</summary>
    public static void Write(string folder, string clipFolder, IReadOnlyList<string> classes, bool overwrite, string template = Template) =>
        Write(folder, clipFolder, classes, new[] { template }, overwrite);

    /// <summary>
    /// Writes one zero-shot folder: its zero_shot.json with the CLIP folder as a path relative to it, "template" for one
    /// template, "templates" for several (averaged per class).
    /// </summary>
    public static void Write(string folder, string clipFolder, IReadOnlyList<string> classes, IReadOnlyList<string> templates, bool overwrite)
    {
        Directory.CreateDirectory(folder);
        var json = new JsonObject
        {
            ["format"] = ZeroShotSpec.Format,
            ["clip"] = Path.GetRelativePath(Path.GetFullPath(folder), Path.GetFullPath(clipFolder)).Replace('\\', '/'),
            ["classes"] = new JsonArray(classes.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()),
            ["video"] = ZeroShotSpec.MeanOfFrames,
        };
        if (templates.Count == 1)
        {
            json["template"] = templates[0];
        }
        else
        {
            json["templates"] = new JsonArray(templates.Select(t => (JsonNode)JsonValue.Create(t)).ToArray());
        }
        AtomicFile.WriteAllText(Path.Combine(folder, ZeroShotSpec.FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), overwrite);
    }
}
