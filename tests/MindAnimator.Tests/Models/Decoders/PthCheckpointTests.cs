using MindAnimator.Models.Decoders;
using MindAnimator.Tests.Infrastructure;
using MindAnimator.Training;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;
using F = MindAnimator.Tests.Models.Decoders.DecoderFixture;

namespace MindAnimator.Tests.Models.Decoders;

/// <summary>
/// The authors release `torch.save(model.state_dict())` .pth files; a zip-format .pth written by PyBridge's save_py from
/// the fixture weights must load through the same names and reproduce the reference outputs.
/// </summary>
public class PthCheckpointTests
{
    [Fact]
    public void Motion_generator_loads_a_pth_state_dict_and_reproduces_greedy_decode()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var pth = tmp.File("model_300.pth");
        using (var source = new MotionGenerator(F.SmallMotionOptions()))
        {
            F.LoadSmallWeights(source, "cmg_small.weights.safetensors");
            source.save_py(pth);
        }
        Assert.Equal("PK"u8.ToArray(), File.ReadAllBytes(pth).Take(2));
        using var model = new MotionGenerator(F.SmallMotionOptions());
        DecoderCheckpoint.LoadWeights(model, pth);
        model.eval();
        using var noGrad = no_grad();
        var expected = F.Tensor("small.cmg.output.greedy_decode.ratio0");
        using var y = model.GreedyDecode(F.Tensor("small.cmg.input.first_frame"), F.Tensor("small.cmg.input.src").narrow(0, 0, expected.shape[0]), (int)expected.shape[1]);
        F.AssertClose(expected, y, "small.cmg.output.greedy_decode.ratio0");
    }

    [Fact]
    public void Semantic_and_structure_decoders_load_pth_state_dicts()
    {
        using var tmp = TestEnvironment.NewTempDir();
        using (var source = new SemanticDecoder(F.SmallSemanticOptions()))
        {
            F.LoadSmallWeights(source, "semantic_small.weights.safetensors");
            source.save_py(tmp.File("Semantic_decoder_30.pth"));
        }
        using (var source = new StructureDecoder(F.SmallStructureOptions()))
        {
            F.LoadSmallWeights(source, "structure_small.weights.safetensors");
            source.save_py(tmp.File("Structure_decoder_75.pth"));
        }
        using var semantic = new SemanticDecoder(F.SmallSemanticOptions());
        DecoderCheckpoint.LoadWeights(semantic, tmp.File("Semantic_decoder_30.pth"));
        semantic.eval();
        using var structure = new StructureDecoder(F.SmallStructureOptions());
        DecoderCheckpoint.LoadWeights(structure, tmp.File("Structure_decoder_75.pth"));
        structure.eval();
        using var noGrad = no_grad();
        using var tokens = semantic.DecodeTokens(F.Tensor("small.semantic.input.x"));
        F.AssertClose(F.Tensor("small.semantic.output.y"), tokens, "small.semantic.output.y");
        using var latent = structure.forward(F.Tensor("small.structure.input.x"));
        F.AssertClose(F.Tensor("small.structure.output"), latent, "small.structure.output");
    }

    [Fact]
    public void A_pth_of_another_size_is_refused_with_the_mismatching_keys()
    {
        using var tmp = TestEnvironment.NewTempDir();
        using (var source = new StructureDecoder(F.SmallStructureOptions()))
        {
            source.save_py(tmp.File("other.pth"));
        }
        using var wider = new StructureDecoder(F.SmallStructureOptions() with { Hidden = F.SmallStructureOptions().Hidden + 1 });
        var e = Assert.Throws<MindAnimatorException>(() => DecoderCheckpoint.LoadWeights(wider, tmp.File("other.pth")));
        Assert.Contains("lin0.0.weight", e.Message);
        Assert.Contains("other.pth", e.Message);
    }
}
