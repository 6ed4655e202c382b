using MindAnimator.Diffusion.Pipelines;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Diffusion;

/// <summary>A temporary tiny Stable Diffusion folder (see <see cref="TinyStableDiffusionFolder"/>), removed on dispose.</summary>
internal sealed class TinyStableDiffusion : IDisposable
{
    private readonly TempDir _dir = TestEnvironment.NewTempDir();

    /// <param name="omit">Component folders ("vae/") or files ("vae/config.json") to leave out.</param>
    public TinyStableDiffusion(params string[] omit)
    {
        Inflation = TinyStableDiffusionFolder.Assemble(TestEnvironment.Golden, _dir.Path, omit);
    }

    public string Root => _dir.Path;

    /// <summary>The recorded temporal tensors of unet3d_inflated (as from_pretrained_2d initialised them).</summary>
    public InflationOptions Inflation { get; }

    public void Dispose() => _dir.Dispose();
}
