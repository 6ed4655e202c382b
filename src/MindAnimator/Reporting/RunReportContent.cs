namespace MindAnimator.Reporting;

/// <summary>
/// What a run's report.html shows, top to bottom: title, provenance, the clip grid, the tables, the figures and the
/// resolved config. Every file path is relative to the report's folder (written with '/' or the platform separator),
/// so that the run folder can be moved or zipped and the page still finds its images.
/// </summary>
public sealed record RunReportContent
{
    public required string Title { get; init; }

    /// <summary>One line under the title (e.g. what the run is), or null.</summary>
    public string? Subtitle { get; init; }

    /// <summary>Label/value lines: code version, seed, date, command, …</summary>
    public IReadOnlyList<ReportFact> Provenance { get; init; } = Array.Empty<ReportFact>();

    /// <summary>Ground truth beside reconstruction, one row per clip.</summary>
    public IReadOnlyList<ReportClip> Clips { get; init; } = Array.Empty<ReportClip>();

    /// <summary>Metric tables (<see cref="ReportTables"/> builds them from eval and permtest output) and any other table.</summary>
    public IReadOnlyList<ReportTable> Tables { get; init; } = Array.Empty<ReportTable>();

    /// <summary>Images with captions: loss curves, the permutation histogram, …</summary>
    public IReadOnlyList<ReportFigure> Figures { get; init; } = Array.Empty<ReportFigure>();

    /// <summary>The resolved config as YAML, shown verbatim; null leaves the section out.</summary>
    public string? ConfigYaml { get; init; }
}

/// <summary>One provenance line.</summary>
public sealed record ReportFact(string Label, string Value);

/// <summary>One clip of the grid.</summary>
/// <param name="Caption">The clip's caption (e.g. the simulation's text), or null.</param>
/// <param name="GroundTruthGif">Relative path of the ground-truth animation, or null when there is none.</param>
/// <param name="ReconstructionGif">Relative path of the reconstruction.</param>
public sealed record ReportClip(string ClipId, string? Caption, string? GroundTruthGif, string ReconstructionGif);

/// <summary>A table of text cells.</summary>
/// <param name="Note">A line under the table (definitions, settings), or null.</param>
public sealed record ReportTable(string Title, IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows, string? Note = null);

/// <summary>An image with its caption.</summary>
/// <param name="ImagePath">Relative path of a GIF, PNG, JPEG, WebP or BMP file.</param>
public sealed record ReportFigure(string Caption, string ImagePath);
