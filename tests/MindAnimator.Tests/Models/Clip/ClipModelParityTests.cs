using MindAnimator.Models.Clip;
using MindAnimator.Models.Common;
using MindAnimator.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Models.Clip;

/// <summary>Parity of the CLIP text and vision encoders with transformers 4.29 on the clip_text / clip_vision fixtures.</summary>
public class ClipModelParityTests
{
    // "Suggested atol" of golden/README.md for clip_text and clip_vision (20 × the reference's own f32-vs-f64 noise).
    private const double Atol = 3e-5;

    private static string TextDir => TestEnvironment.Golden("clip_text");

    private static string VisionDir => TestEnvironment.Golden("clip_vision");

    // The text fixture's output groups and the inputs each was produced from (golden/README.md, clip_text).
    private static ClipTextOutput RunText(ClipTextModelWithProjection model, string group, IReadOnlyDictionary<string, Tensor> io) => group switch
    {
        "output" => model.Forward(io["input.input_ids"], null, outputHiddenStates: true),
        "output_masked" => model.Forward(io["input.input_ids"], io["input.attention_mask"], outputHiddenStates: true),
        "output_neg" => model.Forward(io["input.neg_input_ids"], null, outputHiddenStates: true),
        _ => throw new InvalidOperationException($"io.safetensors has an output group '{group}' this test does not know; extend the test."),
    };

    private static Tensor? Field(string name, Tensor last, Tensor pooled, Tensor? embeds, IReadOnlyList<Tensor>? states)
    {
        if (name.StartsWith("hidden_states.", StringComparison.Ordinal))
        {
            var index = int.Parse(name["hidden_states.".Length..], System.Globalization.CultureInfo.InvariantCulture);
            return states is not null && index < states.Count ? states[index] : null;
        }
        return name switch
        {
            "last_hidden_state" => last,
            "pooler_output" => pooled,
            "text_embeds" or "image_embeds" => embeds,
            _ => null,
        };
    }

    private static void AssertClose(string key, Tensor expected, Tensor? actual, List<string> failures)
    {
        if (actual is null)
        {
            failures.Add($"{key}: the model does not produce this output");
            return;
        }
        if (!expected.shape.SequenceEqual(actual.shape))
        {
            failures.Add($"{key}: shape [{string.Join(",", actual.shape)}], expected [{string.Join(",", expected.shape)}]");
            return;
        }
        var maxAbs = (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>();
        if (!(maxAbs <= Atol))
        {
            failures.Add($"{key}: max |Δ| {maxAbs:E3} > {Atol:E1}");
        }
    }

    private static IEnumerable<IGrouping<string, string>> OutputGroups(IReadOnlyDictionary<string, Tensor> io) =>
        io.Keys.Where(k => k.StartsWith("output", StringComparison.Ordinal)).GroupBy(k => k[..k.IndexOf('.')]);

    [Fact]
    public void TextModelWithProjection_AllFixtureOutputs_WithinTolerance()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var model = ClipTextModelWithProjection.FromFiles(Path.Combine(TextDir, "config.json"), Path.Combine(TextDir, "weights.safetensors"));
        var io = StateDict.Read(Path.Combine(TextDir, "io.safetensors"));
        var failures = new List<string>();
        var compared = 0;
        foreach (var group in OutputGroups(io))
        {
            var output = RunText(model, group.Key, io);
            foreach (var key in group)
            {
                var name = key[(group.Key.Length + 1)..];
                AssertClose(key, io[key], Field(name, output.LastHiddenState, output.PoolerOutput, output.TextEmbeds, output.HiddenStates), failures);
                compared++;
            }
        }
        Assert.True(compared > 0, "io.safetensors holds no outputs");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void TextModel_LoadsCheckpointWithProjection_AndMatchesFixture()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var model = ClipTextModel.FromFiles(Path.Combine(TextDir, "config.json"), Path.Combine(TextDir, "weights.safetensors"));
        var io = StateDict.Read(Path.Combine(TextDir, "io.safetensors"));
        var output = model.Forward(io["input.input_ids"]);
        Assert.Null(output.TextEmbeds);
        var failures = new List<string>();
        AssertClose("output.last_hidden_state", io["output.last_hidden_state"], output.LastHiddenState, failures);
        AssertClose("output.pooler_output", io["output.pooler_output"], output.PoolerOutput, failures);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void TextModel_StateDictNames_EqualCheckpointKeys()
    {
        using var scope = NewDisposeScope();
        var weights = StateDict.Read(Path.Combine(TextDir, "weights.safetensors"));
        var model = new ClipTextModelWithProjection(ClipTextConfig.FromFile(Path.Combine(TextDir, "config.json")));
        Assert.Equal(weights.Keys.OrderBy(k => k, StringComparer.Ordinal), model.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Contains("text_model.embeddings.position_ids", model.state_dict().Keys);
    }

    [Fact]
    public void VisionModelWithProjection_AllFixtureOutputs_WithinTolerance()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var model = ClipVisionModelWithProjection.FromFiles(Path.Combine(VisionDir, "config.json"), Path.Combine(VisionDir, "weights.safetensors"));
        var io = StateDict.Read(Path.Combine(VisionDir, "io.safetensors"));
        var weights = StateDict.Read(Path.Combine(VisionDir, "weights.safetensors"));
        Assert.Equal(weights.Keys.OrderBy(k => k, StringComparer.Ordinal), model.state_dict().Keys.OrderBy(k => k, StringComparer.Ordinal));
        var output = model.Forward(io["input.pixel_values"], outputHiddenStates: true);
        var failures = new List<string>();
        var compared = 0;
        foreach (var group in OutputGroups(io))
        {
            Assert.Equal("output", group.Key);
            foreach (var key in group)
            {
                AssertClose(key, io[key], Field(key["output.".Length..], output.LastHiddenState, output.PoolerOutput, output.ImageEmbeds, output.HiddenStates), failures);
                compared++;
            }
        }
        Assert.True(compared > 0, "io.safetensors holds no outputs");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void TextModel_PoolsAtFirstEndToken_NotAtEosTokenIdOfConfig()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var model = ClipTextModel.FromFiles(Path.Combine(TextDir, "config.json"), Path.Combine(TextDir, "weights.safetensors"));
        var tokenizer = ClipTokenizer.FromFolder(TestEnvironment.Golden("clip_tokenizer"));
        var (ids, _) = tokenizer.EncodeBatch(["a photo of a cat"]);
        var output = model.Forward(ids);
        var eosIndex = Array.IndexOf(ids[0].data<long>().ToArray(), (long)tokenizer.EosId);
        Assert.True(output.PoolerOutput[0].allclose(output.LastHiddenState[0, eosIndex]));
    }

    [Fact]
    public void TextModel_InFloat64_AgreesWithFixture_AndKeepsIntegerPositionIds()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var model = ClipTextModelWithProjection.FromFiles(Path.Combine(TextDir, "config.json"), Path.Combine(TextDir, "weights.safetensors"));
        model.to(ScalarType.Float64);
        Assert.Equal(ScalarType.Int64, model.state_dict()["text_model.embeddings.position_ids"].dtype);
        var io = StateDict.Read(Path.Combine(TextDir, "io.safetensors"));
        var output = model.Forward(io["input.input_ids"], io["input.attention_mask"]);
        Assert.Equal(ScalarType.Float64, output.LastHiddenState.dtype);
        var failures = new List<string>();
        AssertClose("output_masked.last_hidden_state", io["output_masked.last_hidden_state"], output.LastHiddenState, failures);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void Mlp_Gelu_IsTheExactErfGelu()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var mlp = new ClipMlp(4, 6, "gelu");
        var x = linspace(-4, 4, 24).view(6, 4);
        var fc1 = mlp.state_dict()["fc1.weight"];
        var b1 = mlp.state_dict()["fc1.bias"];
        var fc2 = mlp.state_dict()["fc2.weight"];
        var b2 = mlp.state_dict()["fc2.bias"];
        var h = x.matmul(fc1.t()) + b1;
        var expected = (h * 0.5 * (1 + special.erf(h / Math.Sqrt(2)))).matmul(fc2.t()) + b2;
        Assert.True(mlp.call(x).allclose(expected, 1e-6, 1e-6));
        Assert.Throws<ArgumentException>(() => new ClipMlp(4, 6, "relu"));
    }

    [Fact]
    public void FromFolder_TransformersLayout_LoadsModelSafetensors()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var tmp = TestEnvironment.NewTempDir();
        File.Copy(Path.Combine(TextDir, "config.json"), tmp.File("config.json"));
        var missing = Assert.Throws<MindAnimatorException>(() => ClipTextModel.FromFolder(tmp.Path));
        Assert.Contains("model.safetensors", missing.Message);
        File.Copy(Path.Combine(TextDir, "weights.safetensors"), tmp.File("model.safetensors"));
        var model = ClipTextModel.FromFolder(tmp.Path);
        var io = StateDict.Read(Path.Combine(TextDir, "io.safetensors"));
        var failures = new List<string>();
        AssertClose("output.last_hidden_state", io["output.last_hidden_state"], model.Forward(io["input.input_ids"]).LastHiddenState, failures);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        var tooLong = zeros([1, model.Config.MaxPositionEmbeddings + 1], ScalarType.Int64);
        Assert.Throws<ArgumentException>(() => model.Forward(tooLong));
    }
}
