using MindAnimator.Config;
using MindAnimator.Evaluation;
using MindAnimator.Models.Clip;
using MindAnimator.Tests.Models.Clip;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Evaluation;

public class ClipImageEmbedderTests
{
    [Fact]
    public void DefaultCatalog_LoadsTheClipPort_AndEmbedsLikeTheVisionModel()
    {
        using var clip = new TinyClipFolder();
        var models = EvalModelCatalog.Default.Load(new[] { EvalModelKind.ClipImage }, new EvalModelSettings { ClipImage = clip.Root });
        var embedder = Assert.IsType<ClipImageEmbedder>(models.ClipImage);
        var rng = new Random(3);
        var frames = Enumerable.Range(0, 3).Select(_ =>
        {
            var px = new byte[40 * 48 * 3];
            rng.NextBytes(px);
            return new RgbImage(40, 48, px);
        }).ToList();
        var got = embedder.Embed(frames);
        Assert.Equal(3, got.Count);

        using var vision = ClipVisionModelWithProjection.FromFolder(clip.Root);
        var processor = new ClipImageProcessor { CropOffsetRounding = CropRounding.HalfToEven, ShortestEdge = 32, CropHeight = 32, CropWidth = 32 };
        using var noGrad = no_grad();
        var pixels = tensor(processor.Preprocess(frames[1].Pixels.Span, 40, 48), new long[] { 1, 3, 32, 32 });
        var expected = vision.Forward(pixels).ImageEmbeds!.data<float>().ToArray();
        Assert.Equal(16, got[1].Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - got[1][i]) < 1e-5, $"element {i}: {got[1][i]} vs {expected[i]}");
        }
        Assert.NotEqual(got[0], got[1]);
    }
}
