using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Diffusion;

/// <summary>
/// The training noise schedule shared by DDPM and DDIM: betas and ᾱ = cumprod(1 − β), computed in float32 with
/// torch exactly as diffusers 0.11.1 does (linspace in float32, then square for "scaled_linear").
/// </summary>
public sealed class BetaSchedule : IDisposable
{
    private BetaSchedule(int numTrainTimesteps, Tensor betas)
    {
        NumTrainTimesteps = numTrainTimesteps;
        Betas = betas;
        using var alphas = 1.0f - betas;
        AlphasCumprod = alphas.cumprod(0);
    }

    public int NumTrainTimesteps { get; }

    /// <summary>β_t, float32 (T).</summary>
    public Tensor Betas { get; }

    /// <summary>ᾱ_t = Π(1 − β), float32 (T).</summary>
    public Tensor AlphasCumprod { get; }

    /// <summary>Builds the schedule from the beta fields of a scheduler config.</summary>
    public static BetaSchedule From(DiffusersConfig c)
    {
        var steps = c.GetInt("num_train_timesteps", 1000);
        if (steps <= 1)
        {
            throw c.Unsupported("num_train_timesteps", steps.ToString(CultureInfo.InvariantCulture), "an integer above 1");
        }
        var trained = c.GetDoubleArrayOrNull("trained_betas");
        if (trained is not null)
        {
            if (trained.Length != steps)
            {
                throw c.Unsupported("trained_betas", $"a list of {trained.Length} values", $"{steps} values (num_train_timesteps)");
            }
            return new BetaSchedule(steps, torch.tensor(trained, dtype: ScalarType.Float32));
        }
        var start = c.GetDouble("beta_start", 0.0001);
        var end = c.GetDouble("beta_end", 0.02);
        var schedule = c.GetString("beta_schedule", "linear");
        return schedule switch
        {
            "linear" => new BetaSchedule(steps, torch.linspace(start, end, steps, dtype: ScalarType.Float32)),
            "scaled_linear" => ScaledLinear(steps, start, end),
            _ => throw c.Unsupported("beta_schedule", $"\"{schedule}\"", "\"linear\", \"scaled_linear\""),
        };
    }

    private static BetaSchedule ScaledLinear(int steps, double start, double end)
    {
        using var roots = torch.linspace(Math.Sqrt(start), Math.Sqrt(end), steps, dtype: ScalarType.Float32);
        return new BetaSchedule(steps, roots.pow(2));
    }

    /// <summary>
    /// √ᾱ_t·x0 + √(1−ᾱ_t)·noise for int64 <paramref name="timesteps"/> (one per batch item, or one for all).
    /// </summary>
    public Tensor AddNoise(Tensor original, Tensor noise, Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var alphas = AlphasCumprod.to(original.dtype, original.device)[timesteps.to(original.device)];
        var sqrtAlpha = alphas.pow(0.5).flatten();
        var sqrtOneMinus = (1 - alphas).pow(0.5).flatten();
        while (sqrtAlpha.dim() < original.dim())
        {
            sqrtAlpha = sqrtAlpha.unsqueeze(-1);
            sqrtOneMinus = sqrtOneMinus.unsqueeze(-1);
        }
        return (sqrtAlpha * original + sqrtOneMinus * noise).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Betas.Dispose();
        AlphasCumprod.Dispose();
    }
}
