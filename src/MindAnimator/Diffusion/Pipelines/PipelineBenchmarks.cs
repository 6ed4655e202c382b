using System.Diagnostics;
using MindAnimator.Benchmarks;
using MindAnimator.Models.Clip;
using MindAnimator.Models.Diffusers;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Diffusion.Pipelines;

/// <summary>
/// Sampling speed of the inflated video pipeline with the tiny reference models (a Stable Diffusion folder assembled
/// from the shared fixtures), and VAE decode time per frame: tiny, and SD v1.5 size with random weights.
/// </summary>
public sealed class TinyPipelineBenchmark : IBenchmark
{
    public string Name => "tiny-pipeline";

    public string Description => "Inflated SD video pipeline, tiny fixture models: 20 DDIM steps (CFG) on an 8-frame 16×16-latent clip; VAE decode per frame (tiny, and SD v1.5 size)";

    public IReadOnlyList<Measurement> Run(BenchmarkContext context)
    {
        var results = new List<Measurement>();
        var root = Path.Combine(context.WorkDir, "tiny-sd");
        var inflation = TinyStableDiffusionFolder.Assemble(ClipBenchmarkData.Fixture, root);
        InflatedSdPipeline? loaded = null;
        var load = Measure.Seconds(() => loaded = StableDiffusionFolder.Open(root).LoadInflatedPipeline(inflation));
        using var pipeline = loaded!;
        results.Add(new("load", load, "s", "VAE + CLIP text + inflated UNet + schedulers from the folder"));

        using var _ = no_grad();
        var steps = context.Quick ? 4 : 20;
        const int Frames = 8;
        using var generator = new Generator(11);
        using var latents = randn(new long[] { 1, 4, Frames, 16, 16 }, generator: generator);
        using var prompt = randn(new long[] { 1, 20, 32 }, generator: generator);
        var stepSeconds = new List<double>();
        var clock = Stopwatch.StartNew();
        var total = Measure.Seconds(() =>
        {
            using var video = pipeline.Generate(prompt, latents, new VideoSamplingOptions { NumInferenceSteps = steps }, (i, t, x) =>
            {
                stepSeconds.Add(clock.Elapsed.TotalSeconds);
                clock.Restart();
            });
        });
        stepSeconds.Sort();
        var threads = $"{get_num_threads()} threads";
        results.Add(new("sample_total", total, "s", $"{steps} steps incl. negative-prompt encoding and decode, {Frames} frames, {threads}"));
        results.Add(new("sample_step_median", stepSeconds[stepSeconds.Count / 2] * 1000, "ms", "UNet on the CFG batch of 2 + DDIM step"));
        results.Add(new("sample_step_max", stepSeconds[^1] * 1000, "ms", string.Empty));

        using (var videoLatents = randn(new long[] { 1, 4, Frames, 16, 16 }, generator: generator))
        {
            pipeline.Vae.DecodeVideo(videoLatents).Dispose();
            var decode = Measure.Seconds(() => pipeline.Vae.DecodeVideo(videoLatents).Dispose());
            results.Add(new("tiny_vae_decode_frame", decode / Frames * 1000, "ms", "16×16 latent → 32×32 frame, frame-by-frame"));
        }

        if (!context.Quick)
        {
            using var sdVae = new AutoencoderKl(AutoencoderKlConfig.StableDiffusionV15);
            sdVae.eval();
            using var sdLatents = randn(new long[] { 1, 4, 2, 64, 64 }, generator: generator);
            var rssBefore = Measure.RssMiB();
            var decode = Measure.Seconds(() => sdVae.DecodeVideo(sdLatents).Dispose());
            results.Add(new("sd15_vae_decode_frame", decode / 2, "s", $"64×64 latent → 512×512 frame, random weights, mean of 2 frames, {threads}"));
            results.Add(new("peak_rss", Measure.PeakRssMiB(), "MiB", $"whole process (RSS before SD decode {rssBefore:F0} MiB)"));
        }
        context.Log.Information("tiny-pipeline: {Results}", string.Join("; ", results.Select(r => $"{r.Name} {r.Value:G4} {r.Unit}")));
        return results;
    }
}
