using System.Globalization;
using System.Text.RegularExpressions;
using MindAnimator.Models.Decoders;
using MindAnimator.Training;
using static TorchSharp.torch;
using F = MindAnimator.Tests.Models.Decoders.DecoderFixture;

namespace MindAnimator.Tests.Models.Decoders;

/// <summary>The small random-weight reference models of the fixture: every stored output, mask and decode.</summary>
public partial class SmallDecoderParityTests
{
    [Fact]
    public void Semantic_decoder_forward_matches_all_four_reference_outputs()
    {
        using var model = new SemanticDecoder(F.SmallSemanticOptions());
        F.LoadSmallWeights(model, "semantic_small.weights.safetensors");
        using var noGrad = no_grad();
        using var output = model.forward(F.Tensor("small.semantic.input.x"), F.Tensor("small.semantic.input.y_CLIP_t"), F.Tensor("small.semantic.input.y_CLIP_i"));
        F.AssertClose(F.Tensor("small.semantic.output.x"), output.Embedding, "small.semantic.output.x");
        F.AssertClose(F.Tensor("small.semantic.output.y"), output.Tokens, "small.semantic.output.y");
        F.AssertClose(F.Tensor("small.semantic.output.logits_per_fMRI_t"), output.LogitsText, "small.semantic.output.logits_per_fMRI_t");
        F.AssertClose(F.Tensor("small.semantic.output.logits_per_fMRI_i"), output.LogitsImage, "small.semantic.output.logits_per_fMRI_i");

        // The inference path returns the same head output without the CLIP targets.
        using var tokens = model.DecodeTokens(F.Tensor("small.semantic.input.x"));
        F.AssertClose(F.Tensor("small.semantic.output.y"), tokens, "small.semantic.output.y");
    }

    [Fact]
    public void Structure_decoder_matches_reference()
    {
        using var model = new StructureDecoder(F.SmallStructureOptions());
        F.LoadSmallWeights(model, "structure_small.weights.safetensors");
        using var noGrad = no_grad();
        using var y = model.forward(F.Tensor("small.structure.input.x"));
        F.AssertClose(F.Tensor("small.structure.output"), y, "small.structure.output");
    }

    [Fact]
    public void Motion_generator_forward_matches_reference_under_every_fixture_mask()
    {
        using var model = SmallMotion();
        using var noGrad = no_grad();
        Assert.NotEmpty(F.MaskNames);
        foreach (var name in F.MaskNames)
        {
            var outputKey = $"small.cmg.output.forward.{name}";
            using var y = model.forward(F.Tensor("small.cmg.input.src"), F.Tensor("small.cmg.input.tgt"), F.Tensor($"small.cmg.mask.{name}"));
            F.AssertClose(F.Tensor(outputKey), y, outputKey);
        }
    }

    [Fact]
    public void Motion_generator_encode_gives_reference_memory_token()
    {
        using var model = SmallMotion();
        using var noGrad = no_grad();
        using var memory = model.Encode(F.Tensor("small.cmg.input.src"));
        F.AssertClose(F.Tensor("small.cmg.output.memory"), memory, "small.cmg.output.memory");
    }

    [Theory]
    [InlineData("ratio0", InferenceMask.Official)]
    [InlineData("ratio1", InferenceMask.Causal)]
    public void Greedy_decode_matches_reference(string variant, InferenceMask mask)
    {
        using var model = SmallMotion();
        using var noGrad = no_grad();
        var key = $"small.cmg.output.greedy_decode.{variant}";
        var expected = F.Tensor(key);
        var src = F.Tensor("small.cmg.input.src").narrow(0, 0, expected.shape[0]);
        using var y = model.GreedyDecode(F.Tensor("small.cmg.input.first_frame"), src, (int)expected.shape[1], mask);
        F.AssertClose(expected, y, key);
    }

    [Fact]
    public void Masks_equal_the_reference_masks()
    {
        foreach (var name in F.MaskNames)
        {
            var expected = F.Tensor($"small.cmg.mask.{name}");
            var size = expected.shape[^1];
            using var actual = name switch
            {
                "causal" => AttentionMasks.Causal(size),
                "ratio0" => AttentionMasks.OfficialInference(size),
                _ when SparseName().Match(name) is { Success: true } m =>
                    AttentionMasks.OfficialSparse((int)size, double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                        new PythonRandom(long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))),
                _ => throw new Xunit.Sdk.XunitException($"unknown fixture mask '{name}'"),
            };
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.eq(actual).all().item<bool>(), $"mask {name} differs");
        }
    }

    private static MotionGenerator SmallMotion()
    {
        var model = new MotionGenerator(F.SmallMotionOptions());
        F.LoadSmallWeights(model, "cmg_small.weights.safetensors");
        return model;
    }

    [GeneratedRegex(@"^sparse_seed(\d+)_ratio([0-9.]+)$")]
    private static partial Regex SparseName();
}
