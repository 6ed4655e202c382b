namespace MindAnimator.Simulation;

/// <summary>
/// Renders a <see cref="FrameState"/> with 2×2 supersampling (anti-aliased edges). A pure function of the state, so
/// frames can be rendered in parallel and stay deterministic.
/// </summary>
public static class SceneRenderer
{
    private static readonly float[] SubPixel = { 0.25f, 0.75f };

    /// <summary>Renders to interleaved RGB floats in [0, 1] (size × size × 3).</summary>
    public static void RenderFloat(in FrameState state, int size, Span<float> rgb)
    {
        if (rgb.Length < size * size * 3)
        {
            throw new ArgumentException($"buffer of {rgb.Length} floats is too small for {size}×{size}×3", nameof(rgb));
        }
        var s = state.Scene;
        var obj = SceneVocabulary.ObjectColor(s.Color);
        var tex = s.TextureColor == "black" ? new NamedColor("black", 0.05f, 0.05f, 0.05f) : new NamedColor("white", 0.97f, 0.97f, 0.97f);
        var bg1 = SceneVocabulary.BackgroundColor(s.BackgroundColor);
        var bg2 = SecondBackgroundColor(bg1);
        var shape = ShapeId(s.Shape);
        var texture = Array.IndexOf(SceneVocabulary.Textures, s.Texture);
        var background = Array.IndexOf(SceneVocabulary.Backgrounds, s.Background);
        var radius = state.CurrentRadius;
        var (sinA, cosA) = Math.SinCos(-state.Angle);
        var reach = radius * 1.3;
        var inv = 1.0 / size;
        for (var py = 0; py < size; py++)
        {
            for (var px = 0; px < size; px++)
            {
                float r = 0, g = 0, b = 0;
                foreach (var oy in SubPixel)
                {
                    foreach (var ox in SubPixel)
                    {
                        var u = (px + ox) * inv;
                        var v = (py + oy) * inv;
                        (float R, float G, float B) c;
                        var dx = u - state.X;
                        var dy = state.Y - v; // visual y up
                        var inObject = false;
                        if (Math.Abs(dx) < reach && Math.Abs(dy) < reach)
                        {
                            var lx = ((dx * cosA) - (dy * sinA)) / radius;
                            var ly = ((dx * sinA) + (dy * cosA)) / radius;
                            inObject = Inside(shape, lx, ly);
                            c = inObject && UsesSecondColor(texture, lx, ly) ? (tex.R, tex.G, tex.B) : (obj.R, obj.G, obj.B);
                        }
                        else
                        {
                            c = default;
                        }
                        if (!inObject)
                        {
                            c = BackgroundAt(background, bg1, bg2, u, v);
                        }
                        r += c.R;
                        g += c.G;
                        b += c.B;
                    }
                }
                var o = ((py * size) + px) * 3;
                rgb[o] = r * 0.25f;
                rgb[o + 1] = g * 0.25f;
                rgb[o + 2] = b * 0.25f;
            }
        }
    }

    /// <summary>Renders to interleaved RGB bytes (size × size × 3).</summary>
    public static void Render(in FrameState state, int size, Span<byte> rgb, Span<float> scratch)
    {
        RenderFloat(state, size, scratch);
        ToBytes(scratch[..(size * size * 3)], rgb);
    }

    public static void ToBytes(ReadOnlySpan<float> src, Span<byte> dst)
    {
        for (var i = 0; i < src.Length; i++)
        {
            dst[i] = (byte)Math.Clamp((int)MathF.Round(src[i] * 255f), 0, 255);
        }
    }

    public static NamedColor SecondBackgroundColor(NamedColor c) => c.Luminance < 0.5
        ? new NamedColor(c.Name, Lerp(c.R, 1, 0.35f), Lerp(c.G, 1, 0.35f), Lerp(c.B, 1, 0.35f))
        : new NamedColor(c.Name, Lerp(c.R, 0, 0.4f), Lerp(c.G, 0, 0.4f), Lerp(c.B, 0, 0.4f));

    private static (float R, float G, float B) BackgroundAt(int background, NamedColor c1, NamedColor c2, double u, double v)
    {
        switch (background)
        {
            case 1: // striped
                return ((int)Math.Floor((u + v) * 8) & 1) == 0 ? (c1.R, c1.G, c1.B) : (c2.R, c2.G, c2.B);
            case 3: // checkered
                return (((int)Math.Floor(u * 8) + (int)Math.Floor(v * 8)) & 1) == 0 ? (c1.R, c1.G, c1.B) : (c2.R, c2.G, c2.B);
            case 2: // gradient
                var w = (float)v;
                return (Lerp(c1.R, c2.R, w), Lerp(c1.G, c2.G, w), Lerp(c1.B, c2.B, w));
            default:
                return (c1.R, c1.G, c1.B);
        }
    }

    private static bool UsesSecondColor(int texture, double x, double y) => texture switch
    {
        1 => ((int)Math.Floor((x + 4) / 0.3) & 1) == 1, // striped
        2 => Dot(x, y),
        3 => (((int)Math.Floor((x + 4) / 0.35) + (int)Math.Floor((y + 4) / 0.35)) & 1) == 1,
        _ => false,
    };

    private static bool Dot(double x, double y)
    {
        const double spacing = 0.45;
        var fx = (x / spacing) - Math.Round(x / spacing);
        var fy = (y / spacing) - Math.Round(y / spacing);
        return (fx * fx) + (fy * fy) < 0.3 * 0.3;
    }

    private static int ShapeId(string shape)
    {
        var id = Array.IndexOf(SceneVocabulary.Shapes, shape);
        return id >= 0 ? id : throw new ArgumentException($"unknown shape '{shape}'", nameof(shape));
    }

    /// <summary>Whether the point (x right, y up) in the object's unit frame lies inside the shape.</summary>
    public static bool Inside(string shape, double x, double y) => Inside(ShapeId(shape), x, y);

    // Shape ids index SceneVocabulary.Shapes.
    private static bool Inside(int shape, double x, double y)
    {
        var r2 = (x * x) + (y * y);
        switch (shape)
        {
            case 0: // circle
                return r2 <= 0.9 * 0.9;
            case 1: // square
                return Math.Abs(x) <= 0.68 && Math.Abs(y) <= 0.68;
            case 2: // triangle
                return y >= -0.5 && (Math.Sqrt(3) * x) + y <= 1 && (-Math.Sqrt(3) * x) + y <= 1;
            case 3: // star
                return InStar(x, y);
            case 4: // cross
                return (Math.Abs(x) <= 0.28 && Math.Abs(y) <= 0.92) || (Math.Abs(y) <= 0.28 && Math.Abs(x) <= 0.92);
            case 5: // ring
                return r2 >= 0.55 * 0.55 && r2 <= 0.95 * 0.95;
            case 6: // diamond
                return (Math.Abs(x) / 0.7) + Math.Abs(y) <= 1;
            case 7: // heart
                var hx = x * 1.25;
                var hy = (y * 1.25) + 0.12;
                var a = (hx * hx) + (hy * hy) - 1;
                return (a * a * a) - (hx * hx * hy * hy * hy) <= 0;
            case 8: // hexagon
                const double h = 0.95 * 0.8660254;
                return Math.Abs(x) <= h && (Math.Abs(x) * 0.5) + (Math.Abs(y) * 0.8660254) <= h;
            case 9: // crescent
                return r2 <= 0.9 * 0.9 && (((x - 0.38) * (x - 0.38)) + (y * y)) > 0.72 * 0.72;
            case 10: // arrow
                return (Math.Abs(y) <= 0.22 && x >= -0.9 && x <= 0.2) || (x >= 0.2 && x <= 0.92 && Math.Abs(y) <= (0.92 - x) * 0.9);
            case 11: // ellipse
                return ((x / 0.95) * (x / 0.95)) + ((y / 0.55) * (y / 0.55)) <= 1;
            default:
                throw new ArgumentOutOfRangeException(nameof(shape), shape, "unknown shape id");
        }
    }

    // Five-pointed star, outer radius 1, inner radius 0.45, a point straight up.
    private static bool InStar(double x, double y)
    {
        const double sector = 2 * Math.PI / 5;
        var r = Math.Sqrt((x * x) + (y * y));
        if (r > 1)
        {
            return false;
        }
        var a = Math.Atan2(y, x) - (Math.PI / 2);
        a -= sector * Math.Floor(a / sector);
        if (a > sector / 2)
        {
            a = sector - a;
        }
        var px = r * Math.Cos(a);
        var py = r * Math.Sin(a);
        // Edge from the outer vertex (1, 0) to the inner vertex at angle sector/2; inside = origin's side.
        var ix = 0.45 * Math.Cos(sector / 2);
        var iy = 0.45 * Math.Sin(sector / 2);
        var cross = ((ix - 1) * py) - (iy * (px - 1));
        var originCross = ((ix - 1) * 0) - (iy * (0 - 1));
        return cross * originCross >= 0;
    }

    private static float Lerp(float a, float b, float t) => a + ((b - a) * t);
}
