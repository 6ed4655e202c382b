using MindAnimator.Models.Clip;
using static TorchSharp.torch;

namespace MindAnimator.Evaluation;

// Mirrors Mind-Animator Evaluation_Metrics/CLIP_consist.py (model.encode_image after CLIP's preprocess).

/// <summary>CLIP image embeddings of frames (CLIP-pcc): a transformers CLIP folder, OpenAI's preprocessing.</summary>
public sealed class ClipImageEmbedder : IImageEmbedder, IDisposable
{
    private readonly ClipVisionModelWithProjection _model;
    private readonly ClipImageProcessor _processor;

    public ClipImageEmbedder(string folder)
    {
        _model = ClipVisionModelWithProjection.FromFolder(folder);
        var size = _model.Config.ImageSize;
        _processor = ClipImageProcessor.OpenAiClipAt(size);
        Name = Path.GetFullPath(folder);
    }

    public string Name { get; }

    /// <summary>Registers this embedder as the loader of <see cref="EvalModelKind.ClipImage"/>.</summary>
    public static void Register(EvalModelCatalog catalog) => catalog.Register(EvalModelKind.ClipImage, folder => new ClipImageEmbedder(folder));

    public IReadOnlyList<float[]> Embed(IReadOnlyList<RgbImage> frames)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var embeds = ClipTowers.EmbedFrames(_model, _processor, frames, 32);
        var result = new List<float[]>(frames.Count);
        for (var i = 0; i < frames.Count; i++)
        {
            result.Add(embeds[i].data<float>().ToArray());
        }
        return result;
    }

    public void Dispose() => _model.Dispose();
}
