using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Preprocessing;

namespace MindAnimator.Simulation;

/// <summary>One movie segment of the simulation and how it is shown.</summary>
public sealed record SimulatedSegment(int Index, string Split, int Number, string Name, int Repeats, int Lag, SegmentMovie Movie);

/// <summary>
/// The simulated brain after the stimuli are generated: per segment the movie and the HRF-convolved features at
/// each volume; per voxel block the noiseless signal, the noisy runs and their preprocessing. Every random draw is
/// keyed by (seed, segment, repeat, voxel block), so results do not depend on the thread count.
/// </summary>
public sealed class BrainSimulation
{
    /// <summary>Voxels per unit of parallel work; fixed so random streams do not depend on scheduling.</summary>
    public const int VoxelBlock = 256;

    private readonly float[] _featuresByVolume; // features × (segments · VolumesPerRun)
    private readonly IReadOnlyDictionary<int, float[]> _frameFeatures; // per segment, only when kept (tests)

    internal BrainSimulation(MindAnimatorConfig config, IReadOnlyList<SimulatedSegment> segments, VoxelModel model, float[] featuresByVolume,
        double[] hrf, int volumesPerClip, IReadOnlyDictionary<int, float[]> frameFeatures)
    {
        Config = config;
        Segments = segments;
        Model = model;
        _featuresByVolume = featuresByVolume;
        Hrf = hrf;
        VolumesPerClip = volumesPerClip;
        _frameFeatures = frameFeatures;
        var s = config.Simulation;
        ClipsPerSegment = s.ClipsPerSegment;
        VolumesPerRun = (s.ClipsPerSegment * volumesPerClip) + s.ExtraVolumes;
        TotalVolumes = VolumesPerRun * segments.Count;
        Preprocessor = new RunPreprocessor(config.Preprocess, s.ClipsPerSegment, volumesPerClip);
        SignalScales = new double[model.Count];
    }

    public MindAnimatorConfig Config { get; }

    public IReadOnlyList<SimulatedSegment> Segments { get; }

    public VoxelModel Model { get; }

    public double[] Hrf { get; }

    public int ClipsPerSegment { get; }

    public int VolumesPerClip { get; }

    public int VolumesPerRun { get; }

    public int TotalVolumes { get; }

    public RunPreprocessor Preprocessor { get; }

    /// <summary>Per-voxel factor bringing the drive to the configured SNR; filled by <see cref="NoiselessSignal"/>.</summary>
    public double[] SignalScales { get; }

    /// <summary>Per-frame features of a segment (frames × features), when kept (tests).</summary>
    public float[] FrameFeatures(int segment) => _frameFeatures.TryGetValue(segment, out var f)
        ? f
        : throw new InvalidOperationException("per-frame features were not kept; build the simulation with keepFrameFeatures");

    /// <summary>
    /// Noiseless, SNR-calibrated signal of voxels [v0, v0 + count) over all segments' volumes (count × TotalVolumes,
    /// voxel-major). The scale makes each voxel's signal variance, averaged over the analysed windows of all
    /// segments, equal to the SNR (noise variance is 1).
    /// </summary>
    public float[] NoiselessSignal(int v0, int count)
    {
        var sig = new float[count * TotalVolumes];
        Model.Drive(_featuresByVolume, TotalVolumes, v0, count, sig);
        var window = Preprocessor.WindowVolumes;
        for (var i = 0; i < count; i++)
        {
            var row = sig.AsSpan(i * TotalVolumes, TotalVolumes);
            double pooled = 0;
            foreach (var seg in Segments)
            {
                var w = row.Slice((seg.Index * VolumesPerRun) + seg.Lag, window);
                double mean = 0, ss = 0;
                foreach (var x in w)
                {
                    mean += x;
                }
                mean /= window;
                foreach (var x in w)
                {
                    ss += (x - mean) * (x - mean);
                }
                pooled += ss / window;
            }
            pooled /= Segments.Count;
            var scale = pooled > 1e-20 ? Math.Sqrt(Config.Simulation.Snr / pooled) : 0;
            SignalScales[v0 + i] = scale;
            var fs = (float)scale;
            for (var t = 0; t < row.Length; t++)
            {
                row[t] *= fs;
            }
        }
        return sig;
    }

    /// <summary>
    /// A raw run (VolumesPerRun × count, time-major) of voxels [v0, v0 + count) for a segment's repeat:
    /// signal + AR(1) noise (variance 1) + polynomial drift. <paramref name="v0"/> must start a <see cref="VoxelBlock"/>.
    /// </summary>
    public void RawRun(ReadOnlySpan<float> signal, SimulatedSegment segment, int repeat, int v0, int count, Span<float> run)
    {
        var sim = Config.Simulation;
        var t = VolumesPerRun;
        var block = v0 / VoxelBlock;
        var noise = SimRandom.For(Config.Seed, SimRandom.Stream.Noise, segment.Index, repeat, block);
        var drift = SimRandom.For(Config.Seed, SimRandom.Stream.Drift, segment.Index, repeat, block);
        var phi = (float)sim.NoiseAr1;
        var innovation = (float)Math.Sqrt(1 - (sim.NoiseAr1 * sim.NoiseAr1));
        Span<float> e = stackalloc float[t];
        for (var i = 0; i < count; i++)
        {
            var sigRow = signal.Slice((i * TotalVolumes) + (segment.Index * t), t);
            noise.FillGaussian(e, 1f);
            var baseline = 2 * sim.DriftAmplitude * drift.NextGaussian();
            var a1 = sim.DriftAmplitude * drift.NextGaussian();
            var a2 = 0.7 * sim.DriftAmplitude * drift.NextGaussian();
            var a3 = 0.5 * sim.DriftAmplitude * drift.NextGaussian();
            var x = e[0]; // stationary start: variance 1
            for (var k = 0; k < t; k++)
            {
                if (k > 0)
                {
                    x = (phi * x) + (innovation * e[k]);
                }
                var u = t == 1 ? 0 : -1 + (2.0 * k / (t - 1));
                var p2 = 0.5 * ((3 * u * u) - 1);
                var p3 = 0.5 * ((5 * u * u * u) - (3 * u));
                run[(k * count) + i] = sigRow[k] + x + (float)(baseline + (a1 * u) + (a2 * p2) + (a3 * p3));
            }
        }
    }

    /// <summary>
    /// Simulates and preprocesses every run of voxels [v0, v0 + count): repeat-averaged clip samples go to
    /// <paramref name="clipSamples"/>[segment] (clips × voxels, columns v0…), train segments' Fisher z to
    /// <paramref name="fisherZ"/>[train segment index].
    /// </summary>
    public void ProcessBlock(int v0, int count, IReadOnlyList<float[]> clipSamples, int voxels, IReadOnlyList<double[]> fisherZ)
    {
        var signal = NoiselessSignal(v0, count);
        var window = Preprocessor.WindowVolumes;
        var run = new float[VolumesPerRun * count];
        var scratch = new double[Math.Max(Preprocessor.ScratchPerColumn, 6) * count];
        var sums = new float[ClipsPerSegment * count];
        var maxTrainRepeats = Segments.Where(s => s.Split != Splits.Test).Select(s => s.Repeats).DefaultIfEmpty(0).Max();
        var kept = Enumerable.Range(0, maxTrainRepeats).Select(_ => new float[window * count]).ToArray();
        var trainIndex = 0;
        foreach (var seg in Segments)
        {
            Array.Clear(sums);
            var keep = seg.Split != Splits.Test && seg.Repeats >= 2;
            for (var r = 0; r < seg.Repeats; r++)
            {
                RawRun(signal, seg, r, v0, count, run);
                var w = run.AsSpan(seg.Lag * count, window * count);
                Preprocessor.PrepareColumns(w, count, 0, count, scratch);
                Preprocessor.AccumulateClipSamples(w, count, 0, count, sums, count, 0);
                if (keep)
                {
                    w.CopyTo(kept[r]);
                }
            }
            var inv = 1f / seg.Repeats;
            var dst = clipSamples[seg.Index];
            for (var k = 0; k < ClipsPerSegment; k++)
            {
                var src = sums.AsSpan(k * count, count);
                var row = dst.AsSpan((k * voxels) + v0, count);
                for (var c = 0; c < count; c++)
                {
                    row[c] = src[c] * inv;
                }
            }
            if (seg.Split != Splits.Test)
            {
                if (keep)
                {
                    ReliabilityAccumulator.FisherZOfRepeats(kept.Take(seg.Repeats).ToArray(), window, count, 0, count,
                        fisherZ[trainIndex].AsSpan(v0, count), scratch);
                }
                trainIndex++;
            }
        }
    }
}
