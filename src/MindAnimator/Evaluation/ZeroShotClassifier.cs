using System.Text.Json;
using MindAnimator.Data;
using MindAnimator.Models.Clip;
using MindAnimator.Models.Common;
using static TorchSharp.torch;

namespace MindAnimator.Evaluation;

/// <summary>
/// A zero-shot classifier folder: <c>zero_shot.json</c> naming a transformers CLIP folder, a prompt template (or a
/// list of templates, whose embeddings are averaged per class) and the class names (<c>{"format":
/// "mindanim-zero-shot/1", "clip": "…", "template": "a {}", "classes": […], "video": "mean-of-frames"}</c>).
/// </summary>
public sealed record ZeroShotSpec(string File, string ClipFolder, IReadOnlyList<string> Templates, IReadOnlyList<string> Classes, string VideoPooling)
{
    public const string FileName = "zero_shot.json";
    public const string Format = "mindanim-zero-shot/1";
    public const string MeanOfFrames = "mean-of-frames";

    /// <summary>The texts a class is embedded from, one per template.</summary>
    public IReadOnlyList<string> Prompts(string className) => Templates.Select(t => t.Replace("{}", className, StringComparison.Ordinal)).ToList();

    public static bool IsZeroShotFolder(string folder) => System.IO.File.Exists(Path.Combine(folder, FileName));

    /// <summary>Reads and checks a folder's zero_shot.json; the "clip" path is resolved against the folder.</summary>
    public static ZeroShotSpec Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        var root = ModelJson.ReadObject(path);
        ModelJson.RequireFormat(path, root, Format);
        var clip = ModelJson.ClipFolder(path, folder, root);
        var hasOne = root.TryGetProperty("template", out var one);
        var hasMany = root.TryGetProperty("templates", out var many);
        if (hasOne == hasMany)
        {
            throw new DataFormatException(path, "field 'template': expected either \"template\" (one string with {} where the class name goes, e.g. \"a {}\") or \"templates\" (a list of such strings), not both or neither.");
        }
        var field = hasOne ? "template" : "templates";
        var templateValues = hasOne ? new[] { one } : many.ValueKind == JsonValueKind.Array && many.GetArrayLength() > 0 ? many.EnumerateArray().ToArray() : null;
        if (templateValues is null || templateValues.Any(v => v.ValueKind != JsonValueKind.String || !v.GetString()!.Contains("{}", StringComparison.Ordinal)))
        {
            throw new DataFormatException(path, $"field '{field}': expected {(hasOne ? "a string" : "a non-empty list of strings")} containing {{}} where the class name goes (e.g. \"a {{}}\").");
        }
        var templates = templateValues.Select(v => v.GetString()!).ToList();
        if (!root.TryGetProperty("classes", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() < 2)
        {
            throw new DataFormatException(path, "field 'classes': expected an array of at least 2 class names.");
        }
        var classes = new List<string>();
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
            {
                throw new DataFormatException(path, $"field 'classes': entry {classes.Count} is not a non-empty string.");
            }
            classes.Add(item.GetString()!);
        }
        var duplicate = classes.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new DataFormatException(path, $"field 'classes': '{duplicate.Key}' is listed more than once.");
        }
        var pooling = MeanOfFrames;
        if (root.TryGetProperty("video", out var video))
        {
            if (video.ValueKind != JsonValueKind.String || video.GetString() != MeanOfFrames)
            {
                throw new DataFormatException(path, $"field 'video': expected \"{MeanOfFrames}\" (the only clip pooling supported).");
            }
        }
        return new ZeroShotSpec(path, clip, templates, classes, pooling);
    }
}

/// <summary>
/// CLIP zero-shot classification over class prompts: probabilities = softmax(logit_scale · cos(image, class text)).
/// A frame is classified by its image embedding; a clip by the mean of its frames' embeddings (as ViFi-CLIP pools
/// frames). It stands in for ViT/VideoMAE on data whose categories it was given, e.g. the simulated movies.
/// </summary>
// Mirrors transformers models/clip/modeling_clip.py (CLIPModel.forward logits_per_image) and ViFi-CLIP trainers/vificlip.py (frame mean).
public sealed class ClipZeroShotClassifier : IFrameClassifier, IClipClassifier, IDisposable
{
    private const int BatchSize = 32;

    private readonly ClipVisionModelWithProjection _vision;
    private readonly ClipImageProcessor _processor;
    private readonly Tensor _classEmbeds;
    private readonly float _logitScale;

    public ClipZeroShotClassifier(ZeroShotSpec spec)
    {
        Spec = spec;
        using var clip = ClipTowers.Load(spec.ClipFolder, spec.File, withText: true);
        _vision = clip.TakeVision();
        _processor = clip.Processor;
        _logitScale = clip.LogitScale;
        _classEmbeds = ClassEmbeddings(spec, clip.Text!, clip.Tokenizer!);
        Name = $"CLIP zero-shot over {spec.Classes.Count} classes, {spec.Templates.Count} prompt template(s) ({Path.GetFullPath(Path.GetDirectoryName(spec.File)!)}, CLIP {Path.GetFullPath(spec.ClipFolder)})";
    }

    public ZeroShotSpec Spec { get; }

    public string Name { get; }

    public int Classes => Spec.Classes.Count;

    /// <summary>exp(logit_scale) the probabilities are computed with.</summary>
    public float LogitScale => _logitScale;

    /// <summary>
    /// Registers the loader of <see cref="EvalModelKind.ImageClassifier"/> and <see cref="EvalModelKind.VideoClassifier"/>:
    /// a folder with zero_shot.json becomes this classifier; any other folder is reported as a model this build cannot load.
    /// </summary>
    public static void Register(EvalModelCatalog catalog)
    {
        foreach (var kind in new[] { EvalModelKind.ImageClassifier, EvalModelKind.VideoClassifier })
        {
            catalog.Register(kind, folder => ZeroShotSpec.IsZeroShotFolder(folder)
                ? new ClipZeroShotClassifier(ZeroShotSpec.Read(folder))
                : throw new MissingEvalModelException(
                    $"this build of mindanim cannot load the {EvalModelCatalog.Info[kind].Description} yet (folder '{folder}' is configured, but only "
                    + $"CLIP zero-shot folders with {ZeroShotSpec.FileName} have a loader; the official model is {EvalModelCatalog.Info[kind].Download})."));
        }
    }

    /// <summary>
    /// One unit vector per class: the normalised text embeddings of its prompts averaged and normalised again (CLIP's
    /// prompt ensembling; with one template, the normalised embedding of its one prompt).
    /// </summary>
    // Mirrors openai/CLIP notebooks/Prompt_Engineering_for_ImageNet.ipynb (zeroshot_classifier).
    private static Tensor ClassEmbeddings(ZeroShotSpec spec, ClipTextModelWithProjection text, ClipTokenizer tokenizer)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var prompts = spec.Classes.SelectMany(spec.Prompts).ToList();
        var parts = new List<Tensor>();
        foreach (var batch in prompts.Chunk(256))
        {
            var (ids, _) = tokenizer.EncodeBatch(batch);
            parts.Add(nn.functional.normalize(text.Forward(ids).TextEmbeds!, p: 2, dim: 1));
        }
        var perPrompt = cat(parts, 0).reshape(spec.Classes.Count, spec.Templates.Count, -1);
        return nn.functional.normalize(perPrompt.mean([1]), p: 2, dim: 1).detach().MoveToOuterDisposeScope();
    }

    /// <summary>Class probabilities per frame.</summary>
    public IReadOnlyList<float[]> Probabilities(IReadOnlyList<RgbImage> frames)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var embeds = ClipTowers.EmbedFrames(_vision, _processor, frames, BatchSize);
        var probs = Softmax(embeds);
        return Enumerable.Range(0, frames.Count).Select(i => probs[i].data<float>().ToArray()).ToList();
    }

    /// <summary>Class probabilities of a clip: its frames' mean image embedding against the class prompts.</summary>
    public float[] Probabilities(ClipFrames clip)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var frames = Enumerable.Range(0, clip.Frames).Select(f => RgbImage.FromClip(clip, f)).ToList();
        var pooled = ClipTowers.EmbedFrames(_vision, _processor, frames, BatchSize).mean([0], keepdim: true);
        return Softmax(pooled)[0].data<float>().ToArray();
    }

    private Tensor Softmax(Tensor imageEmbeds)
    {
        var image = nn.functional.normalize(imageEmbeds, p: 2, dim: 1);
        return softmax(image.matmul(_classEmbeds.t()) * _logitScale, 1);
    }

    public void Dispose()
    {
        _vision.Dispose();
        _classEmbeds.Dispose();
    }
}

/// <summary>The parts of a transformers CLIP folder the evaluation models use.</summary>
internal sealed class ClipTowers : IDisposable
{
    /// <summary>transformers' CLIPConfig default logit_scale_init_value (ln(1/0.07)), used when neither weights nor config give one.</summary>
    private const double DefaultLogitScaleInit = 2.6592;

    private ClipVisionModelWithProjection? _vision;

    private ClipTowers(ClipVisionModelWithProjection vision, ClipImageProcessor processor, float logitScale, ClipTextModelWithProjection? text, ClipTokenizer? tokenizer)
    {
        _vision = vision;
        Processor = processor;
        LogitScale = logitScale;
        Text = text;
        Tokenizer = tokenizer;
    }

    public ClipImageProcessor Processor { get; }

    /// <summary>exp(logit_scale); NaN when loaded without the text tower.</summary>
    public float LogitScale { get; }

    public ClipTextModelWithProjection? Text { get; }

    public ClipTokenizer? Tokenizer { get; }

    /// <summary>Loads the vision tower (and the text tower and tokenizer) the way the CLIP-pcc embedder and feature extraction do.</summary>
    /// <param name="referencedBy">The file that named the folder, for error messages.</param>
    public static ClipTowers Load(string clipFolder, string referencedBy, bool withText)
    {
        if (!Directory.Exists(clipFolder))
        {
            throw new DataFormatException(referencedBy, $"field 'clip': the CLIP folder '{clipFolder}' does not exist (expected a transformers CLIP folder: config.json with text_config and vision_config, tokenizer files, model.safetensors).");
        }
        var vision = ClipVisionModelWithProjection.FromFolder(clipFolder);
        ClipTextModelWithProjection? text = null;
        try
        {
            var processor = ClipImageProcessor.OpenAiClipAt(vision.Config.ImageSize);
            var tokenizer = withText ? ClipTokenizer.FromFolder(clipFolder) : null;
            text = withText ? ClipTextModelWithProjection.FromFolder(clipFolder) : null;
            var logitScale = withText ? ReadLogitScale(clipFolder) : float.NaN;
            return new ClipTowers(vision, processor, logitScale, text, tokenizer);
        }
        catch
        {
            vision.Dispose();
            text?.Dispose();
            throw;
        }
    }

    /// <summary>Hands the vision tower to the caller (it is then not disposed with this object).</summary>
    public ClipVisionModelWithProjection TakeVision()
    {
        var vision = _vision ?? throw new InvalidOperationException("the vision tower was already taken");
        _vision = null;
        return vision;
    }

    /// <summary>Projected image embeddings (N, D) of frames with OpenAI CLIP's preprocessing, in batches; call inside a dispose scope.</summary>
    public static Tensor EmbedFrames(ClipVisionModelWithProjection vision, ClipImageProcessor processor, IReadOnlyList<RgbImage> frames, int batchSize)
    {
        var parts = new List<Tensor>();
        foreach (var batch in frames.Chunk(batchSize))
        {
            var pixels = stack(batch.Select(f => tensor(processor.Preprocess(f.Pixels.Span, f.Height, f.Width), new long[] { 3, processor.CropHeight, processor.CropWidth })).ToList());
            parts.Add(vision.Forward(pixels).ImageEmbeds!);
        }
        return parts.Count == 1 ? parts[0] : cat(parts, 0);
    }

    /// <summary>
    /// exp(logit_scale): the trained value in the weights (a CLIPModel checkpoint holds it), else the config's
    /// logit_scale_init_value, as transformers' CLIPModel would have it.
    /// </summary>
    private static float ReadLogitScale(string clipFolder)
    {
        var weights = StateDict.Read(StateDict.FindWeights(clipFolder, StateDict.TransformersWeightFiles));
        try
        {
            if (weights.TryGetValue("logit_scale", out var stored))
            {
                return (float)Math.Exp(stored.to(ScalarType.Float64).flatten()[0].item<double>());
            }
        }
        finally
        {
            foreach (var t in weights.Values)
            {
                t.Dispose();
            }
        }
        var configPath = Path.Combine(clipFolder, "config.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
        var init = doc.RootElement.TryGetProperty("logit_scale_init_value", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : DefaultLogitScaleInit;
        return (float)Math.Exp(init);
    }

    public void Dispose()
    {
        _vision?.Dispose();
        Text?.Dispose();
    }
}

/// <summary>Shared checks of the small JSON files that describe evaluation model folders.</summary>
internal static class ModelJson
{
    public static JsonElement ReadObject(string path)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: file not found.");
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new DataFormatException(path, "expected a JSON object.");
            }
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"invalid JSON ({e.Message}).", e);
        }
    }

    public static void RequireFormat(string path, JsonElement root, string format)
    {
        if (!root.TryGetProperty("format", out var f) || f.ValueKind != JsonValueKind.String || f.GetString() != format)
        {
            throw new DataFormatException(path, $"field 'format': expected \"{format}\".");
        }
    }

    /// <summary>The "clip" field: a folder path, relative to the folder holding the file or absolute.</summary>
    public static string ClipFolder(string path, string folder, JsonElement root)
    {
        if (!root.TryGetProperty("clip", out var clip) || clip.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(clip.GetString()))
        {
            throw new DataFormatException(path, "field 'clip': expected the path of a transformers CLIP folder (relative to this file's folder, or absolute).");
        }
        return Path.GetFullPath(Path.Combine(folder, clip.GetString()!));
    }
}
