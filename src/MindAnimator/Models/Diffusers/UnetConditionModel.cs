using MindAnimator.Models.Common;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Diffusers;

/// <summary>
/// The layers and forward pass shared by <see cref="Unet2DConditionModel"/> and the inflated
/// <see cref="Unet3DConditionModel"/>; state-dict names equal diffusers' so published checkpoints load unchanged.
/// Video clips run as (B·F, C, H, W) with the frame count passed down to the few frame-aware layers.
/// </summary>
// Mirrors diffusers 0.11.1 src/diffusers/models/unet_2d_condition.py and Tune-A-Video tuneavideo/models/unet.py.
public abstract class UnetConditionModel : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    public readonly Conv2d conv_in;
    public readonly TimestepEmbedding time_embedding;
    public readonly ModuleList<UnetDownBlock> down_blocks;
    public readonly ModuleList<UnetUpBlock> up_blocks;
    public readonly UnetMidBlockCrossAttn mid_block;
    public readonly GroupNorm conv_norm_out;
    public readonly Conv2d conv_out;
    private readonly int _upsamplers;

    protected UnetConditionModel(string name, UnetConfig config, bool temporal, Device? device, ScalarType dtype)
        : base(name)
    {
        Config = config.Validate();
        Device = device ?? CPU;
        DType = dtype;
        var c = config.BlockOutChannels;
        var n = c.Count;
        var tembChannels = c[0] * 4L;
        var s = new UnetBlockSettings(tembChannels, config.NormNumGroups, config.NormEps, config.CrossAttentionDim, temporal, Device, dtype);

        conv_in = nn.Conv2d(config.InChannels, c[0], 3, padding: 1, device: Device, dtype: dtype);
        time_embedding = new TimestepEmbedding(c[0], tembChannels, Device, dtype);

        var down = new List<UnetDownBlock>();
        var output = c[0];
        for (var i = 0; i < n; i++)
        {
            var input = output;
            output = c[i];
            down.Add(new UnetDownBlock(config.DownBlockTypes[i], config.LayersPerBlock, input, output, config.AttentionHeads[i],
                addDownsample: i < n - 1, config.DownsamplePadding, s));
        }
        down_blocks = new ModuleList<UnetDownBlock>(down.ToArray());

        var up = new List<UnetUpBlock>();
        var reversed = c.Reverse().ToArray();
        var reversedHeads = config.AttentionHeads.Reverse().ToArray();
        output = reversed[0];
        for (var i = 0; i < n; i++)
        {
            var prevOutput = output;
            output = reversed[i];
            var input = reversed[Math.Min(i + 1, n - 1)];
            var addUpsample = i < n - 1;
            _upsamplers += addUpsample ? 1 : 0;
            up.Add(new UnetUpBlock(config.UpBlockTypes[i], config.LayersPerBlock + 1, input, prevOutput, output, reversedHeads[i], addUpsample, s));
        }
        up_blocks = new ModuleList<UnetUpBlock>(up.ToArray());

        mid_block = new UnetMidBlockCrossAttn(c[n - 1], config.AttentionHeads[n - 1], config.MidBlockScaleFactor, s);
        conv_norm_out = nn.GroupNorm(config.NormNumGroups, c[0], config.NormEps, affine: true, device: Device, dtype: dtype);
        conv_out = nn.Conv2d(c[0], config.OutChannels, 3, padding: 1, device: Device, dtype: dtype);

        // diffusers registers mid_block after up_blocks (it is assigned None first), hence this order.
        register_module(nameof(conv_in), conv_in);
        register_module(nameof(time_embedding), time_embedding);
        register_module(nameof(down_blocks), down_blocks);
        register_module(nameof(up_blocks), up_blocks);
        register_module(nameof(mid_block), mid_block);
        register_module(nameof(conv_norm_out), conv_norm_out);
        register_module(nameof(conv_out), conv_out);
    }

    /// <summary>The config the model was built from.</summary>
    public UnetConfig Config { get; }

    /// <summary>Where the parameters live.</summary>
    public Device Device { get; }

    /// <summary>Parameter dtype (float32 by default; float16/bfloat16 for GPU inference).</summary>
    public ScalarType DType { get; }

    /// <summary>Total number of parameter elements.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Marks every parameter as not requiring gradients (the generative model stays frozen).</summary>
    public void Freeze()
    {
        foreach (var p in parameters())
        {
            p.requires_grad = false;
        }
    }

    /// <summary>Copies a state dict into the model by name (strict; dtype converted); <paramref name="source"/> names it in errors.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> weights, string source) => StateDict.Load(this, weights, source);

    /// <summary>
    /// The shared forward pass on (B·F, C, H, W) samples.
    /// </summary>
    /// <param name="sample">(B·F, in_channels, H, W), the frames of a clip adjacent.</param>
    /// <param name="timestep">Scalar or (B) timesteps (int64 or float).</param>
    /// <param name="context">(B, S, cross_attention_dim) text context, shared by the frames of a clip.</param>
    /// <param name="frames">Frames per clip (1 for images).</param>
    protected Tensor ForwardFrames(Tensor sample, Tensor timestep, Tensor context, int frames)
    {
        using var scope = NewDisposeScope();
        var batch = sample.shape[0] / frames;
        if (context.dim() != 3 || context.shape[0] != batch || context.shape[2] != Config.CrossAttentionDim)
        {
            throw new ArgumentException($"encoder_hidden_states must be ({batch}, S, {Config.CrossAttentionDim}), got [{string.Join(",", context.shape)}].", nameof(context));
        }
        // Inputs that are not a multiple of the total stride need explicit upsampler output sizes.
        var factor = 1L << _upsamplers;
        var explicitUpsampleSize = sample.shape[2] % factor != 0 || sample.shape[3] % factor != 0;
        if (Config.CenterInputSample)
        {
            sample = (2 * sample) - 1.0;
        }

        var t = timestep.to(Device).flatten();
        if (t.shape[0] == 1)
        {
            t = t.expand(batch);
        }
        else if (t.shape[0] != batch)
        {
            throw new ArgumentException($"timestep must be a scalar or have {batch} entries, got [{string.Join(",", timestep.shape)}].", nameof(timestep));
        }
        var temb = time_embedding.forward(TimestepFeatures.Embed(t, Config.BlockOutChannels[0], Config.FlipSinToCos, Config.FreqShift).to_type(DType));
        if (frames > 1)
        {
            temb = temb.repeat_interleave(frames, 0);
            context = context.repeat_interleave(frames, 0);
        }

        var x = conv_in.forward(sample);
        var skips = new List<Tensor> { x };
        foreach (var block in down_blocks)
        {
            (x, var blockSkips) = block.forward(x, temb, context, frames);
            skips.AddRange(blockSkips);
        }
        x = mid_block.forward(x, temb, context, frames);
        for (var i = 0; i < up_blocks.Count; i++)
        {
            var block = up_blocks[i];
            var take = block.resnets.Count;
            var blockSkips = skips.GetRange(skips.Count - take, take);
            skips.RemoveRange(skips.Count - take, take);
            long[]? upsampleSize = explicitUpsampleSize && i < up_blocks.Count - 1 ? skips[^1].shape[2..] : null;
            x = block.forward(x, blockSkips, temb, context, frames, upsampleSize);
        }
        x = nn.functional.silu(FrameOps.GroupNormAcrossFrames(conv_norm_out, x, frames));
        return conv_out.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Inference: no gradients, intermediates freed on return; inputs are moved to the model's device and dtype and
    /// the prediction comes back in the sample's dtype.
    /// </summary>
    public Tensor Predict(Tensor sample, Tensor timestep, Tensor encoderHiddenStates)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var prediction = forward(sample.to(DType, Device), timestep, encoderHiddenStates.to(DType, Device));
        return prediction.to(sample.dtype, sample.device).MoveToOuterDisposeScope();
    }

    /// <inheritdoc cref="Predict(Tensor, Tensor, Tensor)"/>
    public Tensor Predict(Tensor sample, long timestep, Tensor encoderHiddenStates)
    {
        using var t = tensor(timestep);
        return Predict(sample, t, encoderHiddenStates);
    }
}
