using MindAnimator.Models.Decoders;
using MindAnimator.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Training;

public class MasksLossesSchedulesTests
{
    [Fact]
    public void Sparse_training_mask_keeps_frame_zero_hides_the_future_and_drops_at_the_configured_rate()
    {
        const int size = 7;
        const double keep = 0.6;
        const int draws = 3000;
        using var g = new Generator(11);
        using var causal = AttentionMasks.Causal(size);
        double kept = 0, candidates = 0;
        for (var n = 0; n < draws; n++)
        {
            using var m = AttentionMasks.Sparse(size, keep, g);
            Assert.Equal(new long[] { 1, size, size }, m.shape);
            Assert.True(m.le(causal).all().item<bool>(), "a future frame is visible");
            Assert.True(m[0, TensorIndex.Colon, 0].eq(1).all().item<bool>(), "frame 0 hidden");
            Assert.True(m[0, TensorIndex.Slice(0, 2)].eq(causal[0, TensorIndex.Slice(0, 2)]).all().item<bool>(), "rows 0-1 must stay causal");
            for (var i = 2; i < size; i++)
            {
                kept += m[0, i, TensorIndex.Slice(1, i + 1)].sum().item<float>();
                candidates += i;
            }
        }
        Assert.InRange(kept / candidates, keep - 0.02, keep + 0.02);

        // Seeded: the same generator state gives the same masks; successive batches differ.
        using var g1 = new Generator(3);
        using var g2 = new Generator(3);
        using var a1 = AttentionMasks.Sparse(size, keep, g1);
        using var a2 = AttentionMasks.Sparse(size, keep, g2);
        Assert.True(a1.eq(a2).all().item<bool>());
        Assert.Contains(Enumerable.Range(0, 5), _ =>
        {
            using var next = AttentionMasks.Sparse(size, keep, g1);
            return !next.eq(a1).all().item<bool>();
        });
    }

    [Fact]
    public void Mask_ratio_zero_and_one_give_the_official_inference_and_causal_masks()
    {
        using var g = new Generator(1);
        using var zero = AttentionMasks.Sparse(8, 0, g);
        using var official = AttentionMasks.OfficialInference(8);
        Assert.True(zero.eq(official).all().item<bool>());
        using var one = AttentionMasks.Sparse(8, 1, g);
        using var causal = AttentionMasks.Causal(8);
        Assert.True(one.eq(causal).all().item<bool>());
        Assert.True(AttentionMasks.OfficialSparse(8, 0, new PythonRandom(1)).eq(official).all().item<bool>());
        Assert.True(AttentionMasks.OfficialSparse(8, 1, new PythonRandom(1)).eq(causal).all().item<bool>());
    }

    [Fact]
    public void Python_random_replays_cpython_draws()
    {
        // CPython 3: random.seed(7); [random.random() for _ in range(3)] and random.seed(2**40 + 5); random.random().
        var r = new PythonRandom(7);
        Assert.Equal(0.32383276483316237, r.NextDouble());
        Assert.Equal(0.15084917392450192, r.NextDouble());
        Assert.Equal(0.6509344730398537, r.NextDouble());
        Assert.Equal(0.5043802970418443, new PythonRandom((1L << 40) + 5).NextDouble());
    }

    [Fact]
    public void Symmetric_info_nce_is_the_mean_of_row_and_column_cross_entropies()
    {
        using var g = new Generator(4);
        using var logits = randn(new long[] { 5, 5 }, generator: g) * 3;
        var l = logits.data<float>().ToArray();
        double Ce(Func<int, int, double> at)
        {
            double total = 0;
            for (var i = 0; i < 5; i++)
            {
                var lse = Math.Log(Enumerable.Range(0, 5).Sum(j => Math.Exp(at(i, j))));
                total += lse - at(i, i);
            }
            return total / 5;
        }
        var expected = (Ce((i, j) => l[(i * 5) + j]) + Ce((i, j) => l[(j * 5) + i])) / 2;
        using var loss = Losses.SymmetricInfoNce(logits);
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    [Fact]
    public void Semantic_loss_weights_the_three_terms()
    {
        using var g = new Generator(9);
        Tensor R(params long[] s) => randn(s, generator: g);
        using var emb = R(4, 6);
        using var clip = R(4, 6);
        using var tok = R(4, 3, 2);
        using var target = R(4, 3, 2);
        using var lt = R(4, 4);
        using var li = R(4, 4);
        var loss = Losses.Semantic(emb, tok, lt, li, clip, target, contrastiveWeight: 0.01, tokenWeight: 0.5);
        var mse = nn.functional.mse_loss(emb, clip).item<float>();
        var info = (Losses.SymmetricInfoNce(lt).item<float>() + Losses.SymmetricInfoNce(li).item<float>()) / 2;
        var tokMse = nn.functional.mse_loss(tok, target).item<float>();
        Assert.Equal(mse + (0.01 * info) + (0.5 * tokMse), loss.Total.item<float>(), 5);
        Assert.Equal(info, loss.Contrastive, 5);
    }

    [Fact]
    public void Noam_rate_rises_linearly_to_the_warmup_peak_then_decays_as_inverse_sqrt()
    {
        const int d = 16384;
        const double warmup = 50;
        Assert.Equal(Math.Pow(d, -0.5) * Math.Pow(warmup, -1.5), Schedules.Noam(1, d, warmup, 1), 15);
        Assert.Equal(10 * Schedules.Noam(1, d, warmup, 1), Schedules.Noam(10, d, warmup, 1), 15);
        var peak = Schedules.Noam(50, d, warmup, 1);
        Assert.Equal(Math.Pow(d, -0.5) * Math.Pow(50, -0.5), peak, 15);
        Assert.True(Schedules.Noam(49, d, warmup, 1) < peak && Schedules.Noam(51, d, warmup, 1) < peak);
        Assert.Equal(peak / 2, Schedules.Noam(200, d, warmup, 1), 15);
        Assert.Equal(2 * Schedules.Noam(200, d, warmup, 1), Schedules.Noam(200, d, warmup, 2), 15);
    }

    [Fact]
    public void Official_l1_schedule_equals_the_scripts_repeated_decay_calls()
    {
        // train_*.py: w = decay(w, rate, epoch) after every epoch, decay(w, r, e) = w·exp(−r·e).
        const double w0 = 4e-6, rate = 5e-5;
        var w = w0;
        for (var epoch = 0; epoch < 400; epoch++)
        {
            Assert.Equal(w, Schedules.L1Weight(w0, rate, epoch, "official"), tolerance: w * 1e-12);
            w *= Math.Exp(-rate * epoch);
        }
        Assert.Equal(w0 * Math.Exp(-rate * 7), Schedules.L1Weight(w0, rate, 7, "exponential"), tolerance: 1e-20);
        Assert.Equal(Schedules.Exponential(2e-4, 0.999, 30), 2e-4 * Math.Pow(0.999, 30), 15);
    }

    [Fact]
    public void Voxel_dropout_zeroes_the_configured_share_without_rescaling()
    {
        using var g = new Generator(2);
        using var x = ones(200, 500);
        using var y = VoxelDropout.Apply(x, 0.1, g);
        var zeros = y.eq(0).to(ScalarType.Float32).mean().item<float>();
        Assert.InRange(zeros, 0.09, 0.11);
        Assert.True(y.eq(0).logical_or(y.eq(1)).all().item<bool>());
    }

    [Fact]
    public void Seeded_dropout_is_inverted_and_replays_from_its_generator()
    {
        using var dropout = new SeededDropout(0.25);
        using var g = new Generator(5);
        dropout.Generator = g;
        dropout.train();
        using var x = ones(100, 100);
        var state = g.get_state();
        using var a = dropout.forward(x);
        g.set_state(state);
        using var b = dropout.forward(x);
        Assert.True(a.eq(b).all().item<bool>());
        Assert.True(a.eq(0).logical_or(a.eq(1 / 0.75f)).all().item<bool>());
        dropout.eval();
        using var c = dropout.forward(x);
        Assert.True(c.eq(x).all().item<bool>());
    }
}
