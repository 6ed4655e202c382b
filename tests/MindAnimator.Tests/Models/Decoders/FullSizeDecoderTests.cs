using System.Diagnostics;
using MindAnimator.Config;
using MindAnimator.Models.Decoders;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using F = MindAnimator.Tests.Models.Decoders.DecoderFixture;

namespace MindAnimator.Tests.Models.Decoders;

/// <summary>The paper-size models built from the config defaults: names/shapes on the meta device, numerics with formula weights.</summary>
public sealed class FullSizeDecoderTests : IClassFixture<FullSizeDecoderTests.MotionModel>
{
    private readonly MotionModel _motion;
    private readonly ITestOutputHelper _output;

    public FullSizeDecoderTests(MotionModel motion, ITestOutputHelper output)
    {
        _motion = motion;
        _output = output;
    }

    private static int Voxels => (int)F.Tensor("full.input.fmri").shape[1];

    public static IEnumerable<object[]> Models => new[] { new object[] { "semantic" }, new object[] { "structure" }, new object[] { "cmg" } };

    [Theory]
    [MemberData(nameof(Models))]
    public void Config_defaults_build_the_reference_state_dict_on_the_meta_device(string name)
    {
        var expected = F.Json("full_size_state_dicts.json").GetProperty(name);
        using var model = Build(name, META);
        var actual = model.state_dict();
        var entries = expected.GetProperty("state_dict").EnumerateArray().ToList();
        Assert.Equal(entries.Select(e => e.GetProperty("key").GetString()!).Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var e in entries)
        {
            var key = e.GetProperty("key").GetString()!;
            Assert.Equal(e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray(), actual[key].shape);
            Assert.Equal(e.GetProperty("dtype").GetString(), actual[key].dtype == ScalarType.Float32 ? "float32" : actual[key].dtype.ToString());
            var isParameter = model.named_parameters().Any(p => p.name == key);
            Assert.Equal(e.GetProperty("kind").GetString(), isParameter ? "parameter" : "buffer");
        }
        Assert.Equal(expected.GetProperty("n_parameters").GetInt64(), model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Semantic_decoder_with_formula_weights_matches_reference()
    {
        using var model = Build("semantic", null);
        F.FillFormulaWeights(model, "semantic");
        using var noGrad = no_grad();
        using var output = ((SemanticDecoder)model).forward(F.Tensor("full.input.fmri"), F.Tensor("full.input.y_CLIP_t"), F.Tensor("full.input.y_CLIP_i"));
        F.AssertClose(F.Tensor("full.semantic.output.x"), output.Embedding, "full.semantic.output.x");
        F.AssertClose(F.Tensor("full.semantic.output.y"), output.Tokens, "full.semantic.output.y");
        F.AssertClose(F.Tensor("full.semantic.output.logits_per_fMRI_t"), output.LogitsText, "full.semantic.output.logits_per_fMRI_t");
        F.AssertClose(F.Tensor("full.semantic.output.logits_per_fMRI_i"), output.LogitsImage, "full.semantic.output.logits_per_fMRI_i");
    }

    [Fact]
    public void Structure_decoder_with_formula_weights_matches_reference()
    {
        using var model = (StructureDecoder)Build("structure", null);
        F.FillFormulaWeights(model, "structure");
        using var noGrad = no_grad();
        using var y = model.forward(F.Tensor("full.input.fmri"));
        F.AssertClose(F.Tensor("full.structure.output"), y, "full.structure.output");
    }

    [Fact]
    public void Motion_generator_with_formula_weights_matches_reference_forward()
    {
        using var noGrad = no_grad();
        var sw = Stopwatch.StartNew();
        var tgt = F.Tensor("full.cmg.input.tgt");
        using var mask = AttentionMasks.Causal(tgt.shape[1]);
        using var y = _motion.Model.forward(F.Tensor("full.input.fmri"), tgt, mask);
        _output.WriteLine($"full-size CMG forward: {sw.Elapsed.TotalSeconds:F2} s (model built in {_motion.BuildSeconds:F1} s)");
        F.AssertClose(F.Tensor("full.cmg.output.forward_causal"), y, "full.cmg.output.forward_causal");
    }

    [Fact]
    public void Motion_generator_greedy_decode_from_structure_output_matches_reference()
    {
        using var noGrad = no_grad();
        var expected = F.Tensor("full.cmg.output.greedy_decode");
        var sw = Stopwatch.StartNew();
        using var y = _motion.Model.GreedyDecode(F.Tensor("full.structure.output"), F.Tensor("full.input.fmri"), (int)expected.shape[1], InferenceMask.Official);
        _output.WriteLine($"full-size greedy decode: {sw.Elapsed.TotalSeconds:F2} s");
        F.AssertClose(expected, y, "full.cmg.output.greedy_decode");
    }

    private static nn.Module Build(string name, Device? device)
    {
        var config = new MindAnimatorConfig();
        return name switch
        {
            "semantic" => new SemanticDecoder(SemanticDecoderOptions.FromSettings(config.Semantic, Voxels), device),
            "structure" => new StructureDecoder(StructureDecoderOptions.FromSettings(config.Structure, Voxels), device),
            "cmg" => new MotionGenerator(MotionGeneratorOptions.FromSettings(config.Motion, Voxels), device),
            _ => throw new ArgumentException(name),
        };
    }

    /// <summary>The 336M-parameter CMG with formula weights, built once for the class.</summary>
    public sealed class MotionModel : IDisposable
    {
        public MotionModel()
        {
            var sw = Stopwatch.StartNew();
            Model = (MotionGenerator)Build("cmg", null);
            F.FillFormulaWeights(Model, "cmg");
            BuildSeconds = sw.Elapsed.TotalSeconds;
        }

        public MotionGenerator Model { get; }

        public double BuildSeconds { get; }

        public void Dispose() => Model.Dispose();
    }
}
