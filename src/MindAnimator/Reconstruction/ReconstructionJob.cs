using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Diffusion.Pipelines;
using MindAnimator.Evaluation;
using MindAnimator.Models.Decoders;
using MindAnimator.Runs;
using Serilog;
using static TorchSharp.torch;

namespace MindAnimator.Reconstruction;

/// <summary>What `mindanim reconstruct` was asked for (everything else comes from the config).</summary>
public sealed record ReconstructionJobOptions
{
    /// <summary>An fMRI table (.parquet) or a dataset folder holding one.</summary>
    public required string Fmri { get; init; }

    /// <summary>Which samples: train, val, test or all.</summary>
    public string Split { get; init; } = Splits.Test;

    /// <summary>Folder with semantic/, structure/ and motion/ training runs.</summary>
    public string? Run { get; init; }

    public string? Semantic { get; init; }

    public string? Structure { get; init; }

    public string? Motion { get; init; }

    /// <summary>Ground-truth clips; null = the dataset's clip store when <see cref="Fmri"/> is inside a dataset folder.</summary>
    public string? GroundTruth { get; init; }

    public required string Output { get; init; }

    public (int Index, int Count) Shard { get; init; } = (0, 1);

    /// <summary>Only the first N clips (0 = all).</summary>
    public int Limit { get; init; }

    /// <summary>Give the motion decoder another clip's fMRI (a seeded derangement): the fMRI-shuffle control.</summary>
    public bool ShuffleMotionFmri { get; init; }

    /// <summary>Ablation: no motion decoder — every frame starts from the decoded first-frame latent (the paper's "without the motion decoder").</summary>
    public bool WithoutMotionDecoder { get; init; }

    public bool Force { get; init; }

    public bool WriteMp4 { get; init; } = true;
}

/// <summary>Loads the fMRI, the decoders and the generative model named by the options and config, then runs <see cref="VideoReconstructor"/>.</summary>
public static class ReconstructionJob
{
    public static ReconstructionSummary Run(ReconstructionJobOptions options, MindAnimatorConfig config, Device device, IProgressReporter? progress, ILogger log)
    {
        if (options.ShuffleMotionFmri && options.WithoutMotionDecoder)
        {
            throw new MindAnimatorException("--shuffle-motion-fmri and --without-motion-decoder exclude each other: the first feeds the motion decoder other clips' fMRI, the second leaves it out.");
        }
        var (tablePath, datasetFolder) = ResolveFmri(options.Fmri);
        var table = FmriParquet.Read(tablePath);
        var samples = options.Split == "all" ? table.Samples.ToList() : table.Samples.Where(s => s.Split == options.Split).ToList();
        if (samples.Count == 0)
        {
            throw new MindAnimatorException($"{tablePath}: no samples in split '{options.Split}' (splits present: {string.Join(", ", table.Samples.Select(s => s.Split).Distinct())}).");
        }
        if (options.Limit > 0)
        {
            samples = samples.Take(options.Limit).ToList();
        }
        IClipSource? groundTruth = null;
        if (options.GroundTruth is { } gt)
        {
            groundTruth = ClipSources.Open(gt);
        }
        else if (datasetFolder is not null && DatasetManifest.Read(datasetFolder).Clips is { } clips)
        {
            groundTruth = ClipSources.Open(DatasetManifest.Resolve(datasetFolder, clips));
        }
        using var fmri = tensor(samples.SelectMany(s => s.Voxels).ToArray(), new long[] { samples.Count, table.VoxelCount });
        using var motionFmri = options.ShuffleMotionFmri ? fmri.index_select(0, tensor(Derangement(samples.Count, config.Seed))) : null;
        using var decoders = DecoderSet.Load(options.Run, options.Semantic, options.Structure, options.Motion, device);
        var sdFolder = ModelFolders.StableDiffusion(config);
        using var pipeline = StableDiffusionFolder.Open(sdFolder, log).LoadInflatedPipeline(new InflationOptions
        {
            TemporalSeed = config.Seed,
            UnetDtype = InflationOptions.ParseDtype(config.Diffusion.Dtype),
        }, device);
        var mask = config.Motion.InferenceMask == "causal" ? InferenceMask.Causal : InferenceMask.Official;
        log.Information("Reconstructing {Clips} {Split} clips of {Table} with the decoders of {Run} and {Sd}; motion mask {Mask}{Shuffle}",
            samples.Count, options.Split, tablePath, decoders.Sources["semantic"], sdFolder, mask,
            options.ShuffleMotionFmri ? ", motion decoder fed shuffled fMRI" : options.WithoutMotionDecoder ? ", without the motion decoder (first frame repeated)" : string.Empty);
        var d = config.Diffusion;
        return VideoReconstructor.Run(decoders, pipeline, new ReconstructionRequest
        {
            ClipIds = samples.Select(s => s.ClipId).ToList(),
            Fmri = fmri,
            MotionFmri = motionFmri,
            GroundTruth = groundTruth,
            OutputFolder = options.Output,
            Force = options.Force,
            Shard = options.Shard,
            BatchSize = d.BatchSize,
            Seed = config.Seed,
            MotionMask = mask,
            WithoutMotionDecoder = options.WithoutMotionDecoder,
            WriteMp4 = options.WriteMp4,
            Pipeline = PipelineOptions(d),
        }, config.Data.FramesPerClip, progress, log);
    }

    /// <summary>The pipeline's options from the config's diffusion section.</summary>
    public static ReconstructionOptions PipelineOptions(DiffusionSettings d) => new()
    {
        InversionSteps = d.InversionSteps,
        NoiseTimestep = d.RenoiseTimestep,
        Sampling = new VideoSamplingOptions
        {
            NumInferenceSteps = d.SamplingSteps,
            GuidanceScale = d.GuidanceScale,
            NegativePrompt = d.NegativePrompt,
            Eta = d.Eta,
        },
    };

    /// <summary>The table and, when it sits in one, its dataset folder.</summary>
    public static (string Table, string? Dataset) ResolveFmri(string path)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            var manifest = DatasetManifest.Read(full);
            return (DatasetManifest.Resolve(full, manifest.Fmri), full);
        }
        if (!File.Exists(full))
        {
            throw new MindAnimatorException($"{full}: fMRI table not found (expected a .parquet file from `data simulate`/`data import`, or their dataset folder).");
        }
        var folder = Path.GetDirectoryName(full)!;
        return (full, File.Exists(Path.Combine(folder, DatasetManifest.FileName)) ? folder : null);
    }

    /// <summary>A seeded permutation of 0..n−1 that moves every index (n ≥ 2): each clip gets another clip's fMRI.</summary>
    public static long[] Derangement(int n, int seed)
    {
        if (n < 2)
        {
            throw new MindAnimatorException("the fMRI-shuffle control needs at least 2 clips.");
        }
        var random = new Random(seed);
        // A random cyclic shift of a random order: no fixed points by construction.
        var order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToArray();
        var shift = random.Next(1, n);
        var result = new long[n];
        for (var i = 0; i < n; i++)
        {
            result[order[i]] = order[(i + shift) % n];
        }
        return result;
    }
}
