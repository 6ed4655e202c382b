using System.Diagnostics;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Features;
using MindAnimator.Text;
using Serilog;
using static TorchSharp.torch;

namespace MindAnimator.Training;

/// <summary>
/// The text targets of caption-augmented semantic training: each batch's training captions are replaced by an EDA
/// variant and re-encoded into CLIP text embeddings and SD text tokens, as train_semantic_decoder.py rebuilds its
/// training set (eda on every caption, then clip encode_text and the SD text encoder) every epoch. Every row appears
/// once per epoch, so augmenting per batch draws what the reference draws per epoch; validation keeps the stored
/// targets of the original captions, as the reference's Val_dataset.
/// </summary>
public sealed class CaptionAugmentation : IDisposable
{
    private readonly ICaptionTextEncoder _encoder;
    private readonly bool _ownsEncoder;
    private readonly Stopwatch _edaTime = new();
    private readonly Stopwatch _encodeTime = new();

    /// <param name="captions">The caption of every dataset row (row order).</param>
    /// <param name="eda">The augmentation.</param>
    /// <param name="encoder">Encodes augmented captions into targets of the stored kind.</param>
    /// <param name="description">What to record in metrics.json.</param>
    /// <param name="ownsEncoder">Dispose the encoder with this object.</param>
    public CaptionAugmentation(IReadOnlyList<string> captions, EasyDataAugmentation eda, ICaptionTextEncoder encoder, IReadOnlyDictionary<string, object> description, bool ownsEncoder = false)
    {
        Captions = captions;
        Eda = eda;
        _encoder = encoder;
        Description = description;
        _ownsEncoder = ownsEncoder;
    }

    public IReadOnlyList<string> Captions { get; }

    public EasyDataAugmentation Eda { get; }

    public IReadOnlyDictionary<string, object> Description { get; }

    /// <summary>Seconds spent augmenting captions so far.</summary>
    public double EdaSeconds => _edaTime.Elapsed.TotalSeconds;

    /// <summary>Seconds spent re-encoding augmented captions so far.</summary>
    public double EncodeSeconds => _encodeTime.Elapsed.TotalSeconds;

    /// <summary>Captions augmented so far.</summary>
    public long Augmented { get; private set; }

    /// <summary>
    /// The augmented captions of <paramref name="rows"/>. One seed is drawn from <paramref name="generator"/> (the run's
    /// checkpointed augmentation stream) per call, so a resumed run augments exactly as the uninterrupted one.
    /// </summary>
    public IReadOnlyList<string> Augment(IReadOnlyList<long> rows, Generator generator)
    {
        using var draw = randint(0, int.MaxValue, new long[] { 1 }, dtype: ScalarType.Int64, generator: generator);
        var random = new Random((int)draw.item<long>());
        return rows.Select(r => Eda.Augment(Captions[(int)r], random)).ToList();
    }

    /// <summary>(B, clip_dim) CLIP text embeddings and (B, tokens, token_dim) SD text tokens of the augmented captions of <paramref name="rows"/>.</summary>
    public (Tensor ClipText, Tensor SdText) Targets(Tensor rows, Generator generator)
    {
        _edaTime.Start();
        var captions = Augment(rows.cpu().data<long>().ToArray(), generator);
        _edaTime.Stop();
        Augmented += captions.Count;
        _encodeTime.Start();
        try
        {
            return _encoder.Encode(captions);
        }
        finally
        {
            _encodeTime.Stop();
        }
    }

    /// <summary>
    /// Re-encodes the original captions of a few rows and compares them with the stored targets: the encoders must be
    /// the ones the features were computed with, or augmented batches would be trained towards another space.
    /// </summary>
    public void CheckAgainstStored(DecoderDataset data, string featuresFolder, int rows = 8)
    {
        if (Captions.Count != data.Count)
        {
            throw new MindAnimatorException($"caption augmentation: {Captions.Count} captions for {data.Count} training rows.");
        }
        var pick = Enumerable.Range(0, Math.Min(rows, data.Count)).Select(i => (long)i).ToArray();
        var (clipText, sdText) = _encoder.Encode(pick.Select(i => Captions[(int)i]).ToList());
        using (clipText)
        using (sdText)
        using (var index = tensor(pick))
        {
            foreach (var (name, encoded) in new[] { ("clip_text", clipText), ("tokens", sdText) })
            {
                using var stored = data.Target(name).index_select(0, index).cpu();
                if (!stored.shape.SequenceEqual(encoded.shape))
                {
                    throw new MindAnimatorException($"{featuresFolder}: the stored '{name}' targets have rows of shape [{string.Join(", ", stored.shape.Skip(1))}] "
                        + $"but the feature encoders now give [{string.Join(", ", encoded.shape.Skip(1))}]; compute the features again.");
                }
                var scale = Math.Max(1.0, stored.abs().max().item<float>());
                var diff = (stored - encoded).abs().max().item<float>();
                if (diff > 1e-3 * scale)
                {
                    throw new MindAnimatorException($"{featuresFolder}: re-encoding the original captions does not give the stored '{name}' targets (max |Δ| = {diff:G3}); "
                        + "the encoder folders in features.json have changed since: compute the features again or turn caption augmentation off.");
                }
            }
        }
    }

    /// <summary>
    /// What `train semantic` builds when semantic.caption_augmentation.enabled: WordNet from the configured folder, the
    /// stop words, the dataset's captions in the training rows' order and the feature store's text encoders.
    /// </summary>
    public static CaptionAugmentation Load(CaptionAugmentationSettings settings, string datasetFolder, DecoderDataset data, FeatureStore store, Device device, ILogger log)
    {
        const string key = "semantic.caption_augmentation";
        var watch = Stopwatch.StartNew();
        var wordNet = WordNet.Load(settings.WordnetFolder, key + ".wordnet_folder");
        var stopWords = settings.StopWordsFile is null ? StopWords.NltkEnglish : StopWords.Read(settings.StopWordsFile, key + ".stop_words_file");
        var manifest = DatasetManifest.Read(datasetFolder);
        if (manifest.Captions is null)
        {
            throw new MindAnimatorException($"{Path.Combine(datasetFolder, DatasetManifest.FileName)}: lists no captions, which {key} augments; "
                + $"add captions or set {key}.enabled: false.");
        }
        var captionsPath = DatasetManifest.Resolve(datasetFolder, manifest.Captions);
        var byId = CaptionTable.ReadFor(captionsPath, data.ClipIds, "training clips");
        var parameters = new EdaParameters(settings.AlphaSr, settings.AlphaRi, settings.AlphaRs, settings.PRd, settings.NumAug);
        var description = new Dictionary<string, object>
        {
            ["method"] = "eda",
            ["alpha_sr"] = parameters.AlphaSr,
            ["alpha_ri"] = parameters.AlphaRi,
            ["alpha_rs"] = parameters.AlphaRs,
            ["p_rd"] = parameters.PRd,
            ["num_aug"] = parameters.NumAug,
            ["wordnet_folder"] = Path.GetFullPath(settings.WordnetFolder),
            ["stop_words"] = settings.StopWordsFile is null ? "nltk english (179 words)" : Path.GetFullPath(settings.StopWordsFile),
        };
        var encoder = CaptionEncoder.FromFeatures(store, device, log);
        var augmentation = new CaptionAugmentation(data.ClipIds.Select(id => byId[id]).ToList(), new EasyDataAugmentation(wordNet, parameters, stopWords), encoder, description, ownsEncoder: true);
        try
        {
            augmentation.CheckAgainstStored(data, store.Folder);
        }
        catch
        {
            augmentation.Dispose();
            throw;
        }
        log.Information("Caption augmentation (EDA) on: WordNet with {Lemmas:N0} lemmas from {Folder}, ready in {Seconds:F1} s", wordNet.LemmaCount, settings.WordnetFolder, watch.Elapsed.TotalSeconds);
        return augmentation;
    }

    public void Dispose()
    {
        if (_ownsEncoder && _encoder is IDisposable d)
        {
            d.Dispose();
        }
    }
}
