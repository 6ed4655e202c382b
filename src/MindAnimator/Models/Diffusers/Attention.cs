using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Diffusers;

// Mirrors diffusers 0.11.1 src/diffusers/models/attention.py (CrossAttention, FeedForward, GEGLU,
// BasicTransformerBlock, Transformer2DModel) and Tune-A-Video tuneavideo/models/attention.py (SparseCausalAttention,
// the temporal attention of its BasicTransformerBlock, Transformer3DModel).

/// <summary>
/// Multi-head attention with bias-free q/k/v projections and an output projection <c>to_out.0</c>, computed with
/// <c>scaled_dot_product_attention</c> (scale = head_size^−½).
/// </summary>
public sealed class CrossAttention : nn.Module
{
    public readonly Linear to_q;
    public readonly Linear to_k;
    public readonly Linear to_v;
    public readonly ModuleList<nn.Module<Tensor, Tensor>> to_out;
    private readonly long _heads;

    public CrossAttention(long queryDim, long? crossAttentionDim, long heads, long headDim, bool bias = false, Device? device = null, ScalarType? dtype = null)
        : base(nameof(CrossAttention))
    {
        _heads = heads;
        var inner = heads * headDim;
        var contextDim = crossAttentionDim ?? queryDim;
        to_q = nn.Linear(queryDim, inner, bias, device, dtype);
        to_k = nn.Linear(contextDim, inner, bias, device, dtype);
        to_v = nn.Linear(contextDim, inner, bias, device, dtype);
        to_out = new ModuleList<nn.Module<Tensor, Tensor>>(nn.Linear(inner, queryDim, true, device, dtype), nn.Dropout(0.0));
        register_module(nameof(to_q), to_q);
        register_module(nameof(to_k), to_k);
        register_module(nameof(to_v), to_v);
        register_module(nameof(to_out), to_out);
    }

    /// <summary>Self-attention (<paramref name="context"/> null) or cross-attention over (N, L, C) tokens.</summary>
    public Tensor forward(Tensor hidden, Tensor? context = null)
    {
        using var scope = NewDisposeScope();
        var source = context ?? hidden;
        var attended = Attend(to_q.forward(hidden), to_k.forward(source), to_v.forward(source));
        return Project(attended).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Tune-A-Video's sparse-causal self-attention over (B·F, L, C) tokens: frame i's queries attend to the tokens
    /// of frame 0 and frame max(i−1, 0) (2·L keys).
    /// </summary>
    public Tensor ForwardSparseCausal(Tensor hidden, int frames)
    {
        using var scope = NewDisposeScope();
        var query = to_q.forward(hidden);
        var key = FirstAndPreviousFrame(to_k.forward(hidden), frames);
        var value = FirstAndPreviousFrame(to_v.forward(hidden), frames);
        return Project(Attend(query, key, value)).MoveToOuterDisposeScope();
    }

    private static Tensor FirstAndPreviousFrame(Tensor tokens, int frames)
    {
        var n = tokens.shape[0];
        var l = tokens.shape[1];
        var c = tokens.shape[2];
        var clip = tokens.view(n / frames, frames, l, c);
        var first = clip.narrow(1, 0, 1).expand(n / frames, frames, l, c);
        var previous = frames == 1 ? first : cat([clip.narrow(1, 0, 1), clip.narrow(1, 0, frames - 1)], 1);
        return cat([first, previous], 2).reshape(n, 2 * l, c);
    }

    private Tensor Attend(Tensor query, Tensor key, Tensor value)
    {
        var n = query.shape[0];
        var inner = query.shape[2];
        var headDim = inner / _heads;
        Tensor Heads(Tensor t) => t.view(t.shape[0], t.shape[1], _heads, headDim).transpose(1, 2);
        var attended = nn.functional.scaled_dot_product_attention(Heads(query), Heads(key), Heads(value));
        return attended.transpose(1, 2).reshape(n, query.shape[1], inner);
    }

    private Tensor Project(Tensor attended) => to_out[1].forward(to_out[0].forward(attended));
}

/// <summary>GELU-gated linear unit: proj → (h, gate) halves → h·gelu(gate) (exact erf GELU).</summary>
public sealed class GEGLU : nn.Module<Tensor, Tensor>
{
    public readonly Linear proj;

    public GEGLU(long dimIn, long dimOut, Device? device = null, ScalarType? dtype = null)
        : base(nameof(GEGLU))
    {
        proj = nn.Linear(dimIn, dimOut * 2, true, device, dtype);
        register_module(nameof(proj), proj);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var halves = proj.forward(input).chunk(2, -1);
        return (halves[0] * nn.functional.gelu(halves[1])).MoveToOuterDisposeScope();
    }
}

/// <summary>net.0 = GEGLU(dim → 4·dim), net.1 = dropout, net.2 = Linear(4·dim → dim).</summary>
public sealed class FeedForward : nn.Module<Tensor, Tensor>
{
    public readonly ModuleList<nn.Module<Tensor, Tensor>> net;

    public FeedForward(long dim, long mult = 4, Device? device = null, ScalarType? dtype = null)
        : base(nameof(FeedForward))
    {
        var inner = dim * mult;
        net = new ModuleList<nn.Module<Tensor, Tensor>>(new GEGLU(dim, inner, device, dtype), nn.Dropout(0.0), nn.Linear(inner, dim, true, device, dtype));
        register_module(nameof(net), net);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var layer in net)
        {
            x = layer.forward(x);
        }
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Self-attention, cross-attention and feed-forward, each pre-LayerNorm with a residual. With
/// <c>temporal</c> (Tune-A-Video inflation) the self-attention is sparse-causal across frames and a temporal
/// attention (<c>attn_temp</c> after <c>norm_temp</c>) attends across the frames at each spatial position.
/// </summary>
public sealed class BasicTransformerBlock : nn.Module
{
    public readonly CrossAttention attn1;
    public readonly FeedForward ff;
    public readonly CrossAttention attn2;
    public readonly LayerNorm norm1;
    public readonly LayerNorm norm2;
    public readonly LayerNorm norm3;
    public readonly CrossAttention? attn_temp;
    public readonly LayerNorm? norm_temp;

    public BasicTransformerBlock(long dim, long heads, long headDim, long crossAttentionDim, bool temporal, Device? device = null, ScalarType? dtype = null)
        : base(nameof(BasicTransformerBlock))
    {
        attn1 = new CrossAttention(dim, null, heads, headDim, false, device, dtype);
        ff = new FeedForward(dim, 4, device, dtype);
        attn2 = new CrossAttention(dim, crossAttentionDim, heads, headDim, false, device, dtype);
        norm1 = nn.LayerNorm(dim, device: device, dtype: dtype);
        norm2 = nn.LayerNorm(dim, device: device, dtype: dtype);
        norm3 = nn.LayerNorm(dim, device: device, dtype: dtype);
        if (temporal)
        {
            attn_temp = new CrossAttention(dim, null, heads, headDim, false, device, dtype);
            norm_temp = nn.LayerNorm(dim, device: device, dtype: dtype);
            // Registration order = state-dict order of each reference (Tune-A-Video declares the norms in between).
            Register(("attn1", attn1), ("norm1", norm1), ("attn2", attn2), ("norm2", norm2), ("ff", ff), ("norm3", norm3),
                ("attn_temp", attn_temp), ("norm_temp", norm_temp));
        }
        else
        {
            Register(("attn1", attn1), ("ff", ff), ("attn2", attn2), ("norm1", norm1), ("norm2", norm2), ("norm3", norm3));
        }
    }

    /// <param name="hidden">(B·F, L, C) tokens.</param>
    /// <param name="context">(B·F, S, D) text context (already repeated per frame).</param>
    /// <param name="frames">Frames per clip (1 for images).</param>
    public Tensor forward(Tensor hidden, Tensor context, int frames = 1)
    {
        using var scope = NewDisposeScope();
        var normed = norm1.forward(hidden);
        var x = (attn_temp is null ? attn1.forward(normed) : attn1.ForwardSparseCausal(normed, frames)) + hidden;
        x = attn2.forward(norm2.forward(x), context) + x;
        x = ff.forward(norm3.forward(x)) + x;
        if (attn_temp is not null && norm_temp is not null)
        {
            // (B·F, L, C) → (B·L, F, C): each spatial token attends across the frames of its clip.
            var n = x.shape[0];
            var l = x.shape[1];
            var c = x.shape[2];
            var b = n / frames;
            var temporalTokens = x.view(b, frames, l, c).transpose(1, 2).reshape(b * l, frames, c);
            temporalTokens = attn_temp.forward(norm_temp.forward(temporalTokens)) + temporalTokens;
            x = temporalTokens.view(b, l, frames, c).transpose(1, 2).reshape(n, l, c);
        }
        return x.MoveToOuterDisposeScope();
    }

    private void Register(params (string Name, nn.Module Module)[] modules)
    {
        foreach (var (name, module) in modules)
        {
            register_module(name, module);
        }
    }
}

/// <summary>
/// GroupNorm (eps 1e-6, per frame) → 1×1 conv <c>proj_in</c> → transformer blocks over the H·W tokens → 1×1 conv
/// <c>proj_out</c> → + residual.
/// </summary>
public sealed class Transformer2DModel : nn.Module
{
    public readonly GroupNorm norm;
    public readonly Conv2d proj_in;
    public readonly ModuleList<BasicTransformerBlock> transformer_blocks;
    public readonly Conv2d proj_out;

    public Transformer2DModel(long heads, long headDim, long inChannels, long crossAttentionDim, long groups, bool temporal,
        int layers = 1, Device? device = null, ScalarType? dtype = null)
        : base(nameof(Transformer2DModel))
    {
        var inner = heads * headDim;
        norm = nn.GroupNorm(groups, inChannels, 1e-6, affine: true, device: device, dtype: dtype);
        proj_in = nn.Conv2d(inChannels, inner, 1, device: device, dtype: dtype);
        transformer_blocks = new ModuleList<BasicTransformerBlock>(
            Enumerable.Range(0, layers).Select(_ => new BasicTransformerBlock(inner, heads, headDim, crossAttentionDim, temporal, device, dtype)).ToArray());
        proj_out = nn.Conv2d(inner, inChannels, 1, device: device, dtype: dtype);
        register_module(nameof(norm), norm);
        register_module(nameof(proj_in), proj_in);
        register_module(nameof(transformer_blocks), transformer_blocks);
        register_module(nameof(proj_out), proj_out);
    }

    /// <param name="input">(B·F, C, H, W).</param>
    /// <param name="context">(B·F, S, D) text context.</param>
    /// <param name="frames">Frames per clip.</param>
    public Tensor forward(Tensor input, Tensor context, int frames = 1)
    {
        using var scope = NewDisposeScope();
        var n = input.shape[0];
        var h = input.shape[2];
        var w = input.shape[3];
        var x = proj_in.forward(norm.forward(input));
        var inner = x.shape[1];
        x = x.permute(0, 2, 3, 1).reshape(n, h * w, inner);
        foreach (var block in transformer_blocks)
        {
            x = block.forward(x, context, frames);
        }
        x = x.reshape(n, h, w, inner).permute(0, 3, 1, 2).contiguous();
        return (proj_out.forward(x) + input).MoveToOuterDisposeScope();
    }
}
