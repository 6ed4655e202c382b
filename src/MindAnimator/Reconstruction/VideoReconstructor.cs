using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Video;
using MindAnimator.Diffusion.Pipelines;
using MindAnimator.Evaluation;
using MindAnimator.Models.Decoders;
using MindAnimator.Runs;
using Serilog;
using static TorchSharp.torch;

namespace MindAnimator.Reconstruction;

// Mirrors Mind-Animator Reconstruction/video_recons.py (decoders → CMG greedy decode → DDIM inversion → re-noise → guided DDIM).

/// <summary>What to reconstruct and how.</summary>
public sealed record ReconstructionRequest
{
    /// <summary>Clip ids, one per row of <see cref="Fmri"/>.</summary>
    public required IReadOnlyList<string> ClipIds { get; init; }

    /// <summary>(clips, voxels) preprocessed fMRI, as the decoders were trained on.</summary>
    public required Tensor Fmri { get; init; }

    /// <summary>fMRI rows for the motion decoder only (the fMRI-shuffle control); null = <see cref="Fmri"/>.</summary>
    public Tensor? MotionFmri { get; init; }

    /// <summary>Ground truth for the side-by-side GIFs; clips it lacks get none.</summary>
    public IClipSource? GroundTruth { get; init; }

    public required string OutputFolder { get; init; }

    /// <summary>Redo clips whose outputs exist (otherwise they are skipped).</summary>
    public bool Force { get; init; }

    /// <summary>This process does the clips whose position in <see cref="ClipIds"/> is Index modulo Count.</summary>
    public (int Index, int Count) Shard { get; init; } = (0, 1);

    public int BatchSize { get; init; } = 1;

    /// <summary>Seeds each clip's re-noising noise together with its clip id, so results do not depend on batching or sharding.</summary>
    public int Seed { get; init; }

    public InferenceMask MotionMask { get; init; } = InferenceMask.Official;

    /// <summary>Ablation: repeat the decoded first-frame latent instead of decoding motion (the paper's "without the motion decoder").</summary>
    public bool WithoutMotionDecoder { get; init; }

    public ReconstructionOptions Pipeline { get; init; } = new();

    /// <summary>Playback rate of the GIF/MP4 files; the official GIFs play at 8 fps (duration 1000/8 ms).</summary>
    public double PlaybackFps { get; init; } = 8;

    public bool WriteMp4 { get; init; } = true;
}

/// <summary>Seconds spent per stage, summed over the clips done.</summary>
public sealed record ReconstructionTimings(double Decoders, double Motion, double Inversion, double Sampling, double VaeDecode, double Writing);

public sealed record ReconstructionSummary(int Requested, int Done, int Skipped, double Seconds, ReconstructionTimings Timings, string FramesFolder);

/// <summary>
/// Turns fMRI into videos: the semantic decoder's 19 tokens after the text encoder's start token are the condition;
/// the structure decoder's first-frame latent, greedily extended to all frames by the motion decoder (CMG), is
/// DDIM-inverted, re-noised and sampled with guidance by the inflated Stable Diffusion. Per clip it writes
/// frames/ID.safetensors (uint8 [F,H,W,3], what `eval` reads; written last, so its presence marks the clip done),
/// gif/ID.gif, side_by_side/ID.gif (ground truth | reconstruction) and mp4/ID.mp4 when ffmpeg is present.
/// </summary>
public static class VideoReconstructor
{
    public const string FramesFolder = "frames";
    public const string GifFolder = "gif";
    public const string SideBySideFolder = "side_by_side";
    public const string Mp4Folder = "mp4";

    public static ReconstructionSummary Run(DecoderSet decoders, InflatedSdPipeline pipeline, ReconstructionRequest request, int frames,
        IProgressReporter? progress, ILogger log)
    {
        Validate(decoders, pipeline, request);
        var output = Path.GetFullPath(request.OutputFolder);
        foreach (var folder in new[] { FramesFolder, GifFolder, SideBySideFolder, Mp4Folder })
        {
            Directory.CreateDirectory(Path.Combine(output, folder));
        }
        GuardSettings(output, decoders, request, frames);
        var mine = Enumerable.Range(0, request.ClipIds.Count).Where(i => i % request.Shard.Count == request.Shard.Index).ToList();
        var todo = mine.Where(i => request.Force || !File.Exists(FramesPath(output, request.ClipIds[i]))).ToList();
        var skipped = mine.Count - todo.Count;
        if (skipped > 0)
        {
            log.Information("Skipping {Skipped} clips already reconstructed in {Folder} (pass --force to redo them)", skipped, output);
        }
        var writeMp4 = request.WriteMp4 && FfmpegPresent();
        if (request.WriteMp4 && !writeMp4)
        {
            log.Warning("ffmpeg is not on PATH: writing GIFs and tensor files only (install ffmpeg for MP4s)");
        }
        var device = decoders.Semantic.parameters().First().device;
        var latentChannels = pipeline.Vae.Config.LatentChannels;
        var latentSide = (int)Math.Round(Math.Sqrt(decoders.Structure.Options.OutputDim / (double)latentChannels));
        using var _ = no_grad();
        using var negative = pipeline.EncodePrompt(request.Pipeline.Sampling.NegativePrompt, decoders.Semantic.Options.Tokens + 1);
        using var startToken = StartToken(pipeline, decoders.Semantic.Options.Tokens + 1);
        if (startToken.shape[2] != decoders.Semantic.Options.TokenDim)
        {
            throw new MindAnimatorException($"the semantic decoder predicts {decoders.Semantic.Options.TokenDim}-wide tokens ({decoders.Sources["semantic"]}) but the "
                + $"Stable Diffusion text encoder's are {startToken.shape[2]} wide; the decoders must be trained on this model's features.");
        }
        var options = request.Pipeline with { Sampling = request.Pipeline.Sampling with { NegativeEmbeddings = negative } };
        var t = new double[6];
        var clock = Stopwatch.StartNew();
        using var task = (progress ?? NullProgress.Instance).Start("reconstruct", todo.Count, "clips");
        foreach (var batch in todo.Chunk(request.BatchSize))
        {
            using var scope = NewDisposeScope();
            var rows = tensor(batch.Select(i => (long)i).ToArray());
            var fmri = request.Fmri.index_select(0, rows).to(device);
            var motionFmri = (request.MotionFmri ?? request.Fmri).index_select(0, rows).to(device);
            var b = batch.Length;

            var sw = Stopwatch.StartNew();
            var tokens = decoders.Semantic.DecodeTokens(fmri);
            var condition = cat(new[] { startToken.to(tokens.dtype, tokens.device).expand(b, 1, -1), tokens }, 1);
            var first = decoders.Structure.forward(fmri);
            t[0] += sw.Elapsed.TotalSeconds;

            sw.Restart();
            var sequence = request.WithoutMotionDecoder
                ? first.expand(-1, frames, -1).contiguous()
                : decoders.Motion.GreedyDecode(first, motionFmri, frames, request.MotionMask);
            var latents = sequence.view(b, frames, latentChannels, latentSide, latentSide).permute(0, 2, 1, 3, 4).contiguous();
            t[1] += sw.Elapsed.TotalSeconds;

            sw.Restart();
            var noise = stack(batch.Select(i => ClipNoise(request.Seed, request.ClipIds[i], latents.shape[1..])).ToArray()).to(latents.device);
            var start = pipeline.InitialLatents(latents, options, noise);
            t[2] += sw.Elapsed.TotalSeconds;

            sw.Restart();
            var final = pipeline.Denoise(condition, start, options.Sampling);
            t[3] += sw.Elapsed.TotalSeconds;

            sw.Restart();
            var video = pipeline.Vae.DecodeVideo(final);
            var bytes = (video.clamp(0, 1) * 255).round().to(ScalarType.Byte).permute(0, 2, 3, 4, 1).contiguous().cpu();
            t[4] += sw.Elapsed.TotalSeconds;

            sw.Restart();
            var (height, width) = ((int)bytes.shape[2], (int)bytes.shape[3]);
            for (var k = 0; k < b; k++)
            {
                var id = request.ClipIds[batch[k]];
                var clip = new ClipFrames(id, frames, height, width, bytes[k].data<byte>().ToArray());
                WriteClip(output, clip, request, writeMp4, log);
                task.Advance();
            }
            t[5] += sw.Elapsed.TotalSeconds;
            task.SetStatus($"{(batch[^1] + 1) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):F2} clips/s");
        }
        var summary = new ReconstructionSummary(mine.Count, todo.Count, skipped, clock.Elapsed.TotalSeconds,
            new ReconstructionTimings(t[0], t[1], t[2], t[3], t[4], t[5]), Path.Combine(output, FramesFolder));
        log.Information("Reconstructed {Done} clips in {Seconds:F1} s ({Rate:F2} clips/s); skipped {Skipped}", summary.Done, summary.Seconds,
            summary.Done / Math.Max(summary.Seconds, 1e-9), skipped);
        return summary;
    }

    public const string SettingsFile = "reconstruct.settings.json";

    /// <summary>
    /// Clips already in a folder are skipped only when they were made the same way: the first run records its settings,
    /// later runs (other shards, resumptions) must match them unless they redo everything (--force).
    /// </summary>
    private static void GuardSettings(string output, DecoderSet decoders, ReconstructionRequest request, int frames)
    {
        var o = request.Pipeline;
        var settings = new System.Text.Json.Nodes.JsonObject
        {
            ["seed"] = request.Seed,
            ["frames"] = frames,
            ["inversion_steps"] = o.InversionSteps,
            ["renoise_timestep"] = o.NoiseTimestep,
            ["sampling_steps"] = o.Sampling.NumInferenceSteps,
            ["guidance_scale"] = o.Sampling.GuidanceScale,
            ["negative_prompt"] = o.Sampling.NegativePrompt,
            ["eta"] = o.Sampling.Eta,
            ["motion_mask"] = request.MotionMask.ToString(),
            ["motion_fmri"] = request.WithoutMotionDecoder ? "none: first-frame latent repeated (ablation)" : request.MotionFmri is null ? "own" : "other clips' (control)",
            ["decoders"] = new System.Text.Json.Nodes.JsonObject(decoders.Sources.Select(kv => KeyValuePair.Create(kv.Key, (System.Text.Json.Nodes.JsonNode?)kv.Value))),
        }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        var path = Path.Combine(output, SettingsFile);
        if (File.Exists(path) && !request.Force && File.ReadAllText(path) != settings)
        {
            throw new MindAnimatorException($"{path}: the clips in {output} were reconstructed with other settings; pass --force to redo them all, or choose another --out.");
        }
        AtomicFile.WriteAllText(path, settings, overwrite: true);
    }

    /// <summary>Where a clip's tensor file goes.</summary>
    public static string FramesPath(string outputFolder, string clipId) => Path.Combine(outputFolder, FramesFolder, clipId + ".safetensors");

    /// <summary>The re-noising noise of one clip: a generator seeded by the run seed and the clip id.</summary>
    public static Tensor ClipNoise(int seed, string clipId, long[] shape)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}\u001f{clipId}"));
        using var generator = new TorchSharp.torch.Generator(BitConverter.ToUInt64(hash, 0) >> 1);
        return randn(shape, generator: generator);
    }

    /// <summary>
    /// The text encoder's output at the start token: with causal attention it never sees the caption, so it is the same
    /// fixed vector the official code stores once (features' start_token).
    /// </summary>
    public static Tensor StartToken(InflatedSdPipeline pipeline, int length)
    {
        using var encoded = pipeline.EncodePrompt(string.Empty, length);
        return encoded.narrow(1, 0, 1).clone();
    }

    /// <summary>Ground truth | reconstruction, as the official side-by-side GIFs (left = ground truth).</summary>
    public static ClipFrames SideBySide(ClipFrames groundTruth, ClipFrames reconstruction)
    {
        if (groundTruth.Frames != reconstruction.Frames || groundTruth.Height != reconstruction.Height)
        {
            throw new MindAnimatorException($"clip '{reconstruction.ClipId}': ground truth {groundTruth.Frames}×{groundTruth.Height}×{groundTruth.Width} and "
                + $"reconstruction {reconstruction.Frames}×{reconstruction.Height}×{reconstruction.Width} differ in frames or height.");
        }
        var (h, w1, w2) = (groundTruth.Height, groundTruth.Width * 3, reconstruction.Width * 3);
        var rgb = new byte[groundTruth.Frames * h * (w1 + w2)];
        for (var f = 0; f < groundTruth.Frames; f++)
        {
            for (var y = 0; y < h; y++)
            {
                var row = ((f * h) + y) * (w1 + w2);
                groundTruth.Rgb.AsSpan(((f * h) + y) * w1, w1).CopyTo(rgb.AsSpan(row));
                reconstruction.Rgb.AsSpan(((f * h) + y) * w2, w2).CopyTo(rgb.AsSpan(row + w1));
            }
        }
        return new ClipFrames(reconstruction.ClipId, groundTruth.Frames, h, groundTruth.Width + reconstruction.Width, rgb);
    }

    private static void WriteClip(string output, ClipFrames clip, ReconstructionRequest request, bool writeMp4, ILogger log)
    {
        var id = clip.ClipId;
        VideoFiles.WriteGif(Path.Combine(output, GifFolder, id + ".gif"), clip, request.PlaybackFps, overwrite: true);
        if (request.GroundTruth is { } gt)
        {
            if (gt.ClipIds.Contains(id))
            {
                VideoFiles.WriteGif(Path.Combine(output, SideBySideFolder, id + ".gif"), SideBySide(gt.Read(id), clip), request.PlaybackFps, overwrite: true);
            }
            else
            {
                log.Debug("No ground truth for clip {Clip}: no side-by-side GIF", id);
            }
        }
        if (writeMp4)
        {
            VideoFiles.WriteMp4(Path.Combine(output, Mp4Folder, id + ".mp4"), clip, request.PlaybackFps, overwrite: true);
        }
        // Last: its presence marks the clip done for a rerun.
        SafetensorsWriter.Write(FramesPath(output, id), new[] { new SafetensorsEntry(id, "U8", new long[] { clip.Frames, clip.Height, clip.Width, 3 }, clip.Rgb) },
            overwrite: true, new Dictionary<string, string> { ["seed"] = request.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    private static void Validate(DecoderSet decoders, InflatedSdPipeline pipeline, ReconstructionRequest request)
    {
        if (request.Fmri.dim() != 2 || request.Fmri.shape[0] != request.ClipIds.Count)
        {
            throw new ArgumentException($"fMRI [{string.Join(",", request.Fmri.shape)}] does not have one row per clip id ({request.ClipIds.Count}).");
        }
        if (request.Fmri.shape[1] != decoders.Voxels)
        {
            throw new MindAnimatorException($"the fMRI has {request.Fmri.shape[1]} voxels but the decoders were trained on {decoders.Voxels} "
                + $"({decoders.Sources["semantic"]}); reconstruct with the same voxel selection the decoders were trained on.");
        }
        if (request.MotionFmri is { } m && !m.shape.SequenceEqual(request.Fmri.shape))
        {
            throw new ArgumentException("the motion decoder's fMRI must have the shape of the fMRI.");
        }
        if (request.Shard.Count < 1 || request.Shard.Index < 0 || request.Shard.Index >= request.Shard.Count)
        {
            throw new MindAnimatorException($"shard {request.Shard.Index}/{request.Shard.Count}: expected i/n with 0 ≤ i < n.");
        }
        var bad = request.ClipIds.Where(id => id.Length == 0 || id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || id is "." or "..").Take(5).ToList();
        if (bad.Count > 0)
        {
            throw new MindAnimatorException($"clip ids must be usable as file names; not: {string.Join(", ", bad.Select(b => $"'{b}'"))}.");
        }
        var duplicates = request.ClipIds.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        if (duplicates.Count > 0)
        {
            throw new MindAnimatorException($"clip ids repeat ({string.Join(", ", duplicates)}); average repeated presentations into one row per clip first.");
        }
        var latentChannels = pipeline.Vae.Config.LatentChannels;
        var side = Math.Sqrt(decoders.Structure.Options.OutputDim / (double)latentChannels);
        if (decoders.Structure.Options.OutputDim % latentChannels != 0 || side != Math.Round(side))
        {
            throw new MindAnimatorException($"the structure decoder predicts {decoders.Structure.Options.OutputDim} values, which is not a square latent of the VAE's "
                + $"{latentChannels} channels ({decoders.Sources["structure"]}); train it with structure.output_dim = channels × side².");
        }
    }

    private static bool FfmpegPresent()
    {
        try
        {
            VideoFiles.EnsureFfmpeg();
            return true;
        }
        catch (MindAnimatorException)
        {
            return false;
        }
    }
}
