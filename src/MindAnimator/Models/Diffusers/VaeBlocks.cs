using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Diffusers;

// Mirrors diffusers 0.11.1 src/diffusers/models/{attention.py (AttentionBlock), unet_2d_blocks.py (DownEncoderBlock2D,
// UpDecoderBlock2D, UNetMidBlock2D)}; the resnets and resamplers are the UNet's (Resnet.cs) without time embedding.

/// <summary>
/// Single-head self-attention over the H·W positions (diffusers ≤ 0.13 `AttentionBlock`; state-dict names
/// group_norm/query/key/value/proj_attn as in SD v1.5's published VAE).
/// </summary>
public sealed class VaeAttentionBlock : nn.Module<Tensor, Tensor>
{
    private readonly GroupNorm group_norm;
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Linear proj_attn;

    public VaeAttentionBlock(int channels, int groups, double eps)
        : base(nameof(VaeAttentionBlock))
    {
        group_norm = nn.GroupNorm(groups, channels, eps);
        query = nn.Linear(channels, channels);
        key = nn.Linear(channels, channels);
        value = nn.Linear(channels, channels);
        proj_attn = nn.Linear(channels, channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var (b, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3]);
        var tokens = group_norm.forward(input).view(b, c, h * w).transpose(1, 2);
        var q = query.forward(tokens);
        var k = key.forward(tokens);
        var v = value.forward(tokens);
        // softmax(q·kᵀ/√C)·v; the fused kernel avoids holding the (H·W)² score matrix (64 MiB per SD frame).
        var attended = proj_attn.forward(nn.functional.scaled_dot_product_attention(q, k, v));
        return attended.transpose(1, 2).reshape(b, c, h, w) + input;
    }
}

/// <summary>DownEncoderBlock2D: resnets, then an optional downsampler (right/bottom pad, stride-2 conv).</summary>
public sealed class DownEncoderBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ResnetBlock2D> resnets = new();
    private readonly ModuleList<Downsample2D>? downsamplers;

    public DownEncoderBlock2D(int inChannels, int outChannels, int layers, int groups, double eps, bool addDownsample)
        : base(nameof(DownEncoderBlock2D))
    {
        for (var i = 0; i < layers; i++)
        {
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, tembChannels: null, groups, eps));
        }
        downsamplers = addDownsample ? new ModuleList<Downsample2D>(new Downsample2D(outChannels, outChannels, padding: 0)) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = input;
        foreach (var r in resnets)
        {
            h = r.forward(h, null);
        }
        if (downsamplers is not null)
        {
            foreach (var d in downsamplers)
            {
                h = d.forward(h);
            }
        }
        return h;
    }
}

/// <summary>UpDecoderBlock2D: resnets, then an optional upsampler.</summary>
public sealed class UpDecoderBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<ResnetBlock2D> resnets = new();
    private readonly ModuleList<Upsample2D>? upsamplers;

    public UpDecoderBlock2D(int inChannels, int outChannels, int layers, int groups, double eps, bool addUpsample)
        : base(nameof(UpDecoderBlock2D))
    {
        for (var i = 0; i < layers; i++)
        {
            resnets.Add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, tembChannels: null, groups, eps));
        }
        upsamplers = addUpsample ? new ModuleList<Upsample2D>(new Upsample2D(outChannels, outChannels)) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = input;
        foreach (var r in resnets)
        {
            h = r.forward(h, null);
        }
        if (upsamplers is not null)
        {
            foreach (var u in upsamplers)
            {
                h = u.forward(h);
            }
        }
        return h;
    }
}

/// <summary>UNetMidBlock2D as the VAE uses it: resnet, attention, resnet (no time embedding).</summary>
public sealed class VaeMidBlock : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<VaeAttentionBlock> attentions = new();
    private readonly ModuleList<ResnetBlock2D> resnets = new();

    public VaeMidBlock(int channels, int groups, double eps)
        : base(nameof(VaeMidBlock))
    {
        resnets.Add(new ResnetBlock2D(channels, channels, tembChannels: null, groups, eps));
        attentions.Add(new VaeAttentionBlock(channels, groups, eps));
        resnets.Add(new ResnetBlock2D(channels, channels, tembChannels: null, groups, eps));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = resnets[0].forward(input, null);
        for (var i = 0; i < attentions.Count; i++)
        {
            h = resnets[i + 1].forward(attentions[i].forward(h), null);
        }
        return h;
    }
}
