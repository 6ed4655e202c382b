using System.Text.Json;
using System.Text.Json.Serialization;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Preprocessing;

namespace MindAnimator.Simulation;

/// <summary>Everything the simulator produces, in memory: the preprocessed fMRI table, the clips, captions and ground truth.</summary>
public sealed record SimulatedDataset
{
    /// <summary>Selected, standard-scaled, repeat-averaged clip samples for train, val and test.</summary>
    public required FmriTable Fmri { get; init; }

    /// <summary>The clips in table order; empty when a clip sink was given to the simulator.</summary>
    public required IReadOnlyList<ClipFrames> Clips { get; init; }

    /// <summary>Caption of every clip, by clip id.</summary>
    public required IReadOnlyDictionary<string, string> Captions { get; init; }

    public required SimulationGroundTruth Truth { get; init; }

    /// <summary>Reliability statistics of every simulated voxel (index = simulated voxel id).</summary>
    public required ReliabilityResult Reliability { get; init; }
}

/// <summary>Ground truth of a simulation, serialisable with <see cref="JsonOptions"/> (ground_truth/*.json).</summary>
public sealed record SimulationGroundTruth
{
    public required int Seed { get; init; }

    public required SimulationSettings Settings { get; init; }

    /// <summary>Category names, by category index.</summary>
    public required IReadOnlyList<string> Categories { get; init; }

    /// <summary>Volumes per run (clips × volumes per clip + extra volumes).</summary>
    public required int VolumesPerRun { get; init; }

    /// <summary>The HRF sampled at the frame rate, normalised to sum 1.</summary>
    public required double[] Hrf { get; init; }

    public required IReadOnlyList<VoxelTruth> Voxels { get; init; }

    public required IReadOnlyList<ClipTruth> Clips { get; init; }

    /// <summary>Simulated voxel ids kept by the reliability selection, in table order.</summary>
    public required IReadOnlyList<int> SelectedVoxels { get; init; }

    /// <summary>snake_case, indented: the format of ground_truth/*.json.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>Progress of a simulation: a stage and how far it is.</summary>
public sealed record SimulationProgress(string Stage, int Done, int Total);
