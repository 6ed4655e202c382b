using MindAnimator.Data;
using MindAnimator.Models.Clip;
using static TorchSharp.torch;

namespace MindAnimator.Evaluation;

/// <summary>
/// A video encoder folder: <c>video_encoder.json</c> = <c>{"format": "mindanim-video-encoder/1", "clip": "…",
/// "pooling": "mean"}</c>, naming a transformers CLIP folder whose per-frame image embeddings are averaged over time.
/// </summary>
public sealed record VideoEncoderSpec(string File, string ClipFolder, string Pooling)
{
    public const string FileName = "video_encoder.json";
    public const string Format = "mindanim-video-encoder/1";
    public const string Mean = "mean";

    public static bool IsVideoEncoderFolder(string folder) => System.IO.File.Exists(Path.Combine(folder, FileName));

    public static VideoEncoderSpec Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        var root = ModelJson.ReadObject(path);
        ModelJson.RequireFormat(path, root, Format);
        var clip = ModelJson.ClipFolder(path, folder, root);
        if (!root.TryGetProperty("pooling", out var pooling) || pooling.ValueKind != System.Text.Json.JsonValueKind.String || pooling.GetString() != Mean)
        {
            throw new DataFormatException(path, $"field 'pooling': expected \"{Mean}\" (per-frame embeddings averaged over time, the only pooling supported).");
        }
        return new VideoEncoderSpec(path, clip, Mean);
    }
}

/// <summary>
/// The architecture of ViFi-CLIP's video encoder — CLIP image embeddings of each frame averaged over time — run with
/// any transformers CLIP folder (e.g. the simulated data's prior CLIP). It is not ViFi-CLIP (whose CLIP was fine-tuned
/// on Kinetics-400), so its name says so in every eval output.
/// </summary>
// Mirrors ViFi-CLIP trainers/vificlip.py (ViFiCLIP.forward: image features of b·t frames viewed (b, t, d), mean over t).
public sealed class ClipFrameMeanVideoEncoder : IVideoEmbedder, IDisposable
{
    private readonly ClipVisionModelWithProjection _vision;
    private readonly ClipImageProcessor _processor;

    public ClipFrameMeanVideoEncoder(VideoEncoderSpec spec)
    {
        using var clip = ClipTowers.Load(spec.ClipFolder, spec.File, withText: false);
        _vision = clip.TakeVision();
        _processor = clip.Processor;
        Name = $"CLIP frame-mean video encoder, a ViFi-CLIP-style stand-in, not ViFi-CLIP ({Path.GetFullPath(Path.GetDirectoryName(spec.File)!)}, CLIP {spec.ClipFolder})";
    }

    public string Name { get; }

    /// <summary>
    /// Registers the loader of <see cref="EvalModelKind.Vifi"/>: a folder with video_encoder.json becomes this encoder;
    /// any other folder is reported as a model this build cannot load.
    /// </summary>
    public static void Register(EvalModelCatalog catalog) =>
        catalog.Register(EvalModelKind.Vifi, folder => VideoEncoderSpec.IsVideoEncoderFolder(folder)
            ? new ClipFrameMeanVideoEncoder(VideoEncoderSpec.Read(folder))
            : throw new MissingEvalModelException(
                $"this build of mindanim cannot load the {EvalModelCatalog.Info[EvalModelKind.Vifi].Description} yet (folder '{folder}' is configured, but only "
                + $"CLIP frame-mean folders with {VideoEncoderSpec.FileName} have a loader; the official model is {EvalModelCatalog.Info[EvalModelKind.Vifi].Download})."));

    /// <summary>The mean of the clip's per-frame projected CLIP image embeddings (not normalised; VIFI takes their cosine).</summary>
    public float[] Embed(ClipFrames clip)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var frames = Enumerable.Range(0, clip.Frames).Select(f => RgbImage.FromClip(clip, f)).ToList();
        return ClipTowers.EmbedFrames(_vision, _processor, frames, 32).mean([0]).data<float>().ToArray();
    }

    public void Dispose() => _vision.Dispose();
}
