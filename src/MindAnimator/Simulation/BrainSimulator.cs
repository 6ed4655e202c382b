using System.Diagnostics;
using System.Globalization;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Preprocessing;
using Serilog;

namespace MindAnimator.Simulation;

/// <summary>
/// The embedded default dataset: a simulated brain (retinotopic, motion, semantic and noise voxels) watching
/// procedurally generated movies, preprocessed like CC2017 (REFERENCE.md), with full ground truth.
/// </summary>
public static class BrainSimulator
{
    /// <summary>
    /// Simulates the configured dataset. Clips are collected into <see cref="SimulatedDataset.Clips"/>, or handed to
    /// <paramref name="clipSink"/> in table order as soon as they are rendered (then Clips is empty) so large frame
    /// sizes need not fit in memory.
    /// </summary>
    public static SimulatedDataset Run(MindAnimatorConfig config, IProgress<SimulationProgress>? progress, ILogger log, Action<ClipFrames>? clipSink = null)
    {
        var total = Stopwatch.StartNew();
        var clips = clipSink is null ? new List<ClipFrames>() : null;
        var sim = Prepare(config, progress, log, clipSink ?? clips!.Add, keepFrameFeatures: false);
        var voxels = sim.Model.Count;
        var clipSamples = sim.Segments.Select(_ => new float[sim.ClipsPerSegment * voxels]).ToArray();
        var trainSegments = sim.Segments.Where(s => s.Split != Splits.Test).ToList();
        var reliability = new ReliabilityAccumulator(voxels);
        var fisherZ = trainSegments.Select(_ => reliability.ReserveSegment()).ToArray();
        var blocks = (voxels + BrainSimulation.VoxelBlock - 1) / BrainSimulation.VoxelBlock;
        var done = 0;
        var watch = Stopwatch.StartNew();
        Parallel.For(0, blocks, Parallelism(config), b =>
        {
            var v0 = b * BrainSimulation.VoxelBlock;
            sim.ProcessBlock(v0, Math.Min(BrainSimulation.VoxelBlock, voxels - v0), clipSamples, voxels, fisherZ);
            progress?.Report(new SimulationProgress("brain", Interlocked.Increment(ref done), blocks));
        });
        sim.Model.SetSignalScales(sim.SignalScales);
        log.Information("Simulated {Runs} runs × {Voxels} voxels in {Seconds:F1} s", sim.Segments.Sum(s => s.Repeats), voxels, watch.Elapsed.TotalSeconds);

        var result = reliability.Compute();
        var selected = result.SelectMostReliable(config.Preprocess.SelectVoxels, config.Preprocess.SelectionTieBreak == "index");
        var table = BuildTable(config, sim, clipSamples, selected);
        var truth = new SimulationGroundTruth
        {
            Seed = config.Seed,
            Settings = config.Simulation,
            Categories = SceneVocabulary.Shapes.Take(config.Simulation.Categories).ToArray(),
            VolumesPerRun = sim.VolumesPerRun,
            Hrf = sim.Hrf,
            Voxels = sim.Model.Voxels,
            Clips = sim.Segments.SelectMany(s => s.Movie.Clips).ToArray(),
            SelectedVoxels = selected,
        };
        var byPopulation = selected.GroupBy(v => sim.Model.Voxels[v].Population).OrderBy(g => g.Key)
            .Select(g => $"{g.Key} {g.Count()}");
        log.Information("Selected {Selected} of {Voxels} voxels ({Populations}); simulation took {Seconds:F1} s",
            selected.Length, voxels, string.Join(", ", byPopulation), total.Elapsed.TotalSeconds);
        return new SimulatedDataset
        {
            Fmri = table,
            Clips = (IReadOnlyList<ClipFrames>?)clips ?? Array.Empty<ClipFrames>(),
            Captions = truth.Clips.ToDictionary(c => c.ClipId, c => c.Caption),
            Truth = truth,
            Reliability = result,
        };
    }

    /// <summary>
    /// Checks the config, builds the voxels, generates and renders every segment's movie (clips go to
    /// <paramref name="clipSink"/>, null to skip rendering stored frames) and the HRF-convolved features.
    /// </summary>
    public static BrainSimulation Prepare(MindAnimatorConfig config, IProgress<SimulationProgress>? progress, ILogger log,
        Action<ClipFrames>? clipSink, bool keepFrameFeatures = false)
    {
        var sim = config.Simulation;
        var data = config.Data;
        var volumesPerClip = CheckConfig(config);
        var watch = Stopwatch.StartNew();
        var model = VoxelModel.Build(sim, config.Seed);
        var layout = model.Layout;
        var segments = new List<SimulatedSegment>();
        var volumesPerRun = (sim.ClipsPerSegment * volumesPerClip) + sim.ExtraVolumes;
        var hrf = Simulation.Hrf.Sample(1.0 / data.FrameRateHz);
        var specs = Enumerable.Range(1, sim.TrainSegments).Select(n => (Splits.Train, n, sim.TrainRepeats, config.Preprocess.TrainLagTrs))
            .Concat(Enumerable.Range(1, sim.TestSegments).Select(n => (Splits.Test, n, sim.TestRepeats, config.Preprocess.TestLagTrs))).ToList();
        var featuresByVolume = new float[layout.Count * volumesPerRun * specs.Count];
        var frameFeatures = new Dictionary<int, float[]>();
        var framesPerSegment = sim.ClipsPerSegment * data.FramesPerClip;
        var perFrame = new float[framesPerSegment * layout.Count];
        for (var i = 0; i < specs.Count; i++)
        {
            var (split, number, repeats, lag) = specs[i];
            var movie = MovieGenerator.Generate(config.Seed, split, number, sim.ClipsPerSegment, data.FramesPerClip, data.FrameRateHz,
                sim.Categories, sim.SceneChangeProbability, sim.WithinClipChangeProbability);
            var rendered = RenderSegment(config, movie, layout, perFrame, clipSink is not null);
            if (clipSink is not null)
            {
                foreach (var clip in rendered)
                {
                    clipSink(clip);
                }
            }
            Simulation.Hrf.ConvolveAndSample(perFrame, framesPerSegment, layout.Count, data.FrameRateHz, sim.TrSeconds, sim.AcquisitionTime,
                volumesPerRun, hrf, featuresByVolume, volumesPerRun * specs.Count, i * volumesPerRun);
            if (keepFrameFeatures)
            {
                frameFeatures[i] = (float[])perFrame.Clone();
            }
            segments.Add(new SimulatedSegment(i, split, number, MovieGenerator.SegmentName(split, number), repeats, lag, movie));
            progress?.Report(new SimulationProgress("stimuli", i + 1, specs.Count));
        }
        log.Information("Generated {Segments} movie segments ({Clips} clips, {Size}×{Size}) and {Features} stimulus features in {Seconds:F1} s",
            specs.Count, specs.Count * sim.ClipsPerSegment, data.FrameSize, data.FrameSize, layout.Count, watch.Elapsed.TotalSeconds);
        return new BrainSimulation(config, segments, model, featuresByVolume, hrf, volumesPerClip, frameFeatures);
    }

    internal static ParallelOptions Parallelism(MindAnimatorConfig config) =>
        new() { MaxDegreeOfParallelism = config.Threads > 0 ? config.Threads : Environment.ProcessorCount };

    private static int CheckConfig(MindAnimatorConfig config)
    {
        var sim = config.Simulation;
        var data = config.Data;
        var pre = config.Preprocess;
        if (Math.Abs((data.ClipSeconds * data.FrameRateHz) - data.FramesPerClip) > 1e-6)
        {
            throw new ConfigException("config", "data.frames_per_clip", $"{data.FramesPerClip} frames do not fill a {data.ClipSeconds} s clip at {data.FrameRateHz} Hz");
        }
        var ratio = data.ClipSeconds / sim.TrSeconds;
        var volumesPerClip = (int)Math.Round(ratio);
        if (volumesPerClip < 1 || Math.Abs(ratio - volumesPerClip) > 1e-6)
        {
            throw new ConfigException("config", "simulation.tr_seconds", $"a {data.ClipSeconds} s clip must span a whole number of TRs of {sim.TrSeconds} s");
        }
        var maxLag = Math.Max(pre.TrainLagTrs, pre.TestLagTrs);
        if (maxLag > sim.ExtraVolumes)
        {
            throw new ConfigException("config", "simulation.extra_volumes", $"{sim.ExtraVolumes} extra volumes per run leave no data for a lag of {maxLag} TRs (preprocess.*_lag_trs)");
        }
        if (pre.SelectVoxels > sim.TotalVoxels)
        {
            throw new ConfigException("config", "preprocess.select_voxels", $"{pre.SelectVoxels} voxels cannot be selected from {sim.TotalVoxels} simulated voxels");
        }
        if (sim.TrainSegments < 2 || sim.TrainRepeats < 2)
        {
            throw new ConfigException("config", "simulation.train_segments", "the reliability voxel selection needs at least 2 training segments shown at least twice (train_repeats ≥ 2)");
        }
        return volumesPerClip;
    }

    private static List<ClipFrames> RenderSegment(MindAnimatorConfig config, SegmentMovie movie, FeatureLayout layout, float[] perFrame, bool keepFrames)
    {
        var size = config.Data.FrameSize;
        var fpc = movie.FramesPerClip;
        var frameBytes = size * size * 3;
        var clips = keepFrames ? movie.Clips.Select(c => new byte[fpc * frameBytes]).ToArray() : Array.Empty<byte[]>();
        Parallel.For(0, movie.Frames.Length, Parallelism(config),
            () => (Feature: new float[FeatureLayout.RenderSize * FeatureLayout.RenderSize * 3], Stored: new float[size * size * 3]),
            (f, _, buffers) =>
            {
                var state = movie.Frames[f];
                SceneRenderer.RenderFloat(state, FeatureLayout.RenderSize, buffers.Feature);
                StimulusFeatures.Compute(state, layout, buffers.Feature, perFrame.AsSpan(f * layout.Count, layout.Count));
                if (keepFrames)
                {
                    var dst = clips[f / fpc].AsSpan((f % fpc) * frameBytes, frameBytes);
                    if (size == FeatureLayout.RenderSize)
                    {
                        SceneRenderer.ToBytes(buffers.Feature, dst);
                    }
                    else
                    {
                        SceneRenderer.Render(state, size, dst, buffers.Stored);
                    }
                }
                return buffers;
            }, _ => { });
        if (config.Simulation.RetinotopicDrive == RetinotopicDrives.ClipOnset)
        {
            StimulusFeatures.HoldRetinotopicAtClipOnset(perFrame, movie.Frames.Length, fpc, layout);
        }
        return keepFrames ? movie.Clips.Select((c, k) => new ClipFrames(c.ClipId, fpc, size, size, clips[k])).ToList() : new List<ClipFrames>();
    }

    private static FmriTable BuildTable(MindAnimatorConfig config, BrainSimulation sim, float[][] clipSamples, int[] selected)
    {
        var voxels = sim.Model.Count;
        var n = selected.Length;
        var clipsPer = sim.ClipsPerSegment;
        var samples = new List<FmriSample>();
        foreach (var group in new[] { sim.Segments.Where(s => s.Split != Splits.Test).ToList(), sim.Segments.Where(s => s.Split == Splits.Test).ToList() })
        {
            if (group.Count == 0)
            {
                continue;
            }
            // Train and test each get their own scaler, as the official code (scaler1 / scaler2).
            var rows = group.Count * clipsPer;
            var matrix = new float[rows * n];
            for (var g = 0; g < group.Count; g++)
            {
                RunPreprocessor.SelectColumns(clipSamples[group[g].Index], clipsPer, voxels, selected).CopyTo(matrix, g * clipsPer * n);
            }
            if (config.Preprocess.StandardScale)
            {
                ColumnStatistics.StandardScale(matrix, rows, n, config.Threads);
            }
            var isTest = group[0].Split == Splits.Test;
            var validation = isTest ? 0 : (int)Math.Round(config.Data.ValidationFraction * rows);
            for (var g = 0; g < group.Count; g++)
            {
                var seg = group[g];
                for (var k = 0; k < clipsPer; k++)
                {
                    var row = (g * clipsPer) + k;
                    var split = isTest ? Splits.Test : row >= rows - validation ? Splits.Val : Splits.Train;
                    samples.Add(new FmriSample
                    {
                        ClipId = seg.Movie.Clips[k].ClipId,
                        Subject = config.Data.Subject,
                        Split = split,
                        Segment = seg.Name,
                        ClipIndex = k,
                        Repeats = seg.Repeats,
                        Voxels = matrix.AsSpan(row * n, n).ToArray(),
                    });
                }
            }
        }
        var infos = selected.Select((v, i) => new VoxelInfo(i, v, "SIMULATED", -1, string.Empty, sim.Model.Voxels[v].Population)).ToArray();
        var s = config.Simulation;
        var inv = CultureInfo.InvariantCulture;
        var metadata = new Dictionary<string, string>
        {
            ["source"] = "simulated",
            ["seed"] = config.Seed.ToString(inv),
            ["snr"] = s.Snr.ToString("R", inv),
            ["simulated_voxels"] = voxels.ToString(inv),
            ["selected_voxels"] = n.ToString(inv),
            ["train_lag_trs"] = config.Preprocess.TrainLagTrs.ToString(inv),
            ["test_lag_trs"] = config.Preprocess.TestLagTrs.ToString(inv),
            ["detrend_order"] = config.Preprocess.DetrendOrder.ToString(inv),
            ["volumes_per_run"] = sim.VolumesPerRun.ToString(inv),
            ["tr_seconds"] = s.TrSeconds.ToString("R", inv),
            ["voxel_selection"] = "reliability t-test (Fisher z of repeat correlation, Bonferroni), standard-scaled train/test separately",
        };
        return new FmriTable(samples, infos, metadata);
    }
}
