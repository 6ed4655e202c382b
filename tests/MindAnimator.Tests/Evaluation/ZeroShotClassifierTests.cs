using System.Text.Json.Nodes;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Evaluation;
using MindAnimator.Models.Clip;
using MindAnimator.Models.Common;
using MindAnimator.Simulation;
using MindAnimator.Tests.Cli;
using MindAnimator.Tests.Infrastructure;
using MindAnimator.Tests.Models.Clip;
using Serilog;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Evaluation;

/// <summary>The CLIP zero-shot classifier folders, the frame-mean video encoder and the simulation's class lists.</summary>
public sealed class ZeroShotClassifierTests
{
    private static readonly ILogger Log = new LoggerConfiguration().CreateLogger();

    /// <summary>The tiny CLIP folder with a trained-looking logit_scale (ln 50) added to its weights.</summary>
    private static TinyClipFolder ClipWithLogitScale(double logitScale)
    {
        var clip = new TinyClipFolder();
        var path = Path.Combine(clip.Root, "model.safetensors");
        var weights = StateDict.Read(path);
        weights["logit_scale"] = tensor((float)logitScale);
        StateDict.Write(path, weights, overwrite: true);
        return clip;
    }

    private static List<RgbImage> RandomFrames(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var px = new byte[40 * 48 * 3];
            rng.NextBytes(px);
            return new RgbImage(40, 48, px);
        }).ToList();
    }

    private static RgbImage Solid(byte r, byte g, byte b) =>
        new(24, 24, Enumerable.Range(0, 24 * 24 * 3).Select(i => (i % 3) switch { 0 => r, 1 => g, _ => b }).ToArray());

    /// <summary>What the CLIP port gives for images and texts, computed here without the classifier.</summary>
    private sealed class Reference : IDisposable
    {
        private readonly ClipVisionModelWithProjection _vision;
        private readonly ClipTextModelWithProjection _text;
        private readonly ClipTokenizer _tokenizer;
        private readonly ClipImageProcessor _processor;

        public Reference(string folder)
        {
            _vision = ClipVisionModelWithProjection.FromFolder(folder);
            _text = ClipTextModelWithProjection.FromFolder(folder);
            _tokenizer = ClipTokenizer.FromFolder(folder);
            var size = _vision.Config.ImageSize;
            _processor = new ClipImageProcessor { CropOffsetRounding = CropRounding.HalfToEven, ShortestEdge = size, CropHeight = size, CropWidth = size };
        }

        public float[] Image(RgbImage frame)
        {
            using var noGrad = no_grad();
            using var pixels = tensor(_processor.Preprocess(frame.Pixels.Span, frame.Height, frame.Width), new long[] { 1, 3, _processor.CropHeight, _processor.CropWidth });
            return _vision.Forward(pixels).ImageEmbeds!.data<float>().ToArray();
        }

        public float[] Text(string prompt)
        {
            using var noGrad = no_grad();
            var ids = _tokenizer.Encode(prompt, 77, padToMaxLength: true).Ids.Select(i => (long)i).ToArray();
            using var input = tensor(ids, new long[] { 1, ids.Length });
            return _text.Forward(input).TextEmbeds!.data<float>().ToArray();
        }

        public void Dispose()
        {
            _vision.Dispose();
            _text.Dispose();
        }
    }

    private static double[] Softmax(float[] image, IReadOnlyList<float[]> texts, double scale)
    {
        var logits = texts.Select(t => scale * EmbeddingMetrics.Cosine(image, t)).ToArray();
        var max = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        return exp.Select(e => e / exp.Sum()).ToArray();
    }

    private static float[] Unit(float[] v)
    {
        var norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return v.Select(x => (float)(x / norm)).ToArray();
    }

    private static void AssertClose(double[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < tolerance, $"class {i}: {actual[i]} vs {expected[i]}");
        }
    }

    private static string ZeroShotFolder(TempDir dir, string name, string clipFolder, IReadOnlyList<string> classes, string template = "a {}")
    {
        var folder = dir.File(name);
        ZeroShotClassifierFolders.Write(folder, clipFolder, classes, overwrite: false, template);
        return folder;
    }

    [Fact]
    public void Frame_probabilities_are_the_softmax_of_logit_scale_times_cosine_to_the_class_prompts()
    {
        using var clip = ClipWithLogitScale(Math.Log(50));
        using var dir = TestEnvironment.NewTempDir();
        var classes = new[] { "red circle", "blue square", "yellow heart", "white star" };
        var folder = ZeroShotFolder(dir, "zs", clip.Root, classes, "a photo of a {}");
        var models = EvalModelCatalog.Default.Load(new[] { EvalModelKind.ImageClassifier }, new EvalModelSettings { ImageClassifier = folder });
        var classifier = Assert.IsType<ClipZeroShotClassifier>(models.ImageClassifier);
        Assert.Equal(4, classifier.Classes);
        Assert.Equal(50.0, classifier.LogitScale, 3);
        Assert.Contains("zero-shot", classifier.Name);

        var frames = RandomFrames(3, 11);
        var got = classifier.Probabilities(frames);
        Assert.Equal(3, got.Count);
        using var reference = new Reference(clip.Root);
        var texts = classes.Select(c => reference.Text($"a photo of a {c}")).ToList();
        for (var f = 0; f < frames.Count; f++)
        {
            Assert.Equal(1.0, got[f].Sum(p => (double)p), 5);
            AssertClose(Softmax(reference.Image(frames[f]), texts, 50), got[f], 1e-5);
        }
        Assert.NotEqual(got[0], got[1]);
    }

    [Fact]
    public void Clip_probabilities_use_the_mean_frame_embedding_and_the_config_scale_when_the_weights_have_none()
    {
        using var clip = new TinyClipFolder();
        using var dir = TestEnvironment.NewTempDir();
        var classes = new[] { "red circle", "green ring", "cyan cross" };
        var templates = new[] { "a {}", "a small {} spinning over a striped gray background" };
        var folder = dir.File("zs");
        ZeroShotClassifierFolders.Write(folder, clip.Root, classes, templates, overwrite: false);
        var models = EvalModelCatalog.Default.Load(new[] { EvalModelKind.VideoClassifier }, new EvalModelSettings { VideoClassifier = folder });
        var classifier = Assert.IsType<ClipZeroShotClassifier>(models.VideoClassifier);
        // Neither weights nor config.json hold a logit scale: transformers' CLIPConfig default, ln(1/0.07).
        Assert.Equal(Math.Exp(2.6592), classifier.LogitScale, 3);

        var video = ClipEvaluatorTests.NoisyClip("v", 5, frames: 4, size: 20);
        var got = classifier.Probabilities(video);
        using var reference = new Reference(clip.Root);
        var frameEmbeds = Enumerable.Range(0, video.Frames).Select(f => reference.Image(RgbImage.FromClip(video, f))).ToList();
        var mean = Enumerable.Range(0, frameEmbeds[0].Length).Select(i => frameEmbeds.Average(e => e[i])).ToArray();
        // Prompt ensembling: the mean of the prompts' unit embeddings (the softmax takes its cosine, so its length does not matter).
        var texts = classes.Select(c =>
        {
            var units = templates.Select(t => reference.Text(t.Replace("{}", c, StringComparison.Ordinal))).Select(Unit).ToList();
            return Enumerable.Range(0, units[0].Length).Select(i => units.Average(u => u[i])).ToArray();
        }).ToList();
        Assert.Equal(1.0, got.Sum(p => (double)p), 5);
        AssertClose(Softmax(mean, texts, classifier.LogitScale), got, 1e-5);
    }

    [Fact]
    public void Classifies_each_frame_as_the_class_whose_prompt_is_engineered_to_be_nearest()
    {
        using var clip = new TinyClipFolder();
        using var reference = new Reference(clip.Root);
        var frames = new[] { Solid(230, 30, 25), Solid(20, 60, 240) };
        var candidates = SimulationClasses.ImageClasses(8).Take(24).ToList();
        var texts = candidates.Select(c => reference.Text($"a {c}")).ToList();
        var images = frames.Select(reference.Image).ToArray();
        // Two prompts that the two frames rank in opposite orders (the first nearer frame 0, the second nearer frame 1).
        var pair = (from a in Enumerable.Range(0, candidates.Count)
                    from b in Enumerable.Range(0, candidates.Count)
                    let margin = Math.Min(
                        EmbeddingMetrics.Cosine(images[0], texts[a]) - EmbeddingMetrics.Cosine(images[0], texts[b]),
                        EmbeddingMetrics.Cosine(images[1], texts[b]) - EmbeddingMetrics.Cosine(images[1], texts[a]))
                    where a != b && margin > 1e-4
                    orderby margin descending
                    select (a, b)).First();
        using var dir = TestEnvironment.NewTempDir();
        foreach (var (order, name) in new[] { (new[] { pair.a, pair.b }, "ab"), (new[] { pair.b, pair.a }, "ba") })
        {
            using var classifier = new ClipZeroShotClassifier(ZeroShotSpec.Read(ZeroShotFolder(dir, name, clip.Root, order.Select(i => candidates[i]).ToList())));
            var probabilities = classifier.Probabilities(frames);
            for (var f = 0; f < 2; f++)
            {
                var expected = Array.IndexOf(order, f == 0 ? pair.a : pair.b);
                Assert.Equal(expected, NWayClassification.TopClasses(probabilities[f], 1)[0]);
            }
        }
    }

    /// <summary>The simulation's classifier folders with two of their prompt templates (all 24 make the test slow).</summary>
    private static (string Image, string Video) SimulationFolders(TempDir dir, string clipFolder)
    {
        var image = dir.File("classifiers/image");
        var video = dir.File("classifiers/video");
        ZeroShotClassifierFolders.Write(image, clipFolder, SimulationClasses.ImageClasses(8), SimulationClasses.ImageTemplates().Take(2).ToList(), overwrite: false);
        ZeroShotClassifierFolders.Write(video, clipFolder, SimulationClasses.VideoClasses(8), SimulationClasses.VideoTemplates().Take(2).ToList(), overwrite: false);
        return (image, video);
    }

    private static List<ClipFrames> SimulatedClips(int count, int size)
    {
        var movie = MovieGenerator.Generate(7, "test", 1, count, 4, 4, 8, 0.9, 0);
        var scratch = new float[size * size * 3];
        return movie.Clips.Select((c, k) =>
        {
            var rgb = new byte[movie.FramesPerClip * size * size * 3];
            for (var f = 0; f < movie.FramesPerClip; f++)
            {
                SceneRenderer.Render(movie.Frames[(k * movie.FramesPerClip) + f], size, rgb.AsSpan(f * size * size * 3, size * size * 3), scratch);
            }
            return new ClipFrames(c.ClipId, movie.FramesPerClip, size, size, rgb);
        }).ToList();
    }

    [Fact]
    public void Eval_runs_2way_and_50way_image_and_video_and_frame_mean_vifi_from_simulation_folders()
    {
        using var clip = new TinyClipFolder();
        using var dir = TestEnvironment.NewTempDir();
        var (image, video) = SimulationFolders(dir, clip.Root);
        var encoder = dir.File("vifi");
        Directory.CreateDirectory(encoder);
        File.WriteAllText(Path.Combine(encoder, VideoEncoderSpec.FileName),
            new JsonObject { ["format"] = VideoEncoderSpec.Format, ["clip"] = Path.GetRelativePath(encoder, clip.Root), ["pooling"] = "mean" }.ToJsonString());
        var metrics = MetricCatalog.Resolve(new[] { "vifi,2way-i,50way-i,2way-v,50way-v" });
        var models = EvalModelCatalog.Default.Load(ClipEvaluator.ModelsNeeded(metrics),
            new EvalModelSettings { ImageClassifier = image, VideoClassifier = video, Vifi = encoder });
        Assert.IsType<ClipFrameMeanVideoEncoder>(models.ViFiClip);

        var truth = SimulatedClips(3, 24);
        // The first prediction is perfect; the others are another clip's frames.
        var predictions = new List<ClipFrames> { truth[0], truth[2] with { ClipId = truth[1].ClipId }, truth[1] with { ClipId = truth[2].ClipId } };
        var result = ClipEvaluator.Evaluate(ClipSources.FromMemory(predictions, "pred"), ClipSources.FromMemory(truth, "gt"), metrics, models,
            new EvalOptions { BootstrapResamples = 10, Trials = 20, Threads = 2 }, Log);
        foreach (var column in result.Columns)
        {
            Assert.InRange(column.PerClip[0], 1 - 1e-6, 1 + 1e-6);
            Assert.All(column.PerClip, v => Assert.InRange(v, 0, 1 + 1e-6));
        }
        Assert.Equal(3.0 / 52, result.Columns.Single(c => c.Name == "50way-v").Chance);
        Assert.Contains("zero-shot over 72 classes", result.Models["image_classifier"]);
        Assert.Contains("zero-shot over 360 classes", result.Models["video_classifier"]);
        Assert.Contains("not ViFi-CLIP", result.Models["vifi"]);

        // VIFI of the stand-in is the cosine of the clips' mean frame embeddings.
        using var reference = new Reference(clip.Root);
        float[] Mean(ClipFrames c)
        {
            var e = Enumerable.Range(0, c.Frames).Select(f => reference.Image(RgbImage.FromClip(c, f))).ToList();
            return Enumerable.Range(0, e[0].Length).Select(i => e.Average(x => x[i])).ToArray();
        }
        Assert.Equal(EmbeddingMetrics.Cosine(Mean(predictions[1]), Mean(truth[1])), result.Columns.Single(c => c.Name == "vifi").PerClip[1], 5);
    }

    [Fact]
    public void Cli_eval_takes_zero_shot_folders_as_classifiers_and_reports_a_bad_one_in_one_line()
    {
        using var clip = new TinyClipFolder();
        using var dir = TestEnvironment.NewTempDir();
        var (image, video) = SimulationFolders(dir, clip.Root);
        ClipStore.Write(dir.File("gt"), SimulatedClips(2, 16), overwrite: false);
        var r = CliProcess.Run("eval", "--pred", dir.File("gt"), "--gt", dir.File("gt"), "--metrics", "2way-i,50way-v", "--image-classifier", image,
            "--video-classifier", video, "--out", dir.File("out"), "--set", "eval.bootstrap_resamples=20");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.File("out"), "results.json")))!;
        Assert.All(new[] { "2way-i", "2way-i-strict", "50way-v", "50way-v-strict" }, c => Assert.All(json["per_clip"]![c]!.AsArray(), v => Assert.Equal(1.0, v!.GetValue<double>())));

        File.WriteAllText(Path.Combine(image, ZeroShotSpec.FileName), "{\"format\": \"mindanim-zero-shot/1\", \"clip\": \"../nowhere\"}");
        var bad = CliProcess.Run("eval", "--pred", dir.File("gt"), "--gt", dir.File("gt"), "--metrics", "2way-i", "--image-classifier", image);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains(Path.Combine(image, ZeroShotSpec.FileName), bad.Stderr);
        Assert.Contains("'template'", bad.Stderr);
        Assert.DoesNotContain("internal error", bad.Stderr);
    }

    /// <summary>Puts all probability on one class, whatever it is shown.</summary>
    private sealed class OneClass(int classes, int chosen) : IFrameClassifier, IClipClassifier
    {
        public string Name => "one-class";

        public int Classes => classes;

        public IReadOnlyList<float[]> Probabilities(IReadOnlyList<RgbImage> frames) => frames.Select(_ => OneHot()).ToList();

        public float[] Probabilities(ClipFrames clip) => OneHot();

        private float[] OneHot()
        {
            var p = new float[classes];
            p[chosen] = 1;
            return p;
        }
    }

    [Fact]
    public void Ground_truth_check_counts_the_frames_and_single_scene_clips_whose_true_class_wins()
    {
        var movie = MovieGenerator.Generate(3, "test", 1, 60, 4, 4, 8, 0.9, 0.3);
        var source = ClipSources.FromMemory(movie.Clips.Select(c => new ClipFrames(c.ClipId, 4, 8, 8, new byte[4 * 8 * 8 * 3])), "blank");
        var imageClasses = SimulationClasses.ImageClasses(8);
        var videoClasses = SimulationClasses.VideoClasses(8);
        // Always answer the most frequent true class: the accuracy is that class's share of frames (of single-scene clips).
        var frameTruths = movie.Clips.SelectMany(c => Enumerable.Range(0, 4).Select(f => c.Parts.Last(p => p.FirstFrame <= f).Scene)).ToList();
        var commonImage = frameTruths.GroupBy(s => $"{s.Color} {s.Shape}").OrderByDescending(g => g.Count()).First();
        var single = movie.Clips.Where(c => c.Parts.Count == 1).ToList();
        var commonVideo = single.GroupBy(c => SimulationClasses.VideoClass(c.Parts[0].Scene)).OrderByDescending(g => g.Count()).First();
        Assert.Contains(movie.Clips, c => c.Parts.Count > 1);
        var accuracy = ZeroShotCheck.OnSimulatedClips(new OneClass(imageClasses.Count, imageClasses.ToList().IndexOf(commonImage.Key)), imageClasses,
            new OneClass(videoClasses.Count, videoClasses.ToList().IndexOf(commonVideo.Key)), videoClasses, source, movie.Clips);
        Assert.Equal(240, accuracy.Frames);
        Assert.Equal((double)commonImage.Count() / 240, accuracy.FrameTop1, 12);
        Assert.Equal(single.Count, accuracy.Clips);
        Assert.Equal((double)commonVideo.Count() / single.Count, accuracy.ClipTop1, 12);
        Assert.Equal(1.0 / 72, accuracy.FrameChance, 12);
        Assert.Equal(1.0 / 360, accuracy.ClipChance, 12);

        // Folders written for fewer categories than the clips use are caught.
        var small = SimulationClasses.ImageClasses(2);
        var clipsWithLaterShapes = movie.Clips.Where(c => c.Parts.Any(p => p.Scene.Category >= 2)).ToList();
        Assert.NotEmpty(clipsWithLaterShapes);
        var e = Assert.Throws<MindAnimatorException>(() => ZeroShotCheck.OnSimulatedClips(new OneClass(small.Count, 0), small,
            new OneClass(SimulationClasses.VideoClasses(2).Count, 0), SimulationClasses.VideoClasses(2), source, clipsWithLaterShapes));
        Assert.Contains("simulation.categories", e.Message);
    }

    [Fact]
    public void Caption_classes_are_the_distinct_captions_in_order_and_embedded_verbatim()
    {
        using var clip = new TinyClipFolder();
        using var dir = TestEnvironment.NewTempDir();
        var captions = MovieGenerator.Generate(9, "test", 1, 12, 4, 4, 8, 0.5, 0).Clips.Select(c => c.Caption).ToList();
        var folder = ZeroShotClassifierFolders.WriteForCaptions(dir.File("captions"), clip.Root, captions.Concat(captions), overwrite: false);
        var spec = ZeroShotSpec.Read(folder);
        Assert.Equal(captions.Distinct().ToList(), spec.Classes);
        Assert.Equal(new[] { "{}" }, spec.Templates);
        using var classifier = new ClipZeroShotClassifier(spec);
        var frame = RandomFrames(1, 4);
        using var reference = new Reference(clip.Root);
        var texts = spec.Classes.Select(reference.Text).ToList();
        AssertClose(Softmax(reference.Image(frame[0]), texts, classifier.LogitScale), classifier.Probabilities(frame)[0], 1e-5);
    }

    [Fact]
    public void Too_few_classes_for_the_nway_test_is_a_clear_error()
    {
        using var clip = new TinyClipFolder();
        using var dir = TestEnvironment.NewTempDir();
        var folder = ZeroShotFolder(dir, "zs", clip.Root, SimulationClasses.ImageClasses(8).Take(10).ToList());
        var metrics = MetricCatalog.Resolve(new[] { "50way-i" });
        var models = EvalModelCatalog.Default.Load(ClipEvaluator.ModelsNeeded(metrics), new EvalModelSettings { ImageClassifier = folder });
        var truth = SimulatedClips(1, 16);
        var e = Assert.Throws<MindAnimatorException>(() => ClipEvaluator.Evaluate(ClipSources.FromMemory(truth, "pred"), ClipSources.FromMemory(truth, "gt"),
            metrics, models, new EvalOptions { BootstrapResamples = 10 }, Log));
        Assert.Contains("50way-i", e.Message);
        Assert.Contains("at least 52 classes", e.Message);
        Assert.Contains("has 10", e.Message);
    }

    [Fact]
    public void Bad_folders_name_the_file_and_the_field()
    {
        using var clip = new TinyClipFolder();
        using var dir = TestEnvironment.NewTempDir();
        string Folder(string name, JsonObject json)
        {
            var folder = dir.File(name);
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, ZeroShotSpec.FileName), json.ToJsonString());
            return folder;
        }
        JsonObject Good() => new()
        {
            ["format"] = ZeroShotSpec.Format,
            ["clip"] = clip.Root,
            ["template"] = "a {}",
            ["classes"] = new JsonArray("red circle", "blue square"),
            ["video"] = "mean-of-frames",
        };
        MindAnimatorException Load(string folder) => Assert.ThrowsAny<MindAnimatorException>(() =>
            EvalModelCatalog.Default.Load(new[] { EvalModelKind.ImageClassifier }, new EvalModelSettings { ImageClassifier = folder }));

        var missing = Good();
        missing["clip"] = "no-such-clip";
        var e = Assert.IsType<DataFormatException>(Load(Folder("missing", missing)));
        Assert.Contains(ZeroShotSpec.FileName, e.Message);
        Assert.Contains("'clip'", e.Message);
        Assert.Contains(Path.Combine(dir.File("missing"), "no-such-clip"), e.Message);

        foreach (var (field, value) in new (string, JsonNode?)[]
        {
            ("format", "mindanim-zero-shot/2"), ("classes", "red circle"), ("classes", new JsonArray("only one")),
            ("classes", new JsonArray("red circle", 3)), ("classes", new JsonArray("red circle", "red circle")),
            ("template", "a photo"), ("templates", new JsonArray("a {}", "a photo")), ("video", "last-frame"), ("clip", 5),
        })
        {
            var json = Good();
            if (field == "templates")
            {
                json.Remove("template");
            }
            json[field] = value;
            var bad = Assert.IsType<DataFormatException>(Load(Folder($"bad-{field}-{Guid.NewGuid():N}", json)));
            Assert.Contains(ZeroShotSpec.FileName, bad.Message);
            Assert.Contains($"'{field}'", bad.Message);
        }

        var both = Good();
        both["templates"] = new JsonArray("a {}", "one {}");
        Assert.Contains("'template'", Assert.IsType<DataFormatException>(Load(Folder("both", both))).Message);

        var broken = dir.File("broken");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, ZeroShotSpec.FileName), "{ \"format\": ");
        Assert.Contains("invalid JSON", Assert.IsType<DataFormatException>(Load(broken)).Message);

        // A folder that is not a zero-shot folder (a real ViT download, say) has no loader in this build.
        var vit = dir.File("vit");
        Directory.CreateDirectory(vit);
        var unsupported = Assert.IsType<MissingEvalModelException>(Load(vit));
        Assert.Contains("google/vit-base-patch16-224", unsupported.Message);
        Assert.Contains(ZeroShotSpec.FileName, unsupported.Message);

        var encoder = dir.File("encoder");
        Directory.CreateDirectory(encoder);
        File.WriteAllText(Path.Combine(encoder, VideoEncoderSpec.FileName),
            new JsonObject { ["format"] = VideoEncoderSpec.Format, ["clip"] = clip.Root, ["pooling"] = "max" }.ToJsonString());
        var pooling = Assert.Throws<DataFormatException>(() => EvalModelCatalog.Default.Load(new[] { EvalModelKind.Vifi }, new EvalModelSettings { Vifi = encoder }));
        Assert.Contains("'pooling'", pooling.Message);
        Assert.Contains(VideoEncoderSpec.FileName, pooling.Message);
    }

    [Fact]
    public void Simulation_class_lists_cover_every_simulated_scene_and_are_written_with_a_relative_clip_path()
    {
        foreach (var categories in new[] { 2, 8, 12 })
        {
            var imageClasses = SimulationClasses.ImageClasses(categories).ToHashSet(StringComparer.Ordinal);
            var videoClasses = SimulationClasses.VideoClasses(categories).ToHashSet(StringComparer.Ordinal);
            Assert.Equal(SceneVocabulary.ObjectColors.Length * categories, imageClasses.Count);
            Assert.Equal(imageClasses.Count * SimulationClasses.MotionClasses.Count, videoClasses.Count);
            var clips = Enumerable.Range(1, 4).SelectMany(s => MovieGenerator.Generate(31, "train", s, 80, 8, 4, categories, 0.9, 0.5).Clips).ToList();
            var scenes = clips.SelectMany(c => c.Parts.Select(p => (c.Caption, p.Scene))).ToList();
            foreach (var (caption, scene) in scenes)
            {
                Assert.Contains(SimulationClasses.ImageClass(scene.Color, scene.Shape), imageClasses);
                Assert.Contains(SimulationClasses.VideoClass(scene), videoClasses);
                Assert.Contains($" {scene.Color} ", caption);
                Assert.Contains($" {scene.Shape} ", caption);
            }
            // Every shape of the config and every motion class occurs, so no class list entry is dead by construction.
            Assert.Equal(categories, scenes.Select(s => s.Scene.Shape).Distinct().Count());
            Assert.Equal(SimulationClasses.MotionClasses.Count, scenes.Select(s => SimulationClasses.MotionVerb(s.Scene.Motion, s.Scene.Direction)).Distinct().Count());
        }
        // The motion verbs are caption words.
        Assert.All(SimulationClasses.MotionClasses, m => Assert.Contains(m.Verb, CaptionWriter.Words()));

        using var dir = TestEnvironment.NewTempDir();
        var clipFolder = dir.File("prior/clip");
        Directory.CreateDirectory(clipFolder);
        var config = new MindAnimatorConfig { Simulation = new SimulationSettings { Categories = 8 } };
        var (image, video) = ZeroShotClassifierFolders.WriteForSimulation(dir.File("eval-models"), clipFolder, config, overwrite: false);
        var imageSpec = ZeroShotSpec.Read(image);
        var videoSpec = ZeroShotSpec.Read(video);
        Assert.Equal(SimulationClasses.ImageClasses(8), imageSpec.Classes);
        Assert.Equal(SimulationClasses.VideoClasses(8), videoSpec.Classes);
        Assert.Equal(Path.GetFullPath(clipFolder), imageSpec.ClipFolder);
        Assert.Equal(Path.GetFullPath(clipFolder), videoSpec.ClipFolder);
        Assert.Equal("../../prior/clip", JsonNode.Parse(File.ReadAllText(Path.Combine(image, ZeroShotSpec.FileName)))!["clip"]!.GetValue<string>());
        Assert.Equal(SimulationClasses.ImageTemplates(), imageSpec.Templates);
        Assert.Equal(SimulationClasses.VideoTemplates(), videoSpec.Templates);
        // The prompts read like captions: every word is a caption word.
        var words = CaptionWriter.Words().ToHashSet(StringComparer.Ordinal);
        foreach (var prompt in imageSpec.Prompts("yellow heart").Concat(videoSpec.Prompts("orange star spinning")))
        {
            Assert.All(prompt.Split(' '), w => Assert.Contains(w, words));
        }
        Assert.StartsWith("a small yellow heart resting on a plain black background", imageSpec.Prompts("yellow heart")[0]);
        Assert.ThrowsAny<MindAnimatorException>(() => ZeroShotClassifierFolders.WriteForSimulation(dir.File("eval-models"), clipFolder, config, overwrite: false));
        ZeroShotClassifierFolders.WriteForSimulation(dir.File("eval-models"), clipFolder, config, overwrite: true);
    }
}
