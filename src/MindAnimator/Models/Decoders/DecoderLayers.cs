using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Decoders;

// Building blocks of Mind-Animator models/Decoder.py shared by the three decoders.

/// <summary>Random draws for tensors that may live on another device than their generator.</summary>
public static class RandomDraws
{
    /// <summary>
    /// U[0, 1) shaped like <paramref name="like"/> on its device and dtype. An explicit generator draws on its own device
    /// (the trainer's are CPU generators) and the values are moved, so the same seed gives the same draws on every device;
    /// without one, the global generator of <paramref name="like"/>'s device draws.
    /// </summary>
    public static Tensor Uniform(Tensor like, Generator? generator)
    {
        if (generator is null || generator.device.type == like.device_type)
        {
            return rand(like.shape, dtype: like.dtype, device: like.device, generator: generator);
        }
        using var drawn = rand(like.shape, dtype: like.dtype, device: generator.device, generator: generator);
        return drawn.to(like.device);
    }
}

/// <summary>
/// Inverted dropout whose masks come from an explicit generator (when set), so a training run replays exactly after a
/// resume and is not disturbed by other users of TorchSharp's global generator. Parameter-free: state dicts are unchanged.
/// </summary>
public sealed class SeededDropout : nn.Module<Tensor, Tensor>
{
    // Scalars held for the module's life: TorchSharp's implicit temporaries are freed by finalizers, which can race native calls.
    private readonly Scalar _threshold;
    private readonly Scalar _scale;

    public SeededDropout(double p)
        : base(nameof(SeededDropout))
    {
        if (p is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "dropout probability must be in [0, 1).");
        }
        P = p;
        _threshold = p.ToScalar();
        _scale = (1 - p).ToScalar();
    }

    public double P { get; }

    /// <summary>The generator of the masks; null draws from TorchSharp's global generator.</summary>
    public Generator? Generator { get; set; }

    public override Tensor forward(Tensor input)
    {
        if (!training || P == 0)
        {
            return input.alias();
        }
        using var keep = RandomDraws.Uniform(input, Generator).ge_(_threshold);
        return input.mul(keep).div_(_scale);
    }
}

/// <summary>
/// The reference's own LayerNorm (`a_2 * (x − mean) / (std + eps) + b_2`): the standard deviation is the unbiased one
/// and eps is added to it, not to the variance — so it differs from nn.LayerNorm.
/// </summary>
public sealed class ReferenceLayerNorm : nn.Module<Tensor, Tensor>
{
    private readonly Scalar _eps;
    private readonly Parameter a_2;
    private readonly Parameter b_2;

    public ReferenceLayerNorm(long features, double eps = 1e-6, Device? device = null)
        : base(nameof(ReferenceLayerNorm))
    {
        _eps = eps.ToScalar();
        a_2 = new Parameter(ones(features, device: device));
        b_2 = new Parameter(zeros(features, device: device));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var mean = x.mean(new long[] { -1 }, keepdim: true);
        var std = x.std(-1, unbiased: true, keepdim: true);
        return (a_2 * (x - mean) / std.add(_eps) + b_2).MoveToOuterDisposeScope();
    }
}

/// <summary>Sets the mask generator of every <see cref="SeededDropout"/> inside a module.</summary>
public static class DropoutGenerators
{
    public static void Set(nn.Module module, Generator? generator)
    {
        foreach (var (_, m) in module.named_modules())
        {
            if (m is SeededDropout d)
            {
                d.Generator = generator;
            }
        }
    }
}
