using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Diffusers;

// Mirrors diffusers 0.11.1 src/diffusers/models/{resnet.py (ResnetBlock2D without time embedding, Downsample2D,
// Upsample2D), attention.py (AttentionBlock), unet_2d_blocks.py (DownEncoderBlock2D, UpDecoderBlock2D, UNetMidBlock2D)}.

/// <summary>ResnetBlock2D as the VAE uses it: no time embedding, SiLU, optional 1×1 shortcut.</summary>
public sealed class VaeResnetBlock : nn.Module<Tensor, Tensor>
{
    private readonly GroupNorm norm1;
    private readonly Conv2d conv1;
    private readonly GroupNorm norm2;
    private readonly Conv2d conv2;
    private readonly Conv2d? conv_shortcut;

    public VaeResnetBlock(int inChannels, int outChannels, int groups, double eps)
        : base(nameof(VaeResnetBlock))
    {
        norm1 = nn.GroupNorm(groups, inChannels, eps);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1);
        norm2 = nn.GroupNorm(groups, outChannels, eps);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1);
        conv_shortcut = inChannels != outChannels ? nn.Conv2d(inChannels, outChannels, 1) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = conv1.forward(nn.functional.silu(norm1.forward(input)));
        h = conv2.forward(nn.functional.silu(norm2.forward(h)));
        var shortcut = conv_shortcut is null ? input : conv_shortcut.forward(input);
        return shortcut + h;
    }
}

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
    private readonly double _scale;

    public VaeAttentionBlock(int channels, int groups, double eps)
        : base(nameof(VaeAttentionBlock))
    {
        group_norm = nn.GroupNorm(groups, channels, eps);
        query = nn.Linear(channels, channels);
        key = nn.Linear(channels, channels);
        value = nn.Linear(channels, channels);
        proj_attn = nn.Linear(channels, channels);
        _scale = 1.0 / Math.Sqrt(channels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var (b, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3]);
        var tokens = group_norm.forward(input).view(b, c, h * w).transpose(1, 2);
        var q = query.forward(tokens);
        var k = key.forward(tokens);
        var v = value.forward(tokens);
        var probs = torch.softmax(torch.bmm(q, k.transpose(1, 2)).mul_(_scale), dim: -1);
        var attended = proj_attn.forward(torch.bmm(probs, v));
        return attended.transpose(1, 2).reshape(b, c, h, w) + input;
    }
}

/// <summary>Stride-2 3×3 conv after padding one row/column at the bottom/right only (the VAE's Downsample2D).</summary>
public sealed class VaeDownsample : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;

    public VaeDownsample(int channels)
        : base(nameof(VaeDownsample))
    {
        conv = nn.Conv2d(channels, channels, 3, stride: 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) =>
        conv.forward(nn.functional.pad(input, new long[] { 0, 1, 0, 1 }, PaddingModes.Constant, 0));
}

/// <summary>Nearest ×2 upsampling followed by a 3×3 conv (Upsample2D with use_conv).</summary>
public sealed class VaeUpsample : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;

    public VaeUpsample(int channels)
        : base(nameof(VaeUpsample))
    {
        conv = nn.Conv2d(channels, channels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) =>
        conv.forward(nn.functional.interpolate(input, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest));
}

/// <summary>DownEncoderBlock2D: resnets, then an optional downsampler.</summary>
public sealed class DownEncoderBlock2D : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<VaeResnetBlock> resnets = new();
    private readonly ModuleList<VaeDownsample>? downsamplers;

    public DownEncoderBlock2D(int inChannels, int outChannels, int layers, int groups, double eps, bool addDownsample)
        : base(nameof(DownEncoderBlock2D))
    {
        for (var i = 0; i < layers; i++)
        {
            resnets.Add(new VaeResnetBlock(i == 0 ? inChannels : outChannels, outChannels, groups, eps));
        }
        downsamplers = addDownsample ? new ModuleList<VaeDownsample>(new VaeDownsample(outChannels)) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = input;
        foreach (var r in resnets)
        {
            h = r.forward(h);
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
    private readonly ModuleList<VaeResnetBlock> resnets = new();
    private readonly ModuleList<VaeUpsample>? upsamplers;

    public UpDecoderBlock2D(int inChannels, int outChannels, int layers, int groups, double eps, bool addUpsample)
        : base(nameof(UpDecoderBlock2D))
    {
        for (var i = 0; i < layers; i++)
        {
            resnets.Add(new VaeResnetBlock(i == 0 ? inChannels : outChannels, outChannels, groups, eps));
        }
        upsamplers = addUpsample ? new ModuleList<VaeUpsample>(new VaeUpsample(outChannels)) : null;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = input;
        foreach (var r in resnets)
        {
            h = r.forward(h);
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
    private readonly ModuleList<VaeResnetBlock> resnets = new();

    public VaeMidBlock(int channels, int groups, double eps)
        : base(nameof(VaeMidBlock))
    {
        resnets.Add(new VaeResnetBlock(channels, channels, groups, eps));
        attentions.Add(new VaeAttentionBlock(channels, groups, eps));
        resnets.Add(new VaeResnetBlock(channels, channels, groups, eps));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = resnets[0].forward(input);
        for (var i = 0; i < attentions.Count; i++)
        {
            h = resnets[i + 1].forward(attentions[i].forward(h));
        }
        return h;
    }
}
