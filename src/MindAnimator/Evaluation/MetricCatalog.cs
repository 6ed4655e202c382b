using System.Text.RegularExpressions;

namespace MindAnimator.Evaluation;

/// <summary>How a metric's per-clip value is computed and which official script defines it.</summary>
/// <param name="Name">The name on the command line (`--metrics`).</param>
/// <param name="Columns">The result columns it produces (N-way metrics give the official and the strict variant).</param>
/// <param name="Definition">The definition, in words.</param>
/// <param name="Reference">The official script (and library call) the definition follows.</param>
/// <param name="HigherIsBetter">False for EPE and MSE.</param>
/// <param name="Needs">The models it needs.</param>
public sealed record MetricDefinition(string Name, IReadOnlyList<string> Columns, string Definition, string Reference, bool HigherIsBetter, IReadOnlyList<EvalModelKind> Needs)
{
    /// <summary>For N-way metrics: n and whether it classifies frames (I) or clips (V).</summary>
    public (int NWay, bool Video)? Classification { get; init; }
}

/// <summary>The metrics `eval` knows, with their official definitions.</summary>
public static partial class MetricCatalog
{
    public const string Repository = "ReedOnePeck/Mind-Animator";

    private static readonly EvalModelKind[] NoModels = Array.Empty<EvalModelKind>();

    private static readonly IReadOnlyList<MetricDefinition> Fixed = new List<MetricDefinition>
    {
        new("ssim", new[] { "ssim" },
            "per frame skimage.metrics.structural_similarity(pred, gt, data_range=255, channel_axis=-1) (7×7 uniform window, sample covariance, K1 0.01, K2 0.03, float64), mean over frames",
            "Evaluation_Metrics/SSIM.py (ssim_metric)", true, NoModels),
        new("psnr", new[] { "psnr" },
            "per frame 20·log10(255/√MSE) on 0–255 values, 100 when MSE < 1e-10, mean over frames",
            "Evaluation_Metrics/PSNR.py (psnr)", true, NoModels),
        new("psnr-skimage", new[] { "psnr-skimage" },
            "per frame skimage.metrics.peak_signal_noise_ratio(pred, gt, data_range=255) (+inf for identical frames), mean over frames",
            "scikit-image peak_signal_noise_ratio", true, NoModels),
        new("mse", new[] { "mse" },
            "per frame float32 MSE of pred/255 and gt/255, mean over frames",
            "Evaluation_Metrics/SSIM.py (mse_metric)", false, NoModels),
        new("hue-pcc", new[] { "hue-pcc" },
            "per frame: both RGB frames through OpenCV COLOR_BGR2HSV (R and B swapped, as the script does), 8-bit hue (0–179) / 360, cosine similarity of the two hue maps (NaN when a hue map is all zero); mean over frames",
            "Evaluation_Metrics/hue_pcc.py (calculate_hue_similarity)", true, NoModels),
        new("epe", new[] { "epe" },
            "OpenCV Farneback flow (COLOR_BGR2GRAY on the RGB frames; 0.5, 3, 15, 3, 5, 1.2, 0) between consecutive frames of pred and of gt; mean over frame pairs and pixels of ‖flow_gt − flow_pred‖₂",
            "Evaluation_Metrics/EPE.py (calculate_epe_ae)", false, NoModels),
        new("vifi", new[] { "vifi" },
            "cosine similarity of the ViFi-CLIP video embeddings of pred and gt",
            "Evaluation_Metrics/ViFi_CLIP.zip", true, new[] { EvalModelKind.Vifi }),
        new("clip-pcc", new[] { "clip-pcc" },
            "mean over adjacent reconstructed frames of the cosine similarity of CLIP ViT-B/32 image embeddings; 0 when the clip's VIFI-score ≤ eval.vifi_gate (0.6)",
            "Evaluation_Metrics/CLIP_consist.py (cal_CLIP_pcc)", true, new[] { EvalModelKind.ClipImage, EvalModelKind.Vifi }),
    };

    /// <summary>Every metric name, N-way examples included.</summary>
    public static IReadOnlyList<string> KnownNames { get; } = Fixed.Select(m => m.Name).Concat(new[] { "2way-i", "50way-i", "2way-v", "50way-v" }).ToList();

    /// <summary>Resolves `--metrics` names; N-way metrics are any `&lt;n&gt;way-i` / `&lt;n&gt;way-v`.</summary>
    public static IReadOnlyList<MetricDefinition> Resolve(IEnumerable<string> names)
    {
        var result = new List<MetricDefinition>();
        var unknown = new List<string>();
        foreach (var raw in names.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var name = raw.ToLowerInvariant();
            if (result.Any(m => m.Name == name))
            {
                continue;
            }
            var known = Fixed.FirstOrDefault(m => m.Name == name);
            if (known is not null)
            {
                result.Add(known);
            }
            else if (NWayPattern().Match(name) is { Success: true } match && int.TryParse(match.Groups[1].Value, out var n) && n >= 2)
            {
                result.Add(NWay(n, match.Groups[2].Value == "v"));
            }
            else
            {
                unknown.Add(raw);
            }
        }
        if (unknown.Count > 0)
        {
            throw new MindAnimatorException($"unknown metric(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))}; known: {string.Join(", ", KnownNames)} (any <n>way-i / <n>way-v)");
        }
        if (result.Count == 0)
        {
            throw new MindAnimatorException($"no metrics given; known: {string.Join(", ", KnownNames)}");
        }
        return result;
    }

    private static MetricDefinition NWay(int n, bool video)
    {
        var name = $"{n}way-{(video ? "v" : "i")}";
        var what = video
            ? "VideoMAE (Kinetics-400) class probabilities of the whole clip"
            : "ViT-base-patch16-224 (ImageNet) class probabilities of each frame, mean over frames";
        return new MetricDefinition(name, new[] { name, name + "-strict" },
            $"{n}-way top-1 accuracy from {what}: per trial n−1 distractor classes drawn without replacement from the classes that are not ground truth; " +
            $"a trial succeeds when a ground-truth class beats all distractors. Column {name}: the official procedure, the ground truth counts as its top-3 classes " +
            $"(chance {NWayClassification.ChanceLevel(n, NWayVariant.OfficialTop3):0.####}); column {name}-strict: the ground truth is its top-1 class (chance {NWayClassification.ChanceLevel(n, NWayVariant.StrictTop1):0.####}). Seeded trials (eval.trials per {(video ? "clip" : "frame")}).",
            video ? "Evaluation_Metrics/video_classification.py (n_way_top_k_acc, video_classify_metric)" : "Evaluation_Metrics/img_classification.py (n_way_top_k_acc, img_classify_metric)",
            true, new[] { video ? EvalModelKind.VideoClassifier : EvalModelKind.ImageClassifier })
        {
            Classification = (n, video),
        };
    }

    [GeneratedRegex("^([0-9]+)way-([iv])$")]
    private static partial Regex NWayPattern();
}
