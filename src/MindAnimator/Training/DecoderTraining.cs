using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Features;
using Serilog;
using static TorchSharp.torch;

namespace MindAnimator.Training;

/// <summary>
/// What `mindanim train semantic|structure|motion` does: the dataset's training and validation samples (validation
/// last, as the trainer splits), the features of their clips as the decoder's targets, then <see cref="DecoderTrainer"/>.
/// </summary>
public static class DecoderTraining
{
    public static TrainingResult Run(string kind, string datasetFolder, string featuresFolder, string runFolder, MindAnimatorConfig config, bool resume, ILogger log, Device? device = null)
    {
        var manifest = DatasetManifest.Read(datasetFolder);
        var table = FmriParquet.Read(DatasetManifest.Resolve(datasetFolder, manifest.Fmri));
        // Training then validation samples: the trainer holds out the last share of the rows.
        var samples = table.Samples.Where(s => s.Split == Splits.Train).Concat(table.Samples.Where(s => s.Split == Splits.Val)).ToList();
        if (samples.Count == 0)
        {
            throw new MindAnimatorException($"{DatasetManifest.Resolve(datasetFolder, manifest.Fmri)}: no training samples (split 'train' or 'val').");
        }
        var ids = samples.Select(s => s.ClipId).ToList();
        var store = FeatureStore.Open(featuresFolder);
        var targets = LoadTargets(kind, store, ids);
        var fmri = tensor(samples.SelectMany(s => s.Voxels).ToArray(), new long[] { samples.Count, table.VoxelCount });
        using var data = DecoderDataset.Align(new ClipTable(ids, fmri), targets);
        foreach (var t in targets.Values)
        {
            t.Values.Dispose();
        }
        fmri.Dispose();
        using var captions = kind == "semantic" && config.Semantic.CaptionAugmentation.Enabled
            ? CaptionAugmentation.Load(config.Semantic.CaptionAugmentation, datasetFolder, data, store, device ?? data.Fmri.device, log)
            : null;
        var task = DecoderTaskFactory.Create(kind, config, data.Voxels, captions);
        log.Information("Training the {Kind} decoder on {Clips} clips × {Voxels} voxels ({Targets})", kind, data.Count, data.Voxels,
            string.Join(", ", data.Targets.Select(kv => $"{kv.Key} [{string.Join("×", kv.Value.shape.Skip(1))}]")));
        return DecoderTrainer.Train(task, data, DecoderTaskFactory.Options(kind, config, runFolder, resume) with { Device = device }, log);
    }

    /// <summary>The decoder's targets from the stored features, named as the trainer expects.</summary>
    public static Dictionary<string, ClipTable> LoadTargets(string kind, FeatureStore store, IReadOnlyList<string> ids)
    {
        switch (kind)
        {
            case "semantic":
                return new()
                {
                    ["clip_text"] = new(ids, store.Load(FeatureNames.ClipText, ids)),
                    ["clip_image"] = new(ids, store.Load(FeatureNames.ClipImage, ids)),
                    ["tokens"] = new(ids, store.Load(FeatureNames.SdText, ids)),
                };
            case "structure":
                {
                    using var latents = store.Load(FeatureNames.Latents, ids);
                    return new() { ["first_frame"] = new(ids, latents.select(1, 0).reshape(ids.Count, -1)) };
                }
            case "motion":
                {
                    using var latents = store.Load(FeatureNames.Latents, ids);
                    return new() { ["latents"] = new(ids, latents.reshape(ids.Count, latents.shape[1], -1)) };
                }
            default:
                throw new MindAnimatorException($"unknown decoder '{kind}'; expected one of: {string.Join(", ", DecoderTaskFactory.Kinds)}.");
        }
    }
}
