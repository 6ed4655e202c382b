using System.Text.Json;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Evaluation;
using MindAnimator.Runs;
using MindAnimator.Tests.Cli;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Evaluation;

public class FrameShuffleTests
{
    /// <summary>A smooth random texture panning by (2, 1) pixels a frame: clear, unambiguous optical flow.</summary>
    internal static ClipFrames Panning(string id, int seed, int frames = 8, int size = 32)
    {
        var rng = new Random(seed);
        var big = size + (3 * frames);
        var noise = new double[big * big * 3];
        for (var i = 0; i < noise.Length; i++)
        {
            noise[i] = rng.NextDouble() * 255;
        }
        var smooth = new byte[big * big * 3];
        for (var y = 0; y < big; y++)
        {
            for (var x = 0; x < big; x++)
            {
                for (var c = 0; c < 3; c++)
                {
                    double s = 0;
                    var n = 0;
                    for (var dy = -2; dy <= 2; dy++)
                    {
                        for (var dx = -2; dx <= 2; dx++)
                        {
                            var yy = Math.Clamp(y + dy, 0, big - 1);
                            var xx = Math.Clamp(x + dx, 0, big - 1);
                            s += noise[(((yy * big) + xx) * 3) + c];
                            n++;
                        }
                    }
                    smooth[(((y * big) + x) * 3) + c] = (byte)(s / n);
                }
            }
        }
        var rgb = new byte[frames * size * size * 3];
        for (var f = 0; f < frames; f++)
        {
            for (var y = 0; y < size; y++)
            {
                Array.Copy(smooth, ((((y + f) * big) + (2 * f)) * 3), rgb, (((f * size) + y) * size) * 3, size * 3);
            }
        }
        return new ClipFrames(id, frames, size, size, rgb);
    }

    private static ClipFrames Frozen(ClipFrames clip)
    {
        var rgb = new byte[clip.Rgb.Length];
        for (var f = 0; f < clip.Frames; f++)
        {
            clip.Frame(0).CopyTo(rgb.AsSpan(f * clip.FrameBytes));
        }
        return clip with { Rgb = rgb };
    }

    private static ClipFrames Permute(ClipFrames clip, int[] perm)
    {
        var rgb = new byte[clip.Rgb.Length];
        for (var i = 0; i < perm.Length; i++)
        {
            clip.Frame(perm[i]).CopyTo(rgb.AsSpan(i * clip.FrameBytes));
        }
        return clip with { Rgb = rgb };
    }

    [Fact]
    public void CachedPairFlows_GiveExactlyTheEpeOfThePermutedClip()
    {
        var gt = Panning("a", 1);
        var pred = Panning("a", 2);
        var scorer = FrameShuffleTest.PairScorer(pred, gt, "epe");
        var perm = new[] { 3, 0, 7, 1, 6, 2, 5, 4 };
        Assert.Equal(OpticalFlowEpe.ClipEpe(Permute(pred, perm), gt), scorer(perm), 10);
        Assert.Equal(OpticalFlowEpe.ClipEpe(pred, gt), scorer(Enumerable.Range(0, 8).ToArray()), 10);
    }

    [Fact]
    public void MotionInOrder_IsSignificant_FrozenFramesAreNot()
    {
        var gt = Enumerable.Range(0, 6).Select(i => Panning($"c{i}", 10 + i)).ToList();
        var settings = new FrameShuffleSettings("epe", Permutations: 40, Repeats: 2, Seed: 5);
        var moving = FrameShuffleTest.Run(ClipSources.FromMemory(gt, "pred"), ClipSources.FromMemory(gt, "gt"), settings, NullProgress.Instance);
        Assert.True(moving.OverallMeanP < 0.05, $"p = {moving.OverallMeanP}");
        Assert.True(moving.OverallConservativeP < 0.05, $"conservative p = {moving.OverallConservativeP}");
        Assert.All(moving.Clips, c => Assert.True(c.MeanP < 0.2, $"{c.ClipId}: p = {c.MeanP}"));

        var frozen = FrameShuffleTest.Run(ClipSources.FromMemory(gt.Select(Frozen), "pred"), ClipSources.FromMemory(gt, "gt"), settings, NullProgress.Instance);
        Assert.Equal(1.0, frozen.OverallMeanP);
        Assert.All(frozen.Clips, c => Assert.Equal(1.0, c.MeanP));

        var again = FrameShuffleTest.Run(ClipSources.FromMemory(gt, "pred"), ClipSources.FromMemory(gt, "gt"), settings, NullProgress.Instance);
        Assert.Equal(moving.PermutedMeans, again.PermutedMeans);
    }

    [Theory]
    [InlineData("epe", -0.2, true)]
    [InlineData("epe", 0.2, false)]
    [InlineData("epe", 0.0, false)]
    [InlineData("ssim", 0.2, true)]
    [InlineData("ssim", -0.2, false)]
    public void MotionIsCreditedToTheFmri_OnlyWhenTheOwnReconstructionsBeatTheirControlsClipByClip(string metric, double ownMinusControl, bool credited)
    {
        // Both frame-order tests are significant (p = 0): that alone must never credit the fMRI.
        var settings = new FrameShuffleSettings(metric, 100, 1, 1);
        var random = new Random(5);
        var control = Enumerable.Range(0, 60).Select(i => new ClipShuffleResult($"c{i}", 1 + random.NextDouble(), new[] { 0.0 })).ToList();
        var own = control.Select((c, i) => c with { Score = c.Score + ownMinusControl + (0.05 * (random.NextDouble() - 0.5)) }).ToList();
        FrameShuffleResult Result(IReadOnlyList<ClipShuffleResult> clips) => new(settings, clips, clips.Average(c => c.Score), new[] { 0.0 }, Array.Empty<double>());

        var comparison = FmriShuffleComparison.Compare(Result(own), Result(control));

        Assert.Equal(credited, comparison.MotionFromFmri);
    }

    [Fact]
    public void FrameMetrics_AreHigherIsBetter()
    {
        var gt = Enumerable.Range(0, 4).Select(i => Panning($"c{i}", 30 + i)).ToList();
        var result = FrameShuffleTest.Run(ClipSources.FromMemory(gt, "pred"), ClipSources.FromMemory(gt, "gt"), new FrameShuffleSettings("ssim", 30, 1, 1), NullProgress.Instance);
        Assert.Equal(1.0, result.MeanScore, 9);
        Assert.True(result.OverallMeanP < 0.05);
        Assert.Contains("not supported", Assert.Throws<MindAnimatorException>(() =>
            FrameShuffleTest.Run(ClipSources.FromMemory(gt, "p"), ClipSources.FromMemory(gt, "g"), new FrameShuffleSettings("clip-pcc", 3, 1, 1), NullProgress.Instance)).Message);
    }

    [Fact]
    public void Cli_WritesJsonCsvAndHistogram_AndListsMismatchedClips()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var gt = Enumerable.Range(0, 3).Select(i => Panning($"c{i}", 50 + i)).ToList();
        ClipStore.Write(tmp.File("gt"), gt, overwrite: false);
        ClipStore.Write(tmp.File("pred"), gt, overwrite: false);
        var r = CliProcess.Run("permtest", "--pred", tmp.File("pred"), "--gt", tmp.File("gt"), "--out", tmp.File("out"), "--permutations", "20", "--repeats", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp.File("out"), "permtest.json")));
        Assert.Equal(3, json.RootElement.GetProperty("clips").GetInt32());
        Assert.True(json.RootElement.GetProperty("overall").GetProperty("p_mean").GetDouble() < 0.05);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(tmp.File("out"), "per_clip.csv")).Length);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(tmp.File("out"), "histogram.png"))[..4]);

        ClipStore.Write(tmp.File("other"), gt.Take(2).Append(Panning("zz", 9)), overwrite: false);
        var bad = CliProcess.Run("permtest", "--pred", tmp.File("other"), "--gt", tmp.File("gt"), "--out", tmp.File("out2"));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("zz", bad.Stderr);
        Assert.False(Directory.Exists(tmp.File("out2")));
    }
}
