using MindAnimator.Data;
using Serilog;

namespace MindAnimator.Evaluation;

/// <summary>Settings of one evaluation (defaults are the config's `eval` section).</summary>
public sealed record EvalOptions
{
    public int Seed { get; init; } = 1234;

    /// <summary>N-way trials per frame (image) or per clip (video); the newest official image script uses 20.</summary>
    public int Trials { get; init; } = 20;

    public int BootstrapResamples { get; init; } = 1000;

    public double ConfidenceLevel { get; init; } = 0.95;

    public double VifiGate { get; init; } = 0.6;

    /// <summary>Pair the i-th prediction with the i-th ground truth instead of matching clip ids.</summary>
    public bool MatchByOrder { get; init; }

    /// <summary>Clips scored in parallel (0 = all cores).</summary>
    public int Threads { get; init; }

    /// <summary>The options a config's eval section (and seed and threads) set.</summary>
    public static EvalOptions From(Config.MindAnimatorConfig config) => new()
    {
        Seed = config.Seed,
        Trials = config.Eval.Trials,
        BootstrapResamples = config.Eval.BootstrapResamples,
        ConfidenceLevel = config.Eval.ConfidenceLevel,
        VifiGate = config.Eval.VifiGate,
        Threads = config.Threads,
    };
}

/// <summary>One result column: per-clip values (in clip order) and their summary.</summary>
/// <param name="Chance">The chance level, for N-way columns.</param>
public sealed record EvalColumn(string Name, MetricDefinition Metric, double[] PerClip, MetricSummary Summary, double? Chance);

/// <summary>Everything one evaluation produced.</summary>
public sealed record EvalResult(
    IReadOnlyList<string> ClipIds,
    IReadOnlyList<string> GroundTruthIds,
    IReadOnlyList<EvalColumn> Columns,
    EvalOptions Options,
    string Prediction,
    string GroundTruth,
    IReadOnlyDictionary<string, string> Models,
    int Frames,
    int Height,
    int Width);

/// <summary>Scores predictions against ground truth with the official metric definitions.</summary>
public static class ClipEvaluator
{
    private const int ListedMismatches = 12;

    /// <summary>The models the metrics need.</summary>
    public static IEnumerable<EvalModelKind> ModelsNeeded(IEnumerable<MetricDefinition> metrics) => metrics.SelectMany(m => m.Needs).Distinct();

    /// <summary>Pairs clips by id (or by position); fails with a listing of the ids and shapes that do not match.</summary>
    public static IReadOnlyList<(string Prediction, string GroundTruth)> Pair(IClipSource prediction, IClipSource groundTruth, bool byOrder)
    {
        List<(string, string)> pairs;
        if (byOrder)
        {
            if (prediction.ClipIds.Count != groundTruth.ClipIds.Count)
            {
                throw new MindAnimatorException($"predictions and ground truth differ in clip count: {prediction.ClipIds.Count} predictions ({prediction.Description}) vs {groundTruth.ClipIds.Count} ground-truth clips ({groundTruth.Description})");
            }
            pairs = prediction.ClipIds.Zip(groundTruth.ClipIds).ToList();
        }
        else
        {
            var gtIds = new HashSet<string>(groundTruth.ClipIds, StringComparer.Ordinal);
            var predIds = new HashSet<string>(prediction.ClipIds, StringComparer.Ordinal);
            var onlyPred = prediction.ClipIds.Where(id => !gtIds.Contains(id)).ToList();
            var onlyGt = groundTruth.ClipIds.Where(id => !predIds.Contains(id)).ToList();
            if (onlyPred.Count > 0 || onlyGt.Count > 0)
            {
                var parts = new List<string>();
                if (onlyPred.Count > 0)
                {
                    parts.Add($"{onlyPred.Count} clip id(s) only in the predictions: {List(onlyPred)}");
                }
                if (onlyGt.Count > 0)
                {
                    parts.Add($"{onlyGt.Count} clip id(s) only in the ground truth: {List(onlyGt)}");
                }
                throw new MindAnimatorException($"predictions ({prediction.Description}) and ground truth ({groundTruth.Description}) hold different clips: {string.Join("; ", parts)} (use --match order to pair clips by position, or --gt-subset to score the predictions against the matching part of a larger ground truth such as a dataset's whole clip store)");
            }
            pairs = prediction.ClipIds.Select(id => (id, id)).ToList();
        }
        var mismatches = new List<string>();
        foreach (var (p, g) in pairs)
        {
            if (prediction.Shape(p) is { } ps && groundTruth.Shape(g) is { } gs && ps != gs)
            {
                mismatches.Add(ShapeMismatch(p, g, ps, gs));
            }
        }
        if (mismatches.Count > 0)
        {
            throw ShapeError(mismatches);
        }
        return pairs;
    }

    /// <summary>Scores every clip pair; streams clips so memory stays at a few clips per thread.</summary>
    public static EvalResult Evaluate(IClipSource prediction, IClipSource groundTruth, IReadOnlyList<MetricDefinition> metrics, EvalModels models, EvalOptions options, ILogger log, Action<int, int>? progress = null)
    {
        var pairs = Pair(prediction, groundTruth, options.MatchByOrder);
        if (pairs.Count == 0)
        {
            throw new MindAnimatorException($"no clips to evaluate in {prediction.Description}");
        }
        CheckModels(metrics, models);
        var columns = metrics.SelectMany(m => m.Columns.Select(c => (Metric: m, Column: c))).ToList();
        var values = columns.ToDictionary(c => c.Column, _ => new double[pairs.Count]);
        var mismatches = new List<string>();
        var threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        var chunk = Math.Max(1, threads * 2);
        (int F, int H, int W) shape = default;
        var done = 0;
        var nextLog = 0.1;
        log.Information("eval: {Count} clips, metrics {Metrics}", pairs.Count, string.Join(", ", metrics.Select(m => m.Name)));
        for (var start = 0; start < pairs.Count; start += chunk)
        {
            var count = Math.Min(chunk, pairs.Count - start);
            var loaded = new (ClipFrames Pred, ClipFrames Gt)?[count];
            RunParallel(count, threads, k =>
            {
                var (p, g) = pairs[start + k];
                var pred = prediction.Read(p);
                var gt = groundTruth.Read(g);
                if (pred.Frames != gt.Frames || pred.Height != gt.Height || pred.Width != gt.Width)
                {
                    lock (mismatches)
                    {
                        mismatches.Add(ShapeMismatch(p, g, (pred.Frames, pred.Height, pred.Width), (gt.Frames, gt.Height, gt.Width)));
                    }
                    return;
                }
                loaded[k] = (pred, gt);
                if (mismatches.Count == 0)
                {
                    PixelMetrics(metrics, pred, gt, start + k, values);
                }
            });
            if (mismatches.Count > 0)
            {
                continue;
            }
            for (var k = 0; k < count; k++)
            {
                var (pred, gt) = loaded[k]!.Value;
                shape = (pred.Frames, pred.Height, pred.Width);
                ModelMetrics(metrics, models, pred, gt, start + k, options, values);
            }
            done += count;
            progress?.Invoke(done, pairs.Count);
            if ((double)done / pairs.Count >= nextLog)
            {
                log.Debug("eval: {Done}/{Total} clips", done, pairs.Count);
                nextLog = Math.Floor((double)done / pairs.Count * 10 + 1) / 10;
            }
        }
        if (mismatches.Count > 0)
        {
            throw ShapeError(mismatches);
        }
        var result = columns.Select((c, i) =>
        {
            double? chance = c.Metric.Classification is { } cls
                ? NWayClassification.ChanceLevel(cls.NWay, c.Column.EndsWith("-strict", StringComparison.Ordinal) ? NWayVariant.StrictTop1 : NWayVariant.OfficialTop3)
                : null;
            var v = values[c.Column];
            return new EvalColumn(c.Column, c.Metric, v, EvalStatistics.Summarize(v, options.BootstrapResamples, options.ConfidenceLevel, options.Seed + i), chance);
        }).ToList();
        var modelNames = new Dictionary<string, string>();
        AddName(modelNames, "clip_image", models.ClipImage?.Name);
        AddName(modelNames, "vifi", models.ViFiClip?.Name);
        AddName(modelNames, "image_classifier", models.ImageClassifier?.Name);
        AddName(modelNames, "video_classifier", models.VideoClassifier?.Name);
        return new EvalResult(pairs.Select(p => p.Prediction).ToList(), pairs.Select(p => p.GroundTruth).ToList(), result, options,
            prediction.Description, groundTruth.Description, modelNames, shape.F, shape.H, shape.W);
    }

    private static void RunParallel(int count, int threads, Action<int> body)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
        }
        catch (AggregateException e) when (e.Flatten().InnerExceptions.OfType<MindAnimatorException>().FirstOrDefault() is { } user)
        {
            // A user error in one clip (a bad file) is reported as such, not as a crash.
            throw user;
        }
    }

    private static void AddName(Dictionary<string, string> names, string key, string? name)
    {
        if (name is not null)
        {
            names[key] = name;
        }
    }

    private static void CheckModels(IReadOnlyList<MetricDefinition> metrics, EvalModels models)
    {
        var missing = ModelsNeeded(metrics).Where(k => k switch
        {
            EvalModelKind.ClipImage => models.ClipImage is null,
            EvalModelKind.Vifi => models.ViFiClip is null,
            EvalModelKind.ImageClassifier => models.ImageClassifier is null,
            _ => models.VideoClassifier is null,
        }).ToList();
        if (missing.Count > 0)
        {
            throw new MissingEvalModelException("cannot compute the requested metrics: " + string.Join("; ", missing.Select(k =>
            {
                var info = EvalModelCatalog.Info[k];
                return $"the {info.Description} is not loaded: download {info.Download} and set {info.ConfigKey} (or pass {info.Option} DIR)";
            })) + ".");
        }
        foreach (var m in metrics)
        {
            if (m.Classification is not { } cls)
            {
                continue;
            }
            var (name, classes) = cls.Video ? (models.VideoClassifier!.Name, models.VideoClassifier.Classes) : (models.ImageClassifier!.Name, models.ImageClassifier.Classes);
            // The official variant needs n−1 distractors besides the ground truth's top 3 classes.
            var needed = cls.NWay - 1 + NWayClassification.OfficialGroundTruthClasses;
            if (classes < needed)
            {
                throw new MindAnimatorException($"{m.Name} needs a classifier with at least {needed} classes ({cls.NWay - 1} distractors besides the ground truth's top {NWayClassification.OfficialGroundTruthClasses}), but {name} has {classes}.");
            }
        }
    }

    private static void PixelMetrics(IReadOnlyList<MetricDefinition> metrics, ClipFrames pred, ClipFrames gt, int index, Dictionary<string, double[]> values)
    {
        foreach (var m in metrics)
        {
            Func<RgbImage, RgbImage, double>? perFrame = m.Name switch
            {
                "ssim" => ImageMetrics.Ssim,
                "psnr" => ImageMetrics.PsnrMindAnimator,
                "psnr-skimage" => ImageMetrics.PsnrSkimage,
                "mse" => ImageMetrics.Mse01,
                "hue-pcc" => ImageMetrics.HueSimilarity,
                _ => null,
            };
            if (perFrame is not null)
            {
                if (m.Name == "ssim" && (pred.Height < 7 || pred.Width < 7))
                {
                    throw new MindAnimatorException($"clip '{pred.ClipId}': SSIM needs frames of at least 7×7 pixels, got {pred.Height}×{pred.Width}");
                }
                double sum = 0;
                for (var f = 0; f < pred.Frames; f++)
                {
                    sum += perFrame(RgbImage.FromClip(pred, f), RgbImage.FromClip(gt, f));
                }
                values[m.Name][index] = sum / pred.Frames;
            }
            else if (m.Name == "epe")
            {
                if (pred.Frames < 2)
                {
                    throw new MindAnimatorException($"clip '{pred.ClipId}': EPE needs at least 2 frames, got {pred.Frames}");
                }
                values["epe"][index] = OpticalFlowEpe.ClipEpe(pred, gt);
            }
        }
    }

    private static void ModelMetrics(IReadOnlyList<MetricDefinition> metrics, EvalModels models, ClipFrames pred, ClipFrames gt, int index, EvalOptions options, Dictionary<string, double[]> values)
    {
        double? vifi = null;
        if (metrics.Any(m => m.Name is "vifi" or "clip-pcc"))
        {
            vifi = EmbeddingMetrics.Vifi(models.ViFiClip!, pred, gt);
            if (values.TryGetValue("vifi", out var v))
            {
                v[index] = vifi.Value;
            }
            if (values.TryGetValue("clip-pcc", out var c))
            {
                c[index] = EmbeddingMetrics.ClipPcc(models.ClipImage!, pred, vifi.Value, options.VifiGate);
            }
        }
        IReadOnlyList<float[]>? predFrames = null, gtFrames = null;
        float[]? predClip = null, gtClip = null;
        foreach (var m in metrics)
        {
            if (m.Classification is not { } cls)
            {
                continue;
            }
            if (!cls.Video)
            {
                predFrames ??= models.ImageClassifier!.Probabilities(Frames(pred));
                gtFrames ??= models.ImageClassifier!.Probabilities(Frames(gt));
            }
            else
            {
                predClip ??= models.VideoClassifier!.Probabilities(pred);
                gtClip ??= models.VideoClassifier!.Probabilities(gt);
            }
            foreach (var variant in new[] { NWayVariant.OfficialTop3, NWayVariant.StrictTop1 })
            {
                var column = variant == NWayVariant.OfficialTop3 ? m.Columns[0] : m.Columns[1];
                double acc;
                if (cls.Video)
                {
                    acc = NWayClassification.Accuracy(predClip!, gtClip!, cls.NWay, options.Trials, variant, NWayClassification.TrialRandom(options.Seed, gt.ClipId, -1, cls.NWay, variant));
                }
                else
                {
                    double sum = 0;
                    for (var f = 0; f < pred.Frames; f++)
                    {
                        sum += NWayClassification.Accuracy(predFrames![f], gtFrames![f], cls.NWay, options.Trials, variant, NWayClassification.TrialRandom(options.Seed, gt.ClipId, f, cls.NWay, variant));
                    }
                    acc = sum / pred.Frames;
                }
                values[column][index] = acc;
            }
        }
    }

    private static List<RgbImage> Frames(ClipFrames clip) => Enumerable.Range(0, clip.Frames).Select(f => RgbImage.FromClip(clip, f)).ToList();

    private static string ShapeMismatch(string p, string g, (int F, int H, int W) ps, (int F, int H, int W) gs) =>
        $"{(p == g ? $"'{p}'" : $"'{p}' vs '{g}'")}: prediction {ps.F} frames {ps.H}×{ps.W}, ground truth {gs.F} frames {gs.H}×{gs.W}";

    private static MindAnimatorException ShapeError(List<string> mismatches) =>
        new($"predictions and ground truth differ in frame count or size for {mismatches.Count} clip(s): {List(mismatches.OrderBy(m => m, StringComparer.Ordinal).ToList())}");

    private static string List(IReadOnlyList<string> items) =>
        string.Join(", ", items.Take(ListedMismatches)) + (items.Count > ListedMismatches ? $", … ({items.Count - ListedMismatches} more)" : string.Empty);
}
