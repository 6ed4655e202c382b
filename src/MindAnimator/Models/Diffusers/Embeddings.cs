using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Diffusers;

// Mirrors diffusers 0.11.1 src/diffusers/models/embeddings.py (get_timestep_embedding, TimestepEmbedding).

/// <summary>Sinusoidal timestep features (diffusers' <c>Timesteps</c> module, which has no parameters).</summary>
public static class TimestepFeatures
{
    /// <summary>
    /// (N) timesteps → (N, <paramref name="dim"/>) float32 features: frequencies exp(−ln(max_period)·i/(half − shift)),
    /// [sin, cos] halves, swapped to [cos, sin] when <paramref name="flipSinToCos"/>.
    /// </summary>
    public static Tensor Embed(Tensor timesteps, int dim, bool flipSinToCos, double freqShift, double maxPeriod = 10000)
    {
        if (timesteps.dim() != 1)
        {
            throw new ArgumentException($"timesteps must be a 1-D tensor, got shape [{string.Join(",", timesteps.shape)}].", nameof(timesteps));
        }
        using var scope = NewDisposeScope();
        var half = dim / 2;
        var exponent = arange(0, half, dtype: ScalarType.Float32, device: timesteps.device) * (float)-Math.Log(maxPeriod);
        exponent = exponent / (float)(half - freqShift);
        var args = timesteps.to_type(ScalarType.Float32).unsqueeze(1) * exp(exponent).unsqueeze(0);
        var emb = flipSinToCos ? cat([cos(args), sin(args)], 1) : cat([sin(args), cos(args)], 1);
        if (dim % 2 == 1)
        {
            emb = nn.functional.pad(emb, [0, 1, 0, 0]);
        }
        return emb.MoveToOuterDisposeScope();
    }
}

/// <summary>linear_1 → SiLU → linear_2 on the timestep features.</summary>
public sealed class TimestepEmbedding : nn.Module<Tensor, Tensor>
{
    public readonly Linear linear_1;
    public readonly Linear linear_2;

    public TimestepEmbedding(long inChannels, long timeEmbedDim, Device? device = null, ScalarType? dtype = null)
        : base(nameof(TimestepEmbedding))
    {
        linear_1 = nn.Linear(inChannels, timeEmbedDim, device: device, dtype: dtype);
        linear_2 = nn.Linear(timeEmbedDim, timeEmbedDim, device: device, dtype: dtype);
        register_module(nameof(linear_1), linear_1);
        register_module(nameof(linear_2), linear_2);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return linear_2.forward(nn.functional.silu(linear_1.forward(input))).MoveToOuterDisposeScope();
    }
}
