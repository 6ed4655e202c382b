using System.Diagnostics;
using MindAnimator.Data;

namespace MindAnimator.Tests.Data.Formats;

internal static class FormatTestData
{
    /// <summary>A small table with awkward floats (subnormals, ±0, extremes) so that round trips prove bit-exactness.</summary>
    public static FmriTable Table(int rows, int voxels, int seed = 1, string subject = "sub-01")
    {
        var rng = new Random(seed);
        var special = new[] { 0f, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, 1e-40f, 3.14159274f };
        var samples = new List<FmriSample>();
        for (var r = 0; r < rows; r++)
        {
            var v = new float[voxels];
            for (var i = 0; i < voxels; i++)
            {
                v[i] = (r * voxels + i) % 17 == 3 ? special[(r + i) % special.Length] : (float)(rng.NextDouble() * 4 - 2);
            }
            samples.Add(new FmriSample
            {
                ClipId = $"seg{r % 3}_clip{r:D4}",
                Subject = subject,
                Split = Splits.All[r % 3],
                Segment = $"seg{r % 3}",
                ClipIndex = r,
                Repeats = 1 + (r % 10),
                Voxels = v,
            });
        }
        var info = Enumerable.Range(0, voxels)
            .Select(i => new VoxelInfo(i, 1000 + (i * 7), i % 2 == 0 ? "CIFTI_STRUCTURE_CORTEX_LEFT" : "SIMULATED", i % 5 == 0 ? -1 : i * 3, i % 4 == 0 ? "" : "V1", i % 3 == 0 ? "motion" : ""))
            .ToList();
        var meta = new Dictionary<string, string> { ["tool_version"] = "0.1.0", ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture), ["preprocessing"] = "detrend4,zscore; ünïcode ✓" };
        return new FmriTable(samples, info, meta);
    }

    public static FmriTable With(this FmriTable t, int row, Func<FmriSample, FmriSample> change)
    {
        var samples = t.Samples.ToList();
        samples[row] = change(samples[row]);
        return t with { Samples = samples };
    }

    public static void AssertBitEqual(FmriTable expected, FmriTable actual)
    {
        Assert.Equal(expected.Samples.Count, actual.Samples.Count);
        Assert.Equal(expected.Voxels, actual.Voxels);
        Assert.Equal(expected.Metadata.OrderBy(kv => kv.Key), actual.Metadata.OrderBy(kv => kv.Key));
        for (var r = 0; r < expected.Samples.Count; r++)
        {
            var e = expected.Samples[r];
            var a = actual.Samples[r];
            Assert.Equal(e with { Voxels = Array.Empty<float>() }, a with { Voxels = Array.Empty<float>() });
            Assert.Equal(Bits(e.Voxels), Bits(a.Voxels));
        }
    }

    public static int[] Bits(float[] v) => v.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>Files in a folder other than the expected ones: catches leftover temp files.</summary>
    public static string[] FileNames(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).OrderBy(f => f, StringComparer.Ordinal).ToArray();

    /// <summary>Runs a program, returning exit code and output; null when it cannot be started.</summary>
    public static (int Code, string Stdout, string Stderr)? Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        try
        {
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
