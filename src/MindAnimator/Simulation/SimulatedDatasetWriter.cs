using System.Text.Json;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Runs;
using Serilog;

namespace MindAnimator.Simulation;

/// <summary>
/// Runs the simulator and writes a dataset folder: <c>fmri.parquet</c> (+ <c>fmri.voxels.parquet</c>), <c>clips/</c>
/// (clip store), <c>captions.jsonl</c>, <c>ground_truth/</c> (simulation.json, voxels.json, clips.json) and
/// <c>dataset.json</c>. Clips stream to disk as they are rendered.
/// </summary>
public static class SimulatedDatasetWriter
{
    public const string FmriFile = "fmri.parquet";
    public const string ClipsFolder = "clips";
    public const string GroundTruthFolder = "ground_truth";

    public static DatasetManifest Write(MindAnimatorConfig config, string folder, bool overwrite, IProgressReporter progress, ILogger log)
    {
        folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);
        foreach (var existing in new[] { FmriFile, ClipsFolder, GroundTruthFolder, CaptionTable.DefaultFileName, DatasetManifest.FileName })
        {
            var path = Path.Combine(folder, existing);
            if (!overwrite && (File.Exists(path) || Directory.Exists(path)))
            {
                throw new OutputExistsException(path);
            }
        }
        SimulatedDataset dataset;
        using (var clips = ClipStore.Create(Path.Combine(folder, ClipsFolder), overwrite))
        using (var reporter = new StageProgress(progress))
        {
            dataset = BrainSimulator.Run(config, reporter, log, clips.Add);
            clips.Complete();
        }
        FmriParquet.Write(Path.Combine(folder, FmriFile), dataset.Fmri, overwrite);
        CaptionTable.Write(Path.Combine(folder, CaptionTable.DefaultFileName), dataset.Captions, overwrite);
        WriteGroundTruth(Path.Combine(folder, GroundTruthFolder), dataset.Truth, overwrite);
        var manifest = new DatasetManifest
        {
            Source = "simulated",
            Subject = config.Data.Subject,
            Fmri = FmriFile,
            Clips = ClipsFolder,
            Captions = CaptionTable.DefaultFileName,
            GroundTruth = GroundTruthFolder,
            FramesPerClip = config.Data.FramesPerClip,
            FrameRateHz = config.Data.FrameRateHz,
            FrameSize = config.Data.FrameSize,
            Voxels = dataset.Fmri.VoxelCount,
            Samples = Splits.All.ToDictionary(s => s, s => dataset.Fmri.Samples.Count(x => x.Split == s)),
        };
        manifest.Write(folder, overwrite);
        log.Information("Wrote the simulated dataset to {Folder}: {Samples} samples × {Voxels} voxels, {Clips} clips",
            folder, dataset.Fmri.Samples.Count, dataset.Fmri.VoxelCount, dataset.Truth.Clips.Count);
        return manifest;
    }

    /// <summary>Reads the ground truth written by <see cref="Write"/>.</summary>
    public static SimulationGroundTruth ReadGroundTruth(string datasetFolder)
    {
        var dir = Path.Combine(datasetFolder, GroundTruthFolder);
        var head = ReadJson<SimulationGroundTruth>(Path.Combine(dir, "simulation.json"));
        return head with
        {
            Voxels = ReadJson<VoxelTruth[]>(Path.Combine(dir, "voxels.json")),
            Clips = ReadJson<ClipTruth[]>(Path.Combine(dir, "clips.json")),
        };
    }

    private static void WriteGroundTruth(string dir, SimulationGroundTruth truth, bool overwrite)
    {
        Directory.CreateDirectory(dir);
        var options = SimulationGroundTruth.JsonOptions;
        AtomicFile.WriteAllText(Path.Combine(dir, "voxels.json"), JsonSerializer.Serialize(truth.Voxels, options), overwrite);
        AtomicFile.WriteAllText(Path.Combine(dir, "clips.json"), JsonSerializer.Serialize(truth.Clips, options), overwrite);
        var head = truth with { Voxels = Array.Empty<VoxelTruth>(), Clips = Array.Empty<ClipTruth>() };
        AtomicFile.WriteAllText(Path.Combine(dir, "simulation.json"), JsonSerializer.Serialize(head, options), overwrite);
    }

    private static T ReadJson<T>(string path)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: ground-truth file not found");
        }
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), SimulationGroundTruth.JsonOptions)
                ?? throw new DataFormatException(path, "empty ground-truth file");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"not valid ground truth ({e.Message})", e);
        }
    }

    /// <summary>Turns the simulator's stage reports into one progress task per stage.</summary>
    private sealed class StageProgress : IProgress<SimulationProgress>, IDisposable
    {
        private readonly IProgressReporter _reporter;
        private readonly object _gate = new();
        private string? _stage;
        private IProgressTask? _task;
        private int _done;

        public StageProgress(IProgressReporter reporter) => _reporter = reporter;

        public void Report(SimulationProgress value)
        {
            lock (_gate)
            {
                if (_stage != value.Stage)
                {
                    _task?.Dispose();
                    _stage = value.Stage;
                    _done = 0;
                    _task = _reporter.Start(value.Stage == "brain" ? "Simulating voxel blocks" : "Rendering movie segments", value.Total,
                        value.Stage == "brain" ? "blocks" : "segments");
                }
                if (value.Done > _done)
                {
                    _task!.Advance(value.Done - _done);
                    _done = value.Done;
                }
            }
        }

        public void Dispose() => _task?.Dispose();
    }
}
