using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Diffusers;

// Mirrors diffusers 0.11.1 src/diffusers/models/resnet.py (ResnetBlock2D, Downsample2D, Upsample2D) and
// Tune-A-Video tuneavideo/models/resnet.py (ResnetBlock3D, Downsample3D, Upsample3D: the same layers per frame).

/// <summary>
/// Frame-aware helpers. Video tensors travel through the UNet as (B·F, C, H, W) with the frames of a clip adjacent,
/// so per-frame 2-D layers apply unchanged; only the inflated GroupNorms need the clip back.
/// </summary>
public static class FrameOps
{
    /// <summary>
    /// GroupNorm whose statistics span all <paramref name="frames"/> of a clip, as torch's GroupNorm does on the
    /// (B, C, F, H, W) tensor in Tune-A-Video; with one frame it is the plain 2-D GroupNorm.
    /// </summary>
    public static Tensor GroupNormAcrossFrames(GroupNorm norm, Tensor x, int frames)
    {
        if (frames == 1)
        {
            return norm.forward(x);
        }
        using var scope = NewDisposeScope();
        var n = x.shape[0];
        var c = x.shape[1];
        var clip = x.view(n / frames, frames, c, x.shape[2], x.shape[3]).transpose(1, 2);
        var normed = nn.functional.group_norm(clip, norm.num_groups, norm.weight, norm.bias, norm.eps);
        return normed.transpose(1, 2).reshape(x.shape).MoveToOuterDisposeScope();
    }

    /// <summary>(B, C, F, H, W) → (B·F, C, H, W).</summary>
    public static Tensor FramesToBatch(Tensor video) =>
        video.permute(0, 2, 1, 3, 4).reshape(video.shape[0] * video.shape[2], video.shape[1], video.shape[3], video.shape[4]);

    /// <summary>(B·F, C, H, W) → (B, C, F, H, W).</summary>
    public static Tensor BatchToFrames(Tensor x, int frames) =>
        x.view(x.shape[0] / frames, frames, x.shape[1], x.shape[2], x.shape[3]).permute(0, 2, 1, 3, 4).contiguous();
}

/// <summary>
/// Pre-norm residual block: GroupNorm → SiLU → conv → (+ projected time embedding) → GroupNorm → SiLU → dropout →
/// conv, plus a 1×1 shortcut when the channel count changes. Without <c>tembChannels</c> (the VAE) there is no
/// <c>time_emb_proj</c>.
/// </summary>
public sealed class ResnetBlock2D : nn.Module
{
    public readonly GroupNorm norm1;
    public readonly Conv2d conv1;
    public readonly Linear? time_emb_proj;
    public readonly GroupNorm norm2;
    public readonly Dropout dropout;
    public readonly Conv2d conv2;
    public readonly Conv2d? conv_shortcut;
    private readonly double _outputScaleFactor;

    public ResnetBlock2D(long inChannels, long outChannels, long? tembChannels, long groups = 32, double eps = 1e-6,
        double outputScaleFactor = 1.0, double dropoutRate = 0.0, long? groupsOut = null, Device? device = null, ScalarType? dtype = null)
        : base(nameof(ResnetBlock2D))
    {
        _outputScaleFactor = outputScaleFactor;
        norm1 = nn.GroupNorm(groups, inChannels, eps, affine: true, device: device, dtype: dtype);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, padding: 1, device: device, dtype: dtype);
        time_emb_proj = tembChannels is long t ? nn.Linear(t, outChannels, device: device, dtype: dtype) : null;
        norm2 = nn.GroupNorm(groupsOut ?? groups, outChannels, eps, affine: true, device: device, dtype: dtype);
        dropout = nn.Dropout(dropoutRate);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1, device: device, dtype: dtype);
        conv_shortcut = inChannels != outChannels ? nn.Conv2d(inChannels, outChannels, 1, device: device, dtype: dtype) : null;
        register_module(nameof(norm1), norm1);
        register_module(nameof(conv1), conv1);
        if (time_emb_proj is not null)
        {
            register_module(nameof(time_emb_proj), time_emb_proj);
        }
        register_module(nameof(norm2), norm2);
        register_module(nameof(dropout), dropout);
        register_module(nameof(conv2), conv2);
        if (conv_shortcut is not null)
        {
            register_module(nameof(conv_shortcut), conv_shortcut);
        }
    }

    /// <param name="input">(B·F, C, H, W).</param>
    /// <param name="temb">(B·F, temb) or null.</param>
    /// <param name="frames">Frames per clip: the GroupNorms take their statistics over all of them.</param>
    public Tensor forward(Tensor input, Tensor? temb, int frames = 1)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.silu(FrameOps.GroupNormAcrossFrames(norm1, input, frames));
        h = conv1.forward(h);
        if (temb is not null && time_emb_proj is not null)
        {
            h = h + time_emb_proj.forward(nn.functional.silu(temb)).unsqueeze(-1).unsqueeze(-1);
        }
        h = nn.functional.silu(FrameOps.GroupNormAcrossFrames(norm2, h, frames));
        h = conv2.forward(dropout.forward(h));
        var shortcut = conv_shortcut is null ? input : conv_shortcut.forward(input);
        var output = shortcut + h;
        if (_outputScaleFactor != 1.0)
        {
            output = output / _outputScaleFactor;
        }
        return output.MoveToOuterDisposeScope();
    }
}

/// <summary>Stride-2 3×3 conv (padding 0 pads right/bottom by one first, as diffusers does).</summary>
public sealed class Downsample2D : nn.Module<Tensor, Tensor>
{
    public readonly Conv2d conv;
    private readonly long _padding;

    public Downsample2D(long channels, long outChannels, long padding = 1, Device? device = null, ScalarType? dtype = null)
        : base(nameof(Downsample2D))
    {
        _padding = padding;
        conv = nn.Conv2d(channels, outChannels, 3, stride: 2, padding: padding, device: device, dtype: dtype);
        register_module(nameof(conv), conv);
    }

    public override Tensor forward(Tensor input)
    {
        if (_padding != 0)
        {
            return conv.forward(input);
        }
        using var scope = NewDisposeScope();
        return conv.forward(nn.functional.pad(input, [0, 1, 0, 1])).MoveToOuterDisposeScope();
    }
}

/// <summary>Nearest ×2 (or to a given size) then a 3×3 conv; per frame this is Tune-A-Video's (1, 2, 2) upsampling.</summary>
public sealed class Upsample2D : nn.Module
{
    public readonly Conv2d conv;

    public Upsample2D(long channels, long outChannels, Device? device = null, ScalarType? dtype = null)
        : base(nameof(Upsample2D))
    {
        conv = nn.Conv2d(channels, outChannels, 3, padding: 1, device: device, dtype: dtype);
        register_module(nameof(conv), conv);
    }

    public Tensor forward(Tensor input, long[]? outputSize = null)
    {
        using var scope = NewDisposeScope();
        // Nearest upsampling has no bfloat16 kernel on some backends; diffusers goes through float32 too.
        var x = input.dtype == ScalarType.BFloat16 ? input.to_type(ScalarType.Float32) : input;
        x = outputSize is null
            ? nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest)
            : nn.functional.interpolate(x, size: outputSize, mode: InterpolationMode.Nearest);
        x = x.to_type(input.dtype);
        return conv.forward(x).MoveToOuterDisposeScope();
    }
}
