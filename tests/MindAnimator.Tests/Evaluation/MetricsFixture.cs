using System.Buffers.Binary;
using System.Text.Json.Nodes;
using MindAnimator.Evaluation;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Evaluation;

/// <summary>The `metrics` golden fixture: uint8 images from images.safetensors and expected values from expected.json.</summary>
public static class MetricsFixture
{
    private static readonly Lazy<Dictionary<string, (long[] Shape, byte[] Data)>> Tensors = new(() => ReadU8(Path.Combine(TestEnvironment.Golden("metrics"), "images.safetensors")));

    private static readonly Lazy<JsonObject> Expected = new(() =>
        (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(TestEnvironment.Golden("metrics"), "expected.json")))!);

    public static JsonObject Results => (JsonObject)Expected.Value["results"]!;

    /// <summary>Every pair name in expected.json, for [MemberData].</summary>
    public static IEnumerable<object[]> PairNames() => Results.Select(kv => new object[] { kv.Key });

    public static (long[] Shape, byte[] Data) Tensor(string name) =>
        Tensors.Value.TryGetValue(name, out var t) ? t : throw new InvalidOperationException($"images.safetensors has no tensor '{name}'");

    public static RgbImage Image(string name)
    {
        var (shape, data) = Tensor(name);
        Assert.Equal(3, shape.Length);
        Assert.Equal(3, shape[2]);
        return new RgbImage((int)shape[0], (int)shape[1], data);
    }

    /// <summary>A number or one of the strings "inf" / "nan" that expected.json uses for non-finite values.</summary>
    public static double Number(JsonNode? node) => node!.GetValueKind() == System.Text.Json.JsonValueKind.String
        ? node.GetValue<string>() switch
        {
            "inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            "nan" => double.NaN,
            var s => throw new FormatException($"unexpected value '{s}' in expected.json"),
        }
        : node.GetValue<double>();

    private static Dictionary<string, (long[] Shape, byte[] Data)> ReadU8(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var headerSize = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = (JsonObject)JsonNode.Parse(bytes.AsSpan(8, headerSize))!;
        var result = new Dictionary<string, (long[], byte[])>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                continue;
            }
            Assert.Equal("U8", node!["dtype"]!.GetValue<string>());
            var shape = node["shape"]!.AsArray().Select(n => n!.GetValue<long>()).ToArray();
            var offsets = node["data_offsets"]!.AsArray().Select(n => n!.GetValue<long>()).ToArray();
            result[name] = (shape, bytes.AsSpan(8 + headerSize + (int)offsets[0], (int)(offsets[1] - offsets[0])).ToArray());
        }
        return result;
    }
}
