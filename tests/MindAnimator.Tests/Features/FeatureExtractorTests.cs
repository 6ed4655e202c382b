using MindAnimator.Config;
using MindAnimator.Data.Formats;
using MindAnimator.Features;
using MindAnimator.Runs;
using MindAnimator.Simulation;
using MindAnimator.Tests.Diffusion;
using MindAnimator.Tests.Infrastructure;
using MindAnimator.Tests.Models.Clip;
using MindAnimator.Tests.Simulation;
using MindAnimator.Tests.Text;
using Serilog.Core;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Features;

/// <summary>Features of a small simulated dataset with the tiny reference CLIP and Stable Diffusion folders.</summary>
public sealed class FeatureExtractorTests : IDisposable
{
    private readonly TempDir _dir = TestEnvironment.NewTempDir();
    private readonly TinyStableDiffusion _sd = new();
    private readonly TinyClipFolder _clipFolder = new();
    private readonly string _data;
    private readonly MindAnimatorConfig _config;

    public FeatureExtractorTests()
    {
        var small = SimulatorTests.Small();
        _config = small with
        {
            Simulation = small.Simulation with { TrainSegments = 2, TestSegments = 1, ClipsPerSegment = 12, RetinotopicVoxels = 60, MotionVoxels = 60, SemanticVoxels = 60, NoiseVoxels = 20 },
            Preprocess = small.Preprocess with { SelectVoxels = 100 },
            Features = new FeatureSettings { BatchSize = 4, ChunkClips = 10 },
        };
        _data = _dir.File("data");
        SimulatedDatasetWriter.Write(_config, _data, overwrite: false, NullProgress.Instance, Logger.None);
    }

    public void Dispose()
    {
        _sd.Dispose();
        _clipFolder.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void Features_HaveTheDocumentedShapes_AndEachRowIsItsOwnClips()
    {
        using var models = FeatureModels.Load(_clipFolder.Root, _sd.Root, CPU, Logger.None);
        var store = FeatureExtractor.Run(_data, _dir.File("features"), models, _config, force: false, NullProgress.Instance, Logger.None);
        var ids = ClipStore.Open(Path.Combine(_data, "clips")).ClipIds;
        Assert.Equal(ids, store.ClipIds);
        Assert.Equal(4, store.Index.Chunks.Count);
        Assert.Equal(new long[] { 16 }, store.Index.Shapes[FeatureNames.ClipImage]);
        Assert.Equal(new long[] { 16 }, store.Index.Shapes[FeatureNames.ClipText]);
        Assert.Equal(new long[] { 19, 32 }, store.Index.Shapes[FeatureNames.SdText]);
        Assert.Equal(new long[] { 8, 4, 16, 16 }, store.Index.Shapes[FeatureNames.Latents]);

        // Rows follow the requested clip ids, across chunks: recompute two clips directly.
        var pick = new[] { ids[33], ids[2] };
        var captions = CaptionTable.Read(Path.Combine(_data, "captions.jsonl")).ToDictionary(kv => kv.Key, kv => kv.Value);
        using var noGrad = no_grad();
        var (sdIds, _) = models.SdTokenizer.EncodeBatch(pick.Select(id => captions[id]).ToList(), 20);
        var hidden = models.SdTextEncoder.Forward(sdIds).LastHiddenState;
        AssertClose(hidden.narrow(1, 1, 19), store.Load(FeatureNames.SdText, pick), 1e-5);
        var (clipIds, _) = models.ClipTokenizer.EncodeBatch(pick.Select(id => captions[id]).ToList());
        AssertClose(models.ClipText.Forward(clipIds).TextEmbeds!, store.Load(FeatureNames.ClipText, pick), 1e-5);
        var clip = ClipStore.Open(Path.Combine(_data, "clips")).Read(pick[0]);
        var pixels = tensor(models.ImageProcessor.Preprocess(clip.Frame(3), clip.Height, clip.Width), new long[] { 1, 3, 32, 32 });
        AssertClose(models.ClipVision.Forward(pixels).ImageEmbeds!, store.Load(FeatureNames.ClipImage, pick).narrow(0, 0, 1), 1e-5);

        // The start token does not depend on the caption (causal attention): one vector for all.
        var start = store.StartToken();
        Assert.Equal(new long[] { 1, 32 }, start.shape);
        AssertClose(hidden[1, 0].unsqueeze(0), start, 1e-5);
        Assert.Contains("missing.clip", Assert.Throws<MindAnimatorException>(() => store.Load(FeatureNames.Latents, new[] { "missing.clip" })).Message);
    }

    [Fact]
    public void InterruptedRun_Resumes_ToTheSameBytes()
    {
        using var models = FeatureModels.Load(_clipFolder.Root, _sd.Root, CPU, Logger.None);
        var full = _dir.File("full");
        FeatureExtractor.Run(_data, full, models, _config, force: false, NullProgress.Instance, Logger.None);

        // A run killed after two chunks: its index lists two chunks; a third was half-written.
        var partial = _dir.File("partial");
        Directory.CreateDirectory(partial);
        foreach (var f in Directory.GetFiles(full))
        {
            File.Copy(f, Path.Combine(partial, Path.GetFileName(f)));
        }
        var index = FeatureStore.Open(partial).Index;
        File.WriteAllText(Path.Combine(partial, FeatureStore.IndexFile), System.Text.Json.JsonSerializer.Serialize(index with { Chunks = index.Chunks.Take(2).ToList() }, FeatureIndex.Options));
        File.WriteAllBytes(Path.Combine(partial, "chunk-00002.safetensors"), new byte[10]);
        File.Delete(Path.Combine(partial, "chunk-00003.safetensors"));

        FeatureExtractor.Run(_data, partial, models, _config, force: false, NullProgress.Instance, Logger.None);
        foreach (var f in Directory.GetFiles(full, "*.safetensors"))
        {
            Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(partial, Path.GetFileName(f))));
        }

        // Other settings do not silently mix with stored features.
        var other = _config with { Features = _config.Features with { ImageFrame = 5 } };
        Assert.Contains("image_frame", Assert.Throws<MindAnimatorException>(() => FeatureExtractor.Run(_data, partial, models, other, force: false, NullProgress.Instance, Logger.None)).Message);
    }

    [Fact]
    public void MissingCaption_IsAnErrorNamingTheFile()
    {
        var captions = Path.Combine(_data, "captions.jsonl");
        File.WriteAllLines(captions, File.ReadAllLines(captions).Skip(1));
        using var models = FeatureModels.Load(_clipFolder.Root, _sd.Root, CPU, Logger.None);
        var e = Assert.Throws<DataFormatException>(() => FeatureExtractor.Run(_data, _dir.File("f"), models, _config, force: false, NullProgress.Instance, Logger.None));
        Assert.Equal(captions, e.FilePath);
        Assert.Contains("no caption for 1 clips", e.Message);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double atol)
    {
        Assert.Equal(expected.shape, actual.shape);
        var diff = (expected.to(ScalarType.Float32) - actual.to(ScalarType.Float32)).abs().max().item<float>();
        Assert.True(diff <= atol, $"max |Δ| = {diff}");
    }

    [Fact]
    public void EveryDecoder_TrainsOnTheFeatures_ThroughTheTrainCommandsLibraryPath()
    {
        using (var models = FeatureModels.Load(_clipFolder.Root, _sd.Root, CPU, Logger.None))
        {
            FeatureExtractor.Run(_data, Path.Combine(_data, "features"), models, _config, force: false, NullProgress.Instance, Logger.None);
        }
        var two = new TrainingSettings { Epochs = 2, BatchSize = 8, LearningRate = 1e-3 };
        var config = _config with
        {
            Semantic = _config.Semantic with { Hidden = 16, ClipDim = 16, TokenDim = 32, HeadHidden = new[] { 16, 16 }, ResidualBlocks = 1, Training = two },
            Structure = _config.Structure with { Hidden = 32, OutputDim = 4 * 16 * 16, Training = two },
            Motion = _config.Motion with { ModelDim = 4 * 16 * 16, AttentionDim = 16, Heads = 4, FeedForward = 16, Layers = 1, EncoderHidden = 16, Training = two },
        };
        foreach (var kind in MindAnimator.Training.DecoderTaskFactory.Kinds)
        {
            var run = _dir.File("train-" + kind);
            Directory.CreateDirectory(run);
            var result = MindAnimator.Training.DecoderTraining.Run(kind, _data, Path.Combine(_data, "features"), run, config, resume: false, Logger.None);
            Assert.Equal(2, result.EpochsCompleted);
            Assert.True(File.Exists(result.BestCheckpoint), kind);
            Assert.True(result.History.All(h => double.IsFinite(h.TrainLoss)), kind);
        }
        var small = config with { Structure = config.Structure with { OutputDim = 100 } };
        var e = Assert.ThrowsAny<MindAnimatorException>(() => MindAnimator.Training.DecoderTraining.Run("structure", _data, Path.Combine(_data, "features"), _dir.File("bad"), small, resume: false, Logger.None));
        Assert.Contains("first_frame", e.Message);
    }

    [Fact]
    public void SemanticTraining_WithCaptionAugmentation_ReencodesCaptionsWithTheFeatureEncoders()
    {
        var features = Path.Combine(_data, "features");
        using (var models = FeatureModels.Load(_clipFolder.Root, _sd.Root, CPU, Logger.None))
        {
            FeatureExtractor.Run(_data, features, models, _config, force: false, NullProgress.Instance, Logger.None);
        }
        var wordNet = TinyWordNet.Write(_dir.File("wordnet"), new[]
        {
            new TinySynset('n', "background", "ground"),
            new TinySynset('s', "plain", "apparent", "evident"),
            new TinySynset('s', "small", "little"),
            new TinySynset('s', "large", "big"),
            new TinySynset('n', "circle", "round"),
            new TinySynset('n', "heart", "pump", "ticker"),
        });
        var augmentation = new CaptionAugmentationSettings { Enabled = true, WordnetFolder = wordNet };
        var config = _config with
        {
            Semantic = _config.Semantic with
            {
                Hidden = 16,
                ClipDim = 16,
                TokenDim = 32,
                HeadHidden = new[] { 16, 16 },
                ResidualBlocks = 1,
                Training = new TrainingSettings { Epochs = 2, BatchSize = 8, LearningRate = 1e-3 },
                CaptionAugmentation = augmentation,
            },
        };
        var run = _dir.File("train-eda");
        Directory.CreateDirectory(run);
        var result = MindAnimator.Training.DecoderTraining.Run("semantic", _data, features, run, config, resume: false, Logger.None);
        Assert.True(result.History.All(h => double.IsFinite(h.TrainLoss)));

        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var trainClips = metrics.RootElement.GetProperty("train_clips").GetInt32();
        var recorded = metrics.RootElement.GetProperty("settings").GetProperty("caption_augmentation");
        Assert.Equal(2L * trainClips, recorded.GetProperty("captions_augmented").GetInt64());
        Assert.Equal(Path.GetFullPath(wordNet), recorded.GetProperty("wordnet_folder").GetString());
        using var sidecar = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "checkpoints", "last.json")));
        Assert.True(sidecar.RootElement.GetProperty("settings").GetProperty("caption_augmentation").GetProperty("enabled").GetBoolean());

        // No WordNet: the error names the folder, the key and how to install it.
        var noWordNet = config with { Semantic = config.Semantic with { CaptionAugmentation = augmentation with { WordnetFolder = _dir.File("no-wordnet") } } };
        var missing = Assert.Throws<MindAnimatorException>(() => MindAnimator.Training.DecoderTraining.Run("semantic", _data, features, _dir.File("train-missing"), noWordNet, resume: false, Logger.None));
        Assert.Contains(_dir.File("no-wordnet"), missing.Message);
        Assert.Contains("apt-get install wordnet-base", missing.Message);

        // The encoders the features name are gone: say so rather than train towards another space.
        var index = Path.Combine(features, FeatureStore.IndexFile);
        File.WriteAllText(index, File.ReadAllText(index).Replace(System.Text.Json.JsonEncodedText.Encode(Path.GetFullPath(_clipFolder.Root)).ToString(), "/nonexistent/clip"));
        var gone = Assert.Throws<MindAnimatorException>(() => MindAnimator.Training.DecoderTraining.Run("semantic", _data, features, _dir.File("train-gone"), config, resume: false, Logger.None));
        Assert.Contains("/nonexistent/clip", gone.Message);
        Assert.Contains("clip_folder", gone.Message);
    }
}
