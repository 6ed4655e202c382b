using MindAnimator.Benchmarks;
using static TorchSharp.torch;

namespace MindAnimator.Models.Clip;

/// <summary>Where the CLIP benchmarks find a tokenizer and a tiny text encoder: the shared reference fixtures.</summary>
internal static class ClipBenchmarkData
{
    // $MINDANIM_SHARED, else ../shared beside the working directory (scripts/bench runs from the repository root).
    public static string Fixture(string name)
    {
        var shared = Environment.GetEnvironmentVariable("MINDANIM_SHARED");
        var root = !string.IsNullOrEmpty(shared) ? shared : Path.GetFullPath(Path.Combine(Directory.GetCurrentDirectory(), "..", "shared"));
        var dir = Path.Combine(root, "golden", name);
        return Directory.Exists(dir)
            ? dir
            : throw new MindAnimatorException($"{dir}: reference fixture not found (set MINDANIM_SHARED to the folder holding golden/).");
    }

    private static readonly string[] Subjects = ["a man", "two children", "a brown dog", "an old woman", "a red car", "a flock of birds", "a cat", "three horses"];
    private static readonly string[] Actions = ["is running along", "walks slowly across", "jumps over", "is sitting on", "drives past", "flies above", "plays near"];
    private static readonly string[] Places = ["the beach at sunset", "a busy city street", "a snowy mountain", "the green grass", "a wooden bridge", "the calm blue sea"];

    /// <summary>Deterministic video-caption-like sentences, mostly distinct.</summary>
    public static string[] Captions(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count)
            .Select(i => $"{Subjects[random.Next(Subjects.Length)]} {Actions[random.Next(Actions.Length)]} {Places[random.Next(Places.Length)]}, take {i}")
            .ToArray();
    }
}

/// <summary>Tokenizer load time and throughput, first pass (empty BPE cache) and warm.</summary>
public sealed class ClipTokenizerBenchmark : IBenchmark
{
    public string Name => "clip-tokenizer";

    public string Description => "CLIP BPE tokenizer: load time, captions/s first pass and warm (77-token padded encodings)";

    public IReadOnlyList<Measurement> Run(BenchmarkContext context)
    {
        var folder = ClipBenchmarkData.Fixture("clip_tokenizer");
        var count = context.Quick ? 2_000 : 20_000;
        var captions = ClipBenchmarkData.Captions(count, seed: 7);
        ClipTokenizer? tokenizer = null;
        var load = Measure.Seconds(() => tokenizer = ClipTokenizer.FromFolder(folder));
        long tokens = 0;
        var cold = Measure.Seconds(() =>
        {
            foreach (var caption in captions)
            {
                tokens += tokenizer!.Encode(caption, 77, padToMaxLength: true).AttentionMask.Sum();
            }
        });
        var warm = Measure.Seconds(() =>
        {
            foreach (var caption in captions)
            {
                tokenizer!.Encode(caption, 77, padToMaxLength: true);
            }
        });
        context.Log.Information("clip-tokenizer: {Count} captions, {Tokens} tokens, cold {Cold:F3} s, warm {Warm:F3} s", count, tokens, cold, warm);
        return
        [
            new("load", load, "s", "vocab.json + merges.txt (49,408 tokens, 48,894 merges)"),
            new("first_pass", count / cold, "captions/s", $"{count} captions, {tokens / (double)count:F1} tokens each incl. bos/eos; fresh tokenizer (JIT, empty BPE cache)"),
            new("warm", count / warm, "captions/s", "same captions again (BPE word cache filled), one thread"),
            new("warm_tokens", tokens / warm, "tokens/s", string.Empty),
        ];
    }
}

/// <summary>Forward time of the CLIP text encoder: the tiny fixture config and Stable Diffusion v1.5's full size.</summary>
public sealed class ClipTextEncoderBenchmark : IBenchmark
{
    public string Name => "clip-text-encoder";

    public string Description => "CLIP text encoder forward (B×77): tiny fixture config, and SD v1.5 size with random weights";

    public IReadOnlyList<Measurement> Run(BenchmarkContext context)
    {
        var results = new List<Measurement>();
        using var _ = no_grad();
        var fixture = ClipBenchmarkData.Fixture("clip_text");
        using (var tiny = ClipTextModel.FromFiles(Path.Combine(fixture, "config.json"), Path.Combine(fixture, "weights.safetensors")))
        {
            results.AddRange(Time(tiny, "tiny", context.Quick ? 20 : 200, context));
        }
        if (!context.Quick)
        {
            ClipTextModel? full = null;
            var build = Measure.Seconds(() => full = new ClipTextModel(ClipTextConfig.StableDiffusionV15));
            full!.eval();
            results.Add(new("sd15_build", build, "s", "construct + random init, 123,060,480 parameters"));
            results.AddRange(Time(full, "sd15", 3, context));
            results.Add(new("peak_rss", Measure.PeakRssMiB(), "MiB", "whole process"));
            full.Dispose();
        }
        return results;
    }

    // Each size is timed single-threaded and with libtorch's default thread count: on a busy machine the
    // multi-threaded numbers mostly measure OpenMP waiting for cores.
    private static IEnumerable<Measurement> Time(ClipTextModel model, string label, int repeats, BenchmarkContext context)
    {
        var tokenizer = ClipTokenizer.FromFolder(ClipBenchmarkData.Fixture("clip_tokenizer"));
        var defaultThreads = get_num_threads();
        foreach (var threads in new[] { 1, defaultThreads }.Distinct())
        {
            set_num_threads(threads);
            try
            {
                foreach (var batch in new[] { 1, 2, 8 })
                {
                    using var scope = NewDisposeScope();
                    var (ids, _) = tokenizer.EncodeBatch(ClipBenchmarkData.Captions(batch, seed: batch));
                    model.Forward(ids);
                    var seconds = Measure.Seconds(() =>
                    {
                        for (var i = 0; i < repeats; i++)
                        {
                            using var inner = NewDisposeScope();
                            model.Forward(ids);
                        }
                    }) / repeats;
                    context.Log.Information("clip-text-encoder {Label} B={Batch} threads={Threads}: {Ms:F2} ms", label, batch, threads, seconds * 1000);
                    yield return new Measurement($"{label}_b{batch}_t{threads}", seconds * 1000, "ms", $"mean of {repeats} forwards of ({batch}, 77) ids, {threads} threads");
                }
            }
            finally
            {
                set_num_threads(defaultThreads);
            }
        }
    }
}
