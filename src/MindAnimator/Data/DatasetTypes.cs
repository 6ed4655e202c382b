namespace MindAnimator.Data;

/// <summary>Dataset splits, as stored in the `split` column.</summary>
public static class Splits
{
    public const string Train = "train";
    public const string Val = "val";
    public const string Test = "test";

    public static readonly string[] All = { Train, Val, Test };
}

/// <summary>One voxel (grayordinate) of an fMRI table.</summary>
/// <param name="Index">Position in the voxel vector.</param>
/// <param name="SourceIndex">Index in the source data (grayordinate index, or simulated voxel id) before selection.</param>
/// <param name="Structure">Brain structure (CIFTI name, e.g. CIFTI_STRUCTURE_CORTEX_LEFT) or "SIMULATED".</param>
/// <param name="Vertex">Surface vertex index, -1 when not a surface vertex.</param>
/// <param name="Roi">Region label (atlas area) or empty.</param>
/// <param name="Population">Simulated population (retinotopic, motion, semantic, noise); empty for real data.</param>
public sealed record VoxelInfo(int Index, int SourceIndex, string Structure, int Vertex, string Roi, string Population);

/// <summary>One 2-s clip sample: preprocessed, repeat-averaged voxel responses.</summary>
public sealed record FmriSample
{
    public required string ClipId { get; init; }
    public required string Subject { get; init; }
    public required string Split { get; init; }
    public required string Segment { get; init; }
    public required int ClipIndex { get; init; }
    public required int Repeats { get; init; }
    public required float[] Voxels { get; init; }
}

/// <summary>An fMRI table: samples, the description of each voxel, and free-form provenance metadata.</summary>
public sealed record FmriTable(IReadOnlyList<FmriSample> Samples, IReadOnlyList<VoxelInfo> Voxels, IReadOnlyDictionary<string, string> Metadata)
{
    public int VoxelCount => Voxels.Count;
}

/// <summary>The frames of one clip: <c>Frames × Height × Width × 3</c> RGB bytes, frame-major, row-major, interleaved.</summary>
public sealed record ClipFrames(string ClipId, int Frames, int Height, int Width, byte[] Rgb)
{
    public int FrameBytes => Height * Width * 3;

    public ReadOnlySpan<byte> Frame(int f) => Rgb.AsSpan(f * FrameBytes, FrameBytes);
}
