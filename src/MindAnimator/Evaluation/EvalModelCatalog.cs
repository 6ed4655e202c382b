using MindAnimator.Config;

namespace MindAnimator.Evaluation;

/// <summary>The kinds of model the model-based metrics need.</summary>
public enum EvalModelKind
{
    ClipImage,
    Vifi,
    ImageClassifier,
    VideoClassifier,
}

/// <summary>What a model kind is, where to get it and where to point the tool at it.</summary>
public sealed record EvalModelInfo(EvalModelKind Kind, string Description, string Download, string ConfigKey, string Option);

/// <summary>A metric needs a model that is not configured, not present, or cannot be loaded by this build.</summary>
public sealed class MissingEvalModelException : MindAnimatorException
{
    public MissingEvalModelException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// Turns the configured model folders into encoders and classifiers. Loaders are registered per kind by the code
/// that implements the model (the CLIP port; CLIP zero-shot classifier folders and the CLIP frame-mean video encoder
/// for data with known categories such as the simulated movies; a ViT/VideoMAE port); a metric whose
/// model is not configured, whose folder is missing, or whose kind has no loader fails with a message naming what to
/// download and where to put it.
/// </summary>
public sealed class EvalModelCatalog
{
    public static readonly IReadOnlyDictionary<EvalModelKind, EvalModelInfo> Info = new Dictionary<EvalModelKind, EvalModelInfo>
    {
        [EvalModelKind.ClipImage] = new(EvalModelKind.ClipImage, "CLIP ViT-B/32 image encoder",
            "the Hugging Face model openai/clip-vit-base-patch32", "eval.models.clip_image", "--clip-model"),
        [EvalModelKind.Vifi] = new(EvalModelKind.Vifi, "ViFi-CLIP ViT-B/16 video encoder (Kinetics-400 base-to-novel checkpoint)",
            "the ViFi-CLIP checkpoint from github.com/muzairkhattak/ViFi-CLIP (Mind-Animator ships its code as Evaluation_Metrics/ViFi_CLIP.zip)", "eval.models.vifi", "--vifi-model"),
        [EvalModelKind.ImageClassifier] = new(EvalModelKind.ImageClassifier, "ViT-base-patch16-224 ImageNet classifier",
            "the Hugging Face model google/vit-base-patch16-224", "eval.models.image_classifier", "--image-classifier"),
        [EvalModelKind.VideoClassifier] = new(EvalModelKind.VideoClassifier, "VideoMAE-base Kinetics-400 video classifier",
            "the Hugging Face model MCG-NJU/videomae-base-finetuned-kinetics", "eval.models.video_classifier", "--video-classifier"),
    };

    private readonly Dictionary<EvalModelKind, Func<string, object>> _loaders = new();

    /// <summary>The catalog the CLI uses; model ports register their loaders here.</summary>
    public static EvalModelCatalog Default { get; } = WithBuiltInLoaders();

    private static EvalModelCatalog WithBuiltInLoaders()
    {
        var catalog = new EvalModelCatalog();
        ClipImageEmbedder.Register(catalog);
        ClipZeroShotClassifier.Register(catalog);
        ClipFrameMeanVideoEncoder.Register(catalog);
        return catalog;
    }

    public void Register(EvalModelKind kind, Func<string, object> loader) => _loaders[kind] = loader;

    public bool HasLoader(EvalModelKind kind) => _loaders.ContainsKey(kind);

    /// <summary>Loads the models the given kinds need; all problems are reported together.</summary>
    public EvalModels Load(IEnumerable<EvalModelKind> needed, EvalModelSettings folders)
    {
        var kinds = needed.Distinct().OrderBy(k => k).ToList();
        var problems = new List<string>();
        foreach (var kind in kinds)
        {
            var info = Info[kind];
            var folder = FolderOf(kind, folders);
            var where = $"download {info.Download} into a local folder and set {info.ConfigKey} (or pass {info.Option} DIR)";
            if (string.IsNullOrEmpty(folder))
            {
                problems.Add($"the {info.Description} is not configured: {where}");
            }
            else if (!Directory.Exists(folder))
            {
                problems.Add($"the {info.Description} folder '{folder}' ({info.ConfigKey}) does not exist: {where}");
            }
            else if (!_loaders.ContainsKey(kind))
            {
                problems.Add($"this build of mindanim cannot load the {info.Description} yet (folder '{folder}' is configured, but no loader is registered)");
            }
        }
        if (problems.Count > 0)
        {
            throw new MissingEvalModelException("cannot compute the requested metrics: " + string.Join("; ", problems) + ".");
        }
        var models = EvalModels.None;
        foreach (var kind in kinds)
        {
            var model = _loaders[kind](FolderOf(kind, folders)!);
            models = kind switch
            {
                EvalModelKind.ClipImage => models with { ClipImage = Cast<IImageEmbedder>(model, kind) },
                EvalModelKind.Vifi => models with { ViFiClip = Cast<IVideoEmbedder>(model, kind) },
                EvalModelKind.ImageClassifier => models with { ImageClassifier = Cast<IFrameClassifier>(model, kind) },
                _ => models with { VideoClassifier = Cast<IClipClassifier>(model, kind) },
            };
        }
        return models;
    }

    private static T Cast<T>(object model, EvalModelKind kind)
        where T : class =>
        model as T ?? throw new InvalidOperationException($"the loader for {kind} returned {model.GetType().Name}, expected {typeof(T).Name}");

    private static string? FolderOf(EvalModelKind kind, EvalModelSettings folders) => kind switch
    {
        EvalModelKind.ClipImage => folders.ClipImage,
        EvalModelKind.Vifi => folders.Vifi,
        EvalModelKind.ImageClassifier => folders.ImageClassifier,
        _ => folders.VideoClassifier,
    };
}
