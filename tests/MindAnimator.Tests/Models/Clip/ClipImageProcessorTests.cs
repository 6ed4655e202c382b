using MindAnimator.Models.Clip;
using MindAnimator.Tests.Infrastructure;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Models.Clip;

/// <summary>Properties of CLIP's image preprocessing (no reference fixture exists for it).</summary>
public class ClipImageProcessorTests
{
    private static byte[] Image(int height, int width, Func<int, int, int, byte> pixel)
    {
        var rgb = new byte[height * width * 3];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    rgb[(((y * width) + x) * 3) + c] = pixel(y, x, c);
                }
            }
        }
        return rgb;
    }

    private static float Normalised(int value, int channel) =>
        (float)(((value / 255.0) - ClipImageProcessor.ClipMean[channel]) / ClipImageProcessor.ClipStd[channel]);

    [Theory]
    [InlineData(480, 640, 224, 298)]
    [InlineData(640, 480, 298, 224)]
    [InlineData(100, 100, 224, 224)]
    [InlineData(224, 225, 224, 225)]
    [InlineData(1080, 1920, 224, 398)]
    public void ResizeOutputSize_ShortSideBecomes224_LongSideTruncated(int h, int w, int eh, int ew) =>
        Assert.Equal((eh, ew), ClipImageProcessor.ResizeOutputSize(h, w, 224));

    [Fact]
    public void Preprocess_Batch_IsFloat32_N3x224x224()
    {
        var processor = new ClipImageProcessor();
        using var frames = randint(0, 256, [3, 120, 160, 3]).to(ScalarType.Byte);
        using var pixels = processor.Preprocess(frames);
        Assert.Equal(new long[] { 3, 3, 224, 224 }, pixels.shape);
        Assert.Equal(ScalarType.Float32, pixels.dtype);
        using var single = processor.Preprocess(frames[1]);
        Assert.Equal(new long[] { 1, 3, 224, 224 }, single.shape);
        Assert.True(single[0].allclose(pixels[1], 0, 0));
    }

    [Fact]
    public void Preprocess_UniformColour_GivesClipNormalisationConstants()
    {
        var colour = new byte[] { 200, 100, 30 };
        var rgb = Image(90, 130, (_, _, c) => colour[c]);
        var output = new ClipImageProcessor().Preprocess(rgb, 90, 130);
        for (var c = 0; c < 3; c++)
        {
            var plane = output.AsSpan(c * 224 * 224, 224 * 224).ToArray();
            Assert.All(plane, v => Assert.Equal(Normalised(colour[c], c), v, 6));
        }
        // Pure black and white hit -mean/std and (1-mean)/std.
        Assert.Equal(-0.48145466 / 0.26862954, new ClipImageProcessor().Preprocess(new byte[224 * 224 * 3], 224, 224)[0], 5);
    }

    [Fact]
    public void Preprocess_WideImageAtTargetHeight_CropsTheHorizontalCentre()
    {
        // 224 high, 300 wide: no resize, crop offset (300 - 224) / 2 = 38 columns. Each column encodes its index.
        var rgb = Image(224, 300, (y, x, c) => (byte)(c == 0 ? x % 256 : c == 1 ? x / 256 : y));
        var output = new ClipImageProcessor().Preprocess(rgb, 224, 300);
        Assert.Equal(Normalised(38, 0), output[0], 6);
        Assert.Equal(Normalised((38 + 223) % 256, 0), output[223], 6);
        Assert.Equal(Normalised(0, 1), output[224 * 224], 6);
        Assert.Equal(Normalised(223, 2), output[(2 * 224 * 224) + (223 * 224)], 6);
    }

    [Fact]
    public void Preprocess_TallImage_CropsTheVerticalCentre_RoundingDown()
    {
        // 231 high: offset (231 - 224) / 2 = 3 (transformers floors; torchvision would round to 4).
        var rgb = Image(231, 224, (y, _, _) => (byte)y);
        var output = new ClipImageProcessor().Preprocess(rgb, 231, 224);
        Assert.Equal(Normalised(3, 0), output[0], 6);
        Assert.Equal(Normalised(3 + 223, 0), output[223 * 224], 6);

        // OpenAI's preprocess (torchvision) rounds 3.5 half to even: 4; an excess of 9 gives 4.5 → 4 for both.
        Assert.Equal(Normalised(4, 0), ClipImageProcessor.OpenAiClip.Preprocess(rgb, 231, 224)[0], 6);
        var taller = Image(233, 224, (y, _, _) => (byte)y);
        Assert.Equal(Normalised(4, 0), ClipImageProcessor.OpenAiClip.Preprocess(taller, 233, 224)[0], 6);
        Assert.Equal(Normalised(4, 0), new ClipImageProcessor().Preprocess(taller, 233, 224)[0], 6);
    }

    [Fact]
    public void ResizeBicubic_Downscale_IsAntialiasedAndMirrorSymmetric()
    {
        // A one-pixel checkerboard averages to mid-grey when shrunk 4× (a filter without antialiasing would alias).
        var rgb = Image(64, 64, (y, x, _) => (byte)(((x + y) % 2) * 255));
        var small = ClipImageProcessor.ResizeBicubic(rgb, 64, 64, 16, 16);
        Assert.All(small, v => Assert.InRange(v, 120, 135));

        // A left-dark/right-bright step stays mirror-symmetric (value v ↔ 255 - v) after resizing.
        var step = Image(40, 40, (_, x, _) => (byte)(x < 20 ? 0 : 255));
        var resized = ClipImageProcessor.ResizeBicubic(step, 40, 40, 28, 28);
        for (var x = 0; x < 28; x++)
        {
            Assert.Equal(255, resized[x * 3] + resized[(27 - x) * 3]);
        }
    }

    [Fact]
    public void FromFile_ReadsTransformersPreprocessorConfig_AndRejectsOtherResampling()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("preprocessor_config.json");
        File.WriteAllText(path, """
            {"crop_size": {"height": 224, "width": 224}, "do_center_crop": true, "do_normalize": true, "do_resize": true,
             "image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25], "resample": 3, "size": {"shortest_edge": 256}}
            """);
        var processor = ClipImageProcessor.FromFile(path);
        Assert.Equal(256, processor.ShortestEdge);
        Assert.Equal([0.5, 0.5, 0.5], processor.Mean);
        File.WriteAllText(path, """{"resample": 2}""");
        var e = Assert.Throws<DataFormatException>(() => ClipImageProcessor.FromFile(path));
        Assert.Contains("'resample'", e.Message);
    }
}
