using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Diffusers;

// Mirrors diffusers 0.11.1 src/diffusers/models/unet_2d_blocks.py (CrossAttnDownBlock2D, DownBlock2D,
// UNetMidBlock2DCrossAttn, UpBlock2D, CrossAttnUpBlock2D) and Tune-A-Video tuneavideo/models/unet_blocks.py (3D twins).

/// <summary>What every UNet block needs to build its layers.</summary>
/// <param name="TembChannels">Time embedding size (4 × block_out_channels[0]).</param>
/// <param name="Temporal">Inflated (Tune-A-Video) transformer blocks.</param>
public sealed record UnetBlockSettings(long TembChannels, long Groups, double Eps, long CrossAttentionDim, bool Temporal, Device? Device, ScalarType? DType);

/// <summary>CrossAttnDownBlock2D (resnet + transformer per layer) or DownBlock2D (resnets only), then an optional downsampler.</summary>
public sealed class UnetDownBlock : nn.Module
{
    public readonly ModuleList<Transformer2DModel>? attentions;
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Downsample2D>? downsamplers;

    public UnetDownBlock(UnetBlockKind kind, int layers, long inChannels, long outChannels, long heads, bool addDownsample, long downsamplePadding, UnetBlockSettings s)
        : base(nameof(UnetDownBlock))
    {
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, layers)
            .Select(i => new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, s.TembChannels, s.Groups, s.Eps, device: s.Device, dtype: s.DType)).ToArray());
        if (kind == UnetBlockKind.CrossAttention)
        {
            attentions = new ModuleList<Transformer2DModel>(Enumerable.Range(0, layers)
                .Select(_ => new Transformer2DModel(heads, outChannels / heads, outChannels, s.CrossAttentionDim, s.Groups, s.Temporal, device: s.Device, dtype: s.DType)).ToArray());
            register_module(nameof(attentions), attentions);
        }
        register_module(nameof(resnets), resnets);
        if (addDownsample)
        {
            downsamplers = new ModuleList<Downsample2D>(new Downsample2D(outChannels, outChannels, downsamplePadding, s.Device, s.DType));
            register_module(nameof(downsamplers), downsamplers);
        }
    }

    /// <summary>Returns the block output and the skip tensors it hands to the up path (one per layer and downsampler).</summary>
    public (Tensor Output, List<Tensor> Skips) forward(Tensor input, Tensor temb, Tensor context, int frames)
    {
        var skips = new List<Tensor>();
        var x = input;
        for (var i = 0; i < resnets.Count; i++)
        {
            x = resnets[i].forward(x, temb, frames);
            if (attentions is not null)
            {
                x = attentions[i].forward(x, context, frames);
            }
            skips.Add(x);
        }
        if (downsamplers is not null)
        {
            foreach (var down in downsamplers)
            {
                x = down.forward(x);
            }
            skips.Add(x);
        }
        return (x, skips);
    }
}

/// <summary>UNetMidBlock2DCrossAttn: resnet, then (transformer, resnet) per layer.</summary>
public sealed class UnetMidBlockCrossAttn : nn.Module
{
    public readonly ModuleList<Transformer2DModel> attentions;
    public readonly ModuleList<ResnetBlock2D> resnets;

    public UnetMidBlockCrossAttn(long channels, long heads, double outputScaleFactor, UnetBlockSettings s, int layers = 1)
        : base(nameof(UnetMidBlockCrossAttn))
    {
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, layers + 1)
            .Select(_ => new ResnetBlock2D(channels, channels, s.TembChannels, s.Groups, s.Eps, outputScaleFactor, device: s.Device, dtype: s.DType)).ToArray());
        attentions = new ModuleList<Transformer2DModel>(Enumerable.Range(0, layers)
            .Select(_ => new Transformer2DModel(heads, channels / heads, channels, s.CrossAttentionDim, s.Groups, s.Temporal, device: s.Device, dtype: s.DType)).ToArray());
        register_module(nameof(attentions), attentions);
        register_module(nameof(resnets), resnets);
    }

    public Tensor forward(Tensor input, Tensor temb, Tensor context, int frames)
    {
        var x = resnets[0].forward(input, temb, frames);
        for (var i = 0; i < attentions.Count; i++)
        {
            x = attentions[i].forward(x, context, frames);
            x = resnets[i + 1].forward(x, temb, frames);
        }
        return x;
    }
}

/// <summary>CrossAttnUpBlock2D or UpBlock2D: each layer concatenates a skip tensor, then an optional upsampler.</summary>
public sealed class UnetUpBlock : nn.Module
{
    public readonly ModuleList<Transformer2DModel>? attentions;
    public readonly ModuleList<ResnetBlock2D> resnets;
    public readonly ModuleList<Upsample2D>? upsamplers;

    public UnetUpBlock(UnetBlockKind kind, int layers, long inChannels, long prevOutputChannels, long outChannels, long heads, bool addUpsample, UnetBlockSettings s)
        : base(nameof(UnetUpBlock))
    {
        resnets = new ModuleList<ResnetBlock2D>(Enumerable.Range(0, layers).Select(i =>
        {
            var skipChannels = i == layers - 1 ? inChannels : outChannels;
            var resnetIn = i == 0 ? prevOutputChannels : outChannels;
            return new ResnetBlock2D(resnetIn + skipChannels, outChannels, s.TembChannels, s.Groups, s.Eps, device: s.Device, dtype: s.DType);
        }).ToArray());
        if (kind == UnetBlockKind.CrossAttention)
        {
            attentions = new ModuleList<Transformer2DModel>(Enumerable.Range(0, layers)
                .Select(_ => new Transformer2DModel(heads, outChannels / heads, outChannels, s.CrossAttentionDim, s.Groups, s.Temporal, device: s.Device, dtype: s.DType)).ToArray());
            register_module(nameof(attentions), attentions);
        }
        register_module(nameof(resnets), resnets);
        if (addUpsample)
        {
            upsamplers = new ModuleList<Upsample2D>(new Upsample2D(outChannels, outChannels, s.Device, s.DType));
            register_module(nameof(upsamplers), upsamplers);
        }
    }

    /// <param name="skips">This block's skip tensors, oldest first; they are consumed from the end.</param>
    /// <param name="upsampleSize">Output size of the upsampler when the input is not a multiple of the UNet's total stride.</param>
    public Tensor forward(Tensor input, IReadOnlyList<Tensor> skips, Tensor temb, Tensor context, int frames, long[]? upsampleSize = null)
    {
        var x = input;
        for (var i = 0; i < resnets.Count; i++)
        {
            x = cat([x, skips[skips.Count - 1 - i]], 1);
            x = resnets[i].forward(x, temb, frames);
            if (attentions is not null)
            {
                x = attentions[i].forward(x, context, frames);
            }
        }
        if (upsamplers is not null)
        {
            foreach (var up in upsamplers)
            {
                x = up.forward(x, upsampleSize);
            }
        }
        return x;
    }
}
