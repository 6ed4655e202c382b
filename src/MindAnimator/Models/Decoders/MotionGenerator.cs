using MindAnimator.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Decoders;

/// <summary>Sizes of a <see cref="MotionGenerator"/> (make_CMG_model(N, d_model, d_ff, h, dropout) and its BrainEncoder).</summary>
public sealed record MotionGeneratorOptions
{
    public int InputDim { get; init; } = 4500;

    /// <summary>d_model: the width of a frame token (the flattened 4×64×64 latent).</summary>
    public int ModelDim { get; init; } = 4 * 64 * 64;

    public int Layers { get; init; } = 2;

    public int FeedForward { get; init; } = 768;

    public int Heads { get; init; } = 4;

    /// <summary>Width of the Q/K/V projections; heads × head width = this (1024 = 16384/16 in the reference).</summary>
    public int AttentionDim { get; init; } = 1024;

    public double Dropout { get; init; } = 0.2;

    public double AttentionDropout { get; init; } = 0.15;

    public int EncoderHidden { get; init; } = 768;

    public int EncoderBlocks { get; init; } = 1;

    public double EncoderInputDropout { get; init; } = 0.3;

    public double EncoderBlockDropout { get; init; } = 0.15;

    /// <summary>Rows of the sinusoidal table (the reference's max_len 10).</summary>
    public int MaxFrames { get; init; } = 10;

    public static MotionGeneratorOptions FromSettings(MotionDecoderSettings s, int voxels) => new()
    {
        InputDim = voxels,
        ModelDim = s.ModelDim,
        Layers = s.Layers,
        FeedForward = s.FeedForward,
        Heads = s.Heads,
        AttentionDim = s.AttentionDim,
        Dropout = s.Dropout,
        AttentionDropout = s.AttentionDropout,
        EncoderHidden = s.EncoderHidden,
        EncoderBlocks = s.EncoderBlocks,
        EncoderInputDropout = s.EncoderInputDropout,
        EncoderBlockDropout = s.EncoderBlockDropout,
        MaxFrames = s.MaxFrames,
    };
}

/// <summary>fMRI → one memory token of width d_model (BrainEncoder).</summary>
public sealed class BrainEncoder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential lin0;
    private readonly ModuleList<Sequential> mlp;
    private readonly Linear lin1;

    public BrainEncoder(MotionGeneratorOptions o, Device? device = null)
        : base(nameof(BrainEncoder))
    {
        var h = o.EncoderHidden;
        lin0 = nn.Sequential(nn.Linear(o.InputDim, h, device: device), nn.LayerNorm(h, device: device), nn.GELU(), new SeededDropout(o.EncoderInputDropout));
        mlp = nn.ModuleList(Enumerable.Range(0, o.EncoderBlocks)
            .Select(_ => nn.Sequential(nn.Linear(h, h, device: device), nn.LayerNorm(h, device: device), nn.GELU(), new SeededDropout(o.EncoderBlockDropout)))
            .ToArray());
        lin1 = nn.Linear(h, o.ModelDim, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor fmri)
    {
        using var scope = NewDisposeScope();
        var x = lin0.forward(fmri);
        foreach (var block in mlp)
        {
            x = block.forward(x) + x;
        }
        return lin1.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Multi-head attention through a narrow projection: Q/K/V map d_model → attention_dim, split into heads of
/// attention_dim / heads; the output maps back to d_model. Keys/values may be a single (B, d_model) memory token.
/// </summary>
public sealed class ProjectedAttention : nn.Module
{
    private readonly ModuleList<Linear> linears;
    private readonly Linear linears1;
    private readonly SeededDropout dropout;
    private readonly int _heads;
    private readonly int _headDim;

    public ProjectedAttention(MotionGeneratorOptions o, Device? device = null)
        : base(nameof(ProjectedAttention))
    {
        if (o.AttentionDim % o.Heads != 0)
        {
            throw new MindAnimatorException($"motion.attention_dim ({o.AttentionDim}) must be a multiple of motion.heads ({o.Heads}).");
        }
        _heads = o.Heads;
        _headDim = o.AttentionDim / o.Heads;
        linears = nn.ModuleList(Enumerable.Range(0, 3).Select(_ => nn.Linear(o.ModelDim, o.AttentionDim, device: device)).ToArray());
        linears1 = nn.Linear(o.AttentionDim, o.ModelDim, device: device);
        dropout = new SeededDropout(o.AttentionDropout);
        RegisterComponents();
    }

    /// <param name="mask">(1 or B, T, S), 1 = may attend; null = everything visible.</param>
    public Tensor forward(Tensor query, Tensor key, Tensor value, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var batch = query.shape[0];
        Tensor Split(int i, Tensor x) => linears[i].forward(x).view(batch, -1, _heads, _headDim).transpose(1, 2);
        var q = Split(0, query);
        var k = Split(1, key);
        var v = Split(2, value);
        var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(_headDim);
        if (mask is not null)
        {
            scores = scores.masked_fill(mask.unsqueeze(1).eq(0), -1e9);
        }
        var p = dropout.forward(scores.softmax(-1));
        var x = p.matmul(v).transpose(1, 2).contiguous().view(batch, -1, _heads * _headDim);
        return linears1.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>w_2(dropout(relu(w_1 x))).</summary>
public sealed class PositionwiseFeedForward : nn.Module<Tensor, Tensor>
{
    private readonly Linear w_1;
    private readonly Linear w_2;
    private readonly SeededDropout dropout;

    public PositionwiseFeedForward(MotionGeneratorOptions o, Device? device = null)
        : base(nameof(PositionwiseFeedForward))
    {
        w_1 = nn.Linear(o.ModelDim, o.FeedForward, device: device);
        w_2 = nn.Linear(o.FeedForward, o.ModelDim, device: device);
        dropout = new SeededDropout(o.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return w_2.forward(dropout.forward(nn.functional.relu(w_1.forward(x)))).MoveToOuterDisposeScope();
    }
}

/// <summary>The reference's residual connection: x + norm(dropout(sublayer(x))) (the norm is on the sub-layer output).</summary>
public sealed class SublayerConnection : nn.Module
{
    private readonly ReferenceLayerNorm norm;
    private readonly SeededDropout dropout;

    public SublayerConnection(MotionGeneratorOptions o, Device? device = null)
        : base(nameof(SublayerConnection))
    {
        norm = new ReferenceLayerNorm(o.ModelDim, device: device);
        dropout = new SeededDropout(o.Dropout);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Func<Tensor, Tensor> sublayer)
    {
        using var scope = NewDisposeScope();
        return (x + norm.forward(dropout.forward(sublayer(x)))).MoveToOuterDisposeScope();
    }
}

/// <summary>Masked self-attention over frames, attention to the fMRI memory token, feed-forward.</summary>
public sealed class MotionDecoderLayer : nn.Module
{
    private readonly ProjectedAttention self_attn;
    private readonly ProjectedAttention src_attn;
    private readonly PositionwiseFeedForward feed_forward;
    private readonly ModuleList<SublayerConnection> sublayer;

    public MotionDecoderLayer(MotionGeneratorOptions o, Device? device = null)
        : base(nameof(MotionDecoderLayer))
    {
        self_attn = new ProjectedAttention(o, device);
        src_attn = new ProjectedAttention(o, device);
        feed_forward = new PositionwiseFeedForward(o, device);
        sublayer = nn.ModuleList(Enumerable.Range(0, 3).Select(_ => new SublayerConnection(o, device)).ToArray());
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor memory, Tensor? frameMask)
    {
        using var scope = NewDisposeScope();
        x = sublayer[0].forward(x, y => self_attn.forward(y, y, y, frameMask));
        x = sublayer[1].forward(x, y => src_attn.forward(y, memory, memory, null));
        return sublayer[2].forward(x, feed_forward.forward).MoveToOuterDisposeScope();
    }
}

/// <summary>The stack of decoder layers and the final norm.</summary>
public sealed class MotionDecoder : nn.Module
{
    private readonly ModuleList<MotionDecoderLayer> layers;
    private readonly ReferenceLayerNorm norm;

    public MotionDecoder(MotionGeneratorOptions o, Device? device = null)
        : base(nameof(MotionDecoder))
    {
        layers = nn.ModuleList(Enumerable.Range(0, o.Layers).Select(_ => new MotionDecoderLayer(o, device)).ToArray());
        norm = new ReferenceLayerNorm(o.ModelDim, device: device);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor memory, Tensor? frameMask)
    {
        using var scope = NewDisposeScope();
        foreach (var layer in layers)
        {
            x = layer.forward(x, memory, frameMask);
        }
        return norm.forward(x).MoveToOuterDisposeScope();
    }
}

/// <summary>Adds the sinusoidal table (sin on even, cos on odd channels) to frame tokens, then dropout.</summary>
public sealed class PositionalEncoding : nn.Module<Tensor, Tensor>
{
    private readonly Tensor pe;
    private readonly SeededDropout dropout;

    public PositionalEncoding(MotionGeneratorOptions o, Device? device = null)
        : base(nameof(PositionalEncoding))
    {
        using (var scope = NewDisposeScope())
        {
            var table = zeros(o.MaxFrames, o.ModelDim);
            var position = arange(0, o.MaxFrames, dtype: ScalarType.Int64).unsqueeze(1);
            var divTerm = (arange(0, o.ModelDim, 2, dtype: ScalarType.Int64) * -(Math.Log(10000.0) / o.ModelDim)).exp();
            table[TensorIndex.Colon, TensorIndex.Slice(0, null, 2)] = (position * divTerm).sin();
            table[TensorIndex.Colon, TensorIndex.Slice(1, null, 2)] = (position * divTerm).cos();
            pe = table.unsqueeze(0).to(device ?? CPU).MoveToOuterDisposeScope();
        }
        dropout = new SeededDropout(o.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var frames = x.shape[1];
        if (frames > pe.shape[1])
        {
            throw new MindAnimatorException($"{frames} frames exceed the positional table of {pe.shape[1]} (motion.max_frames).");
        }
        return dropout.forward(x + pe.narrow(1, 0, frames)).MoveToOuterDisposeScope();
    }
}

/// <summary>Which attention mask greedy decoding uses.</summary>
public enum InferenceMask
{
    /// <summary>The official greedy_decode (mask_ratio 0): frames ≥ 2 attend to frame 0 only.</summary>
    Official,

    /// <summary>Plain causal: every frame attends to itself and all earlier frames (mask_ratio 1).</summary>
    Causal,
}

/// <summary>
/// The Consistency Motion Generator: an fMRI encoder giving one memory token and a Transformer decoder over frame latents
/// under a (sparse) causal mask; greedy decoding grows a clip from its first frame.
/// </summary>
// Mirrors Mind-Animator models/Decoder.py (make_CMG_model, EncoderDecoder) and greedy_decode of Reconstruction/video_recons.py.
public sealed class MotionGenerator : nn.Module
{
    private readonly BrainEncoder encoder;
    private readonly MotionDecoder decoder;
    private readonly Sequential tgt_embed;

    public MotionGenerator(MotionGeneratorOptions options, Device? device = null)
        : base(nameof(MotionGenerator))
    {
        Options = options;
        encoder = new BrainEncoder(options, device);
        decoder = new MotionDecoder(options, device);
        tgt_embed = nn.Sequential(nn.Identity(), new PositionalEncoding(options, device));
        RegisterComponents();
    }

    public MotionGeneratorOptions Options { get; }

    /// <summary>(B, voxels) → (B, d_model) memory token.</summary>
    public Tensor Encode(Tensor fmri) => encoder.forward(fmri);

    /// <summary>(B, T, d_model) frames attending under <paramref name="frameMask"/> (1 or B, T, T; 1 = visible) → (B, T, d_model) next frames.</summary>
    public Tensor Decode(Tensor memory, Tensor frames, Tensor? frameMask)
    {
        using var scope = NewDisposeScope();
        return decoder.forward(tgt_embed.forward(frames), memory, frameMask).MoveToOuterDisposeScope();
    }

    /// <summary>The reference forward(src, tgt, None, tgt_mask).</summary>
    public Tensor forward(Tensor fmri, Tensor frames, Tensor? frameMask)
    {
        using var scope = NewDisposeScope();
        return Decode(Encode(fmri), frames, frameMask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Greedy decoding as video_recons.py: starting from <paramref name="firstFrame"/> (B, 1, d_model), re-decode the
    /// whole sequence each step (no cache) and append its last output, until <paramref name="frames"/> frames.
    /// </summary>
    public Tensor GreedyDecode(Tensor firstFrame, Tensor fmri, int frames, InferenceMask mask = InferenceMask.Official)
    {
        using var scope = NewDisposeScope();
        var memory = Encode(fmri);
        var sequence = firstFrame;
        for (var length = 1; length < frames; length++)
        {
            var m = mask == InferenceMask.Official
                ? AttentionMasks.OfficialInference(length, sequence.device)
                : AttentionMasks.Causal(length, sequence.device);
            var output = Decode(memory, sequence, m);
            sequence = cat(new[] { sequence, output.narrow(1, length - 1, 1) }, 1);
        }
        return sequence.MoveToOuterDisposeScope();
    }
}
