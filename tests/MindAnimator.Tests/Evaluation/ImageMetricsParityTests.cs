using MindAnimator.Evaluation;

namespace MindAnimator.Tests.Evaluation;

/// <summary>Every pair of the `metrics` fixture at the tolerances its README states (SSIM ~1e-6, PSNR/MSE/hue rtol 1e-9).</summary>
public class ImageMetricsParityTests
{
    private const double SsimTolerance = 1e-6;
    private const double Rtol = 1e-9;

    public static IEnumerable<object[]> Pairs() => MetricsFixture.PairNames();

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Ssim_matches_skimage(string pair)
    {
        var (a, b, expected) = Load(pair);
        Assert.InRange(ImageMetrics.Ssim(a, b) - Number(expected, "ssim_skimage"), -SsimTolerance, SsimTolerance);
        if (expected["ssim_skimage_swapped_args"] is not null)
        {
            Assert.InRange(ImageMetrics.Ssim(b, a) - Number(expected, "ssim_skimage_swapped_args"), -SsimTolerance, SsimTolerance);
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Psnr_matches_skimage_and_mind_animator(string pair)
    {
        var (a, b, expected) = Load(pair);
        AssertClose(Number(expected, "psnr_skimage"), ImageMetrics.PsnrSkimage(a, b));
        AssertClose(Number(expected, "psnr_mind_animator"), ImageMetrics.PsnrMindAnimator(a, b));
        if (expected["mse_255"] is not null)
        {
            AssertClose(Number(expected, "mse_255"), ImageMetrics.Mse255(a, b));
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Mse01_matches_mind_animator(string pair)
    {
        var (a, b, expected) = Load(pair);
        // The reference is torch's float32 mean, whose summation order differs from ours by a few float32 ulps
        // (2 ulps on gradient_vs_shifted); anything beyond 4 ulps (4.8e-7 relative) would be a real difference.
        var want = Number(expected, "mse01_mind_animator");
        var got = ImageMetrics.Mse01(a, b);
        Assert.True(Math.Abs(got - want) <= 4.8e-7 * Math.Abs(want), $"{pair}: mse01 {got:R} vs {want:R}");
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Hue_similarity_matches_mind_animator(string pair)
    {
        var (a, b, expected) = Load(pair);
        AssertClose(Number(expected, "hue_similarity_mind_animator"), ImageMetrics.HueSimilarity(a, b));
        if (expected["hue_sum_a"] is not null)
        {
            Assert.Equal(Number(expected, "hue_sum_a"), HueSum(a));
            Assert.Equal(Number(expected, "hue_sum_b"), HueSum(b));
        }
    }

    [Fact]
    public void OpenCv_hsv_is_bit_exact_on_the_whole_lut()
    {
        var (colorShape, colors) = MetricsFixture.Tensor("hue_lut.colors");
        var (hsvShape, hsv) = MetricsFixture.Tensor("hue_lut.hsv");
        Assert.Equal(colorShape, hsvShape);
        Assert.True(colorShape[0] > 0);
        var wrong = new List<string>();
        for (var i = 0; i < colors.Length; i += 3)
        {
            var (h, s, v) = OpenCvHsv.Convert(colors[i], colors[i + 1], colors[i + 2]);
            if (h != hsv[i] || s != hsv[i + 1] || v != hsv[i + 2] || OpenCvHsv.Hue8(colors[i], colors[i + 1], colors[i + 2]) != hsv[i])
            {
                wrong.Add($"BGR({colors[i]},{colors[i + 1]},{colors[i + 2]}) → ({h},{s},{v}), OpenCV ({hsv[i]},{hsv[i + 1]},{hsv[i + 2]})");
            }
        }
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {colorShape[0]} samples differ: {string.Join("; ", wrong.Take(10))}");
    }

    private static double HueSum(RgbImage image)
    {
        var p = image.Pixels.Span;
        long sum = 0;
        for (var i = 0; i < p.Length; i += 3)
        {
            sum += OpenCvHsv.Hue8(p[i], p[i + 1], p[i + 2]);
        }
        return sum;
    }

    private static (RgbImage A, RgbImage B, System.Text.Json.Nodes.JsonObject Expected) Load(string pair)
    {
        var expected = (System.Text.Json.Nodes.JsonObject)MetricsFixture.Results[pair]!;
        var a = MetricsFixture.Image(pair + ".a");
        var b = MetricsFixture.Image(pair + ".b");
        var shape = expected["shape"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
        Assert.Equal(new[] { a.Height, a.Width, 3 }, shape);
        return (a, b, expected);
    }

    private static double Number(System.Text.Json.Nodes.JsonObject expected, string key) => MetricsFixture.Number(expected[key]);

    private static void AssertClose(double want, double got)
    {
        if (double.IsNaN(want) || double.IsInfinity(want))
        {
            Assert.Equal(want, got);
            return;
        }
        Assert.True(Math.Abs(got - want) <= Rtol * Math.Abs(want) + 1e-12, $"got {got:R}, expected {want:R}");
    }
}
