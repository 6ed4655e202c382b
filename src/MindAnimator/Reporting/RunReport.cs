using System.Net;
using System.Text;
using MindAnimator.Data.Formats;
using Serilog;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;

namespace MindAnimator.Reporting;

/// <summary>
/// Writes a run's report.html: one static page (inline CSS, no script, no external URL) that shows the clip grid,
/// tables, figures and config of <see cref="RunReportContent"/>. Images are referenced by relative paths, checked
/// to exist and to be images a browser shows before anything is written. scripts/check-report opens the page in
/// headless Chromium.
/// </summary>
public static class RunReport
{
    public const string FileName = "report.html";

    private static readonly HashSet<string> BrowserImageTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "image/gif", "image/png", "image/jpeg", "image/webp", "image/bmp",
    };

    /// <summary>
    /// Writes the page atomically. Fails with <see cref="OutputExistsException"/> when <paramref name="htmlPath"/>
    /// exists and <paramref name="overwrite"/> is false, and with a <see cref="MindAnimatorException"/> naming the file
    /// when a referenced image is missing, absolute or not an image.
    /// </summary>
    public static void Write(string htmlPath, RunReportContent content, bool overwrite, ILogger? log = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        var full = Path.GetFullPath(htmlPath);
        AtomicFile.EnsureWritable(full, overwrite);
        CheckShape(content);
        var folder = Path.GetDirectoryName(full)!;
        foreach (var (path, what) in ReferencedImages(content))
        {
            CheckImage(folder, path, what);
        }
        AtomicFile.WriteAllText(full, Render(content), overwrite);
        (log ?? Log.ForContext(typeof(RunReport))).Information(
            "Report written to {Path} ({Clips} clips, {Tables} tables, {Figures} figures)", full, content.Clips.Count, content.Tables.Count, content.Figures.Count);
    }

    /// <summary>The page's HTML (no file checks; <see cref="Write"/> does those).</summary>
    public static string Render(RunReportContent content)
    {
        ArgumentNullException.ThrowIfNull(content);
        CheckShape(content);
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<meta name=\"generator\" content=\"mindanim ").Append(E(Runs.ToolInfo.Version)).Append("\">\n")
            // An empty data: icon keeps browsers from requesting favicon.ico beside the report.
            .Append("<link rel=\"icon\" href=\"data:,\">\n")
            .Append("<title>").Append(E(content.Title)).Append("</title>\n")
            .Append("<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n<header>\n")
            .Append("<h1>").Append(E(content.Title)).Append("</h1>\n");
        if (!string.IsNullOrWhiteSpace(content.Subtitle))
        {
            h.Append("<p class=\"subtitle\">").Append(E(content.Subtitle)).Append("</p>\n");
        }
        if (content.Provenance.Count > 0)
        {
            h.Append("<dl class=\"provenance\">\n");
            foreach (var fact in content.Provenance)
            {
                h.Append("<dt>").Append(E(fact.Label)).Append("</dt><dd>").Append(E(fact.Value)).Append("</dd>\n");
            }
            h.Append("</dl>\n");
        }
        h.Append("</header>\n<main>\n");
        if (content.Clips.Count > 0)
        {
            h.Append("<section id=\"clips\">\n<h2>Ground truth and reconstruction</h2>\n<div class=\"clips\">\n");
            foreach (var clip in content.Clips)
            {
                h.Append("<figure class=\"clip\">\n<figcaption><span class=\"clip-id\">").Append(E(clip.ClipId)).Append("</span>");
                if (!string.IsNullOrWhiteSpace(clip.Caption))
                {
                    h.Append(" <q>").Append(E(clip.Caption)).Append("</q>");
                }
                h.Append("</figcaption>\n<div class=\"pair\">\n");
                if (clip.GroundTruthGif is null)
                {
                    h.Append("<div class=\"frame missing\"><span>no ground truth</span></div>\n");
                }
                else
                {
                    ClipImage(h, clip.GroundTruthGif, $"ground truth of clip {clip.ClipId}", "ground truth");
                }
                ClipImage(h, clip.ReconstructionGif, $"reconstruction of clip {clip.ClipId}", "reconstruction");
                h.Append("</div>\n</figure>\n");
            }
            h.Append("</div>\n</section>\n");
        }
        if (content.Tables.Count > 0)
        {
            h.Append("<section id=\"tables\">\n<h2>Results</h2>\n");
            foreach (var table in content.Tables)
            {
                Table(h, table);
            }
            h.Append("</section>\n");
        }
        if (content.Figures.Count > 0)
        {
            h.Append("<section id=\"figures\">\n<h2>Figures</h2>\n");
            foreach (var figure in content.Figures)
            {
                h.Append("<figure class=\"plot\">\n<img src=\"").Append(E(Href(figure.ImagePath))).Append("\" alt=\"").Append(E(figure.Caption)).Append("\">\n")
                    .Append("<figcaption>").Append(E(figure.Caption)).Append("</figcaption>\n</figure>\n");
            }
            h.Append("</section>\n");
        }
        if (content.ConfigYaml is not null)
        {
            h.Append("<section id=\"config\">\n<h2>Resolved config</h2>\n<pre>").Append(E(content.ConfigYaml)).Append("</pre>\n</section>\n");
        }
        h.Append("</main>\n<footer>Written by mindanim ").Append(E(Runs.ToolInfo.Version)).Append(".</footer>\n</body>\n</html>\n");
        return h.ToString();
    }

    /// <summary>Every image the page references, with what it is (for error messages).</summary>
    public static IEnumerable<(string Path, string What)> ReferencedImages(RunReportContent content)
    {
        foreach (var clip in content.Clips)
        {
            if (clip.GroundTruthGif is not null)
            {
                yield return (clip.GroundTruthGif, $"ground truth of clip '{clip.ClipId}'");
            }
            yield return (clip.ReconstructionGif, $"reconstruction of clip '{clip.ClipId}'");
        }
        foreach (var figure in content.Figures)
        {
            yield return (figure.ImagePath, $"figure '{figure.Caption}'");
        }
    }

    /// <summary>A relative file path as a relative URL: '/'-separated, each segment percent-encoded.</summary>
    public static string Href(string relativePath) =>
        string.Join('/', relativePath.Replace('\\', '/').Split('/').Select(Uri.EscapeDataString));

    private static void ClipImage(StringBuilder h, string path, string alt, string label) =>
        h.Append("<div class=\"frame\"><img src=\"").Append(E(Href(path))).Append("\" alt=\"").Append(E(alt)).Append("\"><span>").Append(label).Append("</span></div>\n");

    private static void Table(StringBuilder h, ReportTable table)
    {
        h.Append("<h3>").Append(E(table.Title)).Append("</h3>\n<table>\n<thead><tr>");
        foreach (var cell in table.Header)
        {
            h.Append("<th>").Append(E(cell)).Append("</th>");
        }
        h.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in table.Rows)
        {
            h.Append("<tr>");
            foreach (var cell in row)
            {
                h.Append("<td>").Append(E(cell)).Append("</td>");
            }
            h.Append("</tr>\n");
        }
        h.Append("</tbody>\n</table>\n");
        if (!string.IsNullOrWhiteSpace(table.Note))
        {
            h.Append("<p class=\"note\">").Append(E(table.Note)).Append("</p>\n");
        }
    }

    private static void CheckShape(RunReportContent content)
    {
        if (string.IsNullOrWhiteSpace(content.Title))
        {
            throw new ArgumentException("the report needs a title", nameof(content));
        }
        foreach (var table in content.Tables)
        {
            var bad = table.Rows.Select((r, i) => (r, i)).FirstOrDefault(t => t.r.Count != table.Header.Count);
            if (bad.r is not null)
            {
                throw new ArgumentException($"table '{table.Title}': row {bad.i + 1} has {bad.r.Count} cells for {table.Header.Count} columns", nameof(content));
            }
        }
    }

    private static void CheckImage(string folder, string path, string what)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new MindAnimatorException($"report: the {what} has an empty image path");
        }
        if (Path.IsPathRooted(path))
        {
            throw new MindAnimatorException($"{path}: the {what} must be referenced relative to the report's folder ({folder}), so that the run folder can be moved");
        }
        var full = Path.GetFullPath(Path.Combine(folder, path));
        if (!File.Exists(full))
        {
            throw new MindAnimatorException($"{full}: the report's {what} not found");
        }
        IImageFormat? format;
        try
        {
            _ = Image.Identify(full, out format);
        }
        catch (Exception e) when (e is InvalidImageContentException or UnknownImageFormatException or NotSupportedException)
        {
            throw new DataFormatException(full, $"the report's {what} is not a readable image ({e.Message})", e);
        }
        if (format is null || !BrowserImageTypes.Contains(format.DefaultMimeType))
        {
            throw new DataFormatException(full, $"the report's {what} is {(format is null ? "not an image" : format.Name)}; expected GIF, PNG, JPEG, WebP or BMP (what browsers show)");
        }
    }

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private const string Css = """
        :root { color-scheme: light; --ink: #1d2329; --muted: #5b6670; --line: #d5dbe1; --panel: #f5f7f9; }
        * { box-sizing: border-box; }
        body { margin: 0 auto; max-width: 1200px; padding: 24px; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink); }
        h1 { margin: 0 0 4px; font-size: 26px; }
        h2 { margin: 32px 0 12px; font-size: 20px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
        h3 { margin: 20px 0 8px; font-size: 16px; }
        .subtitle { margin: 0 0 12px; color: var(--muted); }
        .provenance { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; font-size: 13px; }
        .provenance dt { color: var(--muted); }
        .provenance dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
        .clips { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 16px; }
        figure { margin: 0; }
        .clip { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 10px; }
        .clip figcaption { margin-bottom: 8px; font-size: 13px; }
        .clip-id { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 600; }
        .clip q { color: var(--muted); }
        .pair { display: flex; gap: 12px; }
        .frame { display: flex; flex-direction: column; align-items: center; gap: 4px; font-size: 12px; color: var(--muted); }
        /* 64 x 64 frames shown three times larger, without smoothing */
        .frame img { width: 192px; height: auto; image-rendering: pixelated; background: #000; }
        .frame.missing { width: 192px; min-height: 192px; justify-content: center; border: 1px dashed var(--line); }
        table { border-collapse: collapse; font-size: 14px; font-variant-numeric: tabular-nums; }
        th, td { border-bottom: 1px solid var(--line); padding: 4px 12px; text-align: left; white-space: nowrap; }
        th { background: var(--panel); }
        .note { color: var(--muted); font-size: 13px; max-width: 900px; }
        .plot { margin: 12px 0 24px; }
        .plot img { max-width: 100%; height: auto; border: 1px solid var(--line); }
        .plot figcaption { color: var(--muted); font-size: 13px; }
        pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 12px; overflow: auto; font-size: 13px; }
        footer { margin-top: 40px; color: var(--muted); font-size: 12px; }

        """;
}
