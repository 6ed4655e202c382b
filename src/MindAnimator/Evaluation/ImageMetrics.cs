namespace MindAnimator.Evaluation;

/// <summary>An 8-bit RGB image, row-major <c>[height, width, 3]</c>, as read from a GIF or a clip store.</summary>
public readonly record struct RgbImage(int Height, int Width, ReadOnlyMemory<byte> Pixels)
{
    public int PixelCount => Height * Width;

    /// <summary>Frame <paramref name="f"/> of a clip.</summary>
    public static RgbImage FromClip(Data.ClipFrames clip, int f) =>
        new(clip.Height, clip.Width, clip.Rgb.AsMemory(f * clip.FrameBytes, clip.FrameBytes));

    internal void EnsureSameShape(RgbImage other)
    {
        if (Height != other.Height || Width != other.Width)
        {
            throw new ArgumentException($"images differ in size: {Height}×{Width} vs {other.Height}×{other.Width}");
        }
        if (Pixels.Length != PixelCount * 3 || other.Pixels.Length != other.PixelCount * 3)
        {
            throw new ArgumentException("image buffer length does not match height × width × 3");
        }
    }
}

/// <summary>
/// Per-frame image metrics with the definitions of Mind-Animator's Evaluation_Metrics scripts (which call
/// scikit-image and OpenCV); each is checked against the `metrics` golden fixture.
/// </summary>
public static class ImageMetrics
{
    private const int SsimWindow = 7;
    private const double SsimK1 = 0.01;
    private const double SsimK2 = 0.03;
    private const double DataRange = 255.0;

    /// <summary>(float)(v / 255.0) for every byte: torch.FloatTensor(img / 255.0) rounds the float64 quotient to float32.</summary>
    private static readonly float[] Scaled01 = Enumerable.Range(0, 256).Select(v => (float)(v / 255.0)).ToArray();

    /// <summary>
    /// SSIM as scikit-image's <c>structural_similarity(a, b, data_range=255, channel_axis=-1)</c>: per channel a 7×7
    /// uniform window, sample covariance (N/(N−1)), K1 0.01, K2 0.03, averaged over the window-valid interior
    /// (3-pixel crop), then over channels; float64.
    /// </summary>
    // Mirrors scikit-image 0.19 skimage/metrics/_structural_similarity.py (structural_similarity), as called by Mind-Animator Evaluation_Metrics/SSIM.py.
    public static double Ssim(RgbImage a, RgbImage b)
    {
        a.EnsureSameShape(b);
        var (h, w) = (a.Height, a.Width);
        if (h < SsimWindow || w < SsimWindow)
        {
            throw new ArgumentException($"SSIM needs images of at least {SsimWindow}×{SsimWindow} pixels, got {h}×{w}");
        }
        var pa = a.Pixels.Span;
        var pb = b.Pixels.Span;
        const int n = SsimWindow * SsimWindow;
        const double covNorm = n / (n - 1.0);
        var c1 = (SsimK1 * DataRange) * (SsimK1 * DataRange);
        var c2 = (SsimK2 * DataRange) * (SsimK2 * DataRange);
        var half = (SsimWindow - 1) / 2;
        // Integer window sums are exact (a 512×512 frame's sums stay far below 2^63), so the window means equal the
        // float64 uniform filter up to one rounding.
        var stride = w + 1;
        var sx = new long[(h + 1) * stride];
        var sy = new long[(h + 1) * stride];
        var sxx = new long[(h + 1) * stride];
        var syy = new long[(h + 1) * stride];
        var sxy = new long[(h + 1) * stride];
        double total = 0;
        for (var c = 0; c < 3; c++)
        {
            for (var r = 0; r < h; r++)
            {
                long rx = 0, ry = 0, rxx = 0, ryy = 0, rxy = 0;
                var row = (r + 1) * stride;
                var above = r * stride;
                for (var col = 0; col < w; col++)
                {
                    long x = pa[((r * w) + col) * 3 + c];
                    long y = pb[((r * w) + col) * 3 + c];
                    rx += x;
                    ry += y;
                    rxx += x * x;
                    ryy += y * y;
                    rxy += x * y;
                    sx[row + col + 1] = sx[above + col + 1] + rx;
                    sy[row + col + 1] = sy[above + col + 1] + ry;
                    sxx[row + col + 1] = sxx[above + col + 1] + rxx;
                    syy[row + col + 1] = syy[above + col + 1] + ryy;
                    sxy[row + col + 1] = sxy[above + col + 1] + rxy;
                }
            }
            double sum = 0;
            for (var r = half; r < h - half; r++)
            {
                var top = (r - half) * stride;
                var bottom = (r + half + 1) * stride;
                for (var col = half; col < w - half; col++)
                {
                    var left = col - half;
                    var right = col + half + 1;
                    double Box(long[] s) => s[bottom + right] - s[bottom + left] - s[top + right] + s[top + left];
                    var ux = Box(sx) / n;
                    var uy = Box(sy) / n;
                    var uxx = Box(sxx) / n;
                    var uyy = Box(syy) / n;
                    var uxy = Box(sxy) / n;
                    var vx = covNorm * (uxx - (ux * ux));
                    var vy = covNorm * (uyy - (uy * uy));
                    var vxy = covNorm * (uxy - (ux * uy));
                    var a1 = (2 * ux * uy) + c1;
                    var a2 = (2 * vxy) + c2;
                    var b1 = (ux * ux) + (uy * uy) + c1;
                    var b2 = vx + vy + c2;
                    sum += a1 * a2 / (b1 * b2);
                }
            }
            total += sum / ((double)(h - (2 * half)) * (w - (2 * half)));
        }
        return total / 3;
    }

    /// <summary>Mean squared error of the 0–255 values in float64 (exact: integer sum, one division).</summary>
    public static double Mse255(RgbImage a, RgbImage b)
    {
        a.EnsureSameShape(b);
        var pa = a.Pixels.Span;
        var pb = b.Pixels.Span;
        long sum = 0;
        for (var i = 0; i < pa.Length; i++)
        {
            var d = pa[i] - pb[i];
            sum += d * d;
        }
        return (double)sum / pa.Length;
    }

    /// <summary>scikit-image <c>peak_signal_noise_ratio(a, b, data_range=255)</c>: +∞ for identical images.</summary>
    // Mirrors scikit-image 0.19 skimage/metrics/simple_metrics.py (peak_signal_noise_ratio).
    public static double PsnrSkimage(RgbImage a, RgbImage b)
    {
        var mse = Mse255(a, b);
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(DataRange * DataRange / mse);
    }

    /// <summary>Mind-Animator's PSNR: 100 when mse &lt; 1e-10, else 20·log10(255/√mse).</summary>
    // Mirrors Mind-Animator Evaluation_Metrics/PSNR.py (psnr).
    public static double PsnrMindAnimator(RgbImage a, RgbImage b)
    {
        var mse = Mse255(a, b);
        return mse < 1e-10 ? 100 : 20 * Math.Log10(255 / Math.Sqrt(mse));
    }

    /// <summary>Mind-Animator's <c>mse_metric</c>: float32 MSE of the images scaled to [0, 1].</summary>
    // Mirrors Mind-Animator Evaluation_Metrics/SSIM.py (mse_metric).
    public static double Mse01(RgbImage a, RgbImage b)
    {
        a.EnsureSameShape(b);
        var pa = a.Pixels.Span;
        var pb = b.Pixels.Span;
        // float32 inputs and differences as torch computes them; the float32 squares are summed in float64 and the
        // mean rounded to float32 (torch's own float32 reduction differs from this by at most an ulp or two).
        double sum = 0;
        for (var i = 0; i < pa.Length; i++)
        {
            var d = Scaled01[pa[i]] - Scaled01[pb[i]];
            sum += d * d;
        }
        return (float)(sum / pa.Length);
    }

    /// <summary>
    /// Mind-Animator's hue similarity: both RGB frames go through OpenCV <c>COLOR_BGR2HSV</c> (so R and B are swapped),
    /// the 8-bit hue (0–179) is divided by 360, and the result is the cosine similarity of the two hue maps.
    /// NaN when either hue map is all zero (grey, black, white or — read as BGR — pure red).
    /// </summary>
    // Mirrors Mind-Animator Evaluation_Metrics/hue_pcc.py (calculate_hue_similarity).
    public static double HueSimilarity(RgbImage a, RgbImage b)
    {
        a.EnsureSameShape(b);
        var pa = a.Pixels.Span;
        var pb = b.Pixels.Span;
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < pa.Length; i += 3)
        {
            // The RGB bytes are handed to OpenCV as if they were BGR, exactly as the reference does.
            var ha = OpenCvHsv.Hue8(blue: pa[i], green: pa[i + 1], red: pa[i + 2]) / 360.0;
            var hb = OpenCvHsv.Hue8(blue: pb[i], green: pb[i + 1], red: pb[i + 2]) / 360.0;
            dot += ha * hb;
            na += ha * ha;
            nb += hb * hb;
        }
        return dot / (Math.Sqrt(na) * Math.Sqrt(nb));
    }
}
