using MindAnimator.Models.Diffusers;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Models.Diffusers;

/// <summary>Process memory is shared by parallel tests, so this collection runs on its own.</summary>
[CollectionDefinition(nameof(UnetMemoryTests), DisableParallelization = true)]
public sealed class UnetMemoryCollection;

[Collection(nameof(UnetMemoryTests))]
public sealed class UnetMemoryTests(ITestOutputHelper output)
{
    /// <summary>
    /// 200 inference passes after a warm-up leave no live tensor behind and the resident set within a few MiB:
    /// every intermediate tensor is disposed deterministically (leaked activations would add megabytes per pass).
    /// </summary>
    [Fact]
    public void Repeated_inference_does_not_grow_resident_memory()
    {
        var dir = Infrastructure.TestEnvironment.Golden("unet2d");
        using var unet = Unet2DConditionModel.FromFiles(Path.Combine(dir, "config.json"), Path.Combine(dir, "weights.safetensors"));
        using var generator = new Generator(5, CPU);
        using var sample = randn([1, unet.Config.InChannels, 8, 8], generator: generator);
        using var context = randn([1, 7, unet.Config.CrossAttentionDim], generator: generator);
        // One intra-op thread: on a shared 2-core machine, thread contention makes tiny ops ~20× slower.
        var threads = get_num_threads();
        set_num_threads(1);
        double growth;
        try
        {
            for (var i = 0; i < 20; i++)
            {
                unet.Predict(sample, 10 * i, context).Dispose();
            }
            var before = ResidentMiB();
            var liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            for (var i = 0; i < 200; i++)
            {
                unet.Predict(sample, i, context).Dispose();
            }
            growth = ResidentMiB() - before;
            Assert.Equal(liveBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        finally
        {
            set_num_threads(threads);
        }
        output.WriteLine($"RSS growth over 200 passes: {growth:F1} MiB");
        Assert.True(growth < 64, $"resident memory grew by {growth:F1} MiB over 200 passes");
    }

    private static double ResidentMiB()
    {
        // No GC.Collect: finalizers would free leaked tensors and hide the leak this measures.
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
    }
}
