using System.Diagnostics;
using Serilog;

namespace MindAnimator.Benchmarks;

/// <summary>One measured quantity of a benchmark.</summary>
public sealed record Measurement(string Name, double Value, string Unit, string Note = "");

/// <summary>What a benchmark gets: a scratch folder, a scale, a log.</summary>
/// <param name="WorkDir">A folder the benchmark may fill (removed afterwards by the caller).</param>
/// <param name="Quick">Smaller sizes, for a smoke run.</param>
public sealed record BenchmarkContext(string WorkDir, bool Quick, ILogger Log);

/// <summary>A named speed/memory measurement; results are quoted in the issues, never asserted in tests.</summary>
public interface IBenchmark
{
    string Name { get; }

    string Description { get; }

    IReadOnlyList<Measurement> Run(BenchmarkContext context);
}

/// <summary>Helpers to measure wall time and memory.</summary>
public static class Measure
{
    /// <summary>Wall seconds of <paramref name="action"/>.</summary>
    public static double Seconds(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalSeconds;
    }

    /// <summary>Peak resident memory of this process so far, in MiB (VmHWM on Linux).</summary>
    public static double PeakRssMiB()
    {
        if (OperatingSystem.IsLinux())
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return StatusLineMiB(line);
                }
            }
        }
        return Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
    }

    /// <summary>The kB value of a /proc/self/status line such as "VmHWM:\t  123 kB", in MiB.</summary>
    internal static double StatusLineMiB(string line) =>
        // From 8 digits on no space follows the tab, so split on both.
        double.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;

    /// <summary>Current resident memory in MiB.</summary>
    public static double RssMiB()
    {
        using var p = Process.GetCurrentProcess();
        p.Refresh();
        return p.WorkingSet64 / 1048576.0;
    }
}
