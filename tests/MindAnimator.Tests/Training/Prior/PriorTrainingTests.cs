using System.Text.Json;
using MindAnimator.Config;
using MindAnimator.Diffusion;
using MindAnimator.Diffusion.Pipelines;
using MindAnimator.Features;
using MindAnimator.Models.Clip;
using MindAnimator.Models.Diffusers;
using MindAnimator.Tests.Infrastructure;
using MindAnimator.Training;
using MindAnimator.Training.Prior;
using Serilog.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Training.Prior;

/// <summary>
/// Fresh models take their initial weights from libtorch's global generator, which tests running in parallel would
/// draw from too; the same-seed-same-losses checks therefore run on their own.
/// </summary>
[CollectionDefinition(nameof(PriorTrainingTests), DisableParallelization = true)]
public sealed class PriorTrainingCollection;

/// <summary>The prior's training loops and model folders, on a handful of 16×16 frames with tiny models.</summary>
[Collection(nameof(PriorTrainingTests))]
public sealed class PriorTrainingTests
{
    private const int Size = 16;

    private static readonly string[] Captions =
    {
        "a red square resting on a plain black background",
        "a blue circle spinning clockwise over a striped white background",
        "a large green star quickly moving to the left on a plain gray background",
        "a small yellow ring growing in front of a purple gradient background",
    };

    internal static PriorSettings TinySettings => new()
    {
        VaeChannels = new[] { 8, 8 },
        VaeLayersPerBlock = 1,
        LatentChannels = 4,
        NormGroups = 4,
        TextHidden = 16,
        TextLayers = 1,
        TextHeads = 2,
        TextIntermediate = 32,
        ProjectionDim = 8,
        VisionHidden = 16,
        VisionLayers = 1,
        VisionHeads = 2,
        VisionIntermediate = 32,
        PatchSize = 4,
        UnetChannels = new[] { 8, 16 },
        UnetLayersPerBlock = 1,
        UnetHeads = 2,
        BatchSize = 8,
        LogEvery = 10,
    };

    /// <summary>Two frames per caption: a coloured square on a coloured background, at two positions.</summary>
    internal static (Tensor Rgb, List<string> Captions) TinyFrames()
    {
        var colors = new[] { (230, 30, 25), (40, 80, 240), (40, 190, 50), (240, 230, 40) };
        var backgrounds = new[] { (10, 10, 10), (235, 235, 230), (115, 115, 115), (90, 30, 115) };
        var bytes = new byte[Captions.Length * 2 * Size * Size * 3];
        var captions = new List<string>();
        for (var c = 0; c < Captions.Length; c++)
        {
            for (var k = 0; k < 2; k++)
            {
                var frame = (c * 2) + k;
                var x0 = 2 + (k * 6);
                for (var y = 0; y < Size; y++)
                {
                    for (var x = 0; x < Size; x++)
                    {
                        var inside = x >= x0 && x < x0 + 6 && y >= 5 && y < 11;
                        var (r, g, b) = inside ? colors[c] : backgrounds[c];
                        var i = (((frame * Size) + y) * Size + x) * 3;
                        (bytes[i], bytes[i + 1], bytes[i + 2]) = ((byte)r, (byte)g, (byte)b);
                    }
                }
                captions.Add(Captions[c]);
            }
        }
        return (tensor(bytes, new long[] { captions.Count, Size, Size, 3 }), captions);
    }

    private static double Mean(IEnumerable<double> v) => v.Average();

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && (a - b).abs().max().item<float>() == 0;

    [Fact]
    public void ResetNorms_MakesFreshNormsTheIdentity()
    {
        var arch = PriorArchitecture.From(TinySettings, Size, 600);
        using var vae = new AutoencoderKl(arch.Vae);
        using var text = new ClipTextModelWithProjection(arch.Text);
        Assert.True(FreshWeights.ResetNorms(vae) > 0);
        Assert.Equal(1 + (2 * arch.Text.NumHiddenLayers), FreshWeights.ResetNorms(text));
        foreach (var (name, p) in vae.named_parameters().Concat(text.named_parameters()))
        {
            Assert.True(p.isfinite().all().item<bool>(), name);
            if (name.Contains("norm", StringComparison.Ordinal))
            {
                Assert.Equal(name.EndsWith("weight", StringComparison.Ordinal) ? 1f : 0f, p.mean().item<float>());
            }
        }
    }

    private static void AssertDecreases(IReadOnlyList<double> losses, string what)
    {
        var first = Mean(losses.Take(5));
        var last = Mean(losses.Skip(losses.Count - 5));
        Assert.True(last < 0.9 * first, $"{what}: loss went from {first:G4} to {last:G4} (first/last 5 steps).");
    }

    [Fact]
    public void EachLoop_LowersItsLoss_OnAFewFrames()
    {
        var (rgb, captions) = TinyFrames();
        using var _ = rgb;
        var tables = CaptionTokenizerBuilder.Build(captions);
        var tokenizer = tables.ToTokenizer();
        var arch = PriorArchitecture.From(TinySettings, Size, tokenizer.VocabSize);
        manual_seed(7);
        using var vae = new AutoencoderKl(arch.Vae);
        using var text = new ClipTextModelWithProjection(arch.Text);
        using var vision = new ClipVisionModelWithProjection(arch.Vision);
        using var logitScale = new TorchSharp.Modules.Parameter(tensor((float)Math.Log(1 / 0.07)));
        using var unet = new Unet2DConditionModel(arch.Unet);
        foreach (var model in new nn.Module[] { vae, text, vision, unet })
        {
            FreshWeights.ResetNorms(model);
        }
        PriorLoopOptions Options(int steps, double rate) => new() { Steps = steps, BatchSize = 8, LearningRate = rate, Seed = 11, LogEvery = 10 };

        var vaeLosses = PriorLoops.TrainVae(vae, rgb, 1e-6, Options(40, 3e-3), Logger.None);
        AssertDecreases(vaeLosses, "VAE");

        var distinct = captions.Distinct().ToList();
        var ofFrame = captions.Select(c => distinct.IndexOf(c)).ToArray();
        var processor = new ClipImageProcessor { CropOffsetRounding = CropRounding.HalfToEven, ShortestEdge = Size, CropHeight = Size, CropWidth = Size };
        using var pixels = processor.Preprocess(rgb);
        var (ids, _) = tokenizer.EncodeBatch(distinct, 24);
        var clipLosses = PriorLoops.TrainClip(text, vision, logitScale, pixels, ids, ofFrame, Options(40, 3e-3), Logger.None);
        AssertDecreases(clipLosses, "CLIP");

        // Frozen towers stay as they are while the UNet trains on their states.
        text.parameters().ToList().ForEach(p => p.requires_grad = false);
        using var before = text.parameters().First().clone();
        using var scheduler = new DdpmScheduler(DiffusersConfig.Parse(PriorArchitecture.SchedulerConfig.ToJsonString(), "scheduler"));
        var (mean, std) = PriorTraining.EncodeLatents(vae, rgb, 3);
        using var context = PriorTraining.TextStates(text, tokenizer, distinct, 20);
        using var empty = PriorTraining.TextStates(text, tokenizer, new[] { string.Empty }, 20);
        Assert.Equal(new long[] { 8, 4, 8, 8 }, mean.shape);
        Assert.Equal(new long[] { 4, 20, 16 }, context.shape);
        var unetLosses = PriorLoops.TrainUnet(unet, scheduler, mean, std, context, ofFrame, empty, 0.1, Options(60, 2e-3), Logger.None);
        AssertDecreases(unetLosses, "UNet");
        Assert.True(Same(text.parameters().First(), before));

        // Seeded: the same loop from the same weights draws the same batches, noise and timesteps.
        manual_seed(7);
        using var unet2 = new Unet2DConditionModel(arch.Unet);
        FreshWeights.ResetNorms(unet2);
        manual_seed(7);
        using var unet3 = new Unet2DConditionModel(arch.Unet);
        FreshWeights.ResetNorms(unet3);
        Assert.Equal(
            PriorLoops.TrainUnet(unet2, scheduler, mean, std, context, ofFrame, empty, 0.1, Options(3, 2e-3), Logger.None),
            PriorLoops.TrainUnet(unet3, scheduler, mean, std, context, ofFrame, empty, 0.1, Options(3, 2e-3), Logger.None));
    }

    [Fact]
    public void WrittenFolders_ReloadThroughTheLoaders_WithIdenticalOutputs()
    {
        using var dir = TestEnvironment.NewTempDir();
        var (rgb, captions) = TinyFrames();
        using var _ = rgb;
        var tables = CaptionTokenizerBuilder.Build(captions);
        var tokenizer = tables.ToTokenizer();
        var arch = PriorArchitecture.From(TinySettings, Size, tokenizer.VocabSize, scalingFactor: 0.75);
        manual_seed(3);
        using var vae = new AutoencoderKl(arch.Vae);
        using var text = new ClipTextModelWithProjection(arch.Text);
        using var vision = new ClipVisionModelWithProjection(arch.Vision);
        using var logitScale = new TorchSharp.Modules.Parameter(tensor(2.5f));
        using var unet = new Unet2DConditionModel(arch.Unet);
        foreach (var model in new nn.Module[] { vae, text, vision, unet })
        {
            FreshWeights.ResetNorms(model);
        }
        var sdRoot = Path.Combine(dir.Path, "sd");
        var clipRoot = Path.Combine(dir.Path, "clip");
        PriorFolders.WriteStableDiffusion(sdRoot, arch, tables, unet, vae, text);
        PriorFolders.WriteClip(clipRoot, arch, tables, text, vision, logitScale);

        using var noGrad = no_grad();
        vae.eval();
        var sd = StableDiffusionFolder.Open(sdRoot);
        using var images = PriorLoops.ToImages(rgb.narrow(0, 0, 3));
        using var vae2 = sd.LoadVae();
        Assert.Equal(0.75, vae2.Config.ScalingFactor);
        Assert.True(Same(vae.forward(images), vae2.forward(images)));

        var (ids, _) = sd.LoadTokenizer().EncodeBatch(captions.Take(3).ToList(), 20);
        Assert.Equal(tokenizer.EncodeBatch(captions.Take(3).ToList(), 20).InputIds.data<long>().ToArray(), ids.data<long>().ToArray());
        using var sdText = sd.LoadTextEncoder();
        using var hidden = text.Forward(ids).LastHiddenState;
        Assert.True(Same(hidden, sdText.Forward(ids).LastHiddenState));

        using var unet2 = Unet2DConditionModel.FromPretrained(sd.UnetFolder);
        unet.eval();
        using var latents = randn(3, 4, 8, 8);
        using var t = tensor(new long[] { 5, 500, 999 });
        Assert.True(Same(unet.forward(latents, t, hidden), unet2.forward(latents, t, hidden)));
        using var ddim = sd.LoadDdimScheduler();
        Assert.Equal(1000, ddim.NumTrainTimesteps);

        using var text2 = ClipTextModelWithProjection.FromFolder(clipRoot);
        Assert.True(Same(text.Forward(ids).TextEmbeds!, text2.Forward(ids).TextEmbeds!));
        using var vision2 = ClipVisionModelWithProjection.FromFolder(clipRoot);
        var processor = new ClipImageProcessor { CropOffsetRounding = CropRounding.HalfToEven, ShortestEdge = Size, CropHeight = Size, CropWidth = Size };
        using var pixels = processor.Preprocess(rgb.narrow(0, 0, 3));
        Assert.True(Same(vision.Forward(pixels).ImageEmbeds!, vision2.Forward(pixels).ImageEmbeds!));

        // The feature extractor takes the pair as its CLIP and Stable Diffusion folders.
        using var models = FeatureModels.Load(clipRoot, sdRoot, CPU, Logger.None);
        Assert.Equal(8, models.ClipVision.Forward(pixels).ImageEmbeds!.shape[1]);
        Assert.Equal(tables.Vocab.Count, models.ClipTokenizer.VocabSize);
    }

    [Fact]
    public void Train_WritesTheFoldersAndTheLossRecord()
    {
        using var dir = TestEnvironment.NewTempDir();
        var (rgb, captions) = TinyFrames();
        using var _ = rgb;
        var config = new MindAnimatorConfig { Seed = 5, Prior = TinySettings with { VaeSteps = 3, ClipSteps = 3, UnetSteps = 3 } };
        // A stage can be skipped (0 steps); its record says so.
        using (var skipped = TestEnvironment.NewTempDir())
        {
            var none = PriorTraining.Train(rgb, captions, skipped.Path, config with { Prior = config.Prior with { VaeSteps = 0, UnetSteps = 0 } }, Logger.None);
            Assert.Empty(none.Losses["unet"]);
            using var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(skipped.Path, "prior.json")));
            Assert.Equal(JsonValueKind.Null, record.RootElement.GetProperty("stages").GetProperty("vae").GetProperty("last_loss_mean").ValueKind);
        }
        var result = PriorTraining.Train(rgb, captions, dir.Path, config, Logger.None);
        Assert.Equal(new[] { 3, 3, 3 }, new[] { "vae", "clip", "unet" }.Select(k => result.Losses[k].Count));
        Assert.True(result.ScalingFactor > 0);
        Assert.Equal(result.ScalingFactor, AutoencoderKlConfig.Load(Path.Combine(result.StableDiffusionFolder, "vae", "config.json")).ScalingFactor);
        Assert.Equal(1 + 9, File.ReadAllLines(Path.Combine(dir.Path, "losses.csv")).Length);
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "prior.json")));
        Assert.Equal(4, summary.RootElement.GetProperty("captions").GetInt32());
        var unetStage = summary.RootElement.GetProperty("stages").GetProperty("unet");
        Assert.Equal(result.Losses["unet"][0], unetStage.GetProperty("first_loss_mean").GetDouble());
        Assert.Equal(result.Losses["unet"][^1], unetStage.GetProperty("last_loss_mean").GetDouble());
        // Every simulator word is one token of the written tokenizer, besides the training captions' words.
        var tokenizer = ClipTokenizer.FromFolder(Path.Combine(result.ClipFolder));
        Assert.Equal(3, tokenizer.Tokenize("counterclockwise").Count);
        using var pipeline = StableDiffusionFolder.Open(result.StableDiffusionFolder).LoadInflatedPipeline();

        // The same seed trains the same prior.
        using var dir2 = TestEnvironment.NewTempDir();
        var again = PriorTraining.Train(rgb, captions, dir2.Path, config, Logger.None);
        Assert.Equal(result.Losses["unet"], again.Losses["unet"]);
    }
}
