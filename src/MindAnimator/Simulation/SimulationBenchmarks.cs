using System.Diagnostics;
using MindAnimator.Benchmarks;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Runs;
using Serilog;

namespace MindAnimator.Simulation;

/// <summary>Wall time and memory of a simulation run.</summary>
public sealed record SimulationBenchmarkResult(string Name, int SimulatedVoxels, int SelectedVoxels, int Runs, int Clips, double WallSeconds, double PeakWorkingSetGiB, int Threads)
{
    public override string ToString() =>
        $"{Name}: {Runs} runs, {Clips} clips, {SimulatedVoxels} simulated → {SelectedVoxels} selected voxels; {WallSeconds:F1} s wall, peak working set {PeakWorkingSetGiB:F2} GiB, {Threads} threads";
}

/// <summary>Measures the simulator at CC2017 scale (18 × 240 clips × 2 repeats, 5 × 240 × 10, 59,412 voxels, 4500 selected).</summary>
public static class SimulationBenchmarks
{
    /// <summary>The CC2017-sized simulation config (64×64 frames, rendered for features but not kept).</summary>
    public static MindAnimatorConfig Cc2017Scale(int seed = 1234, int threads = 0) => new()
    {
        Seed = seed,
        Threads = threads,
        Data = new DataSettings { Dataset = "simulated", FrameSize = 64, Subject = "sim1" },
        Simulation = new SimulationSettings
        {
            TrainSegments = 18,
            TestSegments = 5,
            ClipsPerSegment = 240,
            TrainRepeats = 2,
            TestRepeats = 10,
            RetinotopicVoxels = 20000,
            MotionVoxels = 12000,
            SemanticVoxels = 8000,
            NoiseVoxels = 19412,
        },
        Preprocess = new PreprocessSettings { SelectVoxels = 4500 },
    };

    /// <summary>Runs <paramref name="config"/> (default: <see cref="Cc2017Scale"/>), dropping the clips as they are rendered.</summary>
    public static SimulationBenchmarkResult Run(ILogger log, MindAnimatorConfig? config = null, string name = "cc2017-scale")
    {
        config ??= Cc2017Scale();
        var watch = Stopwatch.StartNew();
        var clips = 0;
        var dataset = BrainSimulator.Run(config, null, log, _ => clips++);
        watch.Stop();
        var s = config.Simulation;
        var result = new SimulationBenchmarkResult(name, s.TotalVoxels, dataset.Fmri.VoxelCount,
            (s.TrainSegments * s.TrainRepeats) + (s.TestSegments * s.TestRepeats), clips, watch.Elapsed.TotalSeconds, Measure.PeakRssMiB() / 1024,
            config.Threads > 0 ? config.Threads : Environment.ProcessorCount);
        log.Information("Benchmark {Result}", result.ToString());
        return result;
    }
}

/// <summary>`mindanim bench simulate-cc2017`: the whole `data simulate` (dataset folder written) at CC2017 scale.</summary>
public sealed class SimulateBenchmark : IBenchmark
{
    public string Name => "simulate-cc2017";

    public string Description => "data simulate at CC2017 scale (18×240 clips ×2, 5×240 ×10, 59,412 voxels → 4500), 64×64 frames written";

    public IReadOnlyList<Measurement> Run(BenchmarkContext context)
    {
        var config = context.Quick ? ConfigLoader.Load(null) : SimulationBenchmarks.Cc2017Scale();
        var folder = Path.Combine(context.WorkDir, "sim");
        DatasetManifest? manifest = null;
        var seconds = Measure.Seconds(() => manifest = SimulatedDatasetWriter.Write(config, folder, overwrite: false, NullProgress.Instance, context.Log));
        var bytes = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        var s = config.Simulation;
        var runs = (s.TrainSegments * s.TrainRepeats) + (s.TestSegments * s.TestRepeats);
        return new[]
        {
            new Measurement("wall time", seconds, "s", $"{runs} runs, {s.TotalVoxels} simulated voxels, {Environment.ProcessorCount} cores"),
            new Measurement("peak RSS", Measure.PeakRssMiB(), "MiB"),
            new Measurement("clips", manifest!.Samples.Values.Sum(), "clips"),
            new Measurement("selected voxels", manifest.Voxels, "voxels"),
            new Measurement("dataset size", bytes / 1048576.0, "MiB"),
        };
    }
}
