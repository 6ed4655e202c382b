using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Diffusion;

// Mirrors diffusers 0.11.1 src/diffusers/schedulers/scheduling_ddim.py (DDIMScheduler); InvertStep mirrors
// Mind-Animator models/utils.py (next_step).

/// <summary>The result of one DDIM step; owns both tensors.</summary>
public sealed record DdimStepOutput(Tensor PrevSample, Tensor PredOriginalSample) : IDisposable
{
    public void Dispose()
    {
        PrevSample.Dispose();
        PredOriginalSample.Dispose();
    }
}

/// <summary>What the denoising model predicts.</summary>
public enum PredictionType
{
    Epsilon,
    Sample,
    VPrediction,
}

/// <summary>
/// DDIM sampling (Song et al. 2021) as diffusers 0.11.1 implements it: pure tensor maths, all schedule scalars
/// in float32 like the reference. Built from a diffusers scheduler_config.json (SD v1.5 ships a PNDM config, which
/// Mind-Animator also loads DDIM from).
/// </summary>
public sealed class DdimScheduler : IDisposable
{
    private readonly BetaSchedule _schedule;

    public DdimScheduler(DiffusersConfig config)
    {
        _schedule = BetaSchedule.From(config);
        ClipSample = config.GetBool("clip_sample", true);
        var setAlphaToOne = config.GetBool("set_alpha_to_one", true);
        StepsOffset = config.GetInt("steps_offset", 0);
        if (StepsOffset < 0 || StepsOffset >= _schedule.NumTrainTimesteps)
        {
            throw config.Unsupported("steps_offset", StepsOffset.ToString(CultureInfo.InvariantCulture), $"0 … {_schedule.NumTrainTimesteps - 1}");
        }
        var prediction = config.GetString("prediction_type", "epsilon");
        Prediction = prediction switch
        {
            "epsilon" => PredictionType.Epsilon,
            "sample" => PredictionType.Sample,
            "v_prediction" => PredictionType.VPrediction,
            _ => throw config.Unsupported("prediction_type", $"\"{prediction}\"", "\"epsilon\", \"sample\", \"v_prediction\""),
        };
        RejectLaterOptions(config);
        FinalAlphaCumprod = setAlphaToOne ? torch.tensor(1.0f) : _schedule.AlphasCumprod[0].clone();
        Timesteps = Enumerable.Range(0, _schedule.NumTrainTimesteps).Reverse().Select(t => (long)t).ToArray();
    }

    /// <summary>Loads a scheduler_config.json.</summary>
    public static DdimScheduler FromConfigFile(string path) => new(DiffusersConfig.Load(path));

    public int NumTrainTimesteps => _schedule.NumTrainTimesteps;

    public Tensor Betas => _schedule.Betas;

    public Tensor AlphasCumprod => _schedule.AlphasCumprod;

    /// <summary>ᾱ used after the last step: 1 when set_alpha_to_one, else ᾱ_0 (0-d float32).</summary>
    public Tensor FinalAlphaCumprod { get; }

    public bool ClipSample { get; }

    public int StepsOffset { get; }

    public PredictionType Prediction { get; }

    /// <summary>Set by <see cref="SetTimesteps"/>; null before.</summary>
    public int? NumInferenceSteps { get; private set; }

    /// <summary>The sampling timesteps, descending (all training timesteps until <see cref="SetTimesteps"/>).</summary>
    public IReadOnlyList<long> Timesteps { get; private set; }

    /// <summary>DDIM needs no input scaling; the initial noise has unit variance.</summary>
    public double InitNoiseSigma => 1.0;

    /// <summary>set_timesteps(n): step_ratio = T // n, timesteps = step_ratio·[n−1 … 0] + steps_offset.</summary>
    public void SetTimesteps(int numInferenceSteps)
    {
        if (numInferenceSteps < 1 || numInferenceSteps > NumTrainTimesteps)
        {
            throw new MindAnimatorException($"number of inference steps must be between 1 and {NumTrainTimesteps} (num_train_timesteps), got {numInferenceSteps}.");
        }
        NumInferenceSteps = numInferenceSteps;
        var ratio = NumTrainTimesteps / numInferenceSteps;
        Timesteps = Enumerable.Range(0, numInferenceSteps).Reverse().Select(i => ((long)i * ratio) + StepsOffset).ToArray();
    }

    /// <summary>The timesteps as an int64 tensor.</summary>
    public Tensor TimestepsTensor() => torch.tensor(Timesteps.ToArray(), dtype: ScalarType.Int64);

    /// <summary>
    /// One reverse step x_t → x_{t−Δ}. <paramref name="eta"/> &gt; 0 adds σ_t·noise, drawn from
    /// <paramref name="generator"/> or given as <paramref name="varianceNoise"/>.
    /// </summary>
    public DdimStepOutput Step(Tensor modelOutput, long timestep, Tensor sample, double eta = 0.0, bool useClippedModelOutput = false,
        Generator? generator = null, Tensor? varianceNoise = null)
    {
        var stepRatio = StepRatio();
        CheckTimestep(timestep);
        using var scope = NewDisposeScope();
        var prevTimestep = timestep - stepRatio;
        var alphaProdT = AlphasCumprod[timestep];
        var alphaProdPrev = prevTimestep >= 0 ? AlphasCumprod[prevTimestep] : FinalAlphaCumprod;
        var betaProdT = 1 - alphaProdT;

        Tensor predOriginal;
        var epsilon = modelOutput;
        switch (Prediction)
        {
            case PredictionType.Epsilon:
                predOriginal = (sample - betaProdT.pow(0.5) * modelOutput) / alphaProdT.pow(0.5);
                break;
            case PredictionType.Sample:
                predOriginal = modelOutput;
                break;
            default:
                predOriginal = alphaProdT.pow(0.5) * sample - betaProdT.pow(0.5) * modelOutput;
                epsilon = alphaProdT.pow(0.5) * modelOutput + betaProdT.pow(0.5) * sample;
                break;
        }
        if (ClipSample)
        {
            predOriginal = predOriginal.clamp(-1, 1);
        }
        var variance = (1 - alphaProdPrev) / betaProdT * (1 - alphaProdT / alphaProdPrev);
        var stdDev = eta * variance.pow(0.5);
        if (useClippedModelOutput)
        {
            epsilon = (sample - alphaProdT.pow(0.5) * predOriginal) / betaProdT.pow(0.5);
        }
        var direction = (1 - alphaProdPrev - stdDev.pow(2)).pow(0.5) * epsilon;
        var prev = alphaProdPrev.pow(0.5) * predOriginal + direction;
        if (eta > 0)
        {
            if (varianceNoise is not null && generator is not null)
            {
                throw new ArgumentException("pass either a generator or variance noise, not both.");
            }
            var noise = varianceNoise ?? torch.randn(modelOutput.shape, dtype: modelOutput.dtype, device: generator is null ? modelOutput.device : CPU, generator: generator).to(modelOutput.device);
            prev = prev + variance.pow(0.5) * eta * noise;
        }
        return new DdimStepOutput(prev.MoveToOuterDisposeScope(), predOriginal.clone().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The deterministic DDIM update run upwards (Mind-Animator's `next_step` for DDIM inversion): from the latent
    /// at t − Δ (ᾱ of t − Δ, or the final ᾱ below 0) to t, with the model's ε predicted at <paramref name="timestep"/>.
    /// </summary>
    public Tensor InvertStep(Tensor modelOutput, long timestep, Tensor sample)
    {
        var stepRatio = StepRatio();
        CheckTimestep(timestep);
        using var scope = NewDisposeScope();
        var current = Math.Min(timestep - stepRatio, NumTrainTimesteps - 1);
        var alphaProdT = current >= 0 ? AlphasCumprod[current] : FinalAlphaCumprod;
        var alphaProdNext = AlphasCumprod[timestep];
        var betaProdT = 1 - alphaProdT;
        var originalEstimate = (sample - betaProdT.pow(0.5) * modelOutput) / alphaProdT.pow(0.5);
        var direction = (1 - alphaProdNext).pow(0.5) * modelOutput;
        return (alphaProdNext.pow(0.5) * originalEstimate + direction).MoveToOuterDisposeScope();
    }

    /// <summary>DDPM-style forward noising √ᾱ_t·x0 + √(1−ᾱ_t)·noise.</summary>
    public Tensor AddNoise(Tensor original, Tensor noise, Tensor timesteps) => _schedule.AddNoise(original, noise, timesteps);

    public void Dispose()
    {
        _schedule.Dispose();
        FinalAlphaCumprod.Dispose();
    }

    internal static void RejectLaterOptions(DiffusersConfig config)
    {
        // Options of later diffusers releases: accepted only at the values that reproduce 0.11.1.
        if (config.Has("timestep_spacing"))
        {
            config.RequireOneOf("timestep_spacing", config.GetString("timestep_spacing"), "leading");
        }
        if (config.Has("clip_sample_range"))
        {
            config.RequireOneOf("clip_sample_range", config.GetDouble("clip_sample_range"), 1.0);
        }
        if (config.Has("thresholding"))
        {
            config.RequireOneOf("thresholding", config.GetBool("thresholding"), false);
        }
        if (config.Has("rescale_betas_zero_snr"))
        {
            config.RequireOneOf("rescale_betas_zero_snr", config.GetBool("rescale_betas_zero_snr"), false);
        }
    }

    private int StepRatio() =>
        NumInferenceSteps is int n
            ? NumTrainTimesteps / n
            : throw new InvalidOperationException("call SetTimesteps before stepping the DDIM scheduler.");

    private void CheckTimestep(long timestep)
    {
        if (timestep < 0 || timestep >= NumTrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"timestep must be in 0 … {NumTrainTimesteps - 1}.");
        }
    }
}

/// <summary>
/// The part of diffusers 0.11.1 `DDPMScheduler` Mind-Animator uses: the schedule and <see cref="AddNoise"/>.
/// </summary>
public sealed class DdpmScheduler : IDisposable
{
    private readonly BetaSchedule _schedule;

    public DdpmScheduler(DiffusersConfig config)
    {
        _schedule = BetaSchedule.From(config);
        var variance = config.GetString("variance_type", "fixed_small");
        config.RequireOneOf("variance_type", variance, "fixed_small", "fixed_small_log", "fixed_large", "fixed_large_log", "learned", "learned_range");
        DdimScheduler.RejectLaterOptions(config);
    }

    public static DdpmScheduler FromConfigFile(string path) => new(DiffusersConfig.Load(path));

    public int NumTrainTimesteps => _schedule.NumTrainTimesteps;

    public Tensor AlphasCumprod => _schedule.AlphasCumprod;

    /// <summary>add_noise(x0, noise, t) = √ᾱ_t·x0 + √(1−ᾱ_t)·noise, t an int64 tensor (per batch item or one).</summary>
    public Tensor AddNoise(Tensor original, Tensor noise, Tensor timesteps) => _schedule.AddNoise(original, noise, timesteps);

    /// <summary>add_noise at one timestep for the whole batch.</summary>
    public Tensor AddNoise(Tensor original, Tensor noise, long timestep)
    {
        using var t = torch.tensor(new[] { timestep }, dtype: ScalarType.Int64);
        return _schedule.AddNoise(original, noise, t);
    }

    public void Dispose() => _schedule.Dispose();
}
