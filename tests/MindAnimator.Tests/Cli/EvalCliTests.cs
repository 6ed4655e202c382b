using System.Text.Json.Nodes;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Video;
using MindAnimator.Tests.Evaluation;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Cli;

/// <summary>`mindanim eval` as a user runs it: success, outputs, and the bad-input errors (exit 1, one clear line).</summary>
public class EvalCliTests
{
    private static ClipFrames[] Clips(int seed, int count = 3, int frames = 3, int size = 16) =>
        Enumerable.Range(0, count).Select(i => ClipEvaluatorTests.NoisyClip($"test-{i:D3}", seed + i, frames, size)).ToArray();

    [Fact]
    public void Eval_of_clip_stores_prints_a_table_and_writes_json_and_csv()
    {
        using var dir = TestEnvironment.NewTempDir();
        var gt = Clips(1);
        ClipStore.Write(dir.File("gt"), gt, overwrite: false);
        ClipStore.Write(dir.File("pred"), gt.Select((c, i) => i == 0 ? c : ClipEvaluatorTests.NoisyClip(c.ClipId, 50 + i)).ToArray(), overwrite: false);
        var r = CliProcess.Run("eval", "--pred", dir.File("pred"), "--gt", dir.File("gt"), "--metrics", "ssim,psnr,hue-pcc,epe", "--out", dir.File("out"), "--set", "eval.bootstrap_resamples=50");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Contains("ssim", r.Stdout);
        Assert.Contains("Evaluation_Metrics/EPE.py", r.Stdout);
        var json = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir.File("out"), "results.json")))!;
        Assert.Equal("mindanim-eval/1", json["format"]!.GetValue<string>());
        Assert.Equal(3, json["clips"]!.GetValue<int>());
        Assert.Contains("hue_pcc.py", json["metrics"]!["hue-pcc"]!["official_script"]!.GetValue<string>());
        Assert.Equal(100.0, json["per_clip"]!["psnr"]![0]!.GetValue<double>());
        var csv = File.ReadAllLines(Path.Combine(dir.File("out"), "per_clip.csv"));
        Assert.Equal("clip_id,ground_truth_id,ssim,psnr,hue-pcc,epe", csv[0]);
        Assert.Equal(4, csv.Length);

        // Compare the method with itself shifted: the other results file must hold the same clips.
        var again = CliProcess.Run("eval", "--pred", dir.File("gt"), "--gt", dir.File("gt"), "--metrics", "ssim,psnr", "--compare", Path.Combine(dir.File("out"), "results.json"));
        Assert.True(again.ExitCode == 0, again.Stderr + again.Stdout);
        Assert.Contains("Wilcoxon", again.Stdout);
    }

    [Fact]
    public void Eval_of_side_by_side_gifs_with_default_metrics_skips_unconfigured_models()
    {
        using var dir = TestEnvironment.NewTempDir();
        Directory.CreateDirectory(dir.File("sbs"));
        foreach (var c in Clips(3, count: 2, size: 16))
        {
            VideoFiles.WriteGif(Path.Combine(dir.File("sbs"), c.ClipId + ".gif"), c, 4, false);
        }
        // No --metrics: eval.metrics minus those whose models are not configured, with a warning naming them.
        var r = CliProcess.Run("eval", "--side-by-side", dir.File("sbs"));
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Contains("side-by-side", r.Stdout);
        Assert.Contains("epe", r.Stdout);
        Assert.Contains("skipping clip-pcc, 2way-i", r.Stdout + r.Stderr);
    }

    [Fact]
    public void Missing_classifier_names_the_model_to_download_and_the_config_key()
    {
        using var dir = TestEnvironment.NewTempDir();
        ClipStore.Write(dir.File("gt"), Clips(1), overwrite: false);
        var r = CliProcess.Run("eval", "--pred", dir.File("gt"), "--gt", dir.File("gt"), "--metrics", "ssim,2way-i,vifi");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("google/vit-base-patch16-224", r.Stderr);
        Assert.Contains("eval.models.image_classifier", r.Stderr);
        Assert.Contains("--image-classifier", r.Stderr);
        Assert.Contains("ViFi-CLIP", r.Stderr);
        Assert.DoesNotContain("internal error", r.Stderr);
        var folder = CliProcess.Run("eval", "--pred", dir.File("gt"), "--gt", dir.File("gt"), "--metrics", "2way-v", "--video-classifier", dir.File("nowhere"));
        Assert.Equal(1, folder.ExitCode);
        Assert.Contains(dir.File("nowhere"), folder.Stderr);
        Assert.Contains("MCG-NJU/videomae-base-finetuned-kinetics", folder.Stderr);
    }

    [Fact]
    public void Mismatched_clip_ids_frame_counts_and_sizes_are_listed()
    {
        using var dir = TestEnvironment.NewTempDir();
        ClipStore.Write(dir.File("gt"), Clips(1), overwrite: false);
        ClipStore.Write(dir.File("other-ids"), Clips(1).Select(c => c with { ClipId = c.ClipId.Replace("test", "x", StringComparison.Ordinal) }).ToArray(), overwrite: false);
        ClipStore.Write(dir.File("other-frames"), Clips(1, frames: 4), overwrite: false);
        ClipStore.Write(dir.File("other-size"), Clips(1, size: 24), overwrite: false);

        var ids = CliProcess.Run("eval", "--pred", dir.File("other-ids"), "--gt", dir.File("gt"), "--metrics", "ssim");
        Assert.Equal(1, ids.ExitCode);
        Assert.Contains("only in the predictions: x-000, x-001, x-002", ids.Stderr);
        Assert.Contains("only in the ground truth: test-000, test-001, test-002", ids.Stderr);
        Assert.Contains("--gt-subset", ids.Stderr);

        // A ground truth holding more clips (a dataset's whole store) serves with --gt-subset; predictions it lacks stay an error.
        ClipStore.Write(dir.File("first-two"), Clips(1).Take(2).ToArray(), overwrite: false);
        var subset = CliProcess.Run("eval", "--pred", dir.File("first-two"), "--gt", dir.File("gt"), "--gt-subset", "--metrics", "ssim", "--out", dir.File("subset-eval"));
        Assert.True(subset.ExitCode == 0, subset.Stderr);
        Assert.Equal(2, System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("subset-eval/results.json"))).RootElement.GetProperty("clips").GetInt32());
        var lacking = CliProcess.Run("eval", "--pred", dir.File("other-ids"), "--gt", dir.File("gt"), "--gt-subset", "--metrics", "ssim");
        Assert.Equal(1, lacking.ExitCode);
        Assert.Contains("x-000", lacking.Stderr);

        var frames = CliProcess.Run("eval", "--pred", dir.File("other-frames"), "--gt", dir.File("gt"), "--metrics", "ssim");
        Assert.Equal(1, frames.ExitCode);
        Assert.Contains("'test-000': prediction 4 frames 16×16, ground truth 3 frames 16×16", frames.Stderr);

        var size = CliProcess.Run("eval", "--pred", dir.File("other-size"), "--gt", dir.File("gt"), "--metrics", "ssim");
        Assert.Equal(1, size.ExitCode);
        Assert.Contains("3 clip(s)", size.Stderr);
        Assert.Contains("prediction 3 frames 24×24, ground truth 3 frames 16×16", size.Stderr);

        var unknown = CliProcess.Run("eval", "--pred", dir.File("gt"), "--gt", dir.File("gt"), "--metrics", "ssim,sharpness");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("'sharpness'", unknown.Stderr);

        var missing = CliProcess.Run("eval", "--pred", dir.File("nope"), "--gt", dir.File("gt"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("nope", missing.Stderr);
    }
}
