using MindAnimator.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Decoders;

/// <summary>Sizes of a <see cref="SemanticDecoder"/> (Semantic_decoder(in_dim, out_dim, h, n_blocks) plus the head widths the reference hard-codes).</summary>
public sealed record SemanticDecoderOptions
{
    public int InputDim { get; init; } = 4500;

    /// <summary>Width of the fMRI embedding; it is compared with the CLIP embeddings, so it equals their width.</summary>
    public int Hidden { get; init; } = 512;

    public int ResidualBlocks { get; init; } = 3;

    /// <summary>Hidden widths of the token head (the reference: 2048, 4096).</summary>
    public int[] HeadHidden { get; init; } = { 2048, 4096 };

    public int Tokens { get; init; } = 19;

    public int TokenDim { get; init; } = 768;

    public double InputDropout { get; init; } = 0.3;

    public double BlockDropout { get; init; } = 0.15;

    public static SemanticDecoderOptions FromSettings(SemanticDecoderSettings s, int voxels) => new()
    {
        InputDim = voxels,
        Hidden = s.Hidden,
        ResidualBlocks = s.ResidualBlocks,
        HeadHidden = s.HeadHidden.ToArray(),
        Tokens = s.Tokens,
        TokenDim = s.TokenDim,
        InputDropout = s.InputDropout,
        BlockDropout = s.BlockDropout,
    };
}

/// <summary>What <see cref="SemanticDecoder.forward"/> returns, in the reference's order.</summary>
/// <param name="Embedding">(B, hidden) fMRI embedding (not normalised), the output x of the backbone.</param>
/// <param name="Tokens">(B, tokens, token_dim) regressed caption-token embeddings.</param>
/// <param name="LogitsText">(B, B) scaled cosine similarities fMRI × text.</param>
/// <param name="LogitsImage">(B, B) scaled cosine similarities fMRI × image.</param>
public sealed record SemanticDecoderOutput(Tensor Embedding, Tensor Tokens, Tensor LogitsText, Tensor LogitsImage) : IDisposable
{
    public void Dispose()
    {
        Embedding.Dispose();
        Tokens.Dispose();
        LogitsText.Dispose();
        LogitsImage.Dispose();
    }
}

/// <summary>
/// fMRI → 512-d embedding (residual MLP) → 19×768 SD text-condition tokens, with a learnable CLIP temperature.
/// </summary>
// Mirrors Mind-Animator models/Decoder.py (Semantic_decoder).
public sealed class SemanticDecoder : nn.Module
{
    private readonly Parameter logit_scale;
    private readonly Sequential lin0;
    private readonly ModuleList<Sequential> mlp;
    private readonly Sequential lin1;

    public SemanticDecoder(SemanticDecoderOptions options, Device? device = null)
        : base(nameof(SemanticDecoder))
    {
        Options = options;
        var h = options.Hidden;
        logit_scale = new Parameter(tensor((float)Math.Log(1 / 0.07), device: device));
        lin0 = nn.Sequential(nn.Linear(options.InputDim, h, device: device), nn.LayerNorm(h, device: device), nn.GELU(), new SeededDropout(options.InputDropout));
        mlp = nn.ModuleList(Enumerable.Range(0, options.ResidualBlocks)
            .Select(_ => nn.Sequential(nn.Linear(h, h, device: device), nn.LayerNorm(h, device: device), nn.GELU(), new SeededDropout(options.BlockDropout)))
            .ToArray());
        var head = new List<nn.Module<Tensor, Tensor>> { nn.LayerNorm(h, device: device), nn.GELU() };
        var width = h;
        foreach (var next in options.HeadHidden)
        {
            head.Add(nn.Linear(width, next, device: device));
            head.Add(nn.LayerNorm(next, device: device));
            head.Add(nn.GELU());
            width = next;
        }
        head.Add(nn.Linear(width, (long)options.Tokens * options.TokenDim, device: device));
        lin1 = nn.Sequential(head);
        RegisterComponents();
    }

    public SemanticDecoderOptions Options { get; }

    /// <summary>The learnable log inverse temperature of the contrastive logits.</summary>
    public Parameter LogitScale => logit_scale;

    /// <summary>The backbone: (B, voxels) → (B, hidden) fMRI embedding.</summary>
    public Tensor Embed(Tensor fmri)
    {
        using var scope = NewDisposeScope();
        var x = lin0.forward(fmri);
        foreach (var block in mlp)
        {
            x = block.forward(x) + x;
        }
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Inference: (B, voxels) → (B, tokens, token_dim), the head output only (what reconstruction needs).</summary>
    public Tensor DecodeTokens(Tensor fmri)
    {
        using var scope = NewDisposeScope();
        var tokens = lin1.forward(Embed(fmri)).view(-1, Options.Tokens, Options.TokenDim);
        return tokens.MoveToOuterDisposeScope();
    }

    /// <summary>The training forward of the reference: embedding, tokens and the two contrastive logit matrices.</summary>
    public SemanticDecoderOutput forward(Tensor fmri, Tensor clipText, Tensor clipImage)
    {
        using var scope = NewDisposeScope();
        var x = Embed(fmri);
        var y = lin1.forward(x).view(-1, Options.Tokens, Options.TokenDim);
        var scale = logit_scale.exp();
        var f = x / x.norm(-1, keepdim: true, p: 2);
        var t = clipText / clipText.norm(-1, keepdim: true, p: 2);
        var i = clipImage / clipImage.norm(-1, keepdim: true, p: 2);
        var logitsText = f.matmul(t.t()) * scale;
        var logitsImage = f.matmul(i.t()) * scale;
        var result = new SemanticDecoderOutput(x, y, logitsText, logitsImage);
        x.MoveToOuterDisposeScope();
        y.MoveToOuterDisposeScope();
        logitsText.MoveToOuterDisposeScope();
        logitsImage.MoveToOuterDisposeScope();
        return result;
    }
}
