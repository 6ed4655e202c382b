using System.Numerics;
using MindAnimator.Config;

namespace MindAnimator.Simulation;

/// <summary>Names of the simulated voxel populations (VoxelInfo.Population).</summary>
public static class Populations
{
    public const string Retinotopic = "retinotopic";
    public const string Motion = "motion";
    public const string Semantic = "semantic";
    public const string Noise = "noise";
}

/// <summary>A Gaussian receptive field on the visual field pooling luminance, colour-opponent and contrast energy.</summary>
public sealed record RetinotopicTuning(double CenterX, double CenterY, double Sigma, double Luminance, double RedGreen, double BlueYellow, double Contrast);

/// <summary>Direction- and speed-selective motion energy pooled over a (large) Gaussian receptive field.</summary>
public sealed record MotionTuning(string Direction, double DirectionDegrees, string SpeedChannel, double PreferredSpeed, double CenterX, double CenterY, double Sigma);

/// <summary>Selectivity for one or a few categories plus weak colour and size tuning.</summary>
public sealed record SemanticTuning(string[] Categories, double[] CategoryWeights, IReadOnlyDictionary<string, double> ColorWeights, double SizeWeight);

/// <summary>Ground truth of one simulated voxel.</summary>
public sealed record VoxelTruth
{
    public required int VoxelId { get; init; }

    public required string Population { get; init; }

    /// <summary>Factor that brings the voxel's HRF-convolved drive to the configured SNR (0: the stimuli never drive it).</summary>
    public double SignalScale { get; init; }

    public RetinotopicTuning? Retinotopic { get; init; }

    public MotionTuning? Motion { get; init; }

    public SemanticTuning? Semantic { get; init; }
}

/// <summary>
/// The simulated brain's voxels: a population and tuning each, and the resulting sparse linear weights on the
/// per-frame stimulus features (drive = W · features). Voxel order is a seeded shuffle of the populations.
/// </summary>
public sealed class VoxelModel
{
    private readonly int[] _rowStart;
    private readonly int[] _feature;
    private readonly float[] _weight;

    private VoxelModel(FeatureLayout layout, VoxelTruth[] voxels, int[] rowStart, int[] feature, float[] weight)
    {
        Layout = layout;
        Voxels = voxels;
        _rowStart = rowStart;
        _feature = feature;
        _weight = weight;
    }

    public FeatureLayout Layout { get; }

    public VoxelTruth[] Voxels { get; private set; }

    public int Count => Voxels.Length;

    public int NonZeroWeights => _feature.Length;

    public static VoxelModel Build(SimulationSettings settings, int seed)
    {
        var layout = new FeatureLayout(settings.Categories);
        var populations = new string[settings.TotalVoxels];
        var at = 0;
        foreach (var (pop, n) in new[]
        {
            (Populations.Retinotopic, settings.RetinotopicVoxels), (Populations.Motion, settings.MotionVoxels),
            (Populations.Semantic, settings.SemanticVoxels), (Populations.Noise, settings.NoiseVoxels),
        })
        {
            populations.AsSpan(at, n).Fill(pop);
            at += n;
        }
        var shuffle = SimRandom.For(seed, SimRandom.Stream.Tuning, -1);
        for (var i = populations.Length - 1; i > 0; i--)
        {
            var j = shuffle.NextInt(i + 1);
            (populations[i], populations[j]) = (populations[j], populations[i]);
        }
        var voxels = new VoxelTruth[populations.Length];
        var rowStart = new int[populations.Length + 1];
        var features = new List<int>();
        var weights = new List<float>();
        for (var v = 0; v < voxels.Length; v++)
        {
            var rng = SimRandom.For(seed, SimRandom.Stream.Tuning, v);
            voxels[v] = populations[v] switch
            {
                Populations.Retinotopic => Retinotopic(v, ref rng, layout, features, weights),
                Populations.Motion => Motion(v, ref rng, layout, features, weights),
                Populations.Semantic => Semantic(v, ref rng, layout, features, weights),
                _ => new VoxelTruth { VoxelId = v, Population = Populations.Noise },
            };
            rowStart[v + 1] = features.Count;
        }
        return new VoxelModel(layout, voxels, rowStart, features.ToArray(), weights.ToArray());
    }

    /// <summary>Records each voxel's calibrated signal scale in its ground truth.</summary>
    internal void SetSignalScales(double[] scales) =>
        Voxels = Voxels.Select((v, i) => v with { SignalScale = scales[i] }).ToArray();

    /// <summary>
    /// Linear drive of voxels [v0, v0 + count) for <paramref name="time"/> time points of feature-major features
    /// (features × time): output voxel-major (count × time).
    /// </summary>
    public void Drive(ReadOnlySpan<float> featuresByTime, int time, int v0, int count, Span<float> output)
    {
        output[..(count * time)].Clear();
        for (var i = 0; i < count; i++)
        {
            var dst = output.Slice(i * time, time);
            for (var nz = _rowStart[v0 + i]; nz < _rowStart[v0 + i + 1]; nz++)
            {
                Axpy(_weight[nz], featuresByTime.Slice(_feature[nz] * time, time), dst);
            }
        }
    }

    /// <summary>The weights of one voxel as (feature index, weight) pairs.</summary>
    public IEnumerable<(int Feature, float Weight)> Weights(int voxel)
    {
        for (var nz = _rowStart[voxel]; nz < _rowStart[voxel + 1]; nz++)
        {
            yield return (_feature[nz], _weight[nz]);
        }
    }

    private static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = new Vector<float>(a);
            var n = Vector<float>.Count;
            for (; i <= x.Length - n; i += n)
            {
                (new Vector<float>(y.Slice(i, n)) + (va * new Vector<float>(x.Slice(i, n)))).CopyTo(y.Slice(i, n));
            }
        }
        for (; i < x.Length; i++)
        {
            y[i] += a * x[i];
        }
    }

    private static VoxelTruth Retinotopic(int v, ref SimRandom rng, FeatureLayout layout, List<int> features, List<float> weights)
    {
        var cx = rng.Uniform(0.05, 0.95);
        var cy = rng.Uniform(0.05, 0.95);
        var ecc = Math.Sqrt(((cx - 0.5) * (cx - 0.5)) + ((cy - 0.5) * (cy - 0.5)));
        var sigma = 0.03 + (0.08 * ecc) + rng.Uniform(0, 0.03);
        var tuning = new RetinotopicTuning(cx, cy, sigma, rng.NextGaussian(), 0.6 * rng.NextGaussian(), 0.6 * rng.NextGaussian(), 0.5 + Math.Abs(rng.NextGaussian()));
        var channelWeights = new[] { tuning.Luminance, tuning.RedGreen, tuning.BlueYellow, tuning.Contrast };
        foreach (var (gy, gx, g) in GaussianCells(FeatureLayout.RetinoGrid, cx, cy, sigma))
        {
            for (var c = 0; c < FeatureLayout.RetinoChannels; c++)
            {
                features.Add(FeatureLayout.RetinoIndex(c, gy, gx));
                weights.Add((float)(g * channelWeights[c]));
            }
        }
        return new VoxelTruth { VoxelId = v, Population = Populations.Retinotopic, Retinotopic = tuning };
    }

    private static VoxelTruth Motion(int v, ref SimRandom rng, FeatureLayout layout, List<int> features, List<float> weights)
    {
        var dir = rng.NextInt(FeatureLayout.Directions);
        var speed = rng.NextInt(FeatureLayout.SpeedCentres.Length);
        var cx = rng.Uniform(0.15, 0.85);
        var cy = rng.Uniform(0.15, 0.85);
        var sigma = rng.Uniform(0.15, 0.35);
        var tuning = new MotionTuning(SceneVocabulary.Directions[dir], SceneVocabulary.DirectionDegrees(dir), FeatureLayout.SpeedChannelNames[speed],
            FeatureLayout.SpeedCentres[speed], cx, cy, sigma);
        foreach (var (gy, gx, g) in GaussianCells(FeatureLayout.MotionGrid, cx, cy, sigma))
        {
            features.Add(layout.MotionIndex(speed, dir, gy, gx));
            weights.Add((float)g);
        }
        return new VoxelTruth { VoxelId = v, Population = Populations.Motion, Motion = tuning };
    }

    private static VoxelTruth Semantic(int v, ref SimRandom rng, FeatureLayout layout, List<int> features, List<float> weights)
    {
        var primary = rng.NextInt(layout.Categories);
        var cats = new List<(int Cat, double W)> { (primary, 1.0) };
        if (rng.Chance(0.4))
        {
            var second = rng.NextInt(layout.Categories);
            if (second != primary)
            {
                cats.Add((second, rng.Uniform(0.3, 0.6)));
            }
        }
        foreach (var (cat, w) in cats.OrderBy(c => c.Cat))
        {
            features.Add(layout.CategoryIndex(cat));
            weights.Add((float)w);
        }
        var colorWeights = new Dictionary<string, double>();
        for (var c = 0; c < SceneVocabulary.ObjectColors.Length; c++)
        {
            var w = 0.1 * rng.NextGaussian();
            colorWeights[SceneVocabulary.ObjectColors[c].Name] = w;
            features.Add(layout.ColorOffset + c);
            weights.Add((float)w);
        }
        var sizeWeight = 0.1 * rng.NextGaussian();
        features.Add(layout.SizeIndex);
        weights.Add((float)sizeWeight);
        var tuning = new SemanticTuning(cats.Select(c => SceneVocabulary.Shapes[c.Cat]).ToArray(), cats.Select(c => c.W).ToArray(), colorWeights, sizeWeight);
        return new VoxelTruth { VoxelId = v, Population = Populations.Semantic, Semantic = tuning };
    }

    // Cells of a grid×grid tiling of the unit square with a Gaussian weight ≥ 1 % of the peak, normalised to sum 1.
    private static List<(int Gy, int Gx, double W)> GaussianCells(int grid, double cx, double cy, double sigma)
    {
        var cells = new List<(int, int, double)>();
        double sum = 0;
        for (var gy = 0; gy < grid; gy++)
        {
            for (var gx = 0; gx < grid; gx++)
            {
                var dx = ((gx + 0.5) / grid) - cx;
                var dy = ((gy + 0.5) / grid) - cy;
                var w = Math.Exp(-((dx * dx) + (dy * dy)) / (2 * sigma * sigma));
                if (w >= 0.01)
                {
                    cells.Add((gy, gx, w));
                    sum += w;
                }
            }
        }
        if (cells.Count == 0)
        {
            var gx = Math.Clamp((int)(cx * grid), 0, grid - 1);
            var gy = Math.Clamp((int)(cy * grid), 0, grid - 1);
            return new List<(int, int, double)> { (gy, gx, 1) };
        }
        return cells.Select(c => (c.Item1, c.Item2, c.Item3 / sum)).ToList();
    }
}
