using System.Globalization;
using MindAnimator.Diffusion;
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
        var folder = StableDiffusionFolder.Open(tiny.Root);
        using var unet = folder.LoadInflatedUnet(tiny.Inflation);
        using var ddim = folder.LoadDdimScheduler();
        using var ddpm = folder.LoadDdpmScheduler();
        var expected = io["inversion.latents"];
        var steps = (int)expected.shape[0] - 1;

        var latents = DdimInversion.Invert(unet.Predict, ddim, io["inversion.input.video_latent"], io["inversion.context"], steps);
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
                using var noisy = ddpm.AddNoise(latents[^1], io["inversion.add_noise.noise"], t);
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
}
