namespace MindAnimator.Evaluation;

/// <summary>
/// OpenCV's 8-bit BGR→HSV conversion (<c>cv2.cvtColor(img, COLOR_BGR2HSV)</c> on uint8), bit-exact: H in [0, 180)
/// (degrees / 2), S and V in [0, 255], with OpenCV's 12-bit fixed-point division tables and rounding.
/// Validated against every sample of the `metrics` fixture's hue_lut.
/// </summary>
// Mirrors OpenCV 4.x modules/imgproc/src/color_hsv.simd.hpp (RGB2HSV_b, hrange 180).
public static class OpenCvHsv
{
    private const int Shift = 12;
    private const int HueRange = 180;
    private static readonly int[] SaturationDivisor = BuildTable(i => (255 << Shift) / (1.0 * i));
    private static readonly int[] HueDivisor = BuildTable(i => (HueRange << Shift) / (6.0 * i));

    /// <summary>H, S and V of one pixel given in OpenCV's BGR order.</summary>
    public static (byte H, byte S, byte V) Convert(byte blue, byte green, byte red)
    {
        int b = blue, g = green, r = red;
        var v = Math.Max(b, Math.Max(g, r));
        var vmin = Math.Min(b, Math.Min(g, r));
        var diff = v - vmin;
        var s = ((diff * SaturationDivisor[v]) + (1 << (Shift - 1))) >> Shift;
        return ((byte)HueFrom(b, g, r, v, diff), (byte)s, (byte)v);
    }

    /// <summary>The 8-bit hue (0–179) of one pixel given in BGR order.</summary>
    public static int Hue8(byte blue, byte green, byte red)
    {
        int b = blue, g = green, r = red;
        var v = Math.Max(b, Math.Max(g, r));
        var diff = v - Math.Min(b, Math.Min(g, r));
        return HueFrom(b, g, r, v, diff);
    }

    private static int HueFrom(int b, int g, int r, int v, int diff)
    {
        // The branch order matters for ties: red wins over green, green over blue (OpenCV's vr/vg masks).
        int h;
        if (v == r)
        {
            h = g - b;
        }
        else if (v == g)
        {
            h = b - r + (2 * diff);
        }
        else
        {
            h = r - g + (4 * diff);
        }
        h = ((h * HueDivisor[diff]) + (1 << (Shift - 1))) >> Shift;
        if (h < 0)
        {
            h += HueRange;
        }
        return Math.Clamp(h, 0, 255);
    }

    private static int[] BuildTable(Func<int, double> value)
    {
        var table = new int[256];
        for (var i = 1; i < 256; i++)
        {
            // OpenCV's saturate_cast<int>(double) rounds to nearest, ties to even.
            table[i] = (int)Math.Round(value(i), MidpointRounding.ToEven);
        }
        return table;
    }
}
