using MindAnimator.Benchmarks;
using MindAnimator.Diffusion.Pipelines;
using MindAnimator.Features;
using MindAnimator.Models.Clip;
using MindAnimator.Reconstruction;
using MindAnimator.Simulation;
using MindAnimator.Text;
using static TorchSharp.torch;

namespace MindAnimator.Training;

/// <summary>
/// `mindanim bench caption-eda`: what caption augmentation adds to a semantic epoch of the demo (900 training
/// captions, batch 64): loading WordNet 3.0 from /usr/share/wordnet, EDA of every caption (the first epoch fills the
/// synonym cache), and re-encoding them with the demo prior's CLIP and SD text encoders.
/// </summary>
public sealed class CaptionAugmentationBenchmark : IBenchmark
{
    private const int Captions = 900;
    private const int Batch = 64;

    public string Name => "caption-eda";

    public string Description => "caption augmentation per semantic epoch of the demo: WordNet load, EDA of 900 captions, re-encoding them with the demo prior's text encoders";

    public IReadOnlyList<Measurement> Run(BenchmarkContext context)
    {
        var epochs = context.Quick ? 1 : 4;
        WordNet? wordNet = null;
        var load = Measure.Seconds(() => wordNet = WordNet.Load(WordNet.DefaultFolder, "the benchmark's " + WordNet.DefaultFolder));
        var eda = new EasyDataAugmentation(wordNet!);
        var classes = SimulationClasses.VideoClasses(8);
        var captions = Enumerable.Range(0, Captions).Select(i => $"{classes[(i * 7) % classes.Count]} on a plain {(i % 2 == 0 ? "blue" : "dark green")} background").ToList();
        var random = new Random(1234);
        var augmented = new List<string>();
        var first = Measure.Seconds(() => augmented = captions.Select(c => eda.Augment(c, random)).ToList());
        var steady = epochs <= 1 ? first : Measure.Seconds(() =>
        {
            for (var e = 1; e < epochs; e++)
            {
                augmented = captions.Select(c => eda.Augment(c, random)).ToList();
            }
        }) / (epochs - 1);

        var sd = StableDiffusionFolder.Open(Path.Combine(ModelFolders.DemoPrior, "sd"));
        var clip = Path.Combine(ModelFolders.DemoPrior, "clip");
        var clipTokenizer = ClipTokenizer.FromFolder(clip);
        var sdTokenizer = sd.LoadTokenizer();
        using var encoder = new CaptionEncoder(clipTokenizer, ClipTextModelWithProjection.FromFolder(clip, CPU), sdTokenizer, sd.LoadTextEncoder(CPU), 20, CPU);
        var tokenize = Measure.Seconds(() =>
        {
            foreach (var batch in augmented.Chunk(Batch))
            {
                clipTokenizer.EncodeBatch(batch).InputIds.Dispose();
                sdTokenizer.EncodeBatch(batch, 20).InputIds.Dispose();
            }
        });
        void EncodeAll()
        {
            foreach (var batch in augmented.Chunk(Batch))
            {
                var (text, tokens) = encoder.Encode(batch);
                text.Dispose();
                tokens.Dispose();
            }
        }
        EncodeAll();
        var encode = Measure.Seconds(() =>
        {
            for (var e = 0; e < epochs; e++)
            {
                EncodeAll();
            }
        }) / epochs;
        context.Log.Information("caption-eda: e.g. '{Caption}' → '{Augmented}'", captions[0], augmented[0]);
        return new[]
        {
            new Measurement("wordnet_load", load, "s", $"{wordNet!.LemmaCount:N0} lemmas, once per training run"),
            new Measurement("eda_first_epoch", first, "s", $"{Captions} captions, synonym cache empty"),
            new Measurement("eda_epoch", steady, "s", $"{Captions} captions, mean of {Math.Max(1, epochs - 1)} epochs"),
            new Measurement("tokenize_epoch", tokenize, "s", $"{Captions} captions, both tokenizers (part of encode_epoch)"),
            new Measurement("encode_epoch", encode, "s", $"{Captions} captions in batches of {Batch}, demo prior CLIP + SD text encoders, CPU"),
            new Measurement("total_epoch", steady + encode, "s", "added to each semantic epoch of the demo"),
        };
    }
}
