using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Video;
using MindAnimator.Evaluation;
using MindAnimator.Tests.Infrastructure;
using Serilog;

namespace MindAnimator.Tests.Evaluation;

/// <summary>The evaluator end to end in-process: inputs, pairing, per-clip aggregation, model metrics, reports.</summary>
public class ClipEvaluatorTests
{
    private static readonly ILogger Log = new LoggerConfiguration().CreateLogger();

    internal static ClipFrames NoisyClip(string id, int seed, int frames = 3, int size = 16)
    {
        var rgb = new byte[frames * size * size * 3];
        new Random(seed).NextBytes(rgb);
        return new ClipFrames(id, frames, size, size, rgb);
    }

    private static IReadOnlyList<MetricDefinition> Metrics(string names) => MetricCatalog.Resolve(new[] { names });

    [Fact]
    public void Per_clip_values_are_the_frame_means_of_the_official_frame_metrics()
    {
        using var dir = TestEnvironment.NewTempDir();
        var preds = new[] { NoisyClip("c1", 1), NoisyClip("c2", 2) };
        var gts = new[] { NoisyClip("c1", 3), preds[1] with { } };
        ClipStore.Write(dir.File("pred"), preds, overwrite: false);
        ClipStore.Write(dir.File("gt"), gts, overwrite: false);
        var result = ClipEvaluator.Evaluate(ClipSources.Open(dir.File("pred")), ClipSources.Open(dir.File("gt")),
            Metrics("ssim,psnr,psnr-skimage,mse,hue-pcc,epe"), EvalModels.None, new EvalOptions { BootstrapResamples = 50 }, Log);
        Assert.Equal(new[] { "c1", "c2" }, result.ClipIds);
        var ssim = result.Columns.Single(c => c.Name == "ssim").PerClip;
        var expected = Enumerable.Range(0, 3).Average(f => ImageMetrics.Ssim(RgbImage.FromClip(preds[0], f), RgbImage.FromClip(gts[0], f)));
        Assert.Equal(expected, ssim[0], 12);
        Assert.Equal(1.0, ssim[1], 12);
        Assert.Equal(100.0, result.Columns.Single(c => c.Name == "psnr").PerClip[1]);
        Assert.Equal(double.PositiveInfinity, result.Columns.Single(c => c.Name == "psnr-skimage").PerClip[1]);
        Assert.Equal(1, result.Columns.Single(c => c.Name == "psnr-skimage").Summary.NonFiniteCount);
        Assert.Equal(0.0, result.Columns.Single(c => c.Name == "epe").PerClip[1]);
        Assert.True(result.Columns.Single(c => c.Name == "epe").PerClip[0] > 0);
        Assert.Equal(0.0, result.Columns.Single(c => c.Name == "mse").PerClip[1]);
    }

    [Fact]
    public void Clip_pcc_is_gated_by_vifi_and_nway_gives_official_and_strict_columns_with_chance()
    {
        var pred = NoisyClip("a", 1);
        var gt = NoisyClip("a", 2);
        // Pure red against grey noise: the fake video embedding's cosine is about 1/√3 < 0.6, so its CLIP-pcc is gated to 0.
        var predLow = new ClipFrames("b", 3, 16, 16, Enumerable.Range(0, 3 * 16 * 16 * 3).Select(i => (byte)(i % 3 == 0 ? 255 : (i / 3) % 2)).ToArray());
        var models = new EvalModels
        {
            ViFiClip = new FakeVideoEmbedder(),
            ClipImage = new FakeImageEmbedder(),
            ImageClassifier = new FakeFrameClassifier(),
            VideoClassifier = new FakeClipClassifier(),
        };
        var source = Memory(pred, predLow);
        var truth = Memory(gt, gt with { ClipId = "b" });
        var result = ClipEvaluator.Evaluate(source, truth, Metrics("vifi,clip-pcc,2way-i,50way-v"), models,
            new EvalOptions { BootstrapResamples = 10, VifiGate = 0.6 }, Log);
        var vifi = result.Columns.Single(c => c.Name == "vifi").PerClip;
        var clipPcc = result.Columns.Single(c => c.Name == "clip-pcc").PerClip;
        for (var i = 0; i < 2; i++)
        {
            var p = i == 0 ? pred : predLow;
            var expectedVifi = EmbeddingMetrics.Cosine(FakeVideoEmbedder.Vector(p), FakeVideoEmbedder.Vector(gt));
            Assert.Equal(expectedVifi, vifi[i], 12);
            var adjacent = Enumerable.Range(0, p.Frames - 1).Average(f => EmbeddingMetrics.Cosine(FakeImageEmbedder.Vector(RgbImage.FromClip(p, f)), FakeImageEmbedder.Vector(RgbImage.FromClip(p, f + 1))));
            Assert.Equal(expectedVifi > 0.6 ? adjacent : 0.0, clipPcc[i], 12);
        }
        Assert.Contains(vifi, v => v <= 0.6);
        Assert.Contains(vifi, v => v > 0.6);
        Assert.Equal(new[] { "vifi", "clip-pcc", "2way-i", "2way-i-strict", "50way-v", "50way-v-strict" }, result.Columns.Select(c => c.Name));
        Assert.Equal(0.75, result.Columns.Single(c => c.Name == "2way-i").Chance);
        Assert.Equal(0.5, result.Columns.Single(c => c.Name == "2way-i-strict").Chance);
        Assert.Equal(3.0 / 52, result.Columns.Single(c => c.Name == "50way-v").Chance!.Value, 12);
        // The same seed gives the same trials.
        var again = ClipEvaluator.Evaluate(source, truth, Metrics("2way-i,50way-v"), models, new EvalOptions { BootstrapResamples = 10 }, Log);
        Assert.Equal(result.Columns.Single(c => c.Name == "50way-v").PerClip, again.Columns.Single(c => c.Name == "50way-v").PerClip);
        // Trials are seeded per clip id: a clip scored alone gets the same value as in the full set.
        var alone = ClipEvaluator.Evaluate(Memory(predLow), Memory(gt with { ClipId = "b" }), Metrics("2way-i,50way-v"), models, new EvalOptions { BootstrapResamples = 10 }, Log);
        Assert.Equal(result.Columns.Single(c => c.Name == "50way-v").PerClip[1], alone.Columns.Single(c => c.Name == "50way-v").PerClip[0]);
        Assert.Equal(result.Columns.Single(c => c.Name == "2way-i").PerClip[1], alone.Columns.Single(c => c.Name == "2way-i").PerClip[0]);
    }

    [Fact]
    public void Different_clip_ids_are_listed()
    {
        var e = Assert.Throws<MindAnimatorException>(() => ClipEvaluator.Pair(
            Memory(NoisyClip("a", 1), NoisyClip("b", 1), NoisyClip("x", 1)),
            Memory(NoisyClip("a", 1), NoisyClip("b", 1), NoisyClip("y", 1), NoisyClip("z", 1)), byOrder: false));
        Assert.Contains("1 clip id(s) only in the predictions: x", e.Message);
        Assert.Contains("2 clip id(s) only in the ground truth: y, z", e.Message);
    }

    [Fact]
    public void Different_frame_counts_and_sizes_are_listed()
    {
        var e = Assert.Throws<MindAnimatorException>(() => ClipEvaluator.Pair(
            Memory(NoisyClip("a", 1, frames: 3), NoisyClip("b", 1, size: 16), NoisyClip("c", 1)),
            Memory(NoisyClip("a", 1, frames: 4), NoisyClip("b", 1, size: 20), NoisyClip("c", 1)), byOrder: false));
        Assert.Contains("2 clip(s)", e.Message);
        Assert.Contains("'a': prediction 3 frames 16×16, ground truth 4 frames 16×16", e.Message);
        Assert.Contains("'b': prediction 3 frames 16×16, ground truth 3 frames 20×20", e.Message);
    }

    [Fact]
    public void Gif_frame_count_mismatch_found_while_reading_is_listed()
    {
        using var dir = TestEnvironment.NewTempDir();
        Directory.CreateDirectory(dir.File("pred"));
        Directory.CreateDirectory(dir.File("gt"));
        VideoFiles.WriteGif(Path.Combine(dir.File("pred"), "c1.gif"), NoisyClip("c1", 1, frames: 3), 4, false);
        VideoFiles.WriteGif(Path.Combine(dir.File("gt"), "c1.gif"), NoisyClip("c1", 2, frames: 2), 4, false);
        var e = Assert.Throws<MindAnimatorException>(() => ClipEvaluator.Evaluate(ClipSources.Open(dir.File("pred")), ClipSources.Open(dir.File("gt")),
            Metrics("ssim"), EvalModels.None, new EvalOptions(), Log));
        Assert.Contains("'c1': prediction 3 frames 16×16, ground truth 2 frames 16×16", e.Message);
    }

    [Fact]
    public void Side_by_side_gifs_split_into_ground_truth_left_and_prediction_right()
    {
        using var dir = TestEnvironment.NewTempDir();
        var left = NoisyClip("t1", 1, frames: 2, size: 8);
        var right = NoisyClip("t1", 2, frames: 2, size: 8);
        var both = new byte[2 * 8 * 16 * 3];
        for (var f = 0; f < 2; f++)
        {
            for (var r = 0; r < 8; r++)
            {
                left.Rgb.AsSpan(((f * 8) + r) * 24, 24).CopyTo(both.AsSpan(((f * 8) + r) * 48));
                right.Rgb.AsSpan(((f * 8) + r) * 24, 24).CopyTo(both.AsSpan((((f * 8) + r) * 48) + 24));
            }
        }
        Directory.CreateDirectory(dir.File("sbs"));
        var path = Path.Combine(dir.File("sbs"), "t1.gif");
        VideoFiles.WriteGif(path, new ClipFrames("t1", 2, 8, 16, both), 4, false);
        var whole = VideoFiles.ReadImageFrames(path, "t1");
        var l = ClipSources.Open(dir.File("sbs"), GifHalf.Left).Read("t1");
        var r2 = ClipSources.Open(dir.File("sbs"), GifHalf.Right).Read("t1");
        Assert.Equal((2, 8, 8), (l.Frames, l.Height, l.Width));
        for (var f = 0; f < 2; f++)
        {
            for (var row = 0; row < 8; row++)
            {
                Assert.Equal(whole.Rgb.AsSpan(((f * 8) + row) * 48, 24).ToArray(), l.Rgb.AsSpan(((f * 8) + row) * 24, 24).ToArray());
                Assert.Equal(whole.Rgb.AsSpan((((f * 8) + row) * 48) + 24, 24).ToArray(), r2.Rgb.AsSpan(((f * 8) + row) * 24, 24).ToArray());
            }
        }
    }

    [Fact]
    public void Npy_and_safetensors_tensor_files_are_read_as_clips()
    {
        using var dir = TestEnvironment.NewTempDir();
        var clips = new[] { NoisyClip("0", 1), NoisyClip("1", 2) };
        var all = clips.SelectMany(c => c.Rgb).ToArray();
        Npy.Write<byte>(dir.File("pred.npy"), all, new long[] { 2, 3, 16, 16, 3 }, overwrite: false);
        var npy = ClipSources.Open(dir.File("pred.npy"));
        Assert.Equal(new[] { "0", "1" }, npy.ClipIds);
        Assert.Equal(clips[1].Rgb, npy.Read("1").Rgb);
        var floats = all.Select(b => b / 255f).ToArray();
        Npy.Write<float>(dir.File("predf.npy"), floats, new long[] { 2, 3, 16, 16, 3 }, overwrite: false);
        Assert.Equal(clips[0].Rgb, ClipSources.Open(dir.File("predf.npy")).Read("0").Rgb);
        ClipStore.Write(dir.File("store"), clips, overwrite: false);
        var shard = Directory.GetFiles(dir.File("store"), "*.safetensors").Single();
        var st = ClipSources.Open(shard);
        Assert.Equal(new[] { "0", "1" }, st.ClipIds);
        Assert.Equal(clips[0].Rgb, st.Read("0").Rgb);
    }

    [Fact]
    public void Missing_models_name_what_to_download_and_where_to_put_it()
    {
        var e = Assert.Throws<MissingEvalModelException>(() => new EvalModelCatalog().Load(
            ClipEvaluator.ModelsNeeded(Metrics("clip-pcc,2way-i,2way-v")), new EvalModelSettings { ImageClassifier = "/no/such/vit" }));
        Assert.Contains("openai/clip-vit-base-patch32", e.Message);
        Assert.Contains("eval.models.clip_image", e.Message);
        Assert.Contains("eval.models.vifi", e.Message);
        Assert.Contains("'/no/such/vit'", e.Message);
        Assert.Contains("google/vit-base-patch16-224", e.Message);
        Assert.Contains("MCG-NJU/videomae-base-finetuned-kinetics", e.Message);
        Assert.Contains("--video-classifier", e.Message);
        using var dir = TestEnvironment.NewTempDir();
        var catalog = new EvalModelCatalog();
        var unregistered = Assert.Throws<MissingEvalModelException>(() => catalog.Load(new[] { EvalModelKind.ImageClassifier }, new EvalModelSettings { ImageClassifier = dir.Path }));
        Assert.Contains("no loader is registered", unregistered.Message);
        catalog.Register(EvalModelKind.ImageClassifier, _ => new FakeFrameClassifier());
        Assert.IsType<FakeFrameClassifier>(catalog.Load(new[] { EvalModelKind.ImageClassifier }, new EvalModelSettings { ImageClassifier = dir.Path }).ImageClassifier);
    }

    [Fact]
    public void Results_round_trip_and_compare_runs_paired_wilcoxon()
    {
        using var dir = TestEnvironment.NewTempDir();
        var gts = Enumerable.Range(0, 12).Select(i => NoisyClip($"c{i}", i, frames: 2)).ToArray();
        var close = gts.Select(c => c with { Rgb = c.Rgb.Select((b, k) => (byte)Math.Clamp(b + (k % 7) - 3, 0, 255)).ToArray() }).ToArray();
        var far = gts.Select((c, i) => NoisyClip(c.ClipId, 100 + i, frames: 2)).ToArray();
        var metrics = Metrics("ssim,psnr");
        var options = new EvalOptions { BootstrapResamples = 100 };
        var good = ClipEvaluator.Evaluate(Memory(close), Memory(gts), metrics, EvalModels.None, options, Log);
        var bad = ClipEvaluator.Evaluate(Memory(far), Memory(gts), metrics, EvalModels.None, options, Log);
        var (json, csv) = EvalReport.Write(dir.File("bad"), bad, overwrite: false);
        Assert.Throws<OutputExistsException>(() => EvalReport.Write(dir.File("bad"), bad, overwrite: false));
        var (ids, columns) = EvalReport.ReadPerClip(json);
        Assert.Equal(bad.ClipIds, ids);
        Assert.Equal(bad.Columns.Single(c => c.Name == "ssim").PerClip, columns["ssim"]);
        Assert.StartsWith("clip_id,ground_truth_id,ssim,psnr\nc0,c0,", File.ReadAllText(csv));
        var comparison = EvalReport.Compare(good, json, seed: 1);
        Assert.Equal(new[] { "ssim", "psnr" }, comparison.Select(c => c.Column));
        var ssim = comparison.Single(c => c.Column == "ssim");
        Assert.Equal(12, ssim.Clips);
        Assert.True(ssim.MeanThis > ssim.MeanOther);
        // All 12 clips better: W = 0, exact two-sided p = 2/2^12.
        Assert.Equal(0.0, ssim.PerClip.Statistic);
        Assert.Equal(2.0 / 4096, ssim.PerClip.PValue, 12);
        var text = EvalReport.ToJson(good, comparison, json).ToJsonString();
        Assert.Contains("Evaluation_Metrics/SSIM.py", text);
        Assert.Contains("comparability", text);
    }

    private static IClipSource Memory(params ClipFrames[] clips) => ClipSources.FromMemory(clips, "memory");

    /// <summary>Deterministic embeddings from pixel statistics, so expected values can be recomputed.</summary>
    private sealed class FakeImageEmbedder : IImageEmbedder
    {
        public string Name => "fake-image";

        public static float[] Vector(RgbImage image)
        {
            var p = image.Pixels.Span;
            var v = new float[4];
            for (var i = 0; i < p.Length; i++)
            {
                v[i % 4] += p[i] - 127.5f;
            }
            return v;
        }

        public IReadOnlyList<float[]> Embed(IReadOnlyList<RgbImage> frames) => frames.Select(Vector).ToList();
    }

    private sealed class FakeVideoEmbedder : IVideoEmbedder
    {
        public string Name => "fake-video";

        public static float[] Vector(ClipFrames clip) => Enumerable.Range(0, 3).Select(k => (float)clip.Rgb.Where((_, i) => i % 3 == k).Average(b => b)).ToArray();

        public float[] Embed(ClipFrames clip) => Vector(clip);
    }

    private sealed class FakeFrameClassifier : IFrameClassifier
    {
        public string Name => "fake-frames";

        public int Classes => 10;

        public IReadOnlyList<float[]> Probabilities(IReadOnlyList<RgbImage> frames) =>
            frames.Select(f => Enumerable.Range(0, 10).Select(k => (float)f.Pixels.Span[k] + 1).ToArray()).ToList();
    }

    private sealed class FakeClipClassifier : IClipClassifier
    {
        public string Name => "fake-clips";

        public int Classes => 60;

        public float[] Probabilities(ClipFrames clip) => Enumerable.Range(0, 60).Select(k => (float)clip.Rgb[k * 3] + 1).ToArray();
    }
}
