namespace MindAnimator.Evaluation;

/// <summary>How the ground truth's classes are taken in an N-way test.</summary>
public enum NWayVariant
{
    /// <summary>The official procedure: the ground truth counts as its top-3 classes; a trial succeeds when any of them beats the n−1 distractors.</summary>
    OfficialTop3,

    /// <summary>Strict: the ground truth is its single top-1 class.</summary>
    StrictTop1,
}

/// <summary>
/// N-way top-1 classification accuracy: the classifier's probabilities for the reconstruction, the ground truth's
/// top classes (by the same classifier), and per trial n−1 distractor classes drawn without replacement from the
/// classes that are not ground truth; a trial succeeds when a ground-truth class has the highest probability
/// among itself and the distractors (ties count as failures). Trials are drawn from a seeded generator.
/// </summary>
// Mirrors Mind-Animator Evaluation_Metrics/img_classification.py and video_classification.py (n_way_top_k_acc).
public static class NWayClassification
{
    public const int OfficialGroundTruthClasses = 3;

    /// <summary>The number of classes that stand for the ground truth in a variant.</summary>
    public static int GroundTruthClasses(NWayVariant variant) => variant == NWayVariant.OfficialTop3 ? OfficialGroundTruthClasses : 1;

    /// <summary>
    /// The accuracy of a classifier that ranks classes at random: k/(k+n−1) for k ground-truth classes
    /// (0.75 for the official 2-way, 3/52 ≈ 0.058 for the official 50-way, 1/n strictly).
    /// </summary>
    public static double ChanceLevel(int nWay, NWayVariant variant)
    {
        var k = GroundTruthClasses(variant);
        return (double)k / (k + nWay - 1);
    }

    /// <summary>
    /// The indices of the <paramref name="k"/> largest values, ordered as the reference's ascending argsort tail
    /// (the k-th largest first, the largest last).
    /// </summary>
    public static int[] TopClasses(ReadOnlySpan<float> scores, int k)
    {
        // k is 1 or 3: k linear scans beat a sort of 1000 classes.
        var top = new int[Math.Min(k, scores.Length)];
        for (var t = 0; t < top.Length; t++)
        {
            var best = -1;
            for (var i = 0; i < scores.Length; i++)
            {
                if (Array.IndexOf(top, i, 0, t) >= 0)
                {
                    continue;
                }
                if (best < 0 || scores[i] > scores[best])
                {
                    best = i;
                }
            }
            top[t] = best;
        }
        Array.Reverse(top);
        return top;
    }

    /// <summary>The share of <paramref name="trials"/> trials that succeed (the per-frame or per-clip value).</summary>
    /// <param name="predictionProbabilities">The classifier's probabilities for the reconstruction.</param>
    /// <param name="groundTruthScores">The classifier's probabilities (or logits) for the ground truth.</param>
    public static double Accuracy(ReadOnlySpan<float> predictionProbabilities, ReadOnlySpan<float> groundTruthScores, int nWay, int trials, NWayVariant variant, Random random)
    {
        if (predictionProbabilities.Length != groundTruthScores.Length)
        {
            throw new ArgumentException($"class counts differ: {predictionProbabilities.Length} vs {groundTruthScores.Length}");
        }
        var k = GroundTruthClasses(variant);
        var classes = predictionProbabilities.Length;
        if (nWay < 2 || nWay - 1 > classes - k)
        {
            throw new ArgumentException($"{nWay}-way needs at least {nWay - 1 + k} classes, the classifier has {classes}");
        }
        if (trials < 1)
        {
            throw new ArgumentException("trials must be positive", nameof(trials));
        }
        var truth = TopClasses(groundTruthScores, k);
        var pool = Enumerable.Range(0, classes).Where(c => Array.IndexOf(truth, c) < 0).ToArray();
        var correct = 0;
        for (var t = 0; t < trials; t++)
        {
            // Partial Fisher–Yates: the first n−1 entries of the pool become this trial's distractors.
            var best = float.NegativeInfinity;
            for (var i = 0; i < nWay - 1; i++)
            {
                var j = random.Next(i, pool.Length);
                (pool[i], pool[j]) = (pool[j], pool[i]);
                best = Math.Max(best, predictionProbabilities[pool[i]]);
            }
            foreach (var gt in truth)
            {
                if (predictionProbabilities[gt] > best)
                {
                    correct++;
                    break;
                }
            }
        }
        return (double)correct / trials;
    }

    /// <summary>
    /// A generator for one (clip, frame, metric), seeded from the clip id (a stable FNV-1a hash), so a clip's value does
    /// not depend on which other clips are evaluated or in which order.
    /// </summary>
    public static Random TrialRandom(int seed, string clipId, int frame, int nWay, NWayVariant variant)
    {
        unchecked
        {
            var h = 2166136261u;
            foreach (var ch in clipId)
            {
                h = (h ^ ch) * 16777619u;
            }
            var mixed = seed;
            mixed = (mixed * 1_000_003) ^ (int)h;
            mixed = (mixed * 1_000_003) ^ frame;
            mixed = (mixed * 1_000_003) ^ nWay;
            mixed = (mixed * 1_000_003) ^ (int)variant;
            return new Random(mixed);
        }
    }
}
