using MindAnimator.Models.Clip;
using MindAnimator.Models.Diffusers;
using Serilog;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Diffusion.Pipelines;

// Mirrors Mind-Animator models/Inflated_SD_pipeline.py (Inflated_SD_Pipeline.__call__, decode_latents) and
// models/utils.py (ddim_inversion), and the recipe of Reconstruction/video_recons.py.

/// <summary>Predicts the noise ε of video latents (B,C,F,h,w) at a timestep given a text context (B,L,D).</summary>
public delegate Tensor NoisePredictor(Tensor latents, long timestep, Tensor encoderHiddenStates);

/// <summary>Maps token ids (B,L) int64 to the text encoder's last hidden state (B,L,D).</summary>
public delegate Tensor TextEncoder(Tensor inputIds);

/// <summary>
/// Called after each step with the step index, its timestep and the new latents (owned by the pipeline: clone to keep).
/// </summary>
public delegate void StepCallback(int step, long timestep, Tensor latents);

/// <summary>Settings of one sampling run (defaults: Mind-Animator's reconstruction).</summary>
public sealed record VideoSamplingOptions
{
    /// <summary>Mind-Animator's default negative prompt (Inflated_SD_Pipeline.__call__).</summary>
    public const string MindAnimatorNegativePrompt =
        "Not like the real scene, Distorted and blurred body, blurry,bad proportions,out of frame,disfigured";

    public int NumInferenceSteps { get; init; } = 50;

    /// <summary>Classifier-free guidance scale g; ε = ε_u + g(ε_c − ε_u); no guidance when g ≤ 1.</summary>
    public double GuidanceScale { get; init; } = 12.5;

    /// <summary>Tokenised to the condition's length (20 in Mind-Animator) for the unconditional half.</summary>
    public string NegativePrompt { get; init; } = MindAnimatorNegativePrompt;

    /// <summary>
    /// The unconditional embedding (1 or B, L, D) to use instead of encoding <see cref="NegativePrompt"/>
    /// (e.g. computed once for many clips).
    /// </summary>
    public Tensor? NegativeEmbeddings { get; init; }

    /// <summary>DDIM η (0: deterministic).</summary>
    public double Eta { get; init; }

    /// <summary>Source of the η noise (only used when η &gt; 0).</summary>
    public Generator? Generator { get; init; }
}

/// <summary>Settings of Mind-Animator's reconstruction recipe: invert, re-noise, sample.</summary>
public sealed record ReconstructionOptions
{
    /// <summary>DDIM inversion steps (with the empty prompt, no guidance).</summary>
    public int InversionSteps { get; init; } = 50;

    /// <summary>The DDPM timestep the inverted latents are re-noised at (video_recons.py: 200).</summary>
    public long NoiseTimestep { get; init; } = 200;

    public VideoSamplingOptions Sampling { get; init; } = new();
}

/// <summary>
/// Mind-Animator's inflated Stable Diffusion video pipeline: the condition embeddings are given directly
/// (decoded from fMRI), the negative prompt goes first in the guidance batch, DDIM denoises the given latents
/// and the VAE decodes frame by frame to a (B,3,F,H,W) video in [0,1].
/// </summary>
public sealed class InflatedSdPipeline : IDisposable
{
    private readonly ILogger _log;
    private readonly IReadOnlyList<IDisposable> _owned;

    /// <param name="owned">Components the pipeline disposes with itself (e.g. the models a loader built for it).</param>
    public InflatedSdPipeline(AutoencoderKl vae, ClipTokenizer tokenizer, TextEncoder textEncoder, NoisePredictor unet,
        DdimScheduler scheduler, DdpmScheduler noiseScheduler, ILogger? log = null, IEnumerable<IDisposable>? owned = null)
    {
        _owned = owned?.ToList() ?? new List<IDisposable>();
        Vae = vae;
        Tokenizer = tokenizer;
        EncodeText = textEncoder;
        PredictNoise = unet;
        Scheduler = scheduler;
        NoiseScheduler = noiseScheduler;
        _log = log ?? Log.ForContext<InflatedSdPipeline>();
    }

    public AutoencoderKl Vae { get; }

    public ClipTokenizer Tokenizer { get; }

    public TextEncoder EncodeText { get; }

    public NoisePredictor PredictNoise { get; }

    public DdimScheduler Scheduler { get; }

    public DdpmScheduler NoiseScheduler { get; }

    /// <summary>Text encoder output for <paramref name="text"/> padded/truncated to <paramref name="length"/> tokens, (1,L,D).</summary>
    public Tensor EncodePrompt(string text, int length)
    {
        using var _ = no_grad();
        var (ids, mask) = Tokenizer.EncodeBatch(new[] { text }, length);
        using (ids)
        using (mask)
        {
            return EncodeText(ids);
        }
    }

    /// <summary>
    /// Denoises <paramref name="latents"/> (B,C,F,h,w) under the condition <paramref name="promptEmbeds"/> (B,L,D)
    /// and decodes them: Inflated_SD_Pipeline.__call__ with given latents. Returns the video (B,3,F,H,W) in [0,1].
    /// </summary>
    public Tensor Generate(Tensor promptEmbeds, Tensor latents, VideoSamplingOptions? options = null, StepCallback? callback = null)
    {
        using var final = Denoise(promptEmbeds, latents, options, callback);
        using var _ = no_grad();
        return Vae.DecodeVideo(final);
    }

    /// <summary>The denoising loop of <see cref="Generate"/> without the decode; returns the final latents.</summary>
    public Tensor Denoise(Tensor promptEmbeds, Tensor latents, VideoSamplingOptions? options = null, StepCallback? callback = null)
    {
        options ??= new VideoSamplingOptions();
        if (promptEmbeds.dim() != 3 || latents.dim() != 5 || promptEmbeds.shape[0] != latents.shape[0])
        {
            throw new ArgumentException($"expected prompt embeddings (B,L,D) and latents (B,C,F,h,w) with the same B, got "
                + $"[{string.Join(",", promptEmbeds.shape)}] and [{string.Join(",", latents.shape)}].");
        }
        using var _ = no_grad();
        var guided = options.GuidanceScale > 1.0;
        using var context = guided ? GuidanceContext(promptEmbeds, options) : promptEmbeds.alias();
        Scheduler.SetTimesteps(options.NumInferenceSteps);
        var current = (latents * Scheduler.InitNoiseSigma).DetachFromDisposeScope();
        _log.Debug("Sampling {Steps} DDIM steps, guidance {Guidance}, latents [{Shape}]", options.NumInferenceSteps, options.GuidanceScale, string.Join(",", latents.shape));
        try
        {
            for (var i = 0; i < Scheduler.Timesteps.Count; i++)
            {
                var t = Scheduler.Timesteps[i];
                using (var scope = NewDisposeScope())
                {
                    var input = guided ? torch.cat(new[] { current, current }, 0) : current;
                    var noise = PredictNoise(input, t, context);
                    if (guided)
                    {
                        var halves = noise.chunk(2, 0);
                        noise = halves[0] + options.GuidanceScale * (halves[1] - halves[0]);
                    }
                    using var step = Scheduler.Step(noise, t, current, options.Eta, generator: options.Generator);
                    current.Dispose();
                    current = step.PrevSample.clone().DetachFromDisposeScope();
                }
                // Outside the step's scope, so that what the callback keeps (e.g. a clone) survives.
                callback?.Invoke(i, t, current);
            }
            return current;
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    /// <summary>
    /// DDIM inversion as Mind-Animator's ddim_inversion: the context is the text encoding of <paramref name="prompt"/>
    /// (empty by default) padded to the tokenizer's model_max_length. Returns steps + 1 latents, the input first.
    /// </summary>
    public IReadOnlyList<Tensor> InvertDdim(Tensor videoLatents, int steps = 50, string prompt = "")
    {
        using var _ = no_grad();
        using var encoded = EncodePrompt(prompt, Tokenizer.ModelMaxLength);
        using var expanded = encoded.expand(videoLatents.shape[0], -1, -1);
        return DdimInversion.Invert(PredictNoise, Scheduler, videoLatents, expanded, steps);
    }

    /// <summary>
    /// Mind-Animator's reconstruction (video_recons.py): DDIM-invert the predicted video latents, re-noise the last
    /// inverted latent with DDPM add_noise at <see cref="ReconstructionOptions.NoiseTimestep"/> (noise given or drawn
    /// from <paramref name="generator"/>), then sample under the condition. Returns the video (B,3,F,H,W) in [0,1].
    /// </summary>
    public Tensor Reconstruct(Tensor videoLatents, Tensor promptEmbeds, ReconstructionOptions? options = null, Tensor? noise = null,
        Generator? generator = null, StepCallback? callback = null)
    {
        options ??= new ReconstructionOptions();
        using var _ = no_grad();
        using var start = InitialLatents(videoLatents, options, noise, generator);
        return Generate(promptEmbeds, start, options.Sampling, callback);
    }

    /// <summary>The latents sampling starts from in <see cref="Reconstruct"/>: inverted, then re-noised.</summary>
    public Tensor InitialLatents(Tensor videoLatents, ReconstructionOptions options, Tensor? noise = null, Generator? generator = null)
    {
        using var _ = no_grad();
        var inverted = InvertDdim(videoLatents, options.InversionSteps);
        try
        {
            using var scope = NewDisposeScope();
            var n = noise ?? torch.randn(videoLatents.shape, dtype: videoLatents.dtype, device: generator is null ? videoLatents.device : CPU, generator: generator).to(videoLatents.device);
            return NoiseScheduler.AddNoise(inverted[^1], n, options.NoiseTimestep).MoveToOuterDisposeScope();
        }
        finally
        {
            foreach (var t in inverted)
            {
                t.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var component in _owned)
        {
            component.Dispose();
        }
    }

    /// <summary>[uncond (B,L,D); cond (B,L,D)]: the negative prompt tokenised to the condition's length, first.</summary>
    private Tensor GuidanceContext(Tensor promptEmbeds, VideoSamplingOptions options)
    {
        using var scope = NewDisposeScope();
        var (batch, length) = (promptEmbeds.shape[0], (int)promptEmbeds.shape[1]);
        var uncond = (options.NegativeEmbeddings ?? EncodePrompt(options.NegativePrompt, length)).to(promptEmbeds.dtype, promptEmbeds.device);
        if (uncond.dim() != 3 || uncond.shape[1] != length || uncond.shape[2] != promptEmbeds.shape[2] || (uncond.shape[0] != 1 && uncond.shape[0] != batch))
        {
            throw new MindAnimatorException($"the unconditional embedding [{string.Join(",", uncond.shape)}] does not fit the condition embeddings "
                + $"[{string.Join(",", promptEmbeds.shape)}] (expected (1 or B, L, D) with the same L and D).");
        }
        return torch.cat(new[] { uncond.expand(batch, -1, -1), promptEmbeds }, 0).MoveToOuterDisposeScope();
    }
}
