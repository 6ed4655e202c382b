using MindAnimator.Models.Common;
using MindAnimator.Tests.Infrastructure;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Diffusion;

/// <summary>The tensors of one fixture's io.safetensors, disposed together.</summary>
internal sealed class GoldenTensors : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    public GoldenTensors(string fixture, string file = "io.safetensors")
    {
        Folder = TestEnvironment.Golden(fixture);
        _tensors = StateDict.Read(Path.Combine(Folder, file));
    }

    public string Folder { get; }

    public IEnumerable<string> Keys => _tensors.Keys;

    public Tensor this[string name] =>
        _tensors.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Folder}: fixture tensor '{name}' not found.");

    public void Dispose()
    {
        foreach (var t in _tensors.Values)
        {
            t.Dispose();
        }
    }

    /// <summary>Asserts equal shapes and max |expected − actual| ≤ atol, naming the tensor in the failure.</summary>
    public static void AssertClose(Tensor expected, Tensor actual, double atol, string name)
    {
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{name}: shape [{string.Join(",", actual.shape)}], expected [{string.Join(",", expected.shape)}]");
        using var diff = (expected.to(ScalarType.Float64) - actual.to(ScalarType.Float64)).abs().max();
        var maxAbs = diff.item<double>();
        Assert.True(maxAbs <= atol, $"{name}: max |Δ| = {maxAbs:G4} > atol {atol:G4}");
    }
}
