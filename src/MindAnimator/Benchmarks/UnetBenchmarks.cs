using System.Diagnostics;
using MindAnimator.Models.Diffusers;
using static TorchSharp.torch;

namespace MindAnimator.Benchmarks;

/// <summary>
/// Seconds per denoising step of the tiny inflated UNet (the unet2d fixture's layout: channels 32/32/64/64) on an
/// 8-frame clip of 32×32 latents, and of a 20-step loop; random weights, CPU, float32.
/// </summary>
public sealed class TinyUnetBenchmark : IBenchmark
{
    /// <summary>The tiny SD-layout config of the unet2d reference fixture.</summary>
    public static UnetConfig TinyConfig { get; } = new()
    {
        SampleSize = 32,
        BlockOutChannels = [32, 32, 64, 64],
        CrossAttentionDim = 32,
        AttentionHeads = [8, 8, 8, 8],
        Source = "(tiny benchmark config)",
    };

    public string Name => "unet-tiny";

    public string Description => "Tiny SD-layout UNet: 3-D (8 frames, 32×32 latents) step and 20-step loop, 2-D step; CPU float32";

    public IReadOnlyList<Measurement> Run(BenchmarkContext context)
    {
        var repeats = context.Quick ? 2 : 10;
        var results = new List<Measurement>();
        using (var unet3d = new Unet3DConditionModel(TinyConfig, temporalSeed: 1))
        {
            unet3d.eval();
            using var scope = NewDisposeScope();
            var generator = new Generator(1, CPU);
            var latents = randn([1, 4, 8, 32, 32], generator: generator);
            var text = randn([1, 77, 32], generator: generator);
            var step = MedianSeconds(repeats, () => unet3d.Predict(latents, 500, text).Dispose());
            results.Add(new Measurement("unet3d step (1×4×8×32×32)", step, "s", $"median of {repeats} after warm-up"));
            var steps = context.Quick ? 3 : 20;
            var loop = Measure.Seconds(() =>
            {
                var x = latents.clone();
                for (var i = 0; i < steps; i++)
                {
                    using var noise = unet3d.Predict(x, 1000 - (i * 50), text);
                    var next = x - (0.05 * noise);
                    x.Dispose();
                    x = next;
                }
                x.Dispose();
            });
            results.Add(new Measurement($"unet3d {steps}-step loop", loop, "s", "UNet calls plus a trivial latent update"));
            // On a shared machine, intra-op threads waiting on each other can dominate tiny ops; one thread shows it.
            var threads = get_num_threads();
            set_num_threads(1);
            try
            {
                var single = MedianSeconds(repeats, () => unet3d.Predict(latents, 500, text).Dispose());
                results.Add(new Measurement("unet3d step, 1 thread", single, "s", $"median of {repeats} after warm-up"));
            }
            finally
            {
                set_num_threads(threads);
            }
        }
        using (var unet2d = new Unet2DConditionModel(TinyConfig))
        {
            unet2d.eval();
            using var scope = NewDisposeScope();
            var generator = new Generator(2, CPU);
            var latents = randn([1, 4, 32, 32], generator: generator);
            var text = randn([1, 77, 32], generator: generator);
            var step = MedianSeconds(repeats, () => unet2d.Predict(latents, 500, text).Dispose());
            results.Add(new Measurement("unet2d step (1×4×32×32)", step, "s", $"median of {repeats} after warm-up"));
        }
        results.Add(new Measurement("peak RSS", Measure.PeakRssMiB(), "MiB"));
        results.Add(new Measurement("torch threads", get_num_threads(), "threads"));
        foreach (var m in results)
        {
            context.Log.Information("{Name}: {Value:G4} {Unit} {Note}", m.Name, m.Value, m.Unit, m.Note);
        }
        return results;
    }

    internal static double MedianSeconds(int repeats, Action action)
    {
        action();
        var times = new List<double>();
        for (var i = 0; i < repeats; i++)
        {
            times.Add(Measure.Seconds(action));
        }
        times.Sort();
        return times[times.Count / 2];
    }
}

/// <summary>One step of the full-size Stable Diffusion v1.5 UNet (random weights) at 64×64 latents, batch 1, on the CPU.</summary>
public sealed class Sd15UnetCpuBenchmark : IBenchmark
{
    public string Name => "unet-sd15-cpu";

    public string Description => "Full SD v1.5 UNet2D (859.5 M parameters, random weights) one step at 1×4×64×64 on the CPU, float32 (~3.5 GB)";

    public IReadOnlyList<Measurement> Run(BenchmarkContext context)
    {
        var size = context.Quick ? 16 : 64;
        var watch = Stopwatch.StartNew();
        using var unet = new Unet2DConditionModel(UnetConfig.StableDiffusionV15);
        unet.eval();
        var build = watch.Elapsed.TotalSeconds;
        using var scope = NewDisposeScope();
        var generator = new Generator(3, CPU);
        var latents = randn([1, 4, size, size], generator: generator);
        var text = randn([1, 77, 768], generator: generator);
        var first = Measure.Seconds(() => unet.Predict(latents, 500, text).Dispose());
        var second = Measure.Seconds(() => unet.Predict(latents, 500, text).Dispose());
        var results = new List<Measurement>
        {
            new("build (random init)", build, "s"),
            new($"step 1×4×{size}×{size} (first)", first, "s"),
            new($"step 1×4×{size}×{size} (second)", second, "s"),
            new("parameters", unet.ParameterCount, "count"),
            new("peak RSS", Measure.PeakRssMiB(), "MiB"),
            new("torch threads", get_num_threads(), "threads"),
        };
        foreach (var m in results)
        {
            context.Log.Information("{Name}: {Value:G4} {Unit} {Note}", m.Name, m.Value, m.Unit, m.Note);
        }
        return results;
    }
}
