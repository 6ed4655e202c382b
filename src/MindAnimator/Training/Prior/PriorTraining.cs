using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Diffusion;
using MindAnimator.Models.Clip;
using MindAnimator.Models.Diffusers;
using Serilog;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Training.Prior;

/// <summary>The losses of each stage and where the prior was written.</summary>
public sealed record PriorTrainingResult(string StableDiffusionFolder, string ClipFolder, int Frames, int Captions, double ScalingFactor,
    IReadOnlyDictionary<string, IReadOnlyList<double>> Losses, IReadOnlyDictionary<string, double> Seconds);

/// <summary>
/// What `mindanim train prior` does: every frame of the dataset's training and validation clips, each as a single image with
/// its clip's caption (frame order is never seen), trains the VAE, then the CLIP towers, then the UNet on the frozen VAE's
/// latents and the frozen text tower's states; writes <c>sd/</c> (diffusers layout), <c>clip/</c> (transformers layout),
/// <c>losses.csv</c> and <c>prior.json</c> into the output folder.
/// </summary>
public static class PriorTraining
{
    public const string StableDiffusionSubfolder = "sd";
    public const string ClipSubfolder = "clip";

    public static PriorTrainingResult Run(string datasetFolder, string outFolder, MindAnimatorConfig config, ILogger log)
    {
        var (rgb, captions) = LoadFrames(datasetFolder, log);
        using (rgb)
        {
            return Train(rgb, captions, outFolder, config, log);
        }
    }

    /// <summary>Trains on frames (N, H, W, 3) uint8 with one caption per frame and writes the model folders.</summary>
    public static PriorTrainingResult Train(Tensor rgb, IReadOnlyList<string> frameCaptions, string outFolder, MindAnimatorConfig config, ILogger log)
    {
        var s = config.Prior;
        var frameSize = rgb.dim() == 4 ? (int)rgb.shape[1] : 0;
        if (rgb.dim() != 4 || rgb.shape[2] != frameSize || rgb.shape[3] != 3 || rgb.dtype != ScalarType.Byte || rgb.shape[0] != frameCaptions.Count)
        {
            throw new ArgumentException($"frames must be square uint8 (N, H, W, 3) with one caption each, got {rgb.dtype} [{string.Join(", ", rgb.shape)}] and {frameCaptions.Count} captions.", nameof(rgb));
        }
        var distinct = frameCaptions.Distinct(StringComparer.Ordinal).ToList();
        var row = distinct.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        var captionOfFrame = frameCaptions.Select(c => row[c]).ToArray();
        var tables = CaptionTokenizerBuilder.ForSimulatedCaptions(distinct);
        var tokenizer = tables.ToTokenizer();
        var arch = PriorArchitecture.From(s, frameSize, tokenizer.VocabSize);
        log.Information("Prior: {Frames} frames of {Size}×{Size} with {Captions} distinct captions, vocabulary {Vocab} tokens; latents {Channels}×{Latent}×{Latent}",
            rgb.shape[0], frameSize, frameSize, distinct.Count, tokenizer.VocabSize, s.LatentChannels, arch.Unet.SampleSize, arch.Unet.SampleSize);

        manual_seed(config.Seed);
        using var vae = new AutoencoderKl(arch.Vae);
        using var text = new ClipTextModelWithProjection(arch.Text);
        using var vision = new ClipVisionModelWithProjection(arch.Vision);
        using var logitScale = new TorchSharp.Modules.Parameter(tensor((float)Math.Log(1 / 0.07)));
        using var unet = new Unet2DConditionModel(arch.Unet);
        foreach (var model in new nn.Module[] { vae, text, vision, unet })
        {
            FreshWeights.ResetNorms(model);
        }
        var losses = new Dictionary<string, IReadOnlyList<double>>();
        var seconds = new Dictionary<string, double>();
        PriorLoopOptions Loop(int steps, double rate, int stage) => new()
        {
            Steps = steps,
            BatchSize = s.BatchSize,
            LearningRate = rate,
            Seed = (config.Seed * 10L) + stage,
            LogEvery = s.LogEvery,
        };

        var watch = Stopwatch.StartNew();
        losses["vae"] = PriorLoops.TrainVae(vae, rgb, s.KlWeight, Loop(s.VaeSteps, s.VaeLearningRate, 1), log);
        seconds["vae"] = watch.Elapsed.TotalSeconds;

        // The CLIP towers see frames as FeatureModels will feed them.
        watch.Restart();
        var processor = ClipImageProcessor.OpenAiClipAt(frameSize);
        using (var pixels = processor.Preprocess(rgb))
        {
            var (clipIds, _) = tokenizer.EncodeBatch(distinct, Math.Min(tokenizer.ModelMaxLength, distinct.Max(c => tokenizer.Encode(c).Ids.Length)));
            using (clipIds)
            {
                losses["clip"] = PriorLoops.TrainClip(text, vision, logitScale, pixels, clipIds, captionOfFrame, Loop(s.ClipSteps, s.ClipLearningRate, 2), log);
            }
        }
        seconds["clip"] = watch.Elapsed.TotalSeconds;

        watch.Restart();
        double scale;
        using (var scheduler = new DdpmScheduler(DiffusersConfig.Parse(PriorArchitecture.SchedulerConfig.ToJsonString(), "scheduler_config.json")))
        {
            var (mean, std) = EncodeLatents(vae, rgb, s.BatchSize);
            // SD's 0.18215 is 1 / std of its latents; measured here unless the config fixes it.
            scale = s.ScalingFactor > 0 ? s.ScalingFactor : 1.0 / mean.std().item<float>();
            using (mean)
            using (std)
            using (var scaledMean = mean * scale)
            using (var scaledStd = std * scale)
            using (var context = TextStates(text, tokenizer, distinct, config.Features.CaptionTokens))
            using (var empty = TextStates(text, tokenizer, new[] { string.Empty }, config.Features.CaptionTokens))
            {
                losses["unet"] = PriorLoops.TrainUnet(unet, scheduler, scaledMean, scaledStd, context, captionOfFrame, empty, s.CaptionDropout, Loop(s.UnetSteps, s.UnetLearningRate, 3), log);
            }
        }
        seconds["unet"] = watch.Elapsed.TotalSeconds;

        arch = arch with { Vae = arch.Vae with { ScalingFactor = scale } };
        var sdFolder = Path.Combine(outFolder, StableDiffusionSubfolder);
        var clipFolder = Path.Combine(outFolder, ClipSubfolder);
        PriorFolders.WriteStableDiffusion(sdFolder, arch, tables, unet, vae, text);
        PriorFolders.WriteClip(clipFolder, arch, tables, text, vision, logitScale);
        var result = new PriorTrainingResult(sdFolder, clipFolder, (int)rgb.shape[0], distinct.Count, scale, losses, seconds);
        WriteRecords(outFolder, result, config);
        log.Information("Prior written: {Sd} (Stable Diffusion layout) and {Clip} (CLIP); latent scaling factor {Scale:G4}", sdFolder, clipFolder, scale);
        return result;
    }

    /// <summary>Every frame of the training and validation clips (never test clips), with its clip's caption.</summary>
    public static (Tensor Rgb, List<string> Captions) LoadFrames(string datasetFolder, ILogger log)
    {
        var manifest = DatasetManifest.Read(datasetFolder);
        if (manifest.Clips is null || manifest.Captions is null)
        {
            throw new MindAnimatorException($"{Path.Combine(datasetFolder, DatasetManifest.FileName)}: the prior needs the clips and captions, but the dataset lists {(manifest.Clips is null ? "no clips" : "no captions")}.");
        }
        var fmriPath = DatasetManifest.Resolve(datasetFolder, manifest.Fmri);
        var trainIds = FmriParquet.Read(fmriPath).Samples.Where(x => x.Split is Splits.Train or Splits.Val).Select(x => x.ClipId).Distinct().ToList();
        if (trainIds.Count == 0)
        {
            throw new MindAnimatorException($"{fmriPath}: no training clips (split 'train' or 'val').");
        }
        var store = ClipStore.Open(DatasetManifest.Resolve(datasetFolder, manifest.Clips));
        if (store.Height != store.Width)
        {
            throw new MindAnimatorException($"{DatasetManifest.Resolve(datasetFolder, manifest.Clips)}: frames are {store.Height}×{store.Width}; the prior needs square frames.");
        }
        var captionsPath = DatasetManifest.Resolve(datasetFolder, manifest.Captions);
        var captions = CaptionTable.Read(captionsPath).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var missing = trainIds.Where(id => !captions.ContainsKey(id) || !store.Contains(id)).ToList();
        if (missing.Count > 0)
        {
            throw new DataFormatException(captionsPath, $"{missing.Count} training clips lack a caption or frames (first: {string.Join(", ", missing.Take(5))}).");
        }
        var bytes = new byte[(long)trainIds.Count * store.Frames * store.Height * store.Width * 3];
        var frameCaptions = new List<string>(trainIds.Count * store.Frames);
        var offset = 0;
        foreach (var id in trainIds)
        {
            var clip = store.Read(id);
            clip.Rgb.CopyTo(bytes, offset);
            offset += clip.Rgb.Length;
            frameCaptions.AddRange(Enumerable.Repeat(captions[id], clip.Frames));
        }
        log.Information("Prior data: {Frames} frames from {Clips} training clips of {Dataset}", frameCaptions.Count, trainIds.Count, datasetFolder);
        return (tensor(bytes, new long[] { frameCaptions.Count, store.Height, store.Width, 3 }), frameCaptions);
    }

    /// <summary>Posterior means and standard deviations (unscaled) of all frames.</summary>
    public static (Tensor Mean, Tensor Std) EncodeLatents(AutoencoderKl vae, Tensor rgb, int batchSize)
    {
        using var noGrad = no_grad();
        var means = new List<Tensor>();
        var stds = new List<Tensor>();
        try
        {
            for (long start = 0; start < rgb.shape[0]; start += batchSize)
            {
                using var scope = NewDisposeScope();
                using var posterior = vae.Encode(PriorLoops.ToImages(rgb.narrow(0, start, Math.Min(batchSize, rgb.shape[0] - start))));
                means.Add(posterior.Mean.clone().MoveToOuterDisposeScope());
                stds.Add(posterior.Std.clone().MoveToOuterDisposeScope());
            }
            return (cat(means, 0), cat(stds, 0));
        }
        finally
        {
            means.ForEach(t => t.Dispose());
            stds.ForEach(t => t.Dispose());
        }
    }

    /// <summary>The text tower's last hidden states (K, length, hidden) of captions padded to <paramref name="length"/> tokens, as SD conditions on.</summary>
    public static Tensor TextStates(ClipTextModelWithProjection text, ClipTokenizer tokenizer, IReadOnlyList<string> captions, int length)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (ids, _) = tokenizer.EncodeBatch(captions, length);
        return text.Forward(ids).LastHiddenState.MoveToOuterDisposeScope();
    }

    private static void WriteRecords(string outFolder, PriorTrainingResult result, MindAnimatorConfig config)
    {
        var csv = new StringBuilder("stage,step,loss\n");
        foreach (var (stage, values) in result.Losses)
        {
            for (var i = 0; i < values.Count; i++)
            {
                csv.Append(stage).Append(',').Append((i + 1).ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(values[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
        }
        AtomicFile.WriteAllText(Path.Combine(outFolder, "losses.csv"), csv.ToString(), overwrite: true);
        static double? Mean(IReadOnlyList<double> v, bool first)
        {
            // A tenth of the run, at most 100 steps, so the first and last windows do not overlap.
            var n = Math.Clamp(v.Count / 10, 1, 100);
            return v.Count == 0 ? null : (first ? v.Take(n) : v.Skip(v.Count - n)).Average();
        }
        var summary = new Dictionary<string, object?>
        {
            ["sd_folder"] = result.StableDiffusionFolder,
            ["clip_folder"] = result.ClipFolder,
            ["frames"] = result.Frames,
            ["captions"] = result.Captions,
            ["seed"] = config.Seed,
            ["latent_scaling_factor"] = result.ScalingFactor,
            ["stages"] = result.Losses.ToDictionary(kv => kv.Key, kv => new Dictionary<string, object?>
            {
                ["steps"] = kv.Value.Count,
                ["first_loss_mean"] = Mean(kv.Value, first: true),
                ["last_loss_mean"] = Mean(kv.Value, first: false),
                ["seconds"] = result.Seconds[kv.Key],
            }),
            ["settings"] = config.Prior,
        };
        AtomicFile.WriteAllText(Path.Combine(outFolder, "prior.json"),
            JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }), overwrite: true);
    }
}
