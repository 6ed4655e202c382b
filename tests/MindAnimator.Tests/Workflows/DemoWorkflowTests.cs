using System.Text.Json;
using MindAnimator.Config;
using MindAnimator.Reconstruction;
using MindAnimator.Runs;
using MindAnimator.Tests.Infrastructure;
using MindAnimator.Tests.Reporting;
using MindAnimator.Workflows;
using Serilog.Core;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Workflows;

/// <summary>The whole demo, shrunk (fewer clips, epochs and diffusion steps), with the shipped demo prior.</summary>
public sealed class DemoWorkflowTests : IDisposable
{
    private readonly TempDir _dir = TestEnvironment.NewTempDir();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void EveryStageRuns_WithTheShippedPrior_AndTheReportOpensCleanlyInChromium()
    {
        Assert.True(Directory.Exists(ModelFolders.DemoPrior), $"the demo prior is not beside the test binaries: {ModelFolders.DemoPrior}");
        var demo = ConfigLoader.Load(null);
        var few = demo.Semantic.Training with { Epochs = 3 };
        var config = demo with
        {
            Simulation = demo.Simulation with { TrainSegments = 2, TestSegments = 1, ClipsPerSegment = 24 },
            Preprocess = demo.Preprocess with { SelectVoxels = 300 },
            Semantic = demo.Semantic with { Training = few },
            Structure = demo.Structure with { Training = demo.Structure.Training with { Epochs = 3 } },
            Motion = demo.Motion with { Training = demo.Motion.Training with { Epochs = 3 } },
            Diffusion = demo.Diffusion with { InversionSteps = 2, SamplingSteps = 2, BatchSize = 12 },
            Eval = demo.Eval with { BootstrapResamples = 50, Trials = 4 },
            Permtest = demo.Permtest with { Permutations = 10, Repeats = 2 },
        };
        var run = _dir.File("demo");
        Directory.CreateDirectory(run);
        var result = DemoWorkflow.Run(config, run, force: false, CPU, NullProgress.Instance, Logger.None);

        var o = result.Outputs;
        var testClips = result.Eval.ClipIds;
        Assert.Equal(24, testClips.Count);
        foreach (var id in testClips)
        {
            Assert.True(File.Exists(VideoReconstructor.FramesPath(Path.Combine(run, o.Reconstructions), id)), id);
            Assert.True(File.Exists(VideoReconstructor.FramesPath(Path.Combine(run, o.ControlReconstructions), id)), id);
            Assert.True(File.Exists(VideoReconstructor.FramesPath(Path.Combine(run, o.AblationReconstructions), id)), id);
        }
        // Fewer than 52 distinct test captions: the 50-way metrics are left out, the others are all there.
        var columns = result.Eval.Columns.Select(c => c.Name).ToHashSet();
        foreach (var name in new[] { "ssim", "psnr", "hue-pcc", "clip-pcc", "vifi", "epe", "2way-i", "2way-v" })
        {
            Assert.Contains(name, columns);
        }
        Assert.DoesNotContain("50way-i", columns);
        // Simulated data: the motion read-out of the fMRI ("brain") follows the three decoders.
        Assert.Equal(new[] { "semantic", "structure", "motion", "brain" }, result.DecoderScores.Select(s => s.Decoder).Distinct());
        using (var scores = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, o.DecoderScores))))
        {
            Assert.Equal(result.DecoderScores.Count, scores.RootElement.GetProperty("scores").GetArrayLength());
        }
        Assert.Equal(testClips, result.Permtest.Own.Clips.Select(c => c.ClipId));
        using (var control = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, o.Permtest, "control.json"))))
        {
            Assert.Equal(result.Permtest.MotionFromFmri, control.RootElement.GetProperty("motion_from_fmri").GetBoolean());
        }
        Assert.Equal(testClips, result.WithoutMotionDecoder.Clips.Select(c => c.ClipId));
        Assert.True(File.Exists(Path.Combine(run, o.AblationPermtest, "permtest.json")));

        var (code, stdout, stderr) = RunReportTests.Check(Path.Combine(run, o.Report));
        Assert.True(code == 0, $"check-report failed ({code}): {stderr}\n{stdout}");
        using var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        // Ground truth and reconstruction per test clip, 3 loss curves, 3 histograms (own fMRI, control, ablation).
        Assert.Equal((2 * testClips.Count) + 6, summary.RootElement.GetProperty("images").GetInt32());
    }
}
