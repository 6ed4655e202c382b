using MindAnimator.Data;
using MindAnimator.Evaluation;

namespace MindAnimator.Tests.Evaluation;

/// <summary>Properties of the metrics the fixture does not cover: EPE, N-way, bootstrap, Wilcoxon.</summary>
public class EvaluationPropertyTests
{
    /// <summary>A smooth texture, periodic over the frame, translated by <paramref name="shiftPerFrame"/> pixels per frame (wrapping seamlessly).</summary>
    internal static ClipFrames TranslatingClip(string id, int size, int frames, double shiftPerFrame)
    {
        var rgb = new byte[frames * size * size * 3];
        for (var f = 0; f < frames; f++)
        {
            for (var y = 0; y < size; y++)
            {
                for (var x = 0; x < size; x++)
                {
                    var u = 2 * Math.PI * (x - (f * shiftPerFrame)) / size;
                    var v = 2 * Math.PI * y / size;
                    var value = 128 + (45 * Math.Sin(2 * u) * Math.Cos(v)) + (35 * Math.Sin((3 * v) + u)) + (25 * Math.Cos((4 * u) - (2 * v)));
                    var b = (byte)Math.Clamp(Math.Round(value), 0, 255);
                    var i = (((f * size) + y) * size + x) * 3;
                    rgb[i] = b;
                    rgb[i + 1] = (byte)(255 - b);
                    rgb[i + 2] = (byte)((b + 60) % 256 / 2 + 60);
                }
            }
        }
        return new ClipFrames(id, frames, size, size, rgb);
    }

    [Fact]
    public void Epe_is_zero_for_identical_clips()
    {
        var clip = TranslatingClip("a", 64, 4, 1.5);
        Assert.Equal(0.0, OpticalFlowEpe.ClipEpe(clip, clip));
    }

    [Fact]
    public void Epe_of_a_known_translation_against_a_static_clip_is_about_the_shift_and_grows_with_it()
    {
        // Hand-checkable: the static ground truth has zero flow, the prediction moves s pixels per frame, so every
        // pixel's end-point error is ‖(s, 0) − 0‖ = s when Farneback recovers the translation.
        var still = TranslatingClip("a", 64, 4, 0);
        var previous = 0.0;
        foreach (var shift in new[] { 0.5, 1.0, 2.0, 3.0 })
        {
            var moving = TranslatingClip("a", 64, 4, shift);
            var epe = OpticalFlowEpe.ClipEpe(moving, still);
            Assert.InRange(epe, 0.8 * shift, 1.2 * shift);
            Assert.True(epe > previous, $"EPE {epe} at shift {shift} should exceed {previous}");
            Assert.Equal(epe, OpticalFlowEpe.ClipEpe(still, moving), 12);
            previous = epe;
        }
    }

    [Fact]
    public void Epe_of_hand_made_flows_is_the_mean_euclidean_distance()
    {
        // Two pixels, two frame pairs: ‖(3,4)‖ = 5, ‖(0,0)‖ = 0, ‖(−1,0)‖ = 1, ‖(0,−2)‖ = 2 → mean 2.
        var prediction = new[] { new float[] { 3, 4, 1, 1 }, new float[] { 0, 0, 0, 0 } };
        var truth = new[] { new float[] { 0, 0, 1, 1 }, new float[] { 1, 0, 0, 2 } };
        Assert.Equal(2.0, OpticalFlowEpe.Epe(prediction, truth), 12);
    }

    [Fact]
    public void Epe_flow_of_a_translation_points_along_it()
    {
        var flows = OpticalFlowEpe.Flows(TranslatingClip("a", 64, 3, 2.0));
        Assert.Equal(2, flows.Length);
        var meanDx = flows[0].Where((_, i) => i % 2 == 0).Average();
        var meanDy = flows[0].Where((_, i) => i % 2 == 1).Average();
        Assert.InRange(meanDx, 1.6, 2.4);
        Assert.InRange(meanDy, -0.4, 0.4);
    }

    [Theory]
    [InlineData(2, NWayVariant.OfficialTop3, 0.75)]
    [InlineData(50, NWayVariant.OfficialTop3, 3.0 / 52)]
    [InlineData(2, NWayVariant.StrictTop1, 0.5)]
    [InlineData(50, NWayVariant.StrictTop1, 0.02)]
    public void NWay_random_classifier_reaches_chance_and_a_perfect_one_scores_one(int nWay, NWayVariant variant, double chance)
    {
        Assert.Equal(chance, NWayClassification.ChanceLevel(nWay, variant), 12);
        var rng = new Random(7);
        const int frames = 1000;
        double random = 0, perfect = 0;
        for (var f = 0; f < frames; f++)
        {
            var pred = RandomProbabilities(rng, 1000);
            var gt = RandomProbabilities(rng, 1000);
            random += NWayClassification.Accuracy(pred, gt, nWay, 20, variant, NWayClassification.TrialRandom(1, $"clip{f}", 0, nWay, variant));
            perfect += NWayClassification.Accuracy(gt, gt, nWay, 20, variant, NWayClassification.TrialRandom(1, $"clip{f}", 0, nWay, variant));
        }
        // 1000 independent frames: the standard error is at most √(0.25/1000) ≈ 0.016.
        Assert.InRange(random / frames, chance - 0.05, chance + 0.05);
        Assert.Equal(1.0, perfect / frames);
    }

    [Fact]
    public void NWay_trials_are_reproducible_with_a_seed_and_change_with_it()
    {
        var rng = new Random(3);
        var pred = RandomProbabilities(rng, 1000);
        var gt = RandomProbabilities(rng, 1000);
        double Run(int seed) => Enumerable.Range(0, 50).Sum(f => NWayClassification.Accuracy(pred, gt, 2, 20, NWayVariant.StrictTop1, NWayClassification.TrialRandom(seed, "clip", f, 2, NWayVariant.StrictTop1)));
        Assert.Equal(Run(11), Run(11));
        Assert.NotEqual(Run(11), Run(12));
    }

    [Fact]
    public void NWay_ground_truth_counts_as_its_top_three_classes_in_the_official_variant()
    {
        // The prediction's favourite is the ground truth's third class: a success officially, never strictly.
        var gt = new float[10];
        gt[4] = 0.5f;
        gt[7] = 0.3f;
        gt[1] = 0.2f;
        var pred = Enumerable.Repeat(0.01f, 10).ToArray();
        pred[1] = 0.9f;
        Assert.Equal(new[] { 1, 7, 4 }, NWayClassification.TopClasses(gt, 3));
        Assert.Equal(1.0, NWayClassification.Accuracy(pred, gt, 5, 20, NWayVariant.OfficialTop3, new Random(1)));
        Assert.Equal(0.0, NWayClassification.Accuracy(pred, gt, 5, 20, NWayVariant.StrictTop1, new Random(1)));
    }

    [Fact]
    public void Bootstrap_ci_covers_the_mean_and_is_reproducible()
    {
        var rng = new Random(5);
        var values = Enumerable.Range(0, 200).Select(_ => rng.NextDouble() * 2 + 3).ToArray();
        var a = EvalStatistics.Summarize(values, 1000, 0.95, seed: 42);
        var b = EvalStatistics.Summarize(values, 1000, 0.95, seed: 42);
        Assert.Equal(a, b);
        Assert.Equal(values.Average(), a.Mean, 12);
        Assert.True(a.CiLow < a.Mean && a.Mean < a.CiHigh, $"CI [{a.CiLow}, {a.CiHigh}] should cover {a.Mean}");
        // The CI of a mean shrinks like σ/√n: about ±1.96 · 0.577/√200 ≈ ±0.08 here.
        Assert.InRange(a.CiHigh - a.CiLow, 0.10, 0.22);
        var narrower = EvalStatistics.Summarize(values, 1000, 0.5, seed: 42);
        Assert.True(narrower.CiHigh - narrower.CiLow < a.CiHigh - a.CiLow);
        var constant = EvalStatistics.Summarize(Enumerable.Repeat(0.25, 30).ToArray(), 200, 0.95, seed: 1);
        Assert.Equal((0.25, 0.25), (constant.CiLow, constant.CiHigh));
    }

    [Fact]
    public void Summary_leaves_out_and_counts_non_finite_clips()
    {
        var s = EvalStatistics.Summarize(new[] { 1.0, double.NaN, 3.0, double.PositiveInfinity }, 100, 0.95, 1);
        Assert.Equal(2, s.Count);
        Assert.Equal(2, s.NonFiniteCount);
        Assert.Equal(2.0, s.Mean);
        Assert.Equal(1.0, s.Std); // population std, as numpy's np.std
    }

    [Fact]
    public void Wilcoxon_exact_matches_a_hand_computed_example()
    {
        // Differences 1, −2, 3, 4, 5: ranks 1..5, R+ = 13, R− = 2, W = 2. Subsets of {1..5} with sum ≤ 2: {}, {1}, {2}
        // → P(W ≤ 2) = 3/32, two-sided p = 6/32 = 0.1875.
        var x = new[] { 11.0, 8.0, 13.0, 14.0, 15.0 };
        var y = new[] { 10.0, 10.0, 10.0, 10.0, 10.0 };
        var r = EvalStatistics.Wilcoxon(x, y);
        Assert.Equal(5, r.N);
        Assert.Equal(2.0, r.Statistic);
        Assert.Equal("exact", r.Method);
        Assert.Equal(0.1875, r.PValue, 12);
        Assert.Equal(r.PValue, EvalStatistics.Wilcoxon(y, x).PValue, 12);
    }

    [Fact]
    public void Wilcoxon_with_ties_and_zeros_uses_the_normal_approximation()
    {
        // Differences 1, 1, −1, 2 (and a zero, dropped): |d| ranks 2, 2, 2, 4; R+ = 8, R− = 2, W = 2; n = 4,
        // mean 5, variance 4·5·9/24 − (3³−3)/48 = 7, z = −3/√7, p = erfc(3/√14) = 0.256839…
        var r = EvalStatistics.Wilcoxon(new[] { 1.0, 1.0, -1.0, 2.0, 0.0 }, new[] { 0.0, 0.0, 0.0, 0.0, 0.0 });
        Assert.Equal(4, r.N);
        Assert.Equal(2.0, r.Statistic);
        Assert.Equal("normal", r.Method);
        Assert.Equal(0.25683925795785667, r.PValue, 9);
    }

    [Fact]
    public void Wilcoxon_detects_a_consistent_difference()
    {
        var rng = new Random(9);
        var x = Enumerable.Range(0, 80).Select(_ => rng.NextDouble()).ToArray();
        var y = x.Select(v => v + 0.05 + (0.01 * rng.NextDouble())).ToArray();
        Assert.True(EvalStatistics.Wilcoxon(x, y).PValue < 1e-6);
    }

    private static float[] RandomProbabilities(Random rng, int classes)
    {
        var p = Enumerable.Range(0, classes).Select(_ => (float)rng.NextDouble()).ToArray();
        var sum = p.Sum();
        return p.Select(v => v / sum).ToArray();
    }
}
