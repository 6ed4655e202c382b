using MathNet.Numerics.LinearAlgebra;
using MindAnimator.Config;
using MindAnimator.Preprocessing;

namespace MindAnimator.Tests.Preprocessing;

public class PreprocessingTests
{
    [Fact]
    public void Detrend_RemovesAddedPolynomialExactly_AndKeepsOrthogonalSignal()
    {
        const int t = 240, voxels = 37, order = 4;
        var rng = new Random(5);
        // Independent construction of the orthogonal complement: QR of the Vandermonde matrix on linspace(0, 1).
        var vander = Matrix<double>.Build.Dense(t, order + 1, (i, k) => Math.Pow(i / (double)(t - 1), k));
        var q = vander.QR().Q.SubMatrix(0, t, 0, order + 1);
        var expected = new float[t * voxels];
        var data = new float[t * voxels];
        for (var v = 0; v < voxels; v++)
        {
            var s = Vector<double>.Build.Dense(t, _ => Gaussian(rng));
            s -= q * (q.TransposeThisAndMultiply(s));
            var coef = Enumerable.Range(0, order + 1).Select(_ => 5 * Gaussian(rng)).ToArray();
            for (var i = 0; i < t; i++)
            {
                var x = i / (double)(t - 1);
                var poly = coef.Select((c, k) => c * Math.Pow(x, k)).Sum();
                expected[(i * voxels) + v] = (float)s[i];
                data[(i * voxels) + v] = (float)(s[i] + poly);
            }
        }
        new PolynomialDetrender(t, order).Apply(data, voxels);
        for (var i = 0; i < data.Length; i++)
        {
            Assert.True(Math.Abs(data[i] - expected[i]) < 1e-5, $"element {i}: {data[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Detrend_ResidualIsOrthogonalToEveryMonomial_LikePolyfit()
    {
        const int t = 50, voxels = 700, order = 3; // > one column block
        var rng = new Random(9);
        var data = Enumerable.Range(0, t * voxels).Select(_ => (float)(10 + Gaussian(rng))).ToArray();
        var serial = (float[])data.Clone();
        var detrender = new PolynomialDetrender(t, order);
        detrender.Apply(data, voxels);
        detrender.ApplyColumns(serial, voxels, 0, voxels, new double[detrender.BasisSize * voxels]);
        Assert.Equal(serial, data);
        for (var v = 0; v < voxels; v += 97)
        {
            for (var k = 0; k <= order; k++)
            {
                double dot = 0;
                for (var i = 0; i < t; i++)
                {
                    dot += data[(i * voxels) + v] * Math.Pow(i / (double)(t - 1), k);
                }
                Assert.True(Math.Abs(dot) < 1e-4, $"voxel {v}, t^{k}: {dot}");
            }
        }
        // Removing a polynomial leaves a non-trivial residual of white noise (~(T − K)/T of its variance).
        var variance = data.Select(x => (double)x * x).Average();
        Assert.InRange(variance, 0.8, 1.1);
    }

    [Fact]
    public void ZScore_GivesMeanZeroStdOne_AndZeroForConstantVoxels()
    {
        const int rows = 100, cols = 600;
        var rng = new Random(3);
        var data = new float[rows * cols];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++)
            {
                data[(r * cols) + c] = c == 5 ? 7f : (float)((c * 0.1) + ((1 + (c % 7)) * Gaussian(rng)));
            }
        }
        ColumnStatistics.ZScore(data, rows, cols);
        for (var c = 0; c < cols; c++)
        {
            var col = Enumerable.Range(0, rows).Select(r => (double)data[(r * cols) + c]).ToArray();
            var mean = col.Average();
            var std = Math.Sqrt(col.Select(x => (x - mean) * (x - mean)).Average());
            Assert.True(Math.Abs(mean) < 1e-5, $"column {c} mean {mean}");
            if (c == 5)
            {
                Assert.All(col, x => Assert.Equal(0, x));
            }
            else
            {
                Assert.True(Math.Abs(std - 1) < 1e-5, $"column {c} std {std}");
            }
        }
    }

    [Fact]
    public void StandardScale_FitsPerColumn_AndLeavesConstantColumnsUnscaled()
    {
        const int rows = 40, cols = 3;
        var rng = new Random(2);
        var data = Enumerable.Range(0, rows * cols).Select(i => i % cols == 1 ? 4f : (float)(3 + (2 * Gaussian(rng)))).ToArray();
        var (mean, scale) = ColumnStatistics.StandardScale(data, rows, cols);
        Assert.Equal(1, scale[1]);
        Assert.Equal(4, mean[1], 6);
        for (var c = 0; c < cols; c++)
        {
            var col = Enumerable.Range(0, rows).Select(r => (double)data[(r * cols) + c]).ToArray();
            Assert.True(Math.Abs(col.Average()) < 1e-5);
            var std = Math.Sqrt(col.Select(x => x * x).Average());
            Assert.Equal(c == 1 ? 0 : 1, std, 4);
        }
    }

    [Fact]
    public void TTest_MatchesHandComputedStudentT()
    {
        // Voxel 0: z = 1, 2, 3 → mean 2, sd 1, t = 2√3; with 2 df, two-sided p = 1 − |t| / √(t² + 2).
        // Voxel 1: z = 0.5, −0.5, 0.1 → mean 0.0333…, sd 0.5033; voxel 2: identical z → sd ≈ 0 (rounding, as in scipy) → p ≈ 0.
        var acc = new ReliabilityAccumulator(3);
        acc.AddSegmentFisherZ(new[] { 1.0, 0.5, 0.2 });
        acc.AddSegmentFisherZ(new[] { 2.0, -0.5, 0.2 });
        acc.AddSegmentFisherZ(new[] { 3.0, 0.1, 0.2 });
        var result = acc.Compute();
        var t0 = 2 * Math.Sqrt(3);
        Assert.Equal(t0, result.T[0], 10);
        Assert.Equal(1 - (t0 / Math.Sqrt((t0 * t0) + 2)), result.P[0], 10);
        var mean1 = 0.1 / 3;
        var sd1 = Math.Sqrt((Math.Pow(0.5 - mean1, 2) + Math.Pow(-0.5 - mean1, 2) + Math.Pow(0.1 - mean1, 2)) / 2);
        var t1 = mean1 / (sd1 / Math.Sqrt(3));
        Assert.Equal(t1, result.T[1], 10);
        Assert.Equal(1 - (Math.Abs(t1) / Math.Sqrt((t1 * t1) + 2)), result.P[1], 10);
        Assert.True(result.P[2] < 1e-20, $"constant z should be maximally significant, p = {result.P[2]}");
        // Bonferroni over the 3 voxels, capped at 1.
        Assert.Equal(Math.Min(1, 3 * result.P[0]), result.AdjustedP[0], 12);
        Assert.Equal(1, result.AdjustedP[1]);
        Assert.Equal(new[] { 2, 0, 1 }, result.Ranking());
    }

    [Fact]
    public void TTest_WithOneDegreeOfFreedom_IsTheCauchyTail()
    {
        var acc = new ReliabilityAccumulator(1);
        acc.AddSegmentFisherZ(new[] { 0.3 });
        acc.AddSegmentFisherZ(new[] { 0.9 });
        var r = acc.Compute();
        var t = 0.6 / (Math.Sqrt(0.18) / Math.Sqrt(2));
        Assert.Equal(1 - (2 / Math.PI * Math.Atan(t)), r.P[0], 10);
    }

    [Fact]
    public void ReliabilitySelection_RanksAReliableVoxelAboveNoise()
    {
        const int rows = 60, voxels = 5, segments = 6;
        var rng = new Random(11);
        var acc = new ReliabilityAccumulator(voxels);
        for (var s = 0; s < segments; s++)
        {
            var shared = Enumerable.Range(0, rows).Select(_ => Gaussian(rng)).ToArray();
            var reps = new List<float[]>();
            for (var r = 0; r < 2; r++)
            {
                var m = new float[rows * voxels];
                for (var i = 0; i < rows; i++)
                {
                    for (var v = 0; v < voxels; v++)
                    {
                        // Voxel 3 repeats its stimulus response; the others are pure noise.
                        m[(i * voxels) + v] = (float)((v == 3 ? shared[i] : 0) + Gaussian(rng));
                    }
                }
                reps.Add(m);
            }
            acc.AddSegment(reps, rows);
        }
        var result = acc.Compute();
        Assert.Equal(3, result.Ranking()[0]);
        Assert.Equal(new[] { 3 }, result.SelectMostReliable(1));
        Assert.True(result.MeanFisherZ[3] > 0.3, $"reliable voxel's mean z {result.MeanFisherZ[3]}");
        Assert.True(result.P[3] < 0.01, $"reliable voxel's p {result.P[3]}");
    }

    [Fact]
    public void Selection_ReturnsMaskOrder_AndOfficialTieBreakKeepsIndexOrder()
    {
        // All adjusted p capped at 1: p_value order picks the smallest raw p, the official order the lowest index.
        var r = new ReliabilityResult(new double[4], new double[4], new[] { 0.9, 0.5, 0.3, 0.7 }, new[] { 1.0, 1.0, 1.0, 1.0 }, 2);
        Assert.Equal(new[] { 1, 2 }, r.SelectMostReliable(2));
        Assert.Equal(new[] { 0, 1 }, r.SelectMostReliable(2, officialTieBreak: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.SelectMostReliable(5));
    }

    [Fact]
    public void Pearson_MatchesTheDefinition()
    {
        var rng = new Random(4);
        const int rows = 30;
        var a = Enumerable.Range(0, rows).Select(_ => (float)(100 + Gaussian(rng))).ToArray();
        var b = a.Select(x => (float)((2 * x) + (3 * Gaussian(rng)))).ToArray();
        var r = new double[1];
        ColumnStatistics.PearsonColumns(a, b, rows, 1, 0, 1, r, new double[5]);
        var ma = a.Average(x => (double)x);
        var mb = b.Average(x => (double)x);
        var cov = a.Zip(b, (x, y) => (x - ma) * (y - mb)).Sum();
        var expected = cov / Math.Sqrt(a.Sum(x => (x - ma) * (x - ma)) * b.Sum(y => (y - mb) * (y - mb)));
        Assert.Equal(expected, r[0], 5);
    }

    [Fact]
    public void RunPreprocessor_UsesTheLaggedWindow_AndAveragesRepeats()
    {
        var settings = new PreprocessSettings { DetrendOrder = 0, ZScore = false, TrainLagTrs = 1, TestLagTrs = 2 };
        var pre = new RunPreprocessor(settings, clipsPerRun: 4, volumesPerClip: 1);
        Assert.Equal(1, pre.LagFor(MindAnimator.Data.Splits.Val));
        Assert.Equal(2, pre.LagFor(MindAnimator.Data.Splits.Test));
        const int voxels = 2, t = 7;
        // Volume j of voxel v holds j + 10 v, plus a spike at volume 0 that the lag must skip.
        var run = new float[t * voxels];
        for (var j = 0; j < t; j++)
        {
            for (var v = 0; v < voxels; v++)
            {
                run[(j * voxels) + v] = j + (10 * v) + (j == 0 ? 1000 : 0);
            }
        }
        var w1 = pre.PrepareRun(run, t, voxels, lag: 1);
        // Window = volumes 1..4 (values 1..4), minus its mean 2.5 (order-0 detrend).
        Assert.Equal(new[] { -1.5f, -1.5f, -0.5f, -0.5f, 0.5f, 0.5f, 1.5f, 1.5f }, w1);
        var w2 = pre.PrepareRun(run, t, voxels, lag: 2);
        var avg = pre.AverageRepeats(new[] { w1, w2 }, voxels);
        Assert.Equal(w1, avg);
        var ex = Assert.Throws<MindAnimatorException>(() => pre.PrepareRun(run, t, voxels, lag: 4, source: "seg1_1.dtseries.nii"));
        Assert.Contains("seg1_1.dtseries.nii", ex.Message);
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
