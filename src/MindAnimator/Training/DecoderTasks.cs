using MindAnimator.Config;
using MindAnimator.Models.Decoders;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Training;

/// <summary>What the trainer needs from one decoder: its model, loss, validation loss and learning-rate schedule.</summary>
public interface IDecoderTask
{
    /// <summary>semantic, structure or motion.</summary>
    string Kind { get; }

    nn.Module Model { get; }

    /// <summary>The model's size options (recorded in checkpoints; a resume must match them).</summary>
    object ModelOptions { get; }

    TrainingSettings Training { get; }

    /// <summary>Target tensors the task reads from <see cref="DecoderDataset.Targets"/>.</summary>
    IReadOnlyList<string> RequiredTargets { get; }

    /// <summary>Learning rate for optimiser step <paramref name="step"/> (1-based, counted over the run) in <paramref name="epoch"/>.</summary>
    double LearningRate(int epoch, long step);

    /// <summary>The differentiable training loss of the rows <paramref name="rows"/> and its main term (logged).</summary>
    (Tensor Loss, double Main) TrainLoss(DecoderDataset data, Tensor rows, int epoch, TrainingRandom random);

    /// <summary>Validation loss of the rows (called under no_grad with the model in eval mode).</summary>
    double ValidationLoss(DecoderDataset data, Tensor rows);

    /// <summary>Extra facts for metrics.json (e.g. the inference mask).</summary>
    IReadOnlyDictionary<string, object> Describe();
}

/// <summary>Checks shared by the tasks.</summary>
internal static class TaskChecks
{
    public static void Voxels(DecoderDataset data, int expected, string kind)
    {
        if (data.Voxels != expected)
        {
            throw new MindAnimatorException($"{kind} decoder expects {expected} voxels but the fMRI has {data.Voxels}; rebuild the model or use the matching fMRI.");
        }
    }

    public static void Shape(DecoderDataset data, string name, long[] rowShape, string kind)
    {
        var t = data.Target(name);
        var actual = t.shape.Skip(1).ToArray();
        if (!actual.SequenceEqual(rowShape))
        {
            throw new MindAnimatorException($"{kind} decoder: target '{name}' has rows of shape [{string.Join(", ", actual)}], expected [{string.Join(", ", rowShape)}].");
        }
    }
}

/// <summary>Semantic decoder: alignment MSE + weighted tri-modal InfoNCE + token MSE, voxel dropout, optional caption augmentation (EDA), exponential learning-rate decay.</summary>
public sealed class SemanticTask : IDecoderTask
{
    private readonly SemanticDecoderSettings _settings;

    /// <param name="model">The decoder.</param>
    /// <param name="settings">Loss weights, voxel dropout, training schedule.</param>
    /// <param name="captions">Caption augmentation (null: train towards the stored text targets).</param>
    public SemanticTask(SemanticDecoder model, SemanticDecoderSettings settings, CaptionAugmentation? captions = null)
    {
        Decoder = model;
        _settings = settings;
        Captions = captions;
    }

    public SemanticDecoder Decoder { get; }

    /// <summary>Recomputes the text targets of augmented captions for every training batch; null = the stored targets.</summary>
    public CaptionAugmentation? Captions { get; }

    public string Kind => "semantic";

    public nn.Module Model => Decoder;

    public object ModelOptions => Decoder.Options;

    public TrainingSettings Training => _settings.Training;

    public IReadOnlyList<string> RequiredTargets { get; } = new[] { "clip_text", "clip_image", "tokens" };

    public double LearningRate(int epoch, long step) => Schedules.Exponential(Training.LearningRate, Training.LrDecay, epoch);

    public (Tensor Loss, double Main) TrainLoss(DecoderDataset data, Tensor rows, int epoch, TrainingRandom random)
    {
        using var scope = NewDisposeScope();
        var fmri = VoxelDropout.Apply(data.Fmri.index_select(0, rows), _settings.VoxelDropout, random.Augment);
        SemanticLoss loss;
        if (Captions is null)
        {
            loss = Loss(data, rows, fmri);
        }
        else
        {
            var (text, tokens) = Captions.Targets(rows, random.Augment);
            loss = Loss(data, rows, fmri, text.to(fmri.device), tokens.to(fmri.device));
        }
        return (loss.Total.MoveToOuterDisposeScope(), loss.Total.item<float>());
    }

    public double ValidationLoss(DecoderDataset data, Tensor rows)
    {
        using var scope = NewDisposeScope();
        return Loss(data, rows, data.Fmri.index_select(0, rows)).Total.item<float>();
    }

    public IReadOnlyDictionary<string, object> Describe() => new Dictionary<string, object>
    {
        ["contrastive_weight"] = _settings.ContrastiveWeight,
        ["token_weight"] = _settings.TokenWeight,
        ["voxel_dropout"] = _settings.VoxelDropout,
        ["logit_scale"] = Decoder.LogitScale.item<float>(),
        ["caption_augmentation"] = Captions is null
            ? new Dictionary<string, object> { ["enabled"] = false }
            : new Dictionary<string, object>(Captions.Description) { ["enabled"] = true, ["captions_augmented"] = Captions.Augmented, ["eda_seconds"] = Math.Round(Captions.EdaSeconds, 3), ["encode_seconds"] = Math.Round(Captions.EncodeSeconds, 3) },
    };

    internal void Check(DecoderDataset data)
    {
        TaskChecks.Voxels(data, Decoder.Options.InputDim, Kind);
        if (Decoder.Options.Hidden != _settings.ClipDim)
        {
            throw new MindAnimatorException($"semantic.hidden ({Decoder.Options.Hidden}) must equal semantic.clip_dim ({_settings.ClipDim}): the fMRI embedding is compared with the CLIP embeddings directly.");
        }
        TaskChecks.Shape(data, "clip_text", new long[] { _settings.ClipDim }, Kind);
        TaskChecks.Shape(data, "clip_image", new long[] { _settings.ClipDim }, Kind);
        TaskChecks.Shape(data, "tokens", new long[] { Decoder.Options.Tokens, Decoder.Options.TokenDim }, Kind);
    }

    private SemanticLoss Loss(DecoderDataset data, Tensor rows, Tensor fmri, Tensor? augmentedText = null, Tensor? augmentedTokens = null)
    {
        var text = augmentedText ?? data.Target("clip_text").index_select(0, rows);
        var image = data.Target("clip_image").index_select(0, rows);
        var tokens = augmentedTokens ?? data.Target("tokens").index_select(0, rows);
        using var output = Decoder.forward(fmri, text, image);
        return Losses.Semantic(output.Embedding, output.Tokens, output.LogitsText, output.LogitsImage, text, tokens, _settings.ContrastiveWeight, _settings.TokenWeight);
    }
}

/// <summary>Structure decoder: MSE to the first frame's latent + a decaying L1 penalty on all weights.</summary>
public sealed class StructureTask : IDecoderTask
{
    private readonly StructureDecoderSettings _settings;

    public StructureTask(StructureDecoder model, StructureDecoderSettings settings)
    {
        Decoder = model;
        _settings = settings;
    }

    public StructureDecoder Decoder { get; }

    public string Kind => "structure";

    public nn.Module Model => Decoder;

    public object ModelOptions => Decoder.Options;

    public TrainingSettings Training => _settings.Training;

    public IReadOnlyList<string> RequiredTargets { get; } = new[] { "first_frame" };

    public double LearningRate(int epoch, long step) => Schedules.Exponential(Training.LearningRate, Training.LrDecay, epoch);

    public (Tensor Loss, double Main) TrainLoss(DecoderDataset data, Tensor rows, int epoch, TrainingRandom random)
    {
        using var scope = NewDisposeScope();
        var fmri = VoxelDropout.Apply(data.Fmri.index_select(0, rows), _settings.VoxelDropout, random.Augment);
        var mse = Mse(data, rows, fmri);
        var loss = Losses.WithL1(mse, Decoder, Schedules.L1Weight(_settings.L1Weight, _settings.L1Decay, epoch, _settings.L1Schedule));
        return (loss.MoveToOuterDisposeScope(), mse.item<float>());
    }

    public double ValidationLoss(DecoderDataset data, Tensor rows)
    {
        using var scope = NewDisposeScope();
        return Mse(data, rows, data.Fmri.index_select(0, rows)).item<float>();
    }

    public IReadOnlyDictionary<string, object> Describe() => new Dictionary<string, object>
    {
        ["l1_weight"] = _settings.L1Weight,
        ["l1_decay"] = _settings.L1Decay,
        ["l1_schedule"] = _settings.L1Schedule,
        ["voxel_dropout"] = _settings.VoxelDropout,
    };

    internal void Check(DecoderDataset data)
    {
        TaskChecks.Voxels(data, Decoder.Options.InputDim, Kind);
        TaskChecks.Shape(data, "first_frame", new long[] { Decoder.Options.OutputDim }, Kind);
    }

    private Tensor Mse(DecoderDataset data, Tensor rows, Tensor fmri)
    {
        var target = data.Target("first_frame").index_select(0, rows).unsqueeze(1);
        return nn.functional.mse_loss(Decoder.forward(fmri), target);
    }
}

/// <summary>
/// Consistency Motion Generator: teacher forcing (frames 0..F−2 predict 1..F−1) under a sparse causal mask, MSE + a
/// decaying L1 penalty, Noam learning rate; validation by greedy decoding from the true first frame.
/// </summary>
public sealed class MotionTask : IDecoderTask
{
    private readonly MotionDecoderSettings _settings;
    private Tensor? _fixedMask;

    public MotionTask(MotionGenerator model, MotionDecoderSettings settings, int seed)
    {
        Generator = model;
        _settings = settings;
        Seed = seed;
    }

    public MotionGenerator Generator { get; }

    public int Seed { get; }

    public string Kind => "motion";

    public nn.Module Model => Generator;

    public object ModelOptions => Generator.Options;

    public TrainingSettings Training => _settings.Training;

    public IReadOnlyList<string> RequiredTargets { get; } = new[] { "latents" };

    public InferenceMask InferenceMask => _settings.InferenceMask == "causal" ? InferenceMask.Causal : InferenceMask.Official;

    public double LearningRate(int epoch, long step) => Schedules.Noam(step, Generator.Options.ModelDim, _settings.WarmupSteps, _settings.NoamFactor);

    public (Tensor Loss, double Main) TrainLoss(DecoderDataset data, Tensor rows, int epoch, TrainingRandom random)
    {
        using var scope = NewDisposeScope();
        var latents = data.Target("latents").index_select(0, rows);
        var frames = latents.shape[1];
        var input = latents.narrow(1, 0, frames - 1);
        var target = latents.narrow(1, 1, frames - 1);
        // Masks are drawn on the CPU generator and moved, as every random draw of a run.
        var mask = TrainingMask((int)frames - 1, random).to(latents.device);
        var output = Generator.forward(data.Fmri.index_select(0, rows), input, mask);
        var mse = nn.functional.mse_loss(output, target);
        var loss = Losses.WithL1(mse, Generator, Schedules.L1Weight(_settings.L1Weight, _settings.L1Decay, epoch, _settings.L1Schedule));
        return (loss.MoveToOuterDisposeScope(), mse.item<float>());
    }

    public double ValidationLoss(DecoderDataset data, Tensor rows)
    {
        using var scope = NewDisposeScope();
        var latents = data.Target("latents").index_select(0, rows);
        var frames = (int)latents.shape[1];
        var decoded = Generator.GreedyDecode(latents.narrow(1, 0, 1), data.Fmri.index_select(0, rows), frames, InferenceMask);
        return nn.functional.mse_loss(decoded.narrow(1, 1, frames - 1), latents.narrow(1, 1, frames - 1)).item<float>();
    }

    public IReadOnlyDictionary<string, object> Describe() => new Dictionary<string, object>
    {
        ["inference_mask"] = _settings.InferenceMask,
        ["training_mask"] = _settings.FixedTrainingMask ? "fixed per run (official reproduction)" : "sparse causal, drawn per batch",
        ["mask_ratio"] = _settings.MaskRatio,
        ["warmup_steps"] = _settings.WarmupSteps,
        ["noam_factor"] = _settings.NoamFactor,
        ["l1_weight"] = _settings.L1Weight,
        ["l1_decay"] = _settings.L1Decay,
        ["l1_schedule"] = _settings.L1Schedule,
    };

    internal void Check(DecoderDataset data)
    {
        TaskChecks.Voxels(data, Generator.Options.InputDim, Kind);
        var latents = data.Target("latents");
        if (latents.dim() != 3 || latents.shape[1] < 2 || latents.shape[2] != Generator.Options.ModelDim || latents.shape[1] > Generator.Options.MaxFrames)
        {
            throw new MindAnimatorException($"motion decoder: target 'latents' must be (clips, 2..{Generator.Options.MaxFrames} frames, {Generator.Options.ModelDim}), got [{string.Join(", ", latents.shape)}].");
        }
    }

    private Tensor TrainingMask(int size, TrainingRandom random)
    {
        if (!_settings.FixedTrainingMask)
        {
            return AttentionMasks.Sparse(size, _settings.MaskRatio, random.Augment);
        }
        // The official scripts draw one mask per run with Python's random; replayed from the run seed.
        _fixedMask ??= AttentionMasks.OfficialSparse(size, _settings.MaskRatio, new PythonRandom(Seed)).DetachFromDisposeScope();
        return _fixedMask.alias();
    }
}
