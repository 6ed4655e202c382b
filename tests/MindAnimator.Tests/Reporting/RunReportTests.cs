using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Video;
using MindAnimator.Evaluation;
using MindAnimator.Reporting;
using MindAnimator.Tests.Infrastructure;
using Serilog;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace MindAnimator.Tests.Reporting;

/// <summary>
/// report.html end to end: written from real GIF/PNG/JSON outputs, then opened in headless Chromium by
/// scripts/check-report (Debian's chromium and puppeteer-core; scripts/setup.sh installs both).
/// </summary>
public class RunReportTests
{
    private static readonly ILogger Log = new LoggerConfiguration().CreateLogger();

    /// <summary>A colour square moving across a 64 × 64 clip (8 frames).</summary>
    private static ClipFrames MovingSquare(string id, int seed)
    {
        const int size = 64, frames = 8;
        var rgb = new byte[frames * size * size * 3];
        var rng = new Random(seed);
        var colour = new[] { (byte)rng.Next(80, 256), (byte)rng.Next(80, 256), (byte)rng.Next(80, 256) };
        for (var f = 0; f < frames; f++)
        {
            for (var y = 20; y < 40; y++)
            {
                for (var x = 4 + (6 * f); x < 24 + (6 * f); x++)
                {
                    colour.CopyTo(rgb, (((f * size * size) + (y * size) + x) * 3));
                }
            }
        }
        return new ClipFrames(id, frames, size, size, rgb);
    }

    /// <summary>
    /// A run folder as `demo` lays it out: GIFs (one in a folder with a space, one named with '#' and a space, one clip
    /// without ground truth), permtest output, a loss-curve PNG, an eval table. Returns the content and its image count.
    /// </summary>
    private static (RunReportContent Content, int Images) RunFolder(string root)
    {
        var clips = new List<ReportClip>();
        var ids = new[] { "test-0001", "test-0002", "test #3" };
        for (var i = 0; i < ids.Length; i++)
        {
            var recon = $"recon dir/{ids[i]}.gif";
            VideoFiles.WriteGif(Path.Combine(root, recon), MovingSquare(ids[i], i), 4, false);
            string? gt = null;
            if (i < 2)
            {
                gt = $"gt/{ids[i]}.gif";
                VideoFiles.WriteGif(Path.Combine(root, gt), MovingSquare(ids[i], 100 + i), 4, false);
            }
            clips.Add(new ReportClip(ids[i], i == 0 ? "a red square moves right" : null, gt, recon));
        }
        using (var loss = new Image<Rgb24>(120, 80, new Rgb24(255, 255, 255)))
        {
            for (var x = 0; x < 120; x++)
            {
                loss[x, Math.Clamp(74 - (int)(70 * Math.Exp(-x / 30.0)), 0, 79)] = new Rgb24(0, 0, 200);
            }
            Directory.CreateDirectory(Path.Combine(root, "train"));
            loss.SaveAsPng(Path.Combine(root, "train", "loss.png"));
        }
        FrameShuffleReport.Write(Path.Combine(root, "permtest"), ShuffleResult(), false);
        var content = new RunReportContent
        {
            Title = "mindanim demo",
            Subtitle = "simulated CC2017-like data, tiny models",
            Provenance = new[] { new ReportFact("code", "mindanim 0.1.0+test"), new ReportFact("seed", "1234"), new ReportFact("command", "mindanim demo --out run") },
            Clips = clips,
            Tables = new[]
            {
                ReportTables.FromEval(Evaluation()),
                ReportTables.ReadPermutationTest(Path.Combine(root, "permtest", "permtest.json")),
                new ReportTable("Decoders (test split)", new[] { "decoder", "pcc" }, new[] { new[] { "semantic", "0.41" } }),
            },
            Figures = new[] { new ReportFigure("Training loss", "train/loss.png"), new ReportFigure("Permutation histogram", "permtest/histogram.png") },
            ConfigYaml = "seed: 1234\nsimulation:\n  clips: 3\n",
        };
        return (content, 5 + 2);
    }

    private static FrameShuffleResult ShuffleResult()
    {
        var rng = new Random(5);
        return new FrameShuffleResult(new FrameShuffleSettings("ssim", 200, 3, 7),
            new[] { new ClipShuffleResult("test-0001", 0.61, new[] { 0.01, 0.02, 0.015 }), new ClipShuffleResult("test-0002", 0.4, new[] { 0.3, 0.25, 0.35 }) },
            0.505, new[] { 0.005, 0.01, 0.0 }, Enumerable.Range(0, 600).Select(_ => 0.3 + (0.1 * rng.NextDouble())).ToArray())
        {
            OverallConservativeP = 0.0083,
        };
    }

    /// <summary>Two columns: SSIM (one clip non-finite) and an N-way column with its chance level.</summary>
    private static EvalResult Evaluation()
    {
        var ssim = MetricCatalog.Resolve(new[] { "ssim" })[0];
        var nway = MetricCatalog.Resolve(new[] { "2way-i" })[0];
        return new EvalResult(new[] { "a", "b", "c" }, new[] { "a", "b", "c" },
            new[]
            {
                new EvalColumn("ssim", ssim, new[] { 0.5, 0.25, double.NaN }, new MetricSummary(2, 1, 0.375, 0.125, 0.25, 0.5, 0.95, 1000), null),
                new EvalColumn("2way-i", nway, new[] { 1.0, 0.5, 0.75 }, new MetricSummary(3, 0, 0.75, 0.2041, 0.5, 1.0, 0.95, 1000), 0.5),
            },
            new EvalOptions(), "pred", "gt", new Dictionary<string, string>(), 8, 64, 64);
    }

    internal static (int Code, string Stdout, string Stderr) Check(string html)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(TestEnvironment.RepoRoot, "scripts", "check-report"));
        psi.ArgumentList.Add(html);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("scripts/check-report did not finish within 2 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static JsonElement Summary(string stdout) => JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;

    [Fact]
    public void A_written_report_opens_cleanly_in_Chromium_with_every_image_decoded_even_after_the_run_folder_moves()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var run = tmp.File("run");
        var (content, images) = RunFolder(run);
        RunReport.Write(Path.Combine(run, RunReport.FileName), content, overwrite: false, Log);

        var moved = tmp.File("moved run");
        Directory.Move(run, moved);
        var (code, stdout, stderr) = Check(Path.Combine(moved, RunReport.FileName));

        Assert.True(code == 0, $"check-report failed ({code}): {stderr}\n{stdout}");
        var summary = Summary(stdout);
        Assert.True(summary.GetProperty("ok").GetBoolean());
        Assert.Equal(images, summary.GetProperty("images").GetInt32());
        Assert.Equal(0, summary.GetProperty("errors").GetArrayLength());
        Assert.Equal("mindanim demo", summary.GetProperty("title").GetString());
    }

    [Fact]
    public void The_checker_fails_on_a_deleted_and_a_corrupt_image_naming_both()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var (content, _) = RunFolder(tmp.Path);
        var html = tmp.File(RunReport.FileName);
        RunReport.Write(html, content, overwrite: false, Log);
        File.Delete(tmp.File("gt/test-0002.gif"));
        File.WriteAllBytes(tmp.File("train/loss.png"), "not a png at all"u8.ToArray());

        var (code, stdout, stderr) = Check(html);

        Assert.True(code == 1, $"check-report should report a broken page (exit 1), got {code}: {stderr}\n{stdout}");
        var errors = Summary(stdout).GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.StartsWith("image did not load or decode: gt/test-0002.gif", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("image did not load or decode: train/loss.png", StringComparison.Ordinal));
        Assert.Contains("gt/test-0002.gif", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(errors, e => e.Contains("recon", StringComparison.Ordinal));
    }

    [Fact]
    public void The_checker_fails_on_script_errors_console_errors_external_requests_and_an_empty_body()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var broken = tmp.File("broken.html");
        File.WriteAllText(broken, """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>b</title></head><body><p>text</p>
            <img src="https://example.invalid/remote.png" alt="">
            <script>console.error('logged problem'); throw new Error('thrown problem');</script>
            </body></html>
            """);
        var empty = tmp.File("empty.html");
        File.WriteAllText(empty, "<!DOCTYPE html><html><head><title>e</title></head><body></body></html>");

        var (code, stdout, stderr) = Check(broken);
        Assert.True(code == 1, $"expected exit 1, got {code}: {stderr}\n{stdout}");
        var errors = Summary(stdout).GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.StartsWith("page error:", StringComparison.Ordinal) && e.Contains("thrown problem", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("console error: logged problem", StringComparison.Ordinal));
        Assert.Contains("external request: https://example.invalid/remote.png", errors);

        (code, stdout, stderr) = Check(empty);
        Assert.True(code == 1, $"expected exit 1, got {code}: {stderr}\n{stdout}");
        Assert.Contains("the page body is empty", Summary(stdout).GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Config_and_every_user_string_are_HTML_escaped()
    {
        using var tmp = TestEnvironment.NewTempDir();
        VideoFiles.WriteGif(tmp.File("a&b.gif"), MovingSquare("x", 1), 4, false);
        var content = new RunReportContent
        {
            Title = "<i>title</i>",
            Provenance = new[] { new ReportFact("command", "mindanim demo --out \"a<b\"") },
            Clips = new[] { new ReportClip("<b>id</b>", "caption </figcaption><script>", null, "a&b.gif") },
            Tables = new[] { new ReportTable("t<", new[] { "h&" }, new[] { new[] { "<td>" } }, "note <br>") },
            ConfigYaml = "name: \"<script>alert('x')</script>\"\nlabel: a & b\n",
        };
        var html = tmp.File("report.html");
        RunReport.Write(html, content, false, Log);
        var text = File.ReadAllText(html);

        Assert.DoesNotContain("<script", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<i>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<br>", text, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", text, StringComparison.Ordinal);
        Assert.Contains("label: a &amp; b\n", text, StringComparison.Ordinal);
        Assert.Contains("&lt;b&gt;id&lt;/b&gt;", text, StringComparison.Ordinal);
        Assert.Contains("src=\"a%26b.gif\"", text, StringComparison.Ordinal);
        Assert.Contains("&quot;a&lt;b&quot;", text, StringComparison.Ordinal);
        Assert.Contains("<td>&lt;td&gt;</td>", text, StringComparison.Ordinal);
    }

    [Fact]
    public void An_existing_report_is_replaced_only_with_overwrite()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var html = tmp.File("report.html");
        RunReport.Write(html, new RunReportContent { Title = "first" }, false, Log);

        var e = Assert.Throws<OutputExistsException>(() => RunReport.Write(html, new RunReportContent { Title = "second" }, false, Log));
        Assert.Contains(html, e.Message, StringComparison.Ordinal);
        Assert.Contains("<title>first</title>", File.ReadAllText(html), StringComparison.Ordinal);

        RunReport.Write(html, new RunReportContent { Title = "second" }, true, Log);
        Assert.Contains("<title>second</title>", File.ReadAllText(html), StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(tmp.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_missing_absolute_or_non_image_file_fails_at_write_time_naming_it_and_writes_nothing()
    {
        using var tmp = TestEnvironment.NewTempDir();
        VideoFiles.WriteGif(tmp.File("ok.gif"), MovingSquare("x", 1), 4, false);
        File.WriteAllText(tmp.File("notes.txt"), "hello");
        var html = tmp.File("report.html");
        RunReportContent With(string? gt, string recon, string? figure = null) => new()
        {
            Title = "t",
            Clips = new[] { new ReportClip("c1", null, gt, recon) },
            Figures = figure is null ? Array.Empty<ReportFigure>() : new[] { new ReportFigure("loss", figure) },
        };

        var missing = Assert.Throws<MindAnimatorException>(() => RunReport.Write(html, With("gt/c1.gif", "ok.gif"), false, Log));
        Assert.Contains(tmp.File("gt/c1.gif"), missing.Message, StringComparison.Ordinal);
        Assert.Contains("ground truth of clip 'c1'", missing.Message, StringComparison.Ordinal);

        var absolute = Assert.Throws<MindAnimatorException>(() => RunReport.Write(html, With(null, tmp.File("ok.gif")), false, Log));
        Assert.Contains("relative to the report's folder", absolute.Message, StringComparison.Ordinal);

        var notImage = Assert.Throws<DataFormatException>(() => RunReport.Write(html, With(null, "ok.gif", "notes.txt"), false, Log));
        Assert.Equal(tmp.File("notes.txt"), notImage.FilePath);
        Assert.Contains("figure 'loss'", notImage.Message, StringComparison.Ordinal);

        Assert.False(File.Exists(html));
        Assert.Equal(new[] { "notes.txt", "ok.gif" }, Directory.GetFiles(tmp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_metric_table_shows_mean_std_CI_clips_and_chance_alike_from_the_result_and_from_results_json()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var result = Evaluation();
        var (json, _) = EvalReport.Write(tmp.Path, result, false);

        var fromResult = ReportTables.FromEval(result);
        var fromFile = ReportTables.ReadEvalResults(json);

        Assert.Equal(new[] { "Metric", "Mean ± std", "CI of the mean", "Clips", "Chance" }, fromResult.Header);
        Assert.Equal(new[] { "ssim ↑", "0.375 ± 0.125", "0.25 – 0.5", "2 (1 non-finite left out)", "" }, fromResult.Rows[0]);
        Assert.Equal(new[] { "2way-i ↑", "0.75 ± 0.2041", "0.5 – 1", "3", "0.5" }, fromResult.Rows[1]);
        Assert.Contains("95% (1000 resamples)", fromResult.Note, StringComparison.Ordinal);
        Assert.Equal(fromResult.Header, fromFile.Header);
        Assert.Equal(fromResult.Rows.Select(r => string.Join('|', r)), fromFile.Rows.Select(r => string.Join('|', r)));

        var wrong = new JsonObject { ["format"] = "something-else/1" };
        var e = Assert.Throws<DataFormatException>(() => ReportTables.FromEvalJson(wrong, "x/results.json"));
        Assert.Contains("mindanim-eval/1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_permutation_table_reads_what_permtest_writes()
    {
        using var tmp = TestEnvironment.NewTempDir();
        FrameShuffleReport.Write(tmp.Path, ShuffleResult(), false);

        var table = ReportTables.ReadPermutationTest(tmp.File("permtest.json"));

        Assert.Single(table.Rows);
        Assert.Equal(new[] { "ssim ↑", "0.505", "200 × 3 repeats", "0.005 ± 0.004082", "0.0083", "1 of 2" }, table.Rows[0]);
        Assert.StartsWith("p: share of permutations", table.Note, StringComparison.Ordinal);
    }
}
