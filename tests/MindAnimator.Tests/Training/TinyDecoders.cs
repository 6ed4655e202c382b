using System.Text;
using MindAnimator.Config;
using MindAnimator.Features;
using MindAnimator.Models.Decoders;
using MindAnimator.Text;
using MindAnimator.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Training;

/// <summary>Tiny decoders and synthetic in-memory data for trainer tests.</summary>
internal static class TinyDecoders
{
    public const int Voxels = 16;
    public const int Frames = 4;

    public static SemanticDecoderSettings Semantic(int epochs, int patience = 0, double lr = 1e-2) => new()
    {
        Hidden = 8,
        ResidualBlocks = 2,
        HeadHidden = new[] { 6, 5 },
        Tokens = 3,
        TokenDim = 4,
        ClipDim = 8,
        Training = new TrainingSettings { LearningRate = lr, LrDecay = 0.9, Epochs = epochs, BatchSize = 5, EarlyStoppingPatience = patience },
    };

    public static StructureDecoderSettings Structure(int epochs, int patience = 0, double lr = 1e-2) => new()
    {
        Hidden = 8,
        ResidualBlocks = 2,
        OutputDim = 12,
        L1Weight = 1e-3,
        Training = new TrainingSettings { LearningRate = lr, LrDecay = 0.95, Epochs = epochs, BatchSize = 5, EarlyStoppingPatience = patience },
    };

    public static MotionDecoderSettings Motion(int epochs, bool fixedMask = false) => new()
    {
        ModelDim = 16,
        Layers = 2,
        FeedForward = 8,
        Heads = 2,
        AttentionDim = 8,
        EncoderHidden = 8,
        WarmupSteps = 3,
        L1Weight = 1e-4,
        FixedTrainingMask = fixedMask,
        Training = new TrainingSettings { Epochs = epochs, BatchSize = 5, AdamBeta2 = 0.98, AdamEpsilon = 1e-9 },
    };

    /// <summary>A fresh task of <paramref name="kind"/> (semantic, semantic-eda, structure, motion, motion-fixed) for <paramref name="epochs"/>.</summary>
    public static IDecoderTask Task(string kind, int epochs, int seed, int patience = 0, double lr = 1e-2) => kind switch
    {
        "semantic" => new SemanticTask(new SemanticDecoder(SemanticDecoderOptions.FromSettings(Semantic(epochs, patience, lr), Voxels)), Semantic(epochs, patience, lr)),
        "semantic-eda" => new SemanticTask(new SemanticDecoder(SemanticDecoderOptions.FromSettings(Semantic(epochs, patience, lr), Voxels)), Semantic(epochs, patience, lr), Captions()),
        "structure" => new StructureTask(new StructureDecoder(StructureDecoderOptions.FromSettings(Structure(epochs, patience, lr), Voxels)), Structure(epochs, patience, lr)),
        "motion" => new MotionTask(new MotionGenerator(MotionGeneratorOptions.FromSettings(Motion(epochs), Voxels)), Motion(epochs), seed),
        "motion-fixed" => new MotionTask(new MotionGenerator(MotionGeneratorOptions.FromSettings(Motion(epochs, fixedMask: true), Voxels)), Motion(epochs, fixedMask: true), seed),
        _ => throw new ArgumentException(kind),
    };

    /// <summary>Caption augmentation of <paramref name="clips"/> captions with a fixed synonym table and <see cref="HashCaptionEncoder"/>.</summary>
    public static CaptionAugmentation Captions(int clips = 24) => new(
        Enumerable.Range(0, clips).Select(i => $"a red car number {i} drives on the road").ToList(),
        new EasyDataAugmentation(new TableSynonyms(new Dictionary<string, string[]>
        {
            ["red"] = new[] { "crimson", "ruby" },
            ["car"] = new[] { "auto", "automobile" },
            ["road"] = new[] { "route", "street" },
            ["drives"] = new[] { "motors" },
        })),
        new HashCaptionEncoder(8, 3, 4),
        new Dictionary<string, object> { ["method"] = "eda" });

    /// <summary>Synthetic clips whose targets depend linearly on the fMRI, so the decoders can learn something.</summary>
    public static DecoderDataset Data(int clips = 24, int seed = 5, IEnumerable<string>? dropFromTargets = null, int voxels = Voxels)
    {
        using var g = new Generator((ulong)seed);
        var ids = Enumerable.Range(0, clips).Select(i => $"clip{i:D3}").ToArray();
        var fmri = randn(new long[] { clips, voxels }, generator: g);
        Tensor Project(long width) => fmri.matmul(randn(new long[] { voxels, width }, generator: g)) / 4;
        var drop = new HashSet<string>(dropFromTargets ?? Array.Empty<string>());
        var kept = ids.Select((id, i) => (id, i)).Where(p => !drop.Contains(p.id)).ToArray();
        var rows = tensor(kept.Select(p => (long)p.i).ToArray());
        ClipTable Table(Tensor values) => new(kept.Select(p => p.id).ToArray(), values.index_select(0, rows));
        var targets = new Dictionary<string, ClipTable>
        {
            ["clip_text"] = Table(Project(8)),
            ["clip_image"] = Table(Project(8)),
            ["tokens"] = Table(Project(12).view(-1, 3, 4)),
            ["first_frame"] = Table(Project(12)),
            ["latents"] = Table(Project(Frames * 16).view(-1, Frames, 16)),
        };
        return DecoderDataset.Align(new ClipTable(ids, fmri), targets);
    }

    /// <summary>Copies all weights of <paramref name="from"/> into <paramref name="to"/>.</summary>
    public static void CopyWeights(nn.Module from, nn.Module to)
    {
        using var noGrad = no_grad();
        var source = from.state_dict();
        foreach (var (name, t) in to.state_dict())
        {
            t.copy_(source[name]);
        }
    }
}

/// <summary>A fixed synonym table.</summary>
internal sealed class TableSynonyms(IReadOnlyDictionary<string, string[]> table) : ISynonymSource
{
    public IReadOnlyList<string> Synonyms(string word) => table.TryGetValue(word, out var s) ? s : Array.Empty<string>();
}

/// <summary>A stand-in text encoder: each caption's targets are pseudo-random values seeded by an FNV-1a hash of its text.</summary>
internal sealed class HashCaptionEncoder(int clipDim, int tokens, int tokenDim) : ICaptionTextEncoder
{
    public List<string> Seen { get; } = new();

    public (Tensor ClipText, Tensor SdText) Encode(IReadOnlyList<string> captions)
    {
        Seen.AddRange(captions);
        var text = new List<float>();
        var sd = new List<float>();
        foreach (var caption in captions)
        {
            var hash = 2166136261u;
            foreach (var b in Encoding.UTF8.GetBytes(caption))
            {
                hash = (hash ^ b) * 16777619u;
            }
            var random = new Random((int)(hash & int.MaxValue));
            text.AddRange(Enumerable.Range(0, clipDim).Select(_ => (float)random.NextDouble()));
            sd.AddRange(Enumerable.Range(0, tokens * tokenDim).Select(_ => (float)random.NextDouble()));
        }
        return (tensor(text.ToArray(), new long[] { captions.Count, clipDim }), tensor(sd.ToArray(), new long[] { captions.Count, tokens, tokenDim }));
    }
}
