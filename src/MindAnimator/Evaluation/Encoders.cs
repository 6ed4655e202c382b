using MindAnimator.Data;

namespace MindAnimator.Evaluation;

/// <summary>Embeds single frames (CLIP ViT-B/32 <c>encode_image</c> with CLIP's own preprocessing, for CLIP-pcc).</summary>
public interface IImageEmbedder
{
    /// <summary>What the embedder is (model id or folder), stated in the eval output.</summary>
    string Name { get; }

    /// <summary>One embedding per frame, in order.</summary>
    IReadOnlyList<float[]> Embed(IReadOnlyList<RgbImage> frames);
}

/// <summary>Embeds whole clips (ViFi-CLIP ViT-B/16, frames resized to 256 and centre-cropped to 224, for VIFI).</summary>
public interface IVideoEmbedder
{
    string Name { get; }

    float[] Embed(ClipFrames clip);
}

/// <summary>Class probabilities of single frames (ViT-base-patch16-224, ImageNet-1k, for N-way-I).</summary>
public interface IFrameClassifier
{
    string Name { get; }

    /// <summary>Number of classes (1000 for ImageNet).</summary>
    int Classes { get; }

    /// <summary>Softmax probabilities (length <see cref="Classes"/>) per frame.</summary>
    IReadOnlyList<float[]> Probabilities(IReadOnlyList<RgbImage> frames);
}

/// <summary>Class probabilities of whole clips (VideoMAE-base fine-tuned on Kinetics-400, for N-way-V).</summary>
public interface IClipClassifier
{
    string Name { get; }

    int Classes { get; }

    float[] Probabilities(ClipFrames clip);
}

/// <summary>The encoders and classifiers an eval may use; a metric whose model is null cannot run.</summary>
public sealed record EvalModels
{
    public static EvalModels None { get; } = new();

    public IImageEmbedder? ClipImage { get; init; }

    public IVideoEmbedder? ViFiClip { get; init; }

    public IFrameClassifier? ImageClassifier { get; init; }

    public IClipClassifier? VideoClassifier { get; init; }
}

/// <summary>Embedding-based metrics (CLIP-pcc, VIFI).</summary>
public static class EmbeddingMetrics
{
    /// <summary>Cosine similarity in float64.</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"embeddings differ in length: {a.Length} vs {b.Length}");
        }
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / (Math.Sqrt(na) * Math.Sqrt(nb));
    }

    /// <summary>VIFI-score: cosine similarity of the video embeddings of reconstruction and ground truth.</summary>
    // Mirrors Mind-Animator Evaluation_Metrics/ViFi_CLIP.zip (cosine of ViFi-CLIP video embeddings).
    public static double Vifi(IVideoEmbedder embedder, ClipFrames prediction, ClipFrames groundTruth) =>
        Cosine(embedder.Embed(prediction), embedder.Embed(groundTruth));

    /// <summary>
    /// CLIP-pcc: the mean cosine similarity of the CLIP image embeddings of adjacent reconstructed frames, set to 0
    /// when the clip's VIFI-score is at or below <paramref name="vifiGate"/> (0.6 in the paper).
    /// </summary>
    // Mirrors Mind-Animator Evaluation_Metrics/CLIP_consist.py (cal_CLIP_pcc).
    public static double ClipPcc(IImageEmbedder embedder, ClipFrames prediction, double vifi, double vifiGate)
    {
        if (vifi <= vifiGate)
        {
            return 0;
        }
        var frames = Enumerable.Range(0, prediction.Frames).Select(f => RgbImage.FromClip(prediction, f)).ToList();
        var embeddings = embedder.Embed(frames);
        double sum = 0;
        for (var f = 0; f + 1 < embeddings.Count; f++)
        {
            sum += Cosine(embeddings[f], embeddings[f + 1]);
        }
        return sum / (embeddings.Count - 1);
    }
}
