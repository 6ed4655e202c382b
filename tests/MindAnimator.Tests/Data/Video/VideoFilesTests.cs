using System.Diagnostics;
using MindAnimator.Data;
using MindAnimator.Data.Video;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Data.Video;

public class VideoFilesTests
{
    /// <summary>A 30 fps movie whose frame n has luma 16 + 1.5n (video range), made with ffmpeg's test sources.</summary>
    private static string MakeCountingMovie(TempDir tmp, double seconds, int size = 64)
    {
        var path = tmp.File("movie.mp4");
        var psi = new ProcessStartInfo("ffmpeg")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var a in new[]
        {
            "-v", "error", "-f", "lavfi", "-i", $"color=c=black:s={size}x{size}:r=30:d={seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
            "-vf", "geq=lum='16+1.5*N':cb=128:cr=128", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", path,
        })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
        return path;
    }

    private static int SourceFrameOf(ClipFrames clip, int f)
    {
        var frame = clip.Frame(f);
        double mean = 0;
        foreach (var b in frame)
        {
            mean += b;
        }
        // RGB grey = (Y − 16)·255/219 for video-range luma.
        return (int)Math.Round(mean / frame.Length * 219.0 / 255.0 / 1.5);
    }

    [Fact]
    public void ReadClipsKeepsFrames0To56EveryEighthOfEach60()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var movie = MakeCountingMovie(tmp, seconds: 4.5);
        var clips = VideoFiles.ReadClips(movie, new ClipSampling(), 32, i => $"seg1-clip{i:D4}");
        Assert.Equal(2, clips.Count); // 135 frames: two whole 60-frame clips, the partial third is dropped
        Assert.Equal("seg1-clip0001", clips[1].ClipId);
        for (var c = 0; c < 2; c++)
        {
            Assert.Equal((8, 32, 32), (clips[c].Frames, clips[c].Height, clips[c].Width));
            for (var f = 0; f < 8; f++)
            {
                Assert.InRange(SourceFrameOf(clips[c], f), (60 * c) + (8 * f) - 1, (60 * c) + (8 * f) + 1);
            }
        }
    }

    [Fact]
    public void SamplingSelectsTheOfficialIndices()
    {
        var s = new ClipSampling();
        var kept = Enumerable.Range(0, 120).Where(n => s.Keeps(n)).ToArray();
        Assert.Equal(new[] { 0, 8, 16, 24, 32, 40, 48, 56, 60, 68, 76, 84, 92, 100, 108, 116 }, kept);
    }

    [Fact]
    public void GifRoundTripsFramesAndRefusesToOverwrite()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var rgb = new byte[8 * 16 * 16 * 3];
        for (var f = 0; f < 8; f++)
        {
            rgb.AsSpan(f * 768, 768).Fill((byte)(f * 30));
        }
        var clip = new ClipFrames("c", 8, 16, 16, rgb);
        var gif = tmp.File("c.gif");
        VideoFiles.WriteGif(gif, clip, fps: 4, overwrite: false);
        var back = VideoFiles.ReadImageFrames(gif, "c");
        Assert.Equal((8, 16, 16), (back.Frames, back.Height, back.Width));
        for (var f = 0; f < 8; f++)
        {
            Assert.InRange(back.Frame(f)[0], (f * 30) - 2, (f * 30) + 2);
        }
        var e = Assert.Throws<MindAnimatorException>(() => VideoFiles.WriteGif(gif, clip, 4, overwrite: false));
        Assert.Contains("--force", e.Message);
        Assert.Empty(Directory.GetFiles(tmp.Path, "*.tmp*"));
    }

    [Fact]
    public void Mp4RoundTripsThroughFfmpeg()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var rgb = new byte[60 * 32 * 32 * 3];
        for (var f = 0; f < 60; f++)
        {
            rgb.AsSpan(f * 3072, 3072).Fill((byte)(f * 4));
        }
        var mp4 = tmp.File("c.mp4");
        VideoFiles.WriteMp4(mp4, new ClipFrames("c", 60, 32, 32, rgb), fps: 30, overwrite: false);
        var back = VideoFiles.ReadClips(mp4, new ClipSampling(), 32, _ => "c");
        Assert.Single(back);
        Assert.InRange(back[0].Frame(3)[100], (24 * 4) - 6, (24 * 4) + 6);
    }

    [Fact]
    public void CorruptVideoIsAClearError()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var bad = tmp.File("bad.mp4");
        File.WriteAllBytes(bad, new byte[] { 0, 1, 2, 3, 4, 5 });
        var e = Assert.Throws<DataFormatException>(() => VideoFiles.ReadClips(bad, new ClipSampling(), 16, i => i.ToString()));
        Assert.Contains(bad, e.Message);
        var missing = Assert.Throws<MindAnimatorException>(() => VideoFiles.ReadClips(tmp.File("none.mp4"), new ClipSampling(), 16, i => i.ToString()));
        Assert.Contains("not found", missing.Message);
    }
}
