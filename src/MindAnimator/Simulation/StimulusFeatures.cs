namespace MindAnimator.Simulation;

/// <summary>
/// Where each per-frame stimulus feature lives in a feature vector: a retinotopic grid of luminance, colour-opponent
/// and contrast-energy channels; a coarser grid of direction × speed motion-energy channels; semantic indicators.
/// </summary>
public sealed class FeatureLayout
{
    /// <summary>Frames are rendered at this size for the retinotopic features, whatever the stored frame size.</summary>
    public const int RenderSize = 64;

    public const int RetinoGrid = 16;

    /// <summary>luminance, red−green, blue−yellow, contrast energy.</summary>
    public const int RetinoChannels = 4;

    public const int MotionGrid = 8;

    public const int Directions = 8;

    /// <summary>Centres (frame widths per second) of the log-Gaussian speed channels.</summary>
    public static readonly double[] SpeedCentres = { 0.05, 0.14, 0.4 };

    public static readonly string[] SpeedChannelNames = { "slow", "medium", "fast" };

    public static readonly string[] RetinoChannelNames = { "luminance", "red_green", "blue_yellow", "contrast" };

    public FeatureLayout(int categories)
    {
        Categories = categories;
        MotionOffset = RetinoChannels * RetinoGrid * RetinoGrid;
        SemanticOffset = MotionOffset + (SpeedCentres.Length * Directions * MotionGrid * MotionGrid);
        ColorOffset = SemanticOffset + categories;
        SizeIndex = ColorOffset + SceneVocabulary.ObjectColors.Length;
        Count = SizeIndex + 1;
    }

    public int Categories { get; }

    public int MotionOffset { get; }

    public int SemanticOffset { get; }

    public int ColorOffset { get; }

    public int SizeIndex { get; }

    public int Count { get; }

    public static int RetinoIndex(int channel, int gy, int gx) => (((channel * RetinoGrid) + gy) * RetinoGrid) + gx;

    public int MotionIndex(int speed, int direction, int gy, int gx) =>
        MotionOffset + (((((speed * Directions) + direction) * MotionGrid) + gy) * MotionGrid) + gx;

    public int CategoryIndex(int category) => SemanticOffset + category;
}

/// <summary>Computes the per-frame feature vector of a rendered frame and its ground-truth state.</summary>
public static class StimulusFeatures
{
    // Sample points over the object's bounding disc: motion energy is computed on the disc, not the shape's pixels,
    // so it does not depend on the category (shapes differ in area).
    private static readonly (double X, double Y)[] DiscPoints = BuildDiscPoints();

    /// <summary>Fills <paramref name="features"/> (layout.Count) for one frame; <paramref name="rgb"/> is RenderSize² × 3.</summary>
    public static void Compute(in FrameState state, FeatureLayout layout, ReadOnlySpan<float> rgb, Span<float> features)
    {
        features[..layout.Count].Clear();
        Retinotopic(rgb, features);
        Motion(state, layout, features);
        Semantic(state, layout, features);
    }

    /// <summary>
    /// Replaces the retinotopic features of every frame by those of its clip's first frame (features of
    /// <paramref name="frames"/> frames, frame-major): a position code that is blind to where the object goes during
    /// the clip, so that only the motion voxels carry the clip's motion.
    /// </summary>
    public static void HoldRetinotopicAtClipOnset(Span<float> perFrame, int frames, int framesPerClip, FeatureLayout layout)
    {
        var retinotopic = layout.MotionOffset;
        for (var f = 0; f < frames; f++)
        {
            if (f % framesPerClip != 0)
            {
                perFrame.Slice((f - (f % framesPerClip)) * layout.Count, retinotopic).CopyTo(perFrame.Slice(f * layout.Count, retinotopic));
            }
        }
    }

    private static void Retinotopic(ReadOnlySpan<float> rgb, Span<float> features)
    {
        const int n = FeatureLayout.RenderSize;
        const int cell = n / FeatureLayout.RetinoGrid;
        const float norm = 1f / (cell * cell);
        for (var y = 0; y < n; y++)
        {
            var gy = y / cell;
            for (var x = 0; x < n; x++)
            {
                var gx = x / cell;
                var o = ((y * n) + x) * 3;
                float r = rgb[o], g = rgb[o + 1], b = rgb[o + 2];
                var lum = Lum(rgb, o);
                var dxo = x + 1 < n ? o + 3 : o;
                var dyo = y + 1 < n ? o + (n * 3) : o;
                var gxv = Lum(rgb, dxo) - lum;
                var gyv = Lum(rgb, dyo) - lum;
                features[FeatureLayout.RetinoIndex(0, gy, gx)] += lum * norm;
                features[FeatureLayout.RetinoIndex(1, gy, gx)] += (r - g) * norm;
                features[FeatureLayout.RetinoIndex(2, gy, gx)] += (b - (0.5f * (r + g))) * norm;
                features[FeatureLayout.RetinoIndex(3, gy, gx)] += MathF.Sqrt((gxv * gxv) + (gyv * gyv)) * norm * 4;
            }
        }
    }

    private static float Lum(ReadOnlySpan<float> rgb, int o) => (0.299f * rgb[o]) + (0.587f * rgb[o + 1]) + (0.114f * rgb[o + 2]);

    private static void Motion(in FrameState s, FeatureLayout layout, Span<float> features)
    {
        if (s.Vx == 0 && s.Vy == 0 && s.Omega == 0 && s.ScaleRate == 0)
        {
            return;
        }
        var radius = s.CurrentRadius;
        // Each point carries its share of the disc's area (in cells of the motion grid), so energy scales with size.
        var weight = Math.PI * radius * radius * FeatureLayout.MotionGrid * FeatureLayout.MotionGrid / DiscPoints.Length;
        Span<double> dirTuning = stackalloc double[FeatureLayout.Directions];
        Span<double> speedTuning = stackalloc double[FeatureLayout.SpeedCentres.Length];
        foreach (var (px, py) in DiscPoints)
        {
            // Offsets in visual coordinates (y up); image y = state.Y − offset.
            var ox = px * radius;
            var oy = py * radius;
            var x = s.X + ox;
            var y = s.Y - oy;
            if (x < 0 || x >= 1 || y < 0 || y >= 1)
            {
                continue;
            }
            var (vx, vy) = PointVelocity(s, ox, oy);
            if (!DirectionAndSpeedTuning(vx, vy, dirTuning, speedTuning))
            {
                continue;
            }
            var gx = (int)(x * FeatureLayout.MotionGrid);
            var gy = (int)(y * FeatureLayout.MotionGrid);
            for (var sp = 0; sp < speedTuning.Length; sp++)
            {
                for (var d = 0; d < dirTuning.Length; d++)
                {
                    var e = weight * speedTuning[sp] * dirTuning[d];
                    if (e > 0)
                    {
                        features[layout.MotionIndex(sp, d, gy, gx)] += (float)e;
                    }
                }
            }
        }
    }

    /// <summary>Velocity (visual coordinates, y up, frame widths/s) of the object point at visual offset (ox, oy).</summary>
    public static (double Vx, double Vy) PointVelocity(in FrameState s, double ox, double oy) =>
        (s.Vx - (s.Omega * oy) + (s.ScaleRate * ox), -s.Vy + (s.Omega * ox) + (s.ScaleRate * oy));

    /// <summary>Half-wave rectified cos² direction tuning and log-Gaussian speed tuning; false when not moving.</summary>
    public static bool DirectionAndSpeedTuning(double vx, double vy, Span<double> dirTuning, Span<double> speedTuning)
    {
        var speed = Math.Sqrt((vx * vx) + (vy * vy));
        if (speed < 1e-6)
        {
            return false;
        }
        var theta = Math.Atan2(vy, vx);
        for (var d = 0; d < dirTuning.Length; d++)
        {
            var c = Math.Cos(theta - (d * Math.PI / 4));
            dirTuning[d] = c > 0 ? c * c : 0;
        }
        for (var sp = 0; sp < speedTuning.Length; sp++)
        {
            var l = Math.Log(speed / FeatureLayout.SpeedCentres[sp]);
            speedTuning[sp] = Math.Exp(-l * l / (2 * 0.6 * 0.6));
        }
        return true;
    }

    /// <summary>
    /// Whole-field motion energy towards <paramref name="directionDegrees"/> (cos² tuning, all speeds, disc area
    /// weighted): the quantity a direction-selective voxel should follow.
    /// </summary>
    public static double DirectionalEnergy(in FrameState s, double directionDegrees)
    {
        var radius = s.CurrentRadius;
        var pref = directionDegrees * Math.PI / 180;
        double e = 0;
        foreach (var (px, py) in DiscPoints)
        {
            var (vx, vy) = PointVelocity(s, px * radius, py * radius);
            var speed = Math.Sqrt((vx * vx) + (vy * vy));
            if (speed < 1e-6)
            {
                continue;
            }
            var c = Math.Cos(Math.Atan2(vy, vx) - pref);
            e += c > 0 ? c * c * speed : 0;
        }
        return e * radius * radius / DiscPoints.Length;
    }

    private static void Semantic(in FrameState s, FeatureLayout layout, Span<float> features)
    {
        features[layout.CategoryIndex(s.Scene.Category)] = 1;
        var name = s.Scene.Color;
        var color = Array.FindIndex(SceneVocabulary.ObjectColors, c => c.Name == name);
        features[layout.ColorOffset + color] = 1;
        features[layout.SizeIndex] = (float)(s.Scene.Radius / 0.15);
    }

    private static (double X, double Y)[] BuildDiscPoints()
    {
        var points = new List<(double, double)> { (0, 0) };
        var rings = new[] { (0.25, 6), (0.5, 12), (0.75, 18), (0.95, 24) };
        foreach (var (r, n) in rings)
        {
            for (var i = 0; i < n; i++)
            {
                var a = (2 * Math.PI * (i + (0.5 * (r > 0.6 ? 1 : 0)))) / n;
                points.Add((r * Math.Cos(a), r * Math.Sin(a)));
            }
        }
        return points.ToArray();
    }
}
