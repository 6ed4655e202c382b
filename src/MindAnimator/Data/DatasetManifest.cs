using System.Text.Json;
using System.Text.Json.Serialization;
using MindAnimator.Data.Formats;

namespace MindAnimator.Data;

/// <summary>
/// <c>dataset.json</c>: what a dataset folder holds (written by `data simulate` and the importers, read by the
/// later stages). Paths are relative to the folder.
/// </summary>
public sealed record DatasetManifest
{
    public const string FileName = "dataset.json";
    public const string FormatVersion = "mindanim-dataset/1";

    public string Format { get; init; } = FormatVersion;

    /// <summary>simulated, cc2017, hcp, algonauts2021, npy.</summary>
    public required string Source { get; init; }

    public required string Subject { get; init; }

    /// <summary>The fMRI table (its voxel sidecar sits beside it).</summary>
    public required string Fmri { get; init; }

    /// <summary>The clip store folder, when the stimuli are known.</summary>
    public string? Clips { get; init; }

    /// <summary>The caption table, when captions are known.</summary>
    public string? Captions { get; init; }

    /// <summary>Ground-truth folder of a simulated dataset.</summary>
    public string? GroundTruth { get; init; }

    public int FramesPerClip { get; init; }

    public double FrameRateHz { get; init; }

    public int FrameSize { get; init; }

    public int Voxels { get; init; }

    /// <summary>Samples per split (train, val, test).</summary>
    public IReadOnlyDictionary<string, int> Samples { get; init; } = new Dictionary<string, int>();

    public void Write(string folder, bool overwrite) =>
        AtomicFile.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, Options), overwrite);

    public static DatasetManifest Read(string folder)
    {
        var path = Path.Combine(Path.GetFullPath(folder), FileName);
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: not found; a dataset folder is made by `mindanim data simulate` or `mindanim data import`");
        }
        DatasetManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<DatasetManifest>(File.ReadAllText(path), Options);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"not a valid dataset manifest ({e.Message})", e);
        }
        if (manifest is null || manifest.Format != FormatVersion)
        {
            throw new DataFormatException(path, $"field 'format' is '{manifest?.Format}', expected '{FormatVersion}'");
        }
        return manifest;
    }

    /// <summary>Resolves a path of this manifest relative to the dataset folder.</summary>
    public static string Resolve(string folder, string relative) => Path.GetFullPath(Path.Combine(folder, relative));

    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
