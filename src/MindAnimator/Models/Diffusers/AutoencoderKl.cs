using MindAnimator.Diffusion;
using MindAnimator.Models.Common;
using Serilog;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Diffusers;

// Mirrors diffusers 0.11.1 src/diffusers/models/vae.py (Encoder, Decoder, DiagonalGaussianDistribution, AutoencoderKL).

/// <summary>The VAE encoder: image (B,3,H,W) → moments (B,2·latent,H/f,W/f).</summary>
public sealed class VaeEncoder : nn.Module<Tensor, Tensor>
{
    private const double Eps = 1e-6;
    private readonly Conv2d conv_in;
    private readonly ModuleList<DownEncoderBlock2D> down_blocks = new();
    private readonly VaeMidBlock mid_block;
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;

    public VaeEncoder(AutoencoderKlConfig config)
        : base(nameof(VaeEncoder))
    {
        var ch = config.BlockOutChannels;
        conv_in = nn.Conv2d(config.InChannels, ch[0], 3, padding: 1);
        for (var i = 0; i < ch.Count; i++)
        {
            down_blocks.Add(new DownEncoderBlock2D(i == 0 ? ch[0] : ch[i - 1], ch[i], config.LayersPerBlock, config.NormNumGroups, Eps, addDownsample: i < ch.Count - 1));
        }
        mid_block = new VaeMidBlock(ch[^1], config.NormNumGroups, Eps);
        conv_norm_out = nn.GroupNorm(config.NormNumGroups, ch[^1], Eps);
        conv_out = nn.Conv2d(ch[^1], 2 * config.LatentChannels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = conv_in.forward(input);
        foreach (var block in down_blocks)
        {
            h = block.forward(h);
        }
        h = mid_block.forward(h);
        return conv_out.forward(nn.functional.silu(conv_norm_out.forward(h)));
    }
}

/// <summary>The VAE decoder: latent (B,latent,h,w) → image (B,3,h·f,w·f).</summary>
public sealed class VaeDecoder : nn.Module<Tensor, Tensor>
{
    private const double Eps = 1e-6;
    private readonly Conv2d conv_in;
    private readonly VaeMidBlock mid_block;
    private readonly ModuleList<UpDecoderBlock2D> up_blocks = new();
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;

    public VaeDecoder(AutoencoderKlConfig config)
        : base(nameof(VaeDecoder))
    {
        var reversed = config.BlockOutChannels.Reverse().ToArray();
        conv_in = nn.Conv2d(config.LatentChannels, reversed[0], 3, padding: 1);
        mid_block = new VaeMidBlock(reversed[0], config.NormNumGroups, Eps);
        for (var i = 0; i < reversed.Length; i++)
        {
            up_blocks.Add(new UpDecoderBlock2D(i == 0 ? reversed[0] : reversed[i - 1], reversed[i], config.LayersPerBlock + 1, config.NormNumGroups, Eps, addUpsample: i < reversed.Length - 1));
        }
        conv_norm_out = nn.GroupNorm(config.NormNumGroups, reversed[^1], Eps);
        conv_out = nn.Conv2d(reversed[^1], config.OutChannels, 3, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = mid_block.forward(conv_in.forward(input));
        foreach (var block in up_blocks)
        {
            h = block.forward(h);
        }
        return conv_out.forward(nn.functional.silu(conv_norm_out.forward(h)));
    }
}

/// <summary>
/// The encoder's posterior N(mean, exp(logvar)) per latent element; logvar is clamped to [-30, 20] as in diffusers.
/// Owns its tensors.
/// </summary>
public sealed class DiagonalGaussianDistribution : IDisposable
{
    public DiagonalGaussianDistribution(Tensor moments)
    {
        // The distribution owns its tensors (detached from any dispose scope); dispose it.
        using var scope = NewDisposeScope();
        var halves = moments.chunk(2, dim: 1);
        Mean = halves[0].contiguous().DetachFromDisposeScope();
        LogVar = halves[1].clamp(-30.0, 20.0).DetachFromDisposeScope();
        Std = LogVar.mul(0.5).exp_().DetachFromDisposeScope();
        Var = LogVar.exp().DetachFromDisposeScope();
    }

    public Tensor Mean { get; }

    public Tensor LogVar { get; }

    public Tensor Std { get; }

    public Tensor Var { get; }

    /// <summary>mean + std·ε with ε ~ N(0, I) drawn from <paramref name="generator"/> (on the CPU, like diffusers).</summary>
    public Tensor Sample(Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var noise = torch.randn(Mean.shape, dtype: Mean.dtype, device: generator is null ? Mean.device : CPU, generator: generator).to(Mean.device);
        return (Mean + Std * noise).MoveToOuterDisposeScope();
    }

    /// <summary>The mode of the posterior (its mean).</summary>
    public Tensor Mode() => Mean.alias();

    public void Dispose()
    {
        Mean.Dispose();
        LogVar.Dispose();
        Std.Dispose();
        Var.Dispose();
    }
}

/// <summary>
/// diffusers `AutoencoderKL` (Stable Diffusion's VAE), built from its config; state-dict names equal the
/// reference, and attention weights may use either the old (query/key/value/proj_attn) or the new
/// (to_q/to_k/to_v/to_out.0) spelling. <c>forward</c> = decode(posterior mode).
/// </summary>
public sealed class AutoencoderKl : nn.Module<Tensor, Tensor>
{
    private static readonly (string NewName, string OldName)[] AttentionRenames =
    {
        (".to_q.", ".query."), (".to_k.", ".key."), (".to_v.", ".value."), (".to_out.0.", ".proj_attn."),
    };

    private readonly VaeEncoder encoder;
    private readonly VaeDecoder decoder;
    private readonly Conv2d quant_conv;
    private readonly Conv2d post_quant_conv;

    public AutoencoderKl(AutoencoderKlConfig config)
        : base(nameof(AutoencoderKl))
    {
        Config = config;
        encoder = new VaeEncoder(config);
        decoder = new VaeDecoder(config);
        quant_conv = nn.Conv2d(2 * config.LatentChannels, 2 * config.LatentChannels, 1);
        post_quant_conv = nn.Conv2d(config.LatentChannels, config.LatentChannels, 1);
        RegisterComponents();
    }

    public AutoencoderKlConfig Config { get; }

    /// <summary>Decode a batch one image at a time (diffusers `enable_slicing`); results are identical.</summary>
    public bool UseSlicing { get; set; } = true;

    /// <summary>
    /// Loads a diffusers VAE folder (config.json + diffusion_pytorch_model.safetensors or .bin) in eval mode.
    /// </summary>
    public static AutoencoderKl FromPretrained(string folder, ILogger? log = null)
    {
        var config = AutoencoderKlConfig.Load(Path.Combine(folder, "config.json"));
        var weightsPath = StateDict.FindWeights(folder, StateDict.DiffusersWeightFiles);
        var model = new AutoencoderKl(config);
        model.LoadWeights(weightsPath);
        model.eval();
        (log ?? Log.ForContext<AutoencoderKl>()).Information("VAE loaded from {Folder} (block_out_channels [{Channels}], scaling factor {Scale})",
            folder, string.Join(", ", config.BlockOutChannels), config.ScalingFactor);
        return model;
    }

    /// <summary>Reads a checkpoint and loads it strictly, accepting both attention key spellings.</summary>
    public void LoadWeights(string path)
    {
        var weights = StateDict.Read(path);
        try
        {
            LoadWeights(weights, path);
        }
        finally
        {
            foreach (var t in weights.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>Loads a state dict strictly (names as in diffusers), accepting both attention key spellings.</summary>
    public void LoadWeights(IReadOnlyDictionary<string, Tensor> weights, string source) =>
        StateDict.Load(this, ToOldAttentionNames(weights), source);

    /// <summary>Maps post-2023 diffusers attention names (to_q/to_k/to_v/to_out.0) to this model's names.</summary>
    public static Dictionary<string, Tensor> ToOldAttentionNames(IReadOnlyDictionary<string, Tensor> weights)
    {
        var result = new Dictionary<string, Tensor>(weights.Count);
        foreach (var (name, tensor) in weights)
        {
            var renamed = name;
            if (name.Contains(".mid_block.attentions.", StringComparison.Ordinal))
            {
                foreach (var (newName, oldName) in AttentionRenames)
                {
                    renamed = renamed.Replace(newName, oldName, StringComparison.Ordinal);
                }
            }
            result[renamed] = tensor;
        }
        return result;
    }

    /// <summary>encode(x).latent_dist for images (B,3,H,W) in [-1,1].</summary>
    public DiagonalGaussianDistribution Encode(Tensor images)
    {
        using var scope = NewDisposeScope();
        return new DiagonalGaussianDistribution(quant_conv.forward(encoder.forward(images)));
    }

    /// <summary>decode(z).sample: unscaled latents (B,latent,h,w) → images (B,3,H,W) in about [-1,1].</summary>
    public Tensor Decode(Tensor latents)
    {
        if (!UseSlicing || latents.shape[0] <= 1)
        {
            using var scope = NewDisposeScope();
            return decoder.forward(post_quant_conv.forward(latents)).MoveToOuterDisposeScope();
        }
        var slices = new List<Tensor>();
        try
        {
            for (var i = 0; i < latents.shape[0]; i++)
            {
                using var scope = NewDisposeScope();
                slices.Add(decoder.forward(post_quant_conv.forward(latents.narrow(0, i, 1))).MoveToOuterDisposeScope());
            }
            return torch.cat(slices, 0);
        }
        finally
        {
            slices.ForEach(s => s.Dispose());
        }
    }

    /// <summary>forward(sample, sample_posterior=False).sample: decode(mean of the posterior).</summary>
    public override Tensor forward(Tensor images) => forward(images, samplePosterior: false, generator: null);

    /// <summary>forward with an optional posterior sample drawn from <paramref name="generator"/>.</summary>
    public Tensor forward(Tensor images, bool samplePosterior, Generator? generator)
    {
        using var posterior = Encode(images);
        using var z = samplePosterior ? posterior.Sample(generator) : posterior.Mode();
        return Decode(z);
    }

    /// <summary>
    /// Scaled video latents (B,latent,F,h,w) → video (B,3,F,H,W) in [0,1]: decode(latents / scaling_factor) one
    /// frame at a time (memory stays that of one frame), then (x/2 + 0.5).clamp(0, 1). Each frame runs on the VAE's
    /// device and dtype; the video is returned on the latents' device and dtype.
    /// </summary>
    public Tensor DecodeVideo(Tensor latents)
    {
        if (latents.dim() != 5)
        {
            throw new ArgumentException($"expected video latents (B,C,F,h,w), got [{string.Join(",", latents.shape)}].", nameof(latents));
        }
        var (b, f) = (latents.shape[0], latents.shape[2]);
        var weight = post_quant_conv.weight!;
        Tensor? video = null;
        try
        {
            for (var i = 0; i < b; i++)
            {
                for (var j = 0; j < f; j++)
                {
                    using var scope = NewDisposeScope();
                    var z = latents.select(0, i).select(1, j).unsqueeze(0).to(weight.dtype, weight.device).div(Config.ScalingFactor);
                    var frame = Decode(z)[0];
                    video ??= torch.empty(new[] { b, frame.shape[0], f, frame.shape[1], frame.shape[2] }, dtype: latents.dtype, device: latents.device).MoveToOuterDisposeScope();
                    video.select(0, i).select(1, j).copy_(frame.div(2).add_(0.5).clamp_(0, 1));
                }
            }
            return video!;
        }
        catch
        {
            video?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Video (B,3,F,H,W) in [0,1] → scaled latents (B,latent,F,h,w): posterior mean (or a sample from
    /// <paramref name="generator"/>) × scaling_factor, one frame at a time.
    /// </summary>
    public Tensor EncodeVideo(Tensor video01, bool sample = false, Generator? generator = null)
    {
        if (video01.dim() != 5)
        {
            throw new ArgumentException($"expected a video (B,3,F,H,W), got [{string.Join(",", video01.shape)}].", nameof(video01));
        }
        var (b, f) = (video01.shape[0], video01.shape[2]);
        var weight = quant_conv.weight!;
        var frames = new List<Tensor>();
        try
        {
            for (var i = 0; i < b; i++)
            {
                for (var j = 0; j < f; j++)
                {
                    using var scope = NewDisposeScope();
                    using var posterior = Encode(video01.select(0, i).select(1, j).unsqueeze(0).to(weight.dtype, weight.device).mul(2).sub_(1));
                    var z = sample ? posterior.Sample(generator) : posterior.Mean;
                    frames.Add(z.mul(Config.ScalingFactor)[0].to(video01.dtype, video01.device).MoveToOuterDisposeScope());
                }
            }
            using var stackScope = NewDisposeScope();
            var stacked = torch.stack(frames, 1);
            return stacked.view(frames[0].shape[0], b, f, frames[0].shape[1], frames[0].shape[2]).permute(1, 0, 2, 3, 4).contiguous().MoveToOuterDisposeScope();
        }
        finally
        {
            frames.ForEach(t => t.Dispose());
        }
    }
}
