using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MindAnimator.Models.Decoders;
using MindAnimator.Tests.Infrastructure;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Models.Decoders;

/// <summary>
/// Reads the `mind_animator_decoders` fixture: inputs/outputs, the small models' configs (kwargs + patches of
/// small_models.json), the formula weights of the full-size models and the README's suggested tolerances.
/// </summary>
internal static partial class DecoderFixture
{
    public const string Name = "mind_animator_decoders";

    private static readonly Lazy<Dictionary<string, Tensor>> LazyIo = new(() => Safetensors.LoadStateDict(File("io.safetensors")));
    private static readonly Lazy<JsonElement> LazySmall = new(() => Json("small_models.json"));
    private static readonly Lazy<Dictionary<string, double>> LazyTolerances = new(ReadTolerances);

    public static string Folder => TestEnvironment.Golden(Name);

    public static string File(string name) => Path.Combine(Folder, name);

    public static JsonElement Json(string name) => JsonDocument.Parse(System.IO.File.ReadAllText(File(name))).RootElement;

    public static IReadOnlyDictionary<string, Tensor> Io => LazyIo.Value;

    public static Tensor Tensor(string key) =>
        Io.TryGetValue(key, out var t) ? t : throw new Xunit.Sdk.XunitException($"io.safetensors has no tensor '{key}'.");

    public static JsonElement Small(string model) => LazySmall.Value.GetProperty(model);

    /// <summary>The fixture's masks (small_models.json "masks"), by name, as (1, T, T) float tensors.</summary>
    public static IReadOnlyList<string> MaskNames => LazySmall.Value.GetProperty("masks").EnumerateObject().Select(p => p.Name).ToList();

    /// <summary>Suggested atol for an output key (README; the key without its ".output" part), or the README's widest small-model value when unlisted.</summary>
    public static double Atol(string outputKey)
    {
        var key = outputKey.Replace(".output", string.Empty, StringComparison.Ordinal);
        return LazyTolerances.Value.TryGetValue(key, out var v) ? v : LazyTolerances.Value.Where(kv => kv.Key.StartsWith("small.", StringComparison.Ordinal)).Max(kv => kv.Value);
    }

    public static void AssertClose(Tensor expected, Tensor actual, string key)
    {
        Assert.Equal(expected.shape, actual.shape);
        var atol = Atol(key);
        var diff = (expected - actual.to(expected.dtype)).abs().max().item<float>();
        Assert.True(diff <= atol, $"{key}: max |Δ| {diff:G3} > atol {atol:G3}");
    }

    public static SemanticDecoderOptions SmallSemanticOptions()
    {
        var s = Small("semantic_small");
        var kw = s.GetProperty("kwargs");
        var head = PatchedHeadWidths(s, new[] { 2048, 4096 });
        var y = Tensor("small.semantic.output.y");
        return new SemanticDecoderOptions
        {
            InputDim = kw.GetProperty("in_dim").GetInt32(),
            Hidden = kw.GetProperty("h").GetInt32(),
            ResidualBlocks = kw.GetProperty("n_blocks").GetInt32(),
            HeadHidden = head,
            Tokens = (int)y.shape[1],
            TokenDim = (int)y.shape[2],
        };
    }

    public static StructureDecoderOptions SmallStructureOptions()
    {
        var kw = Small("structure_small").GetProperty("kwargs");
        return new StructureDecoderOptions
        {
            InputDim = kw.GetProperty("in_dim").GetInt32(),
            Hidden = kw.GetProperty("h").GetInt32(),
            ResidualBlocks = kw.GetProperty("n_blocks").GetInt32(),
            OutputDim = kw.GetProperty("out_dim").GetInt32(),
        };
    }

    public static MotionGeneratorOptions SmallMotionOptions()
    {
        var s = Small("cmg_small");
        var kw = s.GetProperty("kwargs");
        var dModel = kw.GetProperty("d_model").GetInt32();
        var options = new MotionGeneratorOptions
        {
            ModelDim = dModel,
            Layers = kw.GetProperty("N").GetInt32(),
            FeedForward = kw.GetProperty("d_ff").GetInt32(),
            Heads = kw.GetProperty("h").GetInt32(),
            Dropout = kw.GetProperty("dropout").GetDouble(),
        };
        foreach (var (_, to) in Patches(s))
        {
            if (ProjectionPatch().Match(to) is { Success: true } p)
            {
                options = options with { AttentionDim = dModel / int.Parse(p.Groups[1].Value, CultureInfo.InvariantCulture) };
            }
            if (EncoderPatch().Match(to) is { Success: true } e)
            {
                options = options with
                {
                    InputDim = int.Parse(e.Groups[1].Value, CultureInfo.InvariantCulture),
                    EncoderHidden = int.Parse(e.Groups[2].Value, CultureInfo.InvariantCulture),
                };
            }
        }
        return options;
    }

    /// <summary>Loads a *_small.weights.safetensors file strictly into <paramref name="model"/>.</summary>
    public static void LoadSmallWeights(nn.Module model, string file)
    {
        MindAnimator.Training.DecoderCheckpoint.LoadWeights(model, File(file));
        model.eval();
    }

    /// <summary>
    /// Overwrites every parameter with the fixture's formula: for parameter number i and flat index k,
    /// v = (k·1103515245 + (i+1)·12345) mod 2³¹, u = (v ≫ 16) & 1023, value = offset + (u − 511.5)/512 · 2^scale_exp;
    /// 0-d parameters equal their offset.
    /// </summary>
    public static void FillFormulaWeights(nn.Module model, string modelName)
    {
        var entries = Json("full_size_formula_weights.json").GetProperty("models").GetProperty(modelName).EnumerateArray().ToList();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(entries.Count, parameters.Count);
        using var noGrad = no_grad();
        foreach (var e in entries)
        {
            var name = e.GetProperty("name").GetString()!;
            Assert.True(parameters.TryGetValue(name, out var p), $"model has no parameter '{name}'");
            var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            Assert.Equal(shape, p!.shape);
            var index = e.GetProperty("index").GetInt64();
            var offset = e.GetProperty("offset").GetDouble();
            var scale = Math.Pow(2, e.GetProperty("scale_exp").GetInt32());
            var values = new float[p.numel()];
            if (shape.Length == 0)
            {
                // The README: a 0-d parameter (logit_scale) keeps the value ln(1/0.07) given as its offset.
                using var scalar = torch.tensor((float)offset);
                p.copy_(scalar);
                continue;
            }
            Parallel.For(0, (values.Length + 65535) / 65536, chunk =>
            {
                var end = Math.Min(values.Length, (chunk + 1) * 65536);
                for (var k = chunk * 65536; k < end; k++)
                {
                    var v = (((long)k * 1103515245L) + ((index + 1) * 12345L)) & 0x7fffffffL;
                    var u = (v >> 16) & 1023;
                    values[k] = (float)(offset + ((u - 511.5) / 512.0 * scale));
                }
            });
            using var source = torch.tensor(values, shape);
            p.copy_(source);
        }
        model.eval();
    }

    private static int[] PatchedHeadWidths(JsonElement model, int[] defaults)
    {
        var map = new Dictionary<int, int>();
        foreach (var (from, to) in Patches(model))
        {
            var a = LinearPatch().Match(from);
            var b = LinearPatch().Match(to);
            if (!a.Success || !b.Success)
            {
                continue;
            }
            for (var g = 1; g <= 2; g++)
            {
                if (int.TryParse(a.Groups[g].Value, out var old) && int.TryParse(b.Groups[g].Value, out var now))
                {
                    map[old] = now;
                }
            }
        }
        return defaults.Select(w => map.TryGetValue(w, out var n) ? n : w).ToArray();
    }

    private static IEnumerable<(string From, string To)> Patches(JsonElement model) =>
        model.TryGetProperty("patch", out var patch)
            ? patch.EnumerateArray().Select(p => (p[0].GetString()!, p[1].GetString()!))
            : Enumerable.Empty<(string, string)>();

    private static Dictionary<string, double> ReadTolerances()
    {
        var readme = System.IO.File.ReadAllText(Path.Combine(TestEnvironment.SharedRoot, "golden", "README.md"));
        var start = readme.IndexOf("### " + Name, StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no section for " + Name);
        var next = readme.IndexOf("\n### ", start + 4, StringComparison.Ordinal);
        var section = next < 0 ? readme[start..] : readme[start..next];
        var suggested = section.IndexOf("Suggested atol", StringComparison.Ordinal);
        Assert.True(suggested >= 0, "README section lists no suggested atol");
        var line = section[suggested..].Split('\n')[0];
        var result = new Dictionary<string, double>();
        foreach (Match m in ToleranceEntry().Matches(line))
        {
            result[m.Groups[1].Value] = double.Parse(m.Groups[2].Value.TrimEnd('.'), CultureInfo.InvariantCulture);
        }
        Assert.NotEmpty(result);
        return result;
    }

    [GeneratedRegex(@"nn\.Linear\((\w+), (\w+)\)")]
    private static partial Regex LinearPatch();

    [GeneratedRegex(@"nn\.Linear\(d_model, d_model // (\d+)\)")]
    private static partial Regex ProjectionPatch();

    [GeneratedRegex(@"BrainEncoder\(.*in_dim=(\d+), h=(\d+)")]
    private static partial Regex EncoderPatch();

    [GeneratedRegex(@"`([^`]+)` ([0-9.eE+-]+)")]
    private static partial Regex ToleranceEntry();
}
