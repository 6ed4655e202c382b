using MindAnimator.Benchmarks;
using MindAnimator.Data;

namespace MindAnimator.Evaluation;

/// <summary>`mindanim bench eval-throughput`: clips/s of each pixel metric on 8-frame clips at 64×64 and 512×512 (clips in memory, all cores).</summary>
public sealed class EvalBenchmark : IBenchmark
{
    private static readonly string[] MetricNames = { "ssim", "psnr", "mse", "hue-pcc", "epe" };

    public string Name => "eval-throughput";

    public string Description => "eval clips/s per metric (ssim, psnr, mse, hue-pcc, epe, all together) on 8-frame clips at 64×64 and 512×512";

    public IReadOnlyList<Measurement> Run(BenchmarkContext context)
    {
        var results = new List<Measurement>();
        var threads = Environment.ProcessorCount;
        foreach (var (size, clips) in new[] { (64, context.Quick ? 16 : 96), (512, context.Quick ? 2 : 8) })
        {
            var pred = Enumerable.Range(0, clips).Select(i => SyntheticClip($"c{i}", size, i, 1.5)).ToList();
            var gt = Enumerable.Range(0, clips).Select(i => SyntheticClip($"c{i}", size, i + 1000, 0.5)).ToList();
            var predSource = ClipSources.FromMemory(pred, "benchmark predictions");
            var gtSource = ClipSources.FromMemory(gt, "benchmark ground truth");
            var options = new EvalOptions { BootstrapResamples = 0, Threads = threads };
            foreach (var names in MetricNames.Select(n => new[] { n }).Append(MetricNames))
            {
                var metrics = MetricCatalog.Resolve(names);
                // One warm-up clip so JIT and OpenCV's first-call costs stay out of the rate.
                ClipEvaluator.Evaluate(ClipSources.FromMemory(pred.Take(1), "warm-up"), ClipSources.FromMemory(gt.Take(1), "warm-up"), metrics, EvalModels.None, options, context.Log);
                var seconds = Measure.Seconds(() => ClipEvaluator.Evaluate(predSource, gtSource, metrics, EvalModels.None, options, context.Log));
                var label = names.Length == 1 ? names[0] : "all";
                results.Add(new Measurement($"{label} {size}x{size}", clips / seconds, "clips/s", $"{clips} clips × 8 frames, {threads} threads"));
                context.Log.Information("eval-throughput: {Metric} at {Size}×{Size}: {Rate:0.0} clips/s", label, size, size, clips / seconds);
            }
        }
        return results;
    }

    /// <summary>A textured, noisy clip whose content drifts by <paramref name="shift"/> pixels per frame.</summary>
    private static ClipFrames SyntheticClip(string id, int size, int seed, double shift)
    {
        const int frames = 8;
        var rng = new Random(seed);
        var rgb = new byte[frames * size * size * 3];
        var phase = rng.NextDouble() * 6.28;
        for (var f = 0; f < frames; f++)
        {
            for (var y = 0; y < size; y++)
            {
                for (var x = 0; x < size; x++)
                {
                    var u = 2 * Math.PI * (x - (f * shift)) / size;
                    var v = 2 * Math.PI * y / size;
                    var i = (((f * size) + y) * size + x) * 3;
                    for (var c = 0; c < 3; c++)
                    {
                        var value = 128 + (60 * Math.Sin((3 * u) + (c * 1.3) + phase) * Math.Cos(2 * v)) + (30 * Math.Sin(5 * (u + v))) + rng.Next(-12, 13);
                        rgb[i + c] = (byte)Math.Clamp(value, 0, 255);
                    }
                }
            }
        }
        return new ClipFrames(id, frames, size, size, rgb);
    }
}
