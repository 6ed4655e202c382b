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
        // Window sums are exact integers (at most 49·255² < 2^31), kept as running column sums over the 7 rows of the
        // window and slid along the row, so the window means equal the float64 uniform filter up to one rounding.
        var colX = new int[w];
        var colY = new int[w];
        var colXx = new int[w];
        var colYy = new int[w];
        var colXy = new int[w];
        double total = 0;
        for (var c = 0; c < 3; c++)
        {
            Array.Clear(colX);
            Array.Clear(colY);
            Array.Clear(colXx);
            Array.Clear(colYy);
            Array.Clear(colXy);
            for (var r = 0; r < SsimWindow - 1; r++)
            {
                AddRow(pa, pb, r, w, c, 1, colX, colY, colXx, colYy, colXy);
            }
            double sum = 0;
            for (var r = half; r < h - half; r++)
            {
                AddRow(pa, pb, r + half, w, c, 1, colX, colY, colXx, colYy, colXy);
                int sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
                for (var col = 0; col < SsimWindow - 1; col++)
                {
                    sx += colX[col];
                    sy += colY[col];
                    sxx += colXx[col];
                    syy += colYy[col];
                    sxy += colXy[col];
                }
                for (var col = half; col < w - half; col++)
                {
                    var enter = col + half;
                    sx += colX[enter];
                    sy += colY[enter];
                    sxx += colXx[enter];
                    syy += colYy[enter];
                    sxy += colXy[enter];
                    var ux = (double)sx / n;
                    var uy = (double)sy / n;
                    var uxx = (double)sxx / n;
                    var uyy = (double)syy / n;
                    var uxy = (double)sxy / n;
                    var vx = covNorm * (uxx - (ux * ux));
                    var vy = covNorm * (uyy - (uy * uy));
                    var vxy = covNorm * (uxy - (ux * uy));
                    var a1 = (2 * ux * uy) + c1;
                    var a2 = (2 * vxy) + c2;
                    var b1 = (ux * ux) + (uy * uy) + c1;
                    var b2 = vx + vy + c2;
                    sum += a1 * a2 / (b1 * b2);
                    var leave = col - half;
                    sx -= colX[leave];
                    sy -= colY[leave];
                    sxx -= colXx[leave];
                    syy -= colYy[leave];
                    sxy -= colXy[leave];
                }
                AddRow(pa, pb, r - half, w, c, -1, colX, colY, colXx, colYy, colXy);
            }
            total += sum / ((double)(h - (2 * half)) * (w - (2 * half)));
        }
        return total / 3;
    }

    private static void AddRow(ReadOnlySpan<byte> pa, ReadOnlySpan<byte> pb, int row, int w, int channel, int sign, int[] colX, int[] colY, int[] colXx, int[] colYy, int[] colXy)
    {
        var offset = (row * w * 3) + channel;
        for (var col = 0; col < w; col++)
        {
            int x = pa[offset + (col * 3)];
            int y = pb[offset + (col * 3)];
            colX[col] += sign * x;
            colY[col] += sign * y;
            colXx[col] += sign * x * x;
            colYy[col] += sign * y * y;
            colXy[col] += sign * x * y;
        }
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
