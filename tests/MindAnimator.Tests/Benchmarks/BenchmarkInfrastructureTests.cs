using MindAnimator.Benchmarks;
using Xunit;

namespace MindAnimator.Tests.Benchmarks;

public class BenchmarkInfrastructureTests
{
    [Fact]
    public void Registry_lists_every_benchmark_once_including_the_per_decoder_ones()
    {
        var names = BenchmarkRegistry.All.Select(b => b.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        foreach (var expected in new[] { "unet-tiny", "tiny-pipeline", "decoder-epoch-semantic", "decoder-epoch-structure", "decoder-epoch-motion" })
        {
            Assert.Contains(expected, names);
        }
        Assert.Equal("decoder-epoch-motion", BenchmarkRegistry.Find("decoder-epoch-motion").Name);
    }

    [Theory]
    [InlineData("VmHWM:\t  366900 kB", 366900 / 1024.0)]
    [InlineData("VmHWM:\t10307720 kB", 10307720 / 1024.0)]
    public void Status_line_parses_with_and_without_padding(string line, double expectedMiB)
    {
        Assert.Equal(expectedMiB, Measure.StatusLineMiB(line), 6);
    }
}
