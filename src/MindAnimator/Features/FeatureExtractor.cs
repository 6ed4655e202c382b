using System.Globalization;
using System.Text.Json;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Diffusion.Pipelines;
using MindAnimator.Models.Clip;
using MindAnimator.Models.Diffusers;
using MindAnimator.Runs;
using Serilog;
using static TorchSharp.torch;

namespace MindAnimator.Features;

// Mirrors Mind-Animator Feature_extraction/{contrastive_target_extraction,semantic_feature extraction,content_feature_extraction}.py.

/// <summary>The frozen encoders that turn a clip and its caption into the decoders' targets.</summary>
public sealed class FeatureModels : IDisposable
{
    public required ClipTokenizer ClipTokenizer { get; init; }

    public required ClipTextModelWithProjection ClipText { get; init; }

    public required ClipVisionModelWithProjection ClipVision { get; init; }

    public required ClipImageProcessor ImageProcessor { get; init; }

    public required ClipTokenizer SdTokenizer { get; init; }

    public required ClipTextModel SdTextEncoder { get; init; }

    public required AutoencoderKl Vae { get; init; }

    public required Device Device { get; init; }

    /// <summary>Where each model came from (recorded in features.json).</summary>
    public Dictionary<string, string> Sources { get; init; } = new();

    /// <summary>
    /// Loads a transformers CLIP folder (both towers with projections, tokenizer files, optional
    /// preprocessor_config.json) and a diffusers Stable Diffusion folder (tokenizer, text_encoder, vae).
    /// </summary>
    public static FeatureModels Load(string clipFolder, string sdFolder, Device device, ILogger log)
    {
        if (!Directory.Exists(clipFolder))
        {
            throw new MindAnimatorException($"{clipFolder}: CLIP folder not found (features.clip_folder / --clip: a transformers CLIP model such as openai/clip-vit-base-patch32).");
        }
        var sd = StableDiffusionFolder.Open(sdFolder, log);
        var vision = ClipVisionModelWithProjection.FromFolder(clipFolder, device);
        var size = vision.Config.ImageSize;
        var models = new FeatureModels
        {
            ClipTokenizer = ClipTokenizer.FromFolder(clipFolder),
            ClipText = ClipTextModelWithProjection.FromFolder(clipFolder, device),
            ClipVision = vision,
            // The official targets use OpenAI's clip.load preprocessing (torchvision's centre crop), at the model's input size.
            ImageProcessor = ClipImageProcessor.OpenAiClipAt(size),
            SdTokenizer = sd.LoadTokenizer(),
            SdTextEncoder = sd.LoadTextEncoder(device),
            Vae = sd.LoadVae(device),
            Device = device,
            Sources = new() { ["clip_folder"] = Path.GetFullPath(clipFolder), ["sd_folder"] = Path.GetFullPath(sdFolder) },
        };
        log.Information("Feature encoders loaded: CLIP from {Clip}, SD text encoder and VAE from {Sd}", clipFolder, sdFolder);
        return models;
    }

    public void Dispose()
    {
        ClipText.Dispose();
        ClipVision.Dispose();
        SdTextEncoder.Dispose();
        Vae.Dispose();
    }
}

/// <summary>
/// Computes, for every clip of a dataset folder, the CLIP image embedding of its target frame, the CLIP text
/// embedding of its caption, SD's text-encoder hidden states of the caption (tokens after the start token) and the
/// scaled VAE latents of all its frames; stores them chunk by chunk in a <see cref="FeatureStore"/>, resumably.
/// </summary>
public static class FeatureExtractor
{
    public static FeatureStore Run(string datasetFolder, string outFolder, FeatureModels models, MindAnimatorConfig config, bool force,
        IProgressReporter progress, ILogger log)
    {
        var settings = config.Features;
        var manifest = DatasetManifest.Read(datasetFolder);
        if (manifest.Clips is null || manifest.Captions is null)
        {
            throw new MindAnimatorException($"{Path.Combine(datasetFolder, DatasetManifest.FileName)}: features need the clips and captions, but the dataset lists {(manifest.Clips is null ? "no clips" : "no captions")}.");
        }
        var clips = ClipStore.Open(DatasetManifest.Resolve(datasetFolder, manifest.Clips));
        var captionsPath = DatasetManifest.Resolve(datasetFolder, manifest.Captions);
        var captions = CaptionTable.ReadFor(captionsPath, clips.ClipIds, "clips");
        if (settings.ImageFrame >= clips.Frames)
        {
            throw new ConfigException("config", "features.image_frame", $"frame {settings.ImageFrame} does not exist in {clips.Frames}-frame clips");
        }

        var provenance = new Dictionary<string, string>(models.Sources)
        {
            ["dataset"] = Path.GetFullPath(datasetFolder),
            ["image_frame"] = settings.ImageFrame.ToString(CultureInfo.InvariantCulture),
            ["caption_tokens"] = settings.CaptionTokens.ToString(CultureInfo.InvariantCulture),
            ["latents"] = settings.LatentMean ? "posterior mean" : "posterior sample",
            ["latent_scaling_factor"] = models.Vae.Config.ScalingFactor.ToString("R", CultureInfo.InvariantCulture),
            ["seed"] = config.Seed.ToString(CultureInfo.InvariantCulture),
            ["chunk_clips"] = settings.ChunkClips.ToString(CultureInfo.InvariantCulture),
        };
        outFolder = Path.GetFullPath(outFolder);
        var index = StartOrResume(outFolder, provenance, force, log);
        var chunks = clips.ClipIds.Chunk(settings.ChunkClips).Select(c => c.ToList()).ToList();
        for (var c = 0; c < index.Chunks.Count; c++)
        {
            if (c >= chunks.Count || !index.Chunks[c].ClipIds.SequenceEqual(chunks[c]))
            {
                throw new MindAnimatorException($"{outFolder}: the stored chunk {c} holds other clips than the dataset's; compute the features again with --force.");
            }
        }
        using var task = progress.Start("Computing features", clips.ClipIds.Count, "clips");
        task.Advance(index.Chunks.Sum(c => c.ClipIds.Count));
        using var noGrad = no_grad();
        for (var c = index.Chunks.Count; c < chunks.Count; c++)
        {
            var file = $"chunk-{c:D5}.safetensors";
            var tensors = ComputeChunk(chunks[c], clips, captions, models, settings, config.Seed + c, task, out var startToken);
            SafetensorsWriter.Write(Path.Combine(outFolder, file), tensors.Select(t => SafetensorsWriter.Float32(t.Name, t.Values, t.Shape)).ToList(), overwrite: true);
            if (c == 0)
            {
                SafetensorsWriter.Write(Path.Combine(outFolder, FeatureStore.StartTokenFile),
                    new[] { SafetensorsWriter.Float32(FeatureNames.StartToken, startToken, 1, startToken.Length) }, overwrite: true);
                foreach (var t in tensors)
                {
                    index.Shapes[t.Name] = t.Shape[1..];
                }
            }
            index.Chunks.Add(new FeatureChunk(file, chunks[c]));
            WriteIndex(outFolder, index);
            log.Debug("Features: chunk {Chunk} of {Chunks} written", c + 1, chunks.Count);
        }
        log.Information("Features of {Clips} clips in {Folder}: {Shapes}", clips.ClipIds.Count, outFolder,
            string.Join("; ", index.Shapes.Select(kv => $"{kv.Key} [{string.Join("×", kv.Value)}]")));
        return FeatureStore.Open(outFolder);
    }

    private static FeatureIndex StartOrResume(string folder, Dictionary<string, string> provenance, bool force, ILogger log)
    {
        var indexPath = Path.Combine(folder, FeatureStore.IndexFile);
        if (File.Exists(indexPath) && !force)
        {
            var existing = FeatureStore.Open(folder).Index;
            var changed = provenance.Where(kv => !existing.Provenance.TryGetValue(kv.Key, out var v) || v != kv.Value).Select(kv => kv.Key).ToList();
            if (changed.Count > 0)
            {
                throw new MindAnimatorException($"{folder}: holds features computed with other settings ({string.Join(", ", changed)}); pass --force to replace them.");
            }
            log.Information("Resuming features in {Folder}: {Done} chunks already done", folder, existing.Chunks.Count);
            return existing;
        }
        if (Directory.Exists(folder) && force)
        {
            foreach (var f in Directory.EnumerateFiles(folder, "chunk-*.safetensors").Append(indexPath).Append(Path.Combine(folder, FeatureStore.StartTokenFile)))
            {
                File.Delete(f);
            }
        }
        Directory.CreateDirectory(folder);
        var index = new FeatureIndex { Provenance = provenance };
        WriteIndex(folder, index);
        return index;
    }

    private static void WriteIndex(string folder, FeatureIndex index) =>
        AtomicFile.WriteAllText(Path.Combine(folder, FeatureStore.IndexFile), JsonSerializer.Serialize(index, FeatureIndex.Options), overwrite: true);

    private sealed record HostTensor(string Name, float[] Values, long[] Shape);

    private static List<HostTensor> ComputeChunk(List<string> ids, ClipStoreReader clips, Dictionary<string, string> captions, FeatureModels m,
        FeatureSettings settings, long seed, IProgressTask task, out float[] startToken)
    {
        var parts = new Dictionary<string, List<Tensor>>();
        var generator = new Generator((ulong)seed);
        startToken = Array.Empty<float>();
        using var scope = NewDisposeScope();
        foreach (var batch in ids.Chunk(settings.BatchSize))
        {
            var frames = batch.Select(clips.Read).ToList();
            var text = batch.Select(id => captions[id]).ToList();
            var first = frames[0];

            var pixels = stack(frames.Select(f => tensor(m.ImageProcessor.Preprocess(f.Frame(settings.ImageFrame), f.Height, f.Width),
                new long[] { 3, m.ImageProcessor.CropHeight, m.ImageProcessor.CropWidth })).ToList()).to(m.Device);
            Add(parts, FeatureNames.ClipImage, m.ClipVision.Forward(pixels).ImageEmbeds!);

            var (clipText, hidden) = CaptionEncoder.Encode(m.ClipTokenizer, m.ClipText, m.SdTokenizer, m.SdTextEncoder, text, settings.CaptionTokens, m.Device);
            Add(parts, FeatureNames.ClipText, clipText);
            Add(parts, FeatureNames.SdText, hidden.narrow(1, 1, hidden.shape[1] - 1));
            if (startToken.Length == 0)
            {
                startToken = hidden[0, 0].cpu().data<float>().ToArray();
            }

            // (B·F, 3, H, W) in [-1, 1] → posterior → scaled latents (B, F, C, h, w).
            var video = stack(frames.Select(f => tensor(f.Rgb, new long[] { f.Frames, f.Height, f.Width, 3 })).ToList())
                .to(float32).div(127.5).sub(1).permute(0, 1, 4, 2, 3).reshape(-1, 3, first.Height, first.Width).to(m.Device);
            using var posterior = m.Vae.Encode(video);
            var z = (settings.LatentMean ? posterior.Mode() : posterior.Sample(generator)) * m.Vae.Config.ScalingFactor;
            Add(parts, FeatureNames.Latents, z.reshape(batch.Length, first.Frames, z.shape[1], z.shape[2], z.shape[3]));
            task.Advance(batch.Length);
        }
        return parts.Select(kv =>
        {
            var all = cat(kv.Value, 0).contiguous();
            return new HostTensor(kv.Key, all.data<float>().ToArray(), all.shape);
        }).ToList();
    }

    private static void Add(Dictionary<string, List<Tensor>> parts, string name, Tensor t)
    {
        if (!parts.TryGetValue(name, out var list))
        {
            parts[name] = list = new List<Tensor>();
        }
        list.Add(t.to(float32).cpu());
    }
}
