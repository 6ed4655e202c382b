using MindAnimator.Diffusion.Pipelines;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Diffusion;

/// <summary>Pipeline composition with a stand-in noise predictor: guidance batch order, options, the recipe.</summary>
public sealed class InflatedPipelineTests
{
    private const float UncondNoise = 0.1f;
    private const float CondNoise = 0.3f;

    /// <summary>ε = 0.1 for rows whose context is negative (the unconditional half), 0.3 otherwise.</summary>
    private static Tensor FakeUnet(Tensor latents, long timestep, Tensor context)
    {
        Assert.Equal(latents.shape[0], context.shape[0]);
        var isUncond = context.mean(new long[] { 1, 2 }).lt(0).to(ScalarType.Float32).view(-1, 1, 1, 1, 1);
        return ones_like(latents) * (CondNoise + (UncondNoise - CondNoise) * isUncond);
    }

    private static InflatedSdPipeline Pipeline(TinyStableDiffusion tiny, NoisePredictor unet)
    {
        var folder = StableDiffusionFolder.Open(tiny.Root);
        var vae = folder.LoadVae();
        var ddim = folder.LoadDdimScheduler();
        var ddpm = folder.LoadDdpmScheduler();
        return new InflatedSdPipeline(vae, folder.LoadTokenizer(), _ => throw new InvalidOperationException("text encoder not expected"),
            unet, ddim, ddpm, owned: new IDisposable[] { vae, ddim, ddpm });
    }

    private static Tensor ExpectedLatents(InflatedSdPipeline pipeline, Tensor start, int steps, float epsilon)
    {
        pipeline.Scheduler.SetTimesteps(steps);
        var x = start.clone();
        foreach (var t in pipeline.Scheduler.Timesteps)
        {
            using var eps = full_like(x, epsilon);
            using var step = pipeline.Scheduler.Step(eps, t, x);
            x.Dispose();
            x = step.PrevSample.clone();
        }
        return x;
    }

    [Fact]
    public void Guidance_puts_the_negative_embedding_first_and_extrapolates()
    {
        using var tiny = new TinyStableDiffusion();
        var contexts = new List<long>();
        using var pipeline = Pipeline(tiny, (x, t, c) =>
        {
            contexts.Add(c.shape[0]);
            Assert.True(c[0].mean().item<float>() < 0, "the unconditional embedding must come first");
            return FakeUnet(x, t, c);
        });
        using var scope = NewDisposeScope();
        var cond = ones(2, 20, 32);
        var uncond = -ones(1, 20, 32);
        var start = randn(new long[] { 2, 4, 3, 4, 4 });
        var options = new VideoSamplingOptions { NumInferenceSteps = 4, GuidanceScale = 12.5, NegativeEmbeddings = uncond };
        var final = pipeline.Denoise(cond, start, options);
        Assert.All(contexts, n => Assert.Equal(4, n));
        var epsilon = UncondNoise + (12.5f * (CondNoise - UncondNoise));
        GoldenTensors.AssertClose(ExpectedLatents(pipeline, start, 4, epsilon), final, 1e-5, "guided latents");
    }

    [Fact]
    public void Guidance_scale_of_one_runs_the_condition_alone()
    {
        using var tiny = new TinyStableDiffusion();
        var batches = new List<long>();
        using var pipeline = Pipeline(tiny, (x, t, c) =>
        {
            batches.Add(x.shape[0]);
            return FakeUnet(x, t, c);
        });
        using var scope = NewDisposeScope();
        var start = randn(new long[] { 1, 4, 2, 4, 4 });
        var final = pipeline.Denoise(ones(1, 20, 32), start, new VideoSamplingOptions { NumInferenceSteps = 3, GuidanceScale = 1.0 });
        Assert.Equal(new long[] { 1, 1, 1 }, batches);
        GoldenTensors.AssertClose(ExpectedLatents(pipeline, start, 3, CondNoise), final, 1e-5, "unguided latents");
    }

    [Fact]
    public void Mismatched_negative_embedding_is_a_clear_error()
    {
        using var tiny = new TinyStableDiffusion();
        using var pipeline = Pipeline(tiny, FakeUnet);
        using var scope = NewDisposeScope();
        var options = new VideoSamplingOptions { NumInferenceSteps = 2, NegativeEmbeddings = -ones(1, 77, 32) };
        var e = Assert.Throws<MindAnimatorException>(() => pipeline.Denoise(ones(1, 20, 32), randn(new long[] { 1, 4, 2, 4, 4 }), options));
        Assert.Contains("unconditional embedding", e.Message);
    }

    [Fact]
    public void Reconstruction_starts_from_the_inverted_latents_renoised_at_the_given_timestep()
    {
        using var tiny = new TinyStableDiffusion();
        var timesteps = new List<long>();
        using var pipeline = Pipeline(tiny, (x, t, c) =>
        {
            timesteps.Add(t);
            return zeros_like(x);
        });
        using var scope = NewDisposeScope();
        var latents = randn(new long[] { 1, 4, 2, 4, 4 });
        var noise = randn(new long[] { 1, 4, 2, 4, 4 });
        var context = zeros(1, 77, 32);
        var options = new ReconstructionOptions { InversionSteps = 5, NoiseTimestep = 200 };

        // InitialLatents encodes the empty prompt; here the stand-in text encoder is replaced by a fixed context.
        var inverted = DdimInversion.Invert(pipeline.PredictNoise, pipeline.Scheduler, latents, context, options.InversionSteps);
        var expected = pipeline.NoiseScheduler.AddNoise(inverted[^1], noise, options.NoiseTimestep);
        Assert.Equal(new long[] { 1, 201, 401, 601, 801 }, timesteps);

        using var withEncoder = new InflatedSdPipeline(pipeline.Vae, pipeline.Tokenizer, ids => zeros(ids.shape[0], ids.shape[1], 32),
            pipeline.PredictNoise, pipeline.Scheduler, pipeline.NoiseScheduler);
        var start = withEncoder.InitialLatents(latents, options, noise);
        GoldenTensors.AssertClose(expected, start, 1e-6, "initial latents");
        foreach (var t in inverted)
        {
            t.Dispose();
        }
    }

    [Fact]
    public void Sampling_inversion_and_decoding_leave_no_live_tensors()
    {
        using var tiny = new TinyStableDiffusion();
        using var pipeline = Pipeline(tiny, FakeUnet);
        using var cond = ones(1, 20, 32);
        using var uncond = -ones(1, 20, 32);
        using var latents = randn(new long[] { 1, 4, 3, 8, 8 });
        var options = new VideoSamplingOptions { NumInferenceSteps = 3, NegativeEmbeddings = uncond };
        using var withEncoder = new InflatedSdPipeline(pipeline.Vae, pipeline.Tokenizer, ids => full(ids.shape[0], ids.shape[1], 32, -1f),
            pipeline.PredictNoise, pipeline.Scheduler, pipeline.NoiseScheduler);
        void RunAll()
        {
            withEncoder.Generate(cond, latents, new VideoSamplingOptions { NumInferenceSteps = 2 }).Dispose();
            withEncoder.InitialLatents(latents, new ReconstructionOptions { InversionSteps = 2 }).Dispose();
            pipeline.Generate(cond, latents, options, (i, t, x) => { }).Dispose();
            foreach (var x in DdimInversion.Invert(pipeline.PredictNoise, pipeline.Scheduler, latents, cond, 3))
            {
                x.Dispose();
            }
            using (var video = pipeline.Vae.DecodeVideo(latents))
            {
                pipeline.Vae.EncodeVideo(video).Dispose();
            }
            using var image = zeros(1, 3, 16, 16);
            using var posterior = pipeline.Vae.Encode(image);
            using var generator = new Generator(1);
            posterior.Sample(generator).Dispose();
        }
        RunAll();
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        RunAll();
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
