namespace MindAnimator.Diffusion.Pipelines;

/// <summary>
/// Assembles a diffusers-layout Stable Diffusion folder from the tiny reference fixtures (shared/golden), as the
/// fixtures' README describes for pipeline_tiny: clip_tokenizer, clip_text weights, vae, unet2d weights with the
/// SD v1.5-style config; the inflated UNet's initial temporal weights come from unet3d_inflated. Files are linked.
/// Used by tests and benchmarks.
/// </summary>
public static class TinyStableDiffusionFolder
{
    private static readonly (string Target, string Fixture, string File)[] Files =
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

    /// <summary>
    /// Links the fixture files under <paramref name="root"/>; <paramref name="omit"/> leaves out component folders
    /// ("vae/") or files ("vae/config.json"). Returns the inflation options pointing at the recorded temporal weights.
    /// </summary>
    /// <param name="fixture">Maps a fixture name ("vae") to its folder.</param>
    public static InflationOptions Assemble(Func<string, string> fixture, string root, IReadOnlyCollection<string>? omit = null)
    {
        omit ??= Array.Empty<string>();
        foreach (var (target, name, file) in Files)
        {
            var path = Path.Combine(root, target);
            var component = target[..(target.IndexOf('/', StringComparison.Ordinal) + 1)];
            if (!omit.Contains(component))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            }
            if (!omit.Any(o => target.StartsWith(o, StringComparison.Ordinal)))
            {
                File.CreateSymbolicLink(path, Path.Combine(fixture(name), file));
            }
        }
        return new InflationOptions { TemporalWeights = Path.Combine(fixture("unet3d_inflated"), "weights_temporal_init.safetensors") };
    }
}
