using System.Globalization;
using MindAnimator.Diffusion.Pipelines;
using MindAnimator.Tests.Models.Diffusers;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Diffusion;

/// <summary>Mind-Animator's Inflated_SD_Pipeline.__call__ end to end on the `pipeline_tiny` fixture.</summary>
public sealed class InflatedPipelineParityTests
{
    private const string StepPrefix = "intermediate.latents.step";

    [Fact]
    public void Every_step_latent_and_the_video_match()
    {
        var atol = UnetFixture.SuggestedAtol("pipeline_tiny");
        using var io = new GoldenTensors("pipeline_tiny");
        using var tiny = new TinyStableDiffusion();
        using var pipeline = StableDiffusionFolder.Open(tiny.Root).LoadInflatedPipeline(tiny.Inflation);

        var stepKeys = io.Keys.Where(k => k.StartsWith(StepPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(stepKeys);
        var recorded = new List<(int Step, long Timestep, Tensor Latents)>();
        // Guidance scale and negative prompt are the pipeline defaults, as in the reference call.
        var options = new VideoSamplingOptions { NumInferenceSteps = stepKeys.Count };
        using var video = pipeline.Generate(io["input.prompt_embeds"], io["input.latents"], options,
            (i, t, latents) => recorded.Add((i, t, latents.clone())));
        try
        {
            Assert.Equal(stepKeys.Count, recorded.Count);
            foreach (var (step, _, latents) in recorded)
            {
                var key = StepPrefix + step.ToString("D2", CultureInfo.InvariantCulture);
                GoldenTensors.AssertClose(io[key], latents, atol, key);
            }
            GoldenTensors.AssertClose(io["output.videos"], video, atol, "output.videos");
        }
        finally
        {
            recorded.ForEach(r => r.Latents.Dispose());
        }
    }

    [Fact]
    public void Negative_prompt_embedding_matches()
    {
        var atol = UnetFixture.SuggestedAtol("pipeline_tiny");
        using var io = new GoldenTensors("pipeline_tiny");
        using var tiny = new TinyStableDiffusion();
        using var pipeline = StableDiffusionFolder.Open(tiny.Root).LoadInflatedPipeline(tiny.Inflation);
        var expected = io["intermediate.uncond_embeddings"];
        using var uncond = pipeline.EncodePrompt(VideoSamplingOptions.MindAnimatorNegativePrompt, (int)io["input.prompt_embeds"].shape[1]);
        GoldenTensors.AssertClose(expected, uncond, atol, "intermediate.uncond_embeddings");
    }

    [Fact]
    public void Bfloat16_unet_gives_nearly_the_same_video()
    {
        using var io = new GoldenTensors("pipeline_tiny");
        using var tiny = new TinyStableDiffusion();
        using var pipeline = StableDiffusionFolder.Open(tiny.Root).LoadInflatedPipeline(tiny.Inflation with { UnetDtype = ScalarType.BFloat16 });
        using var video = pipeline.Generate(io["input.prompt_embeds"], io["input.latents"], new VideoSamplingOptions { NumInferenceSteps = 2 });
        using var reference = StableDiffusionFolder.Open(tiny.Root).LoadInflatedPipeline(tiny.Inflation);
        using var expected = reference.Generate(io["input.prompt_embeds"], io["input.latents"], new VideoSamplingOptions { NumInferenceSteps = 2 });
        Assert.Equal(ScalarType.Float32, video.dtype);
        var meanError = (video - expected).abs().mean().item<float>();
        Assert.InRange(meanError, 0, 0.05);
        Assert.Equal(ScalarType.BFloat16, InflationOptions.ParseDtype("bfloat16"));
        Assert.Contains("diffusion.dtype", Assert.Throws<MindAnimatorException>(() => InflationOptions.ParseDtype("int8")).Message);
    }
}
