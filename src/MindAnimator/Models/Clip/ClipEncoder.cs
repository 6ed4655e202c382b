using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Clip;

// Mirrors transformers 4.29 src/transformers/models/clip/modeling_clip.py (CLIPAttention, CLIPMLP,
// CLIPEncoderLayer, CLIPEncoder, _make_causal_mask, _expand_mask).

/// <summary>Multi-head self-attention with q/k/v/out projections, computed by scaled_dot_product_attention.</summary>
internal sealed class ClipAttention : nn.Module<Tensor, Tensor?, bool, Tensor>
{
    private readonly Linear k_proj;
    private readonly Linear v_proj;
    private readonly Linear q_proj;
    private readonly Linear out_proj;
    private readonly int _heads;

    public ClipAttention(int hiddenSize, int heads, Device? device = null)
        : base(nameof(ClipAttention))
    {
        _heads = heads;
        k_proj = nn.Linear(hiddenSize, hiddenSize, device: device);
        v_proj = nn.Linear(hiddenSize, hiddenSize, device: device);
        q_proj = nn.Linear(hiddenSize, hiddenSize, device: device);
        out_proj = nn.Linear(hiddenSize, hiddenSize, device: device);
        RegisterComponents();
    }

    /// <param name="hidden">(B, L, hidden).</param>
    /// <param name="additiveMask">Added to the scaled scores, broadcastable to (B, heads, L, L); or null.</param>
    /// <param name="causal">Mask keys after the query (only when <paramref name="additiveMask"/> is null).</param>
    public override Tensor forward(Tensor hidden, Tensor? additiveMask, bool causal)
    {
        using var scope = NewDisposeScope();
        var (batch, length, width) = (hidden.shape[0], hidden.shape[1], hidden.shape[2]);
        Tensor Heads(Linear projection) => projection.call(hidden).view(batch, length, _heads, width / _heads).transpose(1, 2);
        var attended = nn.functional.scaled_dot_product_attention(Heads(q_proj), Heads(k_proj), Heads(v_proj), additiveMask, 0.0, causal && additiveMask is null);
        var merged = attended.transpose(1, 2).reshape(batch, length, width);
        return out_proj.call(merged).MoveToOuterDisposeScope();
    }
}

/// <summary>fc1 → activation (quick_gelu or gelu) → fc2.</summary>
internal sealed class ClipMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly string _activation;

    public ClipMlp(int hiddenSize, int intermediateSize, string activation, Device? device = null)
        : base(nameof(ClipMlp))
    {
        if (!ClipConfigReader.SupportedActivations.Contains(activation))
        {
            throw new ArgumentException($"unsupported activation '{activation}'.", nameof(activation));
        }
        _activation = activation;
        fc1 = nn.Linear(hiddenSize, intermediateSize, device: device);
        fc2 = nn.Linear(intermediateSize, hiddenSize, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = fc1.call(input);
        x = _activation == "quick_gelu" ? QuickGelu(x) : nn.functional.gelu(x);
        return fc2.call(x).MoveToOuterDisposeScope();
    }

    /// <summary>x·σ(1.702x), the GELU approximation OpenAI's CLIP was trained with.</summary>
    public static Tensor QuickGelu(Tensor x) => x * sigmoid(x * 1.702);
}

/// <summary>Pre-LayerNorm transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)).</summary>
internal sealed class ClipEncoderLayer : nn.Module<Tensor, Tensor?, bool, Tensor>
{
    private readonly ClipAttention self_attn;
    private readonly LayerNorm layer_norm1;
    private readonly ClipMlp mlp;
    private readonly LayerNorm layer_norm2;

    public ClipEncoderLayer(int hiddenSize, int intermediateSize, int heads, string activation, double eps, Device? device = null)
        : base(nameof(ClipEncoderLayer))
    {
        self_attn = new ClipAttention(hiddenSize, heads, device);
        layer_norm1 = nn.LayerNorm(hiddenSize, eps, device: device);
        mlp = new ClipMlp(hiddenSize, intermediateSize, activation, device);
        layer_norm2 = nn.LayerNorm(hiddenSize, eps, device: device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hidden, Tensor? additiveMask, bool causal)
    {
        using var scope = NewDisposeScope();
        var x = hidden + self_attn.call(layer_norm1.call(hidden), additiveMask, causal);
        x = x + mlp.call(layer_norm2.call(x));
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>The stack of encoder layers; optionally returns every layer's output.</summary>
internal sealed class ClipEncoder : nn.Module
{
    private readonly ModuleList<ClipEncoderLayer> layers;

    public ClipEncoder(int layerCount, int hiddenSize, int intermediateSize, int heads, string activation, double eps, Device? device = null)
        : base(nameof(ClipEncoder))
    {
        layers = new ModuleList<ClipEncoderLayer>();
        for (var i = 0; i < layerCount; i++)
        {
            layers.Add(new ClipEncoderLayer(hiddenSize, intermediateSize, heads, activation, eps, device));
        }
        RegisterComponents();
    }

    /// <summary>Runs all layers; <paramref name="layerOutputs"/>, when given, receives each layer's output.</summary>
    public Tensor Forward(Tensor hidden, Tensor? additiveMask, bool causal, List<Tensor>? layerOutputs = null)
    {
        var x = hidden;
        foreach (var layer in layers)
        {
            x = layer.call(x, additiveMask, causal);
            layerOutputs?.Add(x);
        }
        return x;
    }

    /// <summary>
    /// transformers' additive mask: the smallest float above the diagonal (causal) plus the smallest float on keys
    /// whose attention_mask is 0, broadcast to (B, 1, L, L).
    /// </summary>
    public static Tensor CausalPaddingMask(Tensor attentionMask, ScalarType dtype)
    {
        var (batch, length) = (attentionMask.shape[0], attentionMask.shape[1]);
        var min = MinValue(dtype);
        var causal = full(length, length, min, dtype, attentionMask.device).triu_(1);
        var padding = zeros(batch, 1, 1, length, dtype, attentionMask.device)
            .masked_fill_(attentionMask.view(batch, 1, 1, length).eq(0), min);
        return causal.view(1, 1, length, length) + padding;
    }

    internal static double MinValue(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => double.MinValue,
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        _ => float.MinValue,
    };
}
