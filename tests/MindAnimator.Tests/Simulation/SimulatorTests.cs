using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Preprocessing;
using MindAnimator.Runs;
using MindAnimator.Simulation;
using MindAnimator.Tests.Data.Formats;
using MindAnimator.Tests.Infrastructure;
using Serilog.Core;

namespace MindAnimator.Tests.Simulation;

public class SimulatorTests
{
    /// <summary>A small simulated brain that still has every population and the CC2017 repeat structure.</summary>
    internal static MindAnimatorConfig Small(int seed = 7, int motionVoxels = 300, int threads = 0, double snr = 0.5) => new()
    {
        Seed = seed,
        Threads = threads,
        Data = new DataSettings { Dataset = "simulated", Subject = "t1", FrameSize = 32, ValidationFraction = 0.1 },
        Simulation = new SimulationSettings
        {
            TrainSegments = 6,
            TestSegments = 2,
            ClipsPerSegment = 60,
            TrainRepeats = 2,
            TestRepeats = 4,
            RetinotopicVoxels = 300,
            MotionVoxels = motionVoxels,
            SemanticVoxels = 300,
            NoiseVoxels = 124,
            Snr = snr,
        },
        Preprocess = new PreprocessSettings { SelectVoxels = 500, TrainLagTrs = 3, TestLagTrs = 3 },
    };

    [Fact]
    public void Hrf_PeaksNearFiveSeconds_WithALaterUndershoot()
    {
        const double dt = 0.05;
        var h = Hrf.Sample(dt);
        Assert.Equal(1.0, h.Sum(), 9);
        var peak = Array.IndexOf(h, h.Max()) * dt;
        var trough = Array.IndexOf(h, h.Min()) * dt;
        Assert.InRange(peak, 4.5, 5.5);
        Assert.InRange(trough, 12, 18);
        Assert.True(h.Min() < 0, "no undershoot");
    }

    [Fact]
    public void SameSeed_GivesIdenticalData_WhateverTheThreadCount_AndAnotherSeedDoesNot()
    {
        var a = BrainSimulator.Run(Small(threads: 1), null, Logger.None);
        var b = BrainSimulator.Run(Small(threads: 2), null, Logger.None);
        var c = BrainSimulator.Run(Small(seed: 8), null, Logger.None);
        Assert.Equal(a.Fmri.Samples.Select(s => s.ClipId), b.Fmri.Samples.Select(s => s.ClipId));
        for (var i = 0; i < a.Fmri.Samples.Count; i++)
        {
            Assert.Equal(a.Fmri.Samples[i].Voxels, b.Fmri.Samples[i].Voxels);
            Assert.Equal(a.Clips[i].Rgb, b.Clips[i].Rgb);
        }
        Assert.Equal(a.Captions, b.Captions);
        Assert.Equal(a.Truth.SelectedVoxels, b.Truth.SelectedVoxels);
        Assert.NotEqual(a.Fmri.Samples[0].Voxels, c.Fmri.Samples[0].Voxels);
        Assert.NotEqual(a.Clips[0].Rgb, c.Clips[0].Rgb);
    }

    [Fact]
    public void MotionVoxelsRespondToMotion_SemanticVoxelsToCategory_NotTheOtherWayRound()
    {
        var config = Small();
        var data = BrainSimulator.Run(config, null, Logger.None);
        var movies = BrainSimulator.Prepare(config, null, Logger.None, clipSink: null).Segments.ToDictionary(s => s.Name, s => s.Movie);
        var truth = data.Truth.Clips.ToDictionary(c => c.ClipId);
        var samples = data.Fmri.Samples.Where(s => s.Split != Splits.Test).ToList();
        var category = samples.Select(s => truth[s.ClipId].Parts[0].Scene.Category).ToArray();
        var motionVoxels = Enumerable.Range(0, data.Fmri.VoxelCount).Where(v => data.Fmri.Voxels[v].Population == Populations.Motion).ToArray();
        var semanticVoxels = Enumerable.Range(0, data.Fmri.VoxelCount).Where(v => data.Fmri.Voxels[v].Population == Populations.Semantic).ToArray();
        Assert.True(motionVoxels.Length > 20 && semanticVoxels.Length > 20, $"too few selected voxels: {motionVoxels.Length} motion, {semanticVoxels.Length} semantic");

        // Each motion voxel's expected drive, re-derived from the scene ground truth and its tuning: translation speed
        // along its preferred direction (cos², rectified) inside its Gaussian receptive field, averaged over the clip.
        double[] TunedMotion(int voxel)
        {
            var tuning = data.Truth.Voxels[data.Fmri.Voxels[voxel].SourceIndex].Motion!;
            return samples.Select(s =>
            {
                var movie = movies[s.Segment];
                double e = 0;
                for (var f = 0; f < movie.FramesPerClip; f++)
                {
                    var state = movie.Frames[(s.ClipIndex * movie.FramesPerClip) + f];
                    var (vx, vy) = (state.Vx, -state.Vy);
                    var speed = Math.Sqrt((vx * vx) + (vy * vy));
                    var c = speed > 0 ? Math.Cos(Math.Atan2(vy, vx) - (tuning.DirectionDegrees * Math.PI / 180)) : 0;
                    var d2 = Math.Pow(state.X - tuning.CenterX, 2) + Math.Pow(state.Y - tuning.CenterY, 2);
                    e += (c > 0 ? c * c * speed : 0) * Math.Exp(-d2 / (2 * tuning.Sigma * tuning.Sigma));
                }
                return e;
            }).ToArray();
        }
        double[] Response(int voxel) => samples.Select(s => (double)s.Voxels[voxel]).ToArray();

        var motionFit = motionVoxels.Select(v => Correlation(Response(v), TunedMotion(v))).Average();
        var semanticMotionFit = semanticVoxels.Select((v, i) => Correlation(Response(v), TunedMotion(motionVoxels[i % motionVoxels.Length]))).Average();
        var semanticEta = semanticVoxels.Select(v => EtaSquared(Response(v), category)).Average();
        var motionEta = motionVoxels.Select(v => EtaSquared(Response(v), category)).Average();
        var summary = $"r with tuned motion energy: motion voxels {motionFit:F3}, semantic voxels {semanticMotionFit:F3}; "
            + $"category eta²: semantic voxels {semanticEta:F3}, motion voxels {motionEta:F3}";
        Assert.True(motionFit > 0.12 && motionFit > 0.1 + (4 * Math.Abs(semanticMotionFit)), summary);
        Assert.True(semanticEta > 0.12 && semanticEta > 3 * motionEta, summary);
    }

    [Fact]
    public void MeasuredSnrAndNoiseAutocorrelation_MatchTheConfig()
    {
        // CC2017-long runs (240 clips), so detrending removes only 5 of 240 noise dimensions.
        var config = Small(snr: 0.8);
        config = config with { Simulation = config.Simulation with { ClipsPerSegment = 240, TrainSegments = 2, TestSegments = 1 } };
        var sim = BrainSimulator.Prepare(config, null, Logger.None, clipSink: null);
        const int count = BrainSimulation.VoxelBlock;
        var signal = sim.NoiselessSignal(0, count);
        var window = sim.Preprocessor.WindowVolumes;
        var detrender = new PolynomialDetrender(window, 4);
        double signalVar = 0, noiseVar = 0, lag1 = 0;
        var driven = 0;
        foreach (var seg in sim.Segments)
        {
            var run = new float[sim.VolumesPerRun * count];
            sim.RawRun(signal, seg, repeat: 0, v0: 0, count, run);
            // Noise + drift = run − signal; an order-4 detrend removes the (order-3) drift exactly.
            var residual = new float[window * count];
            for (var t = 0; t < window; t++)
            {
                for (var v = 0; v < count; v++)
                {
                    var k = t + seg.Lag;
                    residual[(t * count) + v] = run[(k * count) + v] - signal[(v * sim.TotalVolumes) + (seg.Index * sim.VolumesPerRun) + k];
                }
            }
            detrender.Apply(residual, count);
            for (var v = 0; v < count; v++)
            {
                var e = Enumerable.Range(0, window).Select(t => (double)residual[(t * count) + v]).ToArray();
                noiseVar += e.Select(x => x * x).Sum() / window;
                lag1 += Correlation(e[..^1], e[1..]);
                if (sim.SignalScales[v] > 0)
                {
                    var s = Enumerable.Range(seg.Lag, window).Select(k => (double)signal[(v * sim.TotalVolumes) + (seg.Index * sim.VolumesPerRun) + k]).ToArray();
                    var mean = s.Average();
                    signalVar += s.Select(x => (x - mean) * (x - mean)).Sum() / window;
                    driven++;
                }
            }
        }
        var runs = sim.Segments.Count;
        noiseVar /= runs * count;
        lag1 /= runs * count;
        signalVar /= driven;
        Assert.InRange(noiseVar, 0.93, 1.03);
        Assert.InRange(signalVar / noiseVar, config.Simulation.Snr * 0.93, config.Simulation.Snr * 1.08);
        Assert.InRange(lag1, config.Simulation.NoiseAr1 - 0.08, config.Simulation.NoiseAr1 + 0.03);
    }

    [Fact]
    public void MotionVoxelsZero_MakesABrainWithoutMotionVoxels()
    {
        var data = BrainSimulator.Run(Small(motionVoxels: 0), null, Logger.None);
        Assert.DoesNotContain(data.Truth.Voxels, v => v.Population == Populations.Motion);
        Assert.DoesNotContain(data.Fmri.Voxels, v => v.Population == Populations.Motion);
        Assert.Contains(data.Fmri.Voxels, v => v.Population == Populations.Semantic);
    }

    [Fact]
    public void ClipOnsetRetinotopicDrive_HoldsEachClipsFirstFrame_AndLeavesMotionAndSemanticFeaturesAlone()
    {
        var everyFrame = Small();
        var onset = everyFrame with { Simulation = everyFrame.Simulation with { RetinotopicDrive = RetinotopicDrives.ClipOnset } };
        var a = BrainSimulator.Prepare(everyFrame, null, Logger.None, clipSink: null, keepFrameFeatures: true);
        var b = BrainSimulator.Prepare(onset, null, Logger.None, clipSink: null, keepFrameFeatures: true);
        var layout = a.Model.Layout;
        var fpc = everyFrame.Data.FramesPerClip;
        var fa = a.FrameFeatures(0);
        var fb = b.FrameFeatures(0);
        var frames = fa.Length / layout.Count;
        var changed = 0;
        for (var f = 0; f < frames; f++)
        {
            var onsetFrame = f - (f % fpc);
            var retinotopicA = fa.AsSpan(f * layout.Count, layout.MotionOffset);
            var retinotopicB = fb.AsSpan(f * layout.Count, layout.MotionOffset);
            Assert.True(retinotopicB.SequenceEqual(fa.AsSpan(onsetFrame * layout.Count, layout.MotionOffset)), $"frame {f}: not its clip's first frame");
            changed += retinotopicA.SequenceEqual(retinotopicB) ? 0 : 1;
            var rest = layout.Count - layout.MotionOffset;
            Assert.True(fa.AsSpan((f * layout.Count) + layout.MotionOffset, rest).SequenceEqual(fb.AsSpan((f * layout.Count) + layout.MotionOffset, rest)), $"frame {f}: motion or semantic features changed");
        }
        // Most clips move, so most later frames differ from their first: the hold did something.
        Assert.True(changed > frames / 2, $"{changed} of {frames} frames changed");
    }

    [Fact]
    public void DatasetFolder_RoundTrips_ClipsInTableOrder_WithGroundTruth()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var config = Small();
        var manifest = SimulatedDatasetWriter.Write(config, tmp.Path, overwrite: false, NullProgress.Instance, Logger.None);
        var memory = BrainSimulator.Run(config, null, Logger.None);
        var table = FmriParquet.Read(Path.Combine(tmp.Path, manifest.Fmri));
        FormatTestData.AssertBitEqual(memory.Fmri, table);
        var clips = ClipStore.Open(Path.Combine(tmp.Path, manifest.Clips!));
        Assert.Equal(table.Samples.Select(s => s.ClipId), clips.ClipIds);
        Assert.Equal(memory.Clips[17].Rgb, clips.Read(memory.Clips[17].ClipId).Rgb);
        var captions = CaptionTable.Read(Path.Combine(tmp.Path, manifest.Captions!));
        Assert.Equal(memory.Captions.OrderBy(c => c.Key), captions.OrderBy(c => c.Key));
        var truth = SimulatedDatasetWriter.ReadGroundTruth(tmp.Path);
        Assert.Equal(memory.Truth.SelectedVoxels, truth.SelectedVoxels);
        Assert.Equal(memory.Truth.Voxels.Select(v => (v.Population, v.Motion?.Direction, v.SignalScale)), truth.Voxels.Select(v => (v.Population, v.Motion?.Direction, v.SignalScale)));
        Assert.Equal(memory.Truth.Clips.Select(c => c.Caption), truth.Clips.Select(c => c.Caption));
        Assert.Equal(config.Simulation, truth.Settings);
        var reread = DatasetManifest.Read(tmp.Path);
        Assert.Equal(manifest.Samples, reread.Samples);
        Assert.Equal((324, 36, 120), (manifest.Samples[Splits.Train], manifest.Samples[Splits.Val], manifest.Samples[Splits.Test]));
        Assert.Throws<OutputExistsException>(() => SimulatedDatasetWriter.Write(config, tmp.Path, overwrite: false, NullProgress.Instance, Logger.None));
    }

    private static double Correlation(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var ma = a.Average();
        var mb = b.Average();
        double sab = 0, saa = 0, sbb = 0;
        for (var i = 0; i < a.Count; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return saa > 0 && sbb > 0 ? sab / Math.Sqrt(saa * sbb) : 0;
    }

    private static double EtaSquared(double[] y, int[] group)
    {
        var mean = y.Average();
        var total = y.Sum(x => (x - mean) * (x - mean));
        var between = y.Select((x, i) => (x, g: group[i])).GroupBy(p => p.g)
            .Sum(g => g.Count() * Math.Pow(g.Average(p => p.x) - mean, 2));
        return total > 0 ? between / total : 0;
    }
}
