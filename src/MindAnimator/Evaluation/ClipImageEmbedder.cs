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
        var result = new List<float[]>(frames.Count);
        foreach (var batch in frames.Chunk(32))
        {
            var pixels = stack(batch.Select(f => tensor(_processor.Preprocess(f.Pixels.Span, f.Height, f.Width), new long[] { 3, _processor.CropHeight, _processor.CropWidth })).ToList());
            var embeds = _model.Forward(pixels).ImageEmbeds!;
            for (var i = 0; i < batch.Length; i++)
            {
                result.Add(embeds[i].data<float>().ToArray());
            }
        }
        return result;
    }

    public void Dispose() => _model.Dispose();
}
