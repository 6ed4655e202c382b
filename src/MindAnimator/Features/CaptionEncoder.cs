using System.Globalization;
using MindAnimator.Diffusion.Pipelines;
using MindAnimator.Models.Clip;
using Serilog;
using static TorchSharp.torch;

namespace MindAnimator.Features;

/// <summary>Text targets of captions: what semantic training needs to re-encode augmented captions.</summary>
public interface ICaptionTextEncoder
{
    /// <summary>(B, clip_dim) CLIP text embeddings and (B, tokens, token_dim) SD text-encoder states after the start token, float32 on the CPU.</summary>
    (Tensor ClipText, Tensor SdText) Encode(IReadOnlyList<string> captions);
}

/// <summary>
/// The two frozen text encoders of the features: CLIP's text tower with projection (clip_text) and Stable Diffusion's
/// text encoder at features.caption_tokens tokens (sd_text). <see cref="FeatureExtractor"/> and caption-augmented
/// semantic training both encode through <see cref="Encode(ClipTokenizer, ClipTextModelWithProjection, ClipTokenizer, ClipTextModel, IReadOnlyList{string}, int, Device)"/>.
/// </summary>
public sealed class CaptionEncoder : ICaptionTextEncoder, IDisposable
{
    private readonly ClipTokenizer _clipTokenizer;
    private readonly ClipTextModelWithProjection _clipText;
    private readonly ClipTokenizer _sdTokenizer;
    private readonly ClipTextModel _sdText;
    private readonly int _captionTokens;
    private readonly Device _device;

    public CaptionEncoder(ClipTokenizer clipTokenizer, ClipTextModelWithProjection clipText, ClipTokenizer sdTokenizer, ClipTextModel sdText, int captionTokens, Device device)
    {
        _clipTokenizer = clipTokenizer;
        _clipText = clipText;
        _sdTokenizer = sdTokenizer;
        _sdText = sdText;
        _captionTokens = captionTokens;
        _device = device;
    }

    /// <summary>
    /// The text encoders a feature store was computed with (features.json provenance: clip_folder, sd_folder,
    /// caption_tokens), so re-encoded captions are targets of the same kind as the stored ones.
    /// </summary>
    public static CaptionEncoder FromFeatures(FeatureStore store, Device device, ILogger log)
    {
        var index = Path.Combine(store.Folder, FeatureStore.IndexFile);
        string Field(string key) => store.Index.Provenance.TryGetValue(key, out var v)
            ? v
            : throw new DataFormatException(index, $"provenance lacks '{key}'; caption augmentation re-encodes captions with the feature encoders: compute the features again with `mindanim features`");
        var clip = Field("clip_folder");
        var sd = Field("sd_folder");
        if (!int.TryParse(Field("caption_tokens"), NumberStyles.None, CultureInfo.InvariantCulture, out var tokens))
        {
            throw new DataFormatException(index, $"provenance field 'caption_tokens' is '{store.Index.Provenance["caption_tokens"]}', expected a whole number");
        }
        foreach (var (key, folder) in new[] { ("clip_folder", clip), ("sd_folder", sd) })
        {
            if (!Directory.Exists(folder))
            {
                throw new MindAnimatorException($"{folder}: the {key} the features were computed with ({index}) is gone; caption augmentation re-encodes captions with it. "
                    + "Restore it, compute the features again, or set semantic.caption_augmentation.enabled: false.");
            }
        }
        var sdFolder = StableDiffusionFolder.Open(sd, log);
        log.Information("Caption augmentation: text encoders from {Clip} (CLIP) and {Sd} (SD, {Tokens} tokens)", clip, sd, tokens);
        return new CaptionEncoder(ClipTokenizer.FromFolder(clip), ClipTextModelWithProjection.FromFolder(clip, device), sdFolder.LoadTokenizer(), sdFolder.LoadTextEncoder(device), tokens, device);
    }

    public (Tensor ClipText, Tensor SdText) Encode(IReadOnlyList<string> captions)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (clipText, sdHidden) = Encode(_clipTokenizer, _clipText, _sdTokenizer, _sdText, captions, _captionTokens, _device);
        var tokens = sdHidden.narrow(1, 1, sdHidden.shape[1] - 1);
        return (clipText.to(float32).cpu().MoveToOuterDisposeScope(), tokens.to(float32).cpu().contiguous().MoveToOuterDisposeScope());
    }

    /// <summary>CLIP text embeddings (B, D) and SD's full last hidden states (B, captionTokens, H), start token included, on <paramref name="device"/>.</summary>
    public static (Tensor ClipText, Tensor SdHidden) Encode(ClipTokenizer clipTokenizer, ClipTextModelWithProjection clipText, ClipTokenizer sdTokenizer, ClipTextModel sdText,
        IReadOnlyList<string> captions, int captionTokens, Device device)
    {
        var (clipIds, _) = clipTokenizer.EncodeBatch(captions);
        var embeddings = clipText.Forward(clipIds.to(device)).TextEmbeds!;
        var (sdIds, _) = sdTokenizer.EncodeBatch(captions, captionTokens);
        return (embeddings, sdText.Forward(sdIds.to(device)).LastHiddenState);
    }

    public void Dispose()
    {
        _clipText.Dispose();
        _sdText.Dispose();
    }
}
