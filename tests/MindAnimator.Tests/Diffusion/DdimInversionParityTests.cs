using System.Globalization;
using MindAnimator.Diffusion.Pipelines;
using MindAnimator.Tests.Models.Diffusers;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Diffusion;

/// <summary>
/// Mind-Animator's ddim_inversion and the t = 200 re-noising on the `scheduler` fixture, with the tiny inflated UNet.
/// </summary>
public sealed class DdimInversionParityTests
{
    [Fact]
    public void Every_inversion_latent_and_the_renoised_result_match()
    {
        var atol = UnetFixture.SuggestedAtol("scheduler");
        using var io = new GoldenTensors("scheduler");
        using var tiny = new TinyStableDiffusion();
        using var pipeline = StableDiffusionFolder.Open(tiny.Root).LoadInflatedPipeline(tiny.Inflation);
        var expected = io["inversion.latents"];
        var steps = (int)expected.shape[0] - 1;

        // The pipeline encodes the empty prompt itself (padded to 77) as Mind-Animator's init_prompt does.
        var latents = pipeline.InvertDdim(io["inversion.input.video_latent"], steps);
        try
        {
            Assert.Equal(steps + 1, latents.Count);
            for (var i = 0; i < latents.Count; i++)
            {
                GoldenTensors.AssertClose(expected[i], latents[i], atol, $"inversion.latents[{i}]");
            }
            foreach (var key in io.Keys.Where(k => k.StartsWith("inversion.add_noise.t", StringComparison.Ordinal)))
            {
                var t = long.Parse(key["inversion.add_noise.t".Length..], CultureInfo.InvariantCulture);
                using var noisy = pipeline.NoiseScheduler.AddNoise(latents[^1], io["inversion.add_noise.noise"], t);
                GoldenTensors.AssertClose(io[key], noisy, atol, key);
            }
        }
        finally
        {
            foreach (var l in latents)
            {
                l.Dispose();
            }
        }
    }

    [Fact]
    public void Empty_prompt_context_matches()
    {
        var atol = UnetFixture.SuggestedAtol("scheduler");
        using var io = new GoldenTensors("scheduler");
        using var tiny = new TinyStableDiffusion();
        using var pipeline = StableDiffusionFolder.Open(tiny.Root).LoadInflatedPipeline(tiny.Inflation);
        var expected = io["inversion.context"];
        using var context = pipeline.EncodePrompt("", (int)expected.shape[1]);
        GoldenTensors.AssertClose(expected, context, atol, "inversion.context");
    }
}
