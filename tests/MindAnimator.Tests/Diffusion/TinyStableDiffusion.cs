using MindAnimator.Diffusion.Pipelines;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Diffusion;

/// <summary>
/// A diffusers-layout Stable Diffusion folder assembled from the tiny reference fixtures, as golden/README.md
/// (pipeline_tiny) describes: clip_tokenizer, clip_text weights, vae, unet2d weights (SD v1.5-style config) with
/// unet3d_inflated's initial temporal weights. Files are linked, not copied.
/// </summary>
internal sealed class TinyStableDiffusion : IDisposable
{
    private readonly TempDir _dir = TestEnvironment.NewTempDir();

    /// <param name="omit">Component folders ("vae/") or files ("vae/config.json") to leave out.</param>
    public TinyStableDiffusion(params string[] omit)
    {
        var files = new (string Target, string Fixture, string File)[]
        {
            ("unet/config.json", "unet2d", "config_sd15_style.json"),
            ("unet/diffusion_pytorch_model.safetensors", "unet2d", "weights.safetensors"),
            ("vae/config.json", "vae", "config.json"),
            ("vae/diffusion_pytorch_model.safetensors", "vae", "weights.safetensors"),
            ("text_encoder/config.json", "clip_text", "config.json"),
            ("text_encoder/model.safetensors", "clip_text", "weights.safetensors"),
            ("tokenizer/vocab.json", "clip_tokenizer", "vocab.json"),
            ("tokenizer/merges.txt", "clip_tokenizer", "merges.txt"),
            ("tokenizer/special_tokens_map.json", "clip_tokenizer", "special_tokens_map.json"),
            ("tokenizer/tokenizer_config.json", "clip_tokenizer", "tokenizer_config.json"),
            ("scheduler/scheduler_config.json", "scheduler", "sd15_scheduler_config.json"),
        };
        foreach (var (target, fixture, file) in files)
        {
            var path = Path.Combine(_dir.Path, target);
            var component = target[..(target.IndexOf('/', StringComparison.Ordinal) + 1)];
            if (!omit.Contains(component))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            }
            if (omit.Any(o => target.StartsWith(o, StringComparison.Ordinal)))
            {
                continue;
            }
            File.CreateSymbolicLink(path, Path.Combine(TestEnvironment.Golden(fixture), file));
        }
        TemporalWeights = Path.Combine(TestEnvironment.Golden("unet3d_inflated"), "weights_temporal_init.safetensors");
    }

    public string Root => _dir.Path;

    /// <summary>unet3d_inflated's temporal tensors as from_pretrained_2d initialised them.</summary>
    public string TemporalWeights { get; }

    public InflationOptions Inflation => new() { TemporalWeights = TemporalWeights };

    public void Dispose() => _dir.Dispose();
}
