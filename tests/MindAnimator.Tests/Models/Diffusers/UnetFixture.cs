using System.Globalization;
using System.Text.RegularExpressions;
using MindAnimator.Models.Common;
using MindAnimator.Tests.Infrastructure;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Models.Diffusers;

/// <summary>Reads the unet2d / unet3d_inflated reference fixtures (tensors and the README's tolerance).</summary>
internal sealed partial class UnetFixture : IDisposable
{
    private UnetFixture(string name)
    {
        Dir = TestEnvironment.Golden(name);
        Tensors = StateDict.Read(Path.Combine(Dir, "io.safetensors"));
        Atol = SuggestedAtol(name);
    }

    public string Dir { get; }

    public Dictionary<string, Tensor> Tensors { get; }

    public double Atol { get; }

    public static UnetFixture Open(string name) => new(name);

    public string File(string name) => Path.Combine(Dir, name);

    public Tensor this[string key] => Tensors.TryGetValue(key, out var t) ? t : throw new Xunit.Sdk.XunitException($"{Dir}/io.safetensors has no '{key}'.");

    /// <summary>The "Suggested atol" of this fixture's section in golden/README.md.</summary>
    public static double SuggestedAtol(string name)
    {
        var readme = System.IO.File.ReadAllText(Path.Combine(TestEnvironment.SharedRoot, "golden", "README.md"));
        var section = readme.Split("\n### ").First(s => s.StartsWith(name + "\n", StringComparison.Ordinal));
        var match = AtolPattern().Match(section);
        Assert.True(match.Success, $"golden/README.md section {name} states no suggested atol.");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    public static double MaxAbsDiff(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var diff = (actual.to_type(ScalarType.Float32) - expected).abs().max();
        return diff.item<float>();
    }

    public void Dispose()
    {
        foreach (var t in Tensors.Values)
        {
            t.Dispose();
        }
    }

    [GeneratedRegex(@"Suggested atol ([0-9.eE+-]+[0-9])")]
    private static partial Regex AtolPattern();
}
