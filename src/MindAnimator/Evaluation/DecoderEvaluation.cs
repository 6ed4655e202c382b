using System.Text.Json.Nodes;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Features;
using MindAnimator.Models.Decoders;
using MindAnimator.Reconstruction;
using Serilog;
using static TorchSharp.torch;

namespace MindAnimator.Evaluation;

/// <summary>One held-out score of a decoder: with the clips' own fMRI, with another clip's fMRI, and what chance or a baseline gives.</summary>
public sealed record DecoderScore(string Decoder, string Name, double Value, double ShuffledFmri, double Reference, string ReferenceName, bool HigherIsBetter, string Description)
{
    /// <summary>
    /// Two-sided paired Wilcoxon p of the per-clip scores with the own against the shuffled fMRI, where the score is a
    /// mean of per-clip values: a mean a hair better than the control's is not a decoder using the brain.
    /// </summary>
    public double? PairedP { get; init; }

    /// <summary>Better than both the shuffled-fMRI control (significantly so, where <see cref="PairedP"/> is known) and the reference (chance or baseline).</summary>
    public bool BeatsControls => (HigherIsBetter ? Value > ShuffledFmri && Value > Reference : Value < ShuffledFmri && Value < Reference)
        && (PairedP is not { } p || p < 0.05);
}

/// <summary>
/// Do the decoders learn? Scores on held-out clips against their stored features: semantic top-1/top-5 retrieval of
/// the clip's CLIP image (and text) embedding among all held-out clips; structure latent correlation; motion
/// next-frame error against copying the previous frame. Each is also computed with the fMRI of another clip (a seeded
/// derangement), which keeps everything but the brain-to-clip pairing.
/// </summary>
public static class DecoderEvaluation
{
    public const string FileName = "decoders.json";

    public static IReadOnlyList<DecoderScore> Run(string datasetFolder, string featuresFolder, DecoderSet decoders, string split, int seed, ILogger log)
    {
        var manifest = DatasetManifest.Read(datasetFolder);
        var table = FmriParquet.Read(DatasetManifest.Resolve(datasetFolder, manifest.Fmri));
        var samples = table.Samples.Where(s => s.Split == split).ToList();
        if (samples.Count < 2)
        {
            throw new MindAnimatorException($"{datasetFolder}: the decoder evaluation needs at least 2 '{split}' samples, found {samples.Count}.");
        }
        if (table.VoxelCount != decoders.Voxels)
        {
            throw new MindAnimatorException($"{datasetFolder}: {table.VoxelCount} voxels, but the decoders were trained on {decoders.Voxels}.");
        }
        var ids = samples.Select(s => s.ClipId).ToList();
        var store = FeatureStore.Open(featuresFolder);
        var captionFile = manifest.Captions is { } c ? DatasetManifest.Resolve(datasetFolder, c) : null;
        var captions = captionFile is not null && File.Exists(captionFile) ? CaptionTable.Read(captionFile).ToDictionary(kv => kv.Key, kv => kv.Value) : null;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var device = decoders.Semantic.parameters().First().device;
        var fmri = tensor(samples.SelectMany(s => s.Voxels).ToArray(), new long[] { samples.Count, table.VoxelCount }).to(device);
        var shuffled = fmri.index_select(0, tensor(ReconstructionJob.Derangement(samples.Count, seed), device: device));
        var image = nn.functional.normalize(store.Load(FeatureNames.ClipImage, ids).to(device), dim: 1);
        var text = nn.functional.normalize(store.Load(FeatureNames.ClipText, ids).to(device), dim: 1);
        var latents = store.Load(FeatureNames.Latents, ids).to(device);
        var n = samples.Count;
        var frames = (int)latents.shape[1];
        var tokens = latents.reshape(n, frames, -1);
        var scores = new List<DecoderScore>();

        // The fMRI embeddings, own and shuffled, once for all semantic scores.
        var ownEmbedding = nn.functional.normalize(decoders.Semantic.Embed(fmri), dim: 1);
        var shuffledEmbedding = nn.functional.normalize(decoders.Semantic.Embed(shuffled), dim: 1);

        double Retrieval(Tensor embedding, Tensor targets, int k)
        {
            var similarity = embedding.matmul(targets.T);
            var top = similarity.topk(Math.Min(k, n), dim: 1).indexes;
            var truth = arange(n, device: device).unsqueeze(1);
            return top.eq(truth).any(1).to(ScalarType.Float32).mean().item<float>();
        }

        foreach (var (name, targets, k) in new[] { ("top1_image", image, 1), ("top5_image", image, 5), ("top1_text", text, 1) })
        {
            scores.Add(new DecoderScore("semantic", $"{name}_retrieval", Retrieval(ownEmbedding, targets, k), Retrieval(shuffledEmbedding, targets, k), Math.Min(k, n) / (double)n, "chance", true,
                $"share of the {n} held-out clips whose CLIP {(name.Contains("text") ? "caption" : "image")} embedding is among the {k} nearest to the decoded fMRI embedding"));
        }

        // Scenes persist across clips, so neighbouring clips share a caption: count the nearest caption embedding as
        // right when its caption is the clip's own. Chance = the mean share of clips carrying each clip's caption.
        if (captions is not null)
        {
            var own = ids.Select(id => captions.GetValueOrDefault(id) ?? id).ToArray();
            double CaptionMatch(Tensor embedding)
            {
                var nearest = embedding.matmul(text.T).argmax(1).cpu().data<long>().ToArray();
                return nearest.Select((j, i) => own[j] == own[i] ? 1.0 : 0.0).Average();
            }

            var chance = own.Select(c => own.Count(o => o == c) / (double)n).Average();
            scores.Add(new DecoderScore("semantic", "top1_caption_match", CaptionMatch(ownEmbedding), CaptionMatch(shuffledEmbedding), chance, "chance", true,
                $"share of the {n} held-out clips whose nearest caption embedding (among the {n}) is a caption equal to the clip's own"));
        }

        // Scores that are means of per-clip values: the mean with either fMRI, and the paired test between them.
        DecoderScore PerClip(string decoder, string name, Func<Tensor, Tensor> perClip, double reference, string referenceName, bool higherIsBetter, string description)
        {
            var own = perClip(fmri).to(ScalarType.Float64).cpu().data<double>().ToArray();
            var other = perClip(shuffled).to(ScalarType.Float64).cpu().data<double>().ToArray();
            return new DecoderScore(decoder, name, own.Average(), other.Average(), reference, referenceName, higherIsBetter, description)
            {
                PairedP = EvalStatistics.Wilcoxon(own, other).PValue,
            };
        }

        Tensor PerClipMse(Tensor predicted, Tensor target) => (predicted - target).pow(2).mean(new long[] { 1, 2 });

        var meanFirst = tokens.select(1, 0).mean(new long[] { 0 }, keepdim: true).expand(n, -1);
        scores.Add(PerClip("structure", "first_frame_latent_r", brain => RowCorrelation(decoders.Structure.forward(brain).reshape(n, -1), tokens.select(1, 0)),
            RowCorrelation(meanFirst, tokens.select(1, 0)).mean().item<float>(), "mean latent", true,
            "Pearson r between the decoded and the true first-frame VAE latent, averaged over clips (reference: the training-set-free mean latent of the held-out clips)"));

        // Next-frame error: frames 0..t−1 (true) → frame t, under a plain causal mask, against copying frame t−1.
        var mask = AttentionMasks.Causal(frames - 1, device);
        var copyPrevious = nn.functional.mse_loss(tokens.narrow(1, 0, frames - 1), tokens.narrow(1, 1, frames - 1)).item<float>();
        scores.Add(PerClip("motion", "next_frame_mse", brain => PerClipMse(decoders.Motion.forward(brain, tokens.narrow(1, 0, frames - 1), mask), tokens.narrow(1, 1, frames - 1)),
            copyPrevious, "copy previous frame", false,
            "mean squared error of the next frame's latent predicted from the true earlier frames (causal mask), frames 1–7"));

        var still = nn.functional.mse_loss(tokens.narrow(1, 0, 1).expand(-1, frames - 1, -1), tokens.narrow(1, 1, frames - 1)).item<float>();
        scores.Add(PerClip("motion", "rollout_mse", brain => PerClipMse(decoders.Motion.GreedyDecode(tokens.narrow(1, 0, 1), brain, frames, InferenceMask.Official).narrow(1, 1, frames - 1), tokens.narrow(1, 1, frames - 1)),
            still, "repeat first frame", false,
            "mean squared error of frames 1–7 greedily decoded from the true first frame (official inference mask), against repeating frame 0"));
        // Simulated data only: is the motion in the fMRI at all, whatever the motion decoder makes of it?
        scores.AddRange(MotionInformationProbe.Run(datasetFolder, manifest, table, split, seed));
        foreach (var s in scores)
        {
            log.Information("{Decoder} {Name}: {Value:G4} (shuffled fMRI {Shuffled:G4}{Paired}, {RefName} {Ref:G4}){Flag}", s.Decoder, s.Name, s.Value, s.ShuffledFmri,
                s.PairedP is { } p ? $", paired p = {p:G3}" : string.Empty, s.ReferenceName, s.Reference, s.BeatsControls ? string.Empty : " — not better than the controls");
        }
        return scores;
    }

    /// <summary>Pearson correlation of each row of <paramref name="a"/> with the same row of <paramref name="b"/>.</summary>
    public static Tensor RowCorrelation(Tensor a, Tensor b)
    {
        var ac = a - a.mean(new long[] { 1 }, keepdim: true);
        var bc = b - b.mean(new long[] { 1 }, keepdim: true);
        return (ac * bc).sum(1) / (ac.norm(1) * bc.norm(1)).clamp_min(1e-12);
    }

    /// <summary>Writes <see cref="FileName"/>-style JSON of the scores to <paramref name="path"/> (temp file, then move).</summary>
    public static void Write(string path, IReadOnlyList<DecoderScore> scores, string split) =>
        AtomicFile.WriteAllText(path, ToJson(scores, split).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }), overwrite: true);

    public static JsonObject ToJson(IReadOnlyList<DecoderScore> scores, string split) => new()
    {
        ["format"] = "mindanim-decoder-eval/1",
        ["split"] = split,
        ["scores"] = new JsonArray(scores.Select(s => (JsonNode)new JsonObject
        {
            ["decoder"] = s.Decoder,
            ["name"] = s.Name,
            ["value"] = s.Value,
            ["shuffled_fmri"] = s.ShuffledFmri,
            ["reference"] = s.Reference,
            ["reference_name"] = s.ReferenceName,
            ["higher_is_better"] = s.HigherIsBetter,
            ["paired_p_vs_shuffled"] = s.PairedP,
            ["beats_controls"] = s.BeatsControls,
            ["description"] = s.Description,
        }).ToArray()),
    };
}
