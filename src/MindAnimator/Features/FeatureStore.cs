using System.Text.Json;
using System.Text.Json.Serialization;
using MindAnimator.Data.Formats;
using MindAnimator.Models.Common;
using static TorchSharp.torch;

namespace MindAnimator.Features;

/// <summary>Names of the stored features (tensor names in every chunk).</summary>
public static class FeatureNames
{
    /// <summary>(clips, D) CLIP image embedding of the clip's target frame (contrastive target).</summary>
    public const string ClipImage = "clip_image";

    /// <summary>(clips, D) CLIP text embedding of the caption (contrastive and MSE target).</summary>
    public const string ClipText = "clip_text";

    /// <summary>(clips, tokens − 1, H) SD text-encoder hidden states of the caption after the start token (semantic regression target).</summary>
    public const string SdText = "sd_text";

    /// <summary>(clips, frames, C, h, w) VAE latents × scaling factor of every frame (frame 0: structure, 1…: motion).</summary>
    public const string Latents = "latents";

    /// <summary>(1, H) hidden state of the start token: the same for every caption (causal attention), saved once.</summary>
    public const string StartToken = "start_token";
}

/// <summary>
/// Per-clip features on disk: <c>features.json</c> (clip ids of each chunk, shapes, provenance) and
/// <c>chunk-NNNNN.safetensors</c> files holding every feature for their clips, plus <c>start_token.safetensors</c>.
/// A chunk is listed only once it is completely written, so an interrupted run resumes at the first missing chunk.
/// </summary>
public sealed class FeatureStore
{
    public const string IndexFile = "features.json";
    public const string FormatVersion = "mindanim-features/1";
    public const string StartTokenFile = "start_token.safetensors";

    private FeatureStore(string folder, FeatureIndex index)
    {
        Folder = folder;
        Index = index;
    }

    public string Folder { get; }

    public FeatureIndex Index { get; }

    /// <summary>Clip ids in stored order.</summary>
    public IReadOnlyList<string> ClipIds => Index.Chunks.SelectMany(c => c.ClipIds).ToList();

    public static FeatureStore Open(string folder)
    {
        folder = Path.GetFullPath(folder);
        var path = Path.Combine(folder, IndexFile);
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: not found; compute features with `mindanim features`");
        }
        FeatureIndex? index;
        try
        {
            index = JsonSerializer.Deserialize<FeatureIndex>(File.ReadAllText(path), FeatureIndex.Options);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"not a valid feature index ({e.Message})", e);
        }
        if (index is null || index.Format != FormatVersion)
        {
            throw new DataFormatException(path, $"field 'format' is '{index?.Format}', expected '{FormatVersion}'");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in index.Chunks.SelectMany(c => c.ClipIds))
        {
            if (!seen.Add(id))
            {
                throw new DataFormatException(path, $"clip id '{id}' appears in two chunks");
            }
        }
        return new FeatureStore(folder, index);
    }

    /// <summary>
    /// One feature for <paramref name="clipIds"/> (in that order), stacked on dimension 0, on the CPU. A clip id
    /// without features is an error that names it.
    /// </summary>
    public Tensor Load(string feature, IReadOnlyList<string> clipIds)
    {
        if (!Index.Shapes.ContainsKey(feature))
        {
            throw new MindAnimatorException($"{Folder}: no feature '{feature}' (stored: {string.Join(", ", Index.Shapes.Keys)})");
        }
        var where = new Dictionary<string, (int Chunk, int Row)>(StringComparer.Ordinal);
        for (var c = 0; c < Index.Chunks.Count; c++)
        {
            for (var r = 0; r < Index.Chunks[c].ClipIds.Count; r++)
            {
                where[Index.Chunks[c].ClipIds[r]] = (c, r);
            }
        }
        var missing = clipIds.Where(id => !where.ContainsKey(id)).ToList();
        if (missing.Count > 0)
        {
            throw new MindAnimatorException(
                $"{Folder}: no features for {missing.Count} of {clipIds.Count} clips (first: {string.Join(", ", missing.Take(5))}); were they computed from the same dataset?");
        }
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        foreach (var group in clipIds.Select((id, i) => (where[id], i)).GroupBy(x => x.Item1.Chunk))
        {
            var chunk = ReadChunk(group.Key, feature);
            var rows = tensor(group.Select(x => (long)x.Item1.Row).ToArray());
            parts.Add(chunk.index_select(0, rows));
        }
        // Reorder the chunk-grouped rows back to the requested order.
        var order = clipIds.Select((id, i) => (where[id], i)).GroupBy(x => x.Item1.Chunk).SelectMany(g => g.Select(x => (long)x.i)).ToArray();
        var stacked = cat(parts, 0);
        var inverse = argsort(tensor(order));
        return stacked.index_select(0, inverse).MoveToOuterDisposeScope();
    }

    /// <summary>The start token's hidden state (1, H).</summary>
    public Tensor StartToken()
    {
        var path = Path.Combine(Folder, StartTokenFile);
        var weights = StateDict.Read(path);
        return weights.TryGetValue(FeatureNames.StartToken, out var t) ? t : throw new DataFormatException(path, $"tensor '{FeatureNames.StartToken}' missing");
    }

    private Tensor ReadChunk(int chunk, string feature)
    {
        var path = Path.Combine(Folder, Index.Chunks[chunk].File);
        var weights = StateDict.Read(path);
        if (!weights.TryGetValue(feature, out var t))
        {
            throw new DataFormatException(path, $"tensor '{feature}' missing");
        }
        foreach (var (name, other) in weights)
        {
            if (name != feature)
            {
                other.Dispose();
            }
        }
        if (t.shape[0] != Index.Chunks[chunk].ClipIds.Count)
        {
            throw new DataFormatException(path, $"tensor '{feature}' has {t.shape[0]} rows, the index lists {Index.Chunks[chunk].ClipIds.Count} clips");
        }
        return t;
    }
}

/// <summary>What <c>features.json</c> holds.</summary>
public sealed record FeatureIndex
{
    public string Format { get; init; } = FeatureStore.FormatVersion;

    /// <summary>Per-clip shape of each feature (without the clip dimension).</summary>
    public Dictionary<string, long[]> Shapes { get; init; } = new();

    public List<FeatureChunk> Chunks { get; init; } = new();

    /// <summary>Where the features came from: model folders, frame used, latent scaling, seed, dataset.</summary>
    public Dictionary<string, string> Provenance { get; init; } = new();

    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>One chunk file and the clips it holds, in row order.</summary>
public sealed record FeatureChunk(string File, List<string> ClipIds);
