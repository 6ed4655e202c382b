using System.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;

namespace MindAnimator.Data.Video;

/// <summary>How clips are cut from a movie: CC2017 takes frames 0, 8, …, 56 of every 60 (2 s at 30 fps).</summary>
/// <param name="FramesPerClip">Frames kept per clip (8).</param>
/// <param name="SourceFramesPerClip">Source frames per clip (fps × clip seconds = 60).</param>
/// <param name="FrameStep">Distance between kept source frames (8, ≈ 3.75 Hz).</param>
public sealed record ClipSampling(int FramesPerClip = 8, int SourceFramesPerClip = 60, int FrameStep = 8)
{
    /// <summary>True when source frame <paramref name="n"/> is one of the kept frames.</summary>
    public bool Keeps(long n)
    {
        var offset = n % SourceFramesPerClip;
        return offset % FrameStep == 0 && offset / FrameStep < FramesPerClip;
    }
}

/// <summary>Reads movies through ffmpeg and writes clips as GIF (ImageSharp) and MP4 (ffmpeg, libx264).</summary>
public static class VideoFiles
{
    /// <summary>Fails with the install command when ffmpeg is not on PATH.</summary>
    public static void EnsureFfmpeg()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("ffmpeg", "-version") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode == 0)
            {
                return;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
        throw new MindAnimatorException("ffmpeg is required to read and write videos but was not found on PATH; install it with `sudo apt-get install ffmpeg` (or run scripts/setup.sh).");
    }

    /// <summary>
    /// Decodes <paramref name="path"/>, keeps the frames <paramref name="sampling"/> selects, resizes them to
    /// size × size and yields one clip per <c>SourceFramesPerClip</c> source frames (a trailing partial clip is dropped).
    /// Streams: memory stays at one clip whatever the movie's length.
    /// </summary>
    public static IReadOnlyList<ClipFrames> ReadClips(string path, ClipSampling sampling, int size, Func<int, string> clipId)
    {
        var clips = new List<ClipFrames>();
        ForEachClip(path, sampling, size, clipId, clips.Add);
        return clips;
    }

    /// <summary>As <see cref="ReadClips"/>, handing each clip to <paramref name="onClip"/> as soon as it is decoded (long movies at 512 × 512 do not fit in memory).</summary>
    public static void ForEachClip(string path, ClipSampling sampling, int size, Func<int, string> clipId, Action<ClipFrames> onClip)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: video file not found.");
        }
        EnsureFfmpeg();
        var frameBytes = size * size * 3;
        var count = 0;
        var current = new byte[sampling.FramesPerClip * frameBytes];
        var framesInClip = 0;
        var sink = new FrameSink(frameBytes, frame =>
        {
            frame.CopyTo(current.AsSpan(framesInClip * frameBytes));
            framesInClip++;
            if (framesInClip == sampling.FramesPerClip)
            {
                onClip(new ClipFrames(clipId(count), sampling.FramesPerClip, size, size, current));
                count++;
                current = new byte[sampling.FramesPerClip * frameBytes];
                framesInClip = 0;
            }
        });
        var select = $"select='lt(mod(n\\,{sampling.SourceFramesPerClip})\\,{((sampling.FramesPerClip - 1) * sampling.FrameStep) + 1})*not(mod(mod(n\\,{sampling.SourceFramesPerClip})\\,{sampling.FrameStep}))'";
        var (code, error) = RunFfmpeg(
            ["-v", "error", "-nostdin", "-i", path, "-vf", $"{select},scale={size}:{size}:flags=area", "-fps_mode", "passthrough", "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1"],
            stdin: null, stdout: s => s.CopyTo(sink, 1 << 20));
        if (code != 0)
        {
            throw new DataFormatException(path, $"ffmpeg could not decode the video ({FirstLine(error)}).");
        }
    }

    /// <summary>Writes a clip as an animated GIF looping forever, played at <paramref name="fps"/>.</summary>
    public static void WriteGif(string path, ClipFrames clip, double fps, bool overwrite)
    {
        using var image = ToImage(clip);
        var delay = (int)Math.Round(100.0 / fps);
        image.Metadata.GetGifMetadata().RepeatCount = 0;
        foreach (var frame in image.Frames)
        {
            frame.Metadata.GetGifMetadata().FrameDelay = delay;
        }
        AtomicWrite(path, overwrite, tmp => image.SaveAsGif(tmp, new GifEncoder()));
    }

    /// <summary>Reads every frame of a GIF (or any image ImageSharp reads) as a clip.</summary>
    public static ClipFrames ReadImageFrames(string path, string clipId)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: image file not found.");
        }
        try
        {
            using var image = Image.Load<Rgb24>(path);
            var (w, h, n) = (image.Width, image.Height, image.Frames.Count);
            var rgb = new byte[n * w * h * 3];
            for (var f = 0; f < n; f++)
            {
                image.Frames[f].CopyPixelDataTo(rgb.AsSpan(f * w * h * 3, w * h * 3));
            }
            return new ClipFrames(clipId, n, h, w, rgb);
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException)
        {
            throw new DataFormatException(path, $"not a readable image ({e.Message}).", e);
        }
    }

    /// <summary>Writes an H.264 MP4 (yuv420p, playable everywhere).</summary>
    public static void WriteMp4(string path, ClipFrames clip, double fps, bool overwrite)
    {
        EnsureFfmpeg();
        var rate = fps.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        AtomicWrite(path, overwrite, tmp =>
        {
            var (code, error) = RunFfmpeg(
                ["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", $"{clip.Width}x{clip.Height}", "-r", rate, "-i", "pipe:0",
                 "-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "mp4", tmp],
                stdin: s => s.Write(clip.Rgb), stdout: null);
            if (code != 0)
            {
                throw new MindAnimatorException($"{path}: ffmpeg could not encode the clip ({FirstLine(error)}).");
            }
        });
    }

    /// <summary>
    /// Runs ffmpeg with raw data on its standard streams; returns the exit code and standard error. Plain pipes
    /// rather than named pipes: every byte ffmpeg writes has been consumed when this returns.
    /// </summary>
    private static (int Code, string Error) RunFfmpeg(IEnumerable<string> args, Action<Stream>? stdin, Action<Stream>? stdout)
    {
        var psi = new ProcessStartInfo("ffmpeg")
        {
            RedirectStandardInput = stdin is not null,
            RedirectStandardOutput = stdout is not null,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi) ?? throw new MindAnimatorException("could not start ffmpeg");
        var error = process.StandardError.ReadToEndAsync();
        var writer = stdin is null ? Task.CompletedTask : Task.Run(() =>
        {
            try
            {
                stdin(process.StandardInput.BaseStream);
            }
            catch (IOException)
            {
                // ffmpeg stopped reading (it failed); its exit code and message say why.
            }
            finally
            {
                process.StandardInput.Close();
            }
        });
        stdout?.Invoke(process.StandardOutput.BaseStream);
        writer.GetAwaiter().GetResult();
        process.WaitForExit();
        return (process.ExitCode, error.GetAwaiter().GetResult());
    }

    private static Image<Rgb24> ToImage(ClipFrames clip)
    {
        var image = Image.LoadPixelData<Rgb24>(clip.Frame(0), clip.Width, clip.Height);
        for (var f = 1; f < clip.Frames; f++)
        {
            using var frame = Image.LoadPixelData<Rgb24>(clip.Frame(f), clip.Width, clip.Height);
            image.Frames.AddFrame(frame.Frames.RootFrame);
        }
        return image;
    }

    private static void AtomicWrite(string path, bool overwrite, Action<string> write)
    {
        if (File.Exists(path) && !overwrite)
        {
            throw new MindAnimatorException($"{path}: exists; pass --force to overwrite it.");
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var tmp = Path.Combine(dir, $".{Path.GetFileNameWithoutExtension(path)}.{Environment.ProcessId}.tmp{Path.GetExtension(path)}");
        try
        {
            write(tmp);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp))
            {
                File.Delete(tmp);
            }
        }
    }

    private static string FirstLine(string s) => s.Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? s;

    /// <summary>A write-only stream that cuts ffmpeg's raw output into frames.</summary>
    private sealed class FrameSink : Stream
    {
        private readonly byte[] _frame;
        private readonly Action<byte[]> _onFrame;
        private int _filled;

        public FrameSink(int frameBytes, Action<byte[]> onFrame)
        {
            _frame = new byte[frameBytes];
            _onFrame = onFrame;
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            while (buffer.Length > 0)
            {
                var n = Math.Min(buffer.Length, _frame.Length - _filled);
                buffer[..n].CopyTo(_frame.AsSpan(_filled));
                _filled += n;
                buffer = buffer[n..];
                if (_filled == _frame.Length)
                {
                    _onFrame(_frame);
                    _filled = 0;
                }
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
