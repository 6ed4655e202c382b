using MindAnimator.Data;
using MindAnimator.Reconstruction;
using MindAnimator.Simulation;
using static TorchSharp.torch;

namespace MindAnimator.Evaluation;

/// <summary>
/// Is the clips' motion in the fMRI at all, whatever a decoder makes of it? On simulated data (which knows each clip's
/// true motion) a ridge read-out of the motion parameters — horizontal and vertical velocity, angular velocity, scale
/// rate — is fitted on the training samples (λ chosen on the validation samples) and scored on the held-out ones as the
/// Pearson r with the truth, next to the same read-out of another clip's fMRI. A brain simulated with
/// <c>motion_voxels: 0</c> should score near 0.
/// </summary>
public static class MotionInformationProbe
{
    public static readonly string[] Parameters = { "vx", "vy", "rotation", "scale" };

    private static readonly string[] Descriptions =
    {
        "horizontal velocity (frame widths/s, right +)", "vertical velocity (frame widths/s, up +)",
        "angular velocity (rad/s, counter-clockwise +)", "scale rate (d ln size / dt)",
    };

    private static readonly double[] Lambdas = { 1e1, 1e2, 1e3, 1e4, 1e5 };

    /// <summary>The probe's scores for <paramref name="split"/>: one per motion parameter and their pooled r; empty without ground truth.</summary>
    /// <param name="datasetFolder">The dataset (its ground truth is read from here).</param>
    /// <param name="manifest">The dataset's manifest, as the caller read it.</param>
    /// <param name="table">The dataset's fMRI table, as the caller read it.</param>
    /// <param name="split">The samples scored.</param>
    /// <param name="seed">Seeds the derangement of the shuffled-fMRI control.</param>
    public static IReadOnlyList<DecoderScore> Run(string datasetFolder, DatasetManifest manifest, FmriTable table, string split, int seed)
    {
        if (manifest.GroundTruth is null || !File.Exists(Path.Combine(DatasetManifest.Resolve(datasetFolder, manifest.GroundTruth), "clips.json")))
        {
            return Array.Empty<DecoderScore>();
        }
        var truths = SimulatedDatasetWriter.ReadGroundTruth(datasetFolder).Clips.ToDictionary(c => c.ClipId);
        return Score(table, truths, manifest.FramesPerClip, split, seed);
    }

    /// <summary>The probe on an fMRI table and the clips' ground truth (every sample's clip must have one).</summary>
    public static IReadOnlyList<DecoderScore> Score(FmriTable table, IReadOnlyDictionary<string, ClipTruth> truths, int framesPerClip, string split, int seed)
    {
        using var scope = NewDisposeScope();
        var (trainX, trainY) = Matrices(table, truths, framesPerClip, Splits.Train);
        var (testX, testY) = Matrices(table, truths, framesPerClip, split);
        if (trainX.shape[0] < 2 || testX.shape[0] < 3)
        {
            throw new MindAnimatorException($"the motion read-out needs training and '{split}' samples; found {trainX.shape[0]} and {testX.shape[0]}.");
        }
        // λ is chosen on samples that are neither fitted first nor scored: the validation split, or the last tenth of
        // the training samples when the validation split is the one scored.
        Tensor tuneX, tuneY;
        if (split == Splits.Val)
        {
            var held = (int)Math.Ceiling(trainX.shape[0] * 0.1);
            var kept = trainX.shape[0] - held;
            (tuneX, tuneY) = (trainX.narrow(0, kept, held), trainY.narrow(0, kept, held));
            (trainX, trainY) = (trainX.narrow(0, 0, kept), trainY.narrow(0, 0, kept));
        }
        else
        {
            (tuneX, tuneY) = Matrices(table, truths, framesPerClip, Splits.Val);
        }
        var lambda = Lambdas[0];
        if (tuneX.shape[0] >= 3 && trainX.shape[0] >= 2)
        {
            lambda = Lambdas.MaxBy(l => PooledR(Predict(Fit(trainX, trainY, l), tuneX), tuneY))!;
            trainX = cat(new[] { trainX, tuneX }, 0);
            trainY = cat(new[] { trainY, tuneY }, 0);
        }
        var weights = Fit(trainX, trainY, lambda);
        var own = Predict(weights, testX);
        var other = Predict(weights, testX.index_select(0, tensor(ReconstructionJob.Derangement((int)testX.shape[0], seed))));
        var n = testX.shape[0];
        var scores = new List<DecoderScore>();
        for (var p = 0; p < Parameters.Length; p++)
        {
            scores.Add(new DecoderScore("brain", $"motion_readout_r_{Parameters[p]}", R(own.select(1, p), testY.select(1, p)), R(other.select(1, p), testY.select(1, p)), 0, "no information", true,
                $"Pearson r over the {n} held-out clips between the simulator's true {Descriptions[p]} and a ridge read-out of it from the fMRI (λ = {lambda:G3})"));
        }
        scores.Add(new DecoderScore("brain", "motion_readout_r", PooledR(own, testY), PooledR(other, testY), 0, "no information", true,
            $"Pearson r between the true and read-out motion parameters pooled (each standardised) over the {n} held-out clips: is the clips' motion in the fMRI?"));
        return scores;
    }

    /// <summary>
    /// The clip's motion parameters (vx, vy, angular velocity, scale rate), each weighted by the share of the clip's
    /// frames its scene part covers. Visual coordinates: y up.
    /// </summary>
    public static double[] MotionOf(ClipTruth clip, int framesPerClip)
    {
        var values = new double[Parameters.Length];
        for (var i = 0; i < clip.Parts.Count; i++)
        {
            var part = clip.Parts[i];
            var end = i + 1 < clip.Parts.Count ? clip.Parts[i + 1].FirstFrame : framesPerClip;
            var weight = Math.Max(0, end - part.FirstFrame) / (double)framesPerClip;
            var s = part.Scene;
            switch (s.Motion)
            {
                case "translate":
                    var radians = s.DirectionDegrees * Math.PI / 180;
                    values[0] += weight * Math.Abs(s.SpeedValue) * Math.Cos(radians);
                    values[1] += weight * Math.Abs(s.SpeedValue) * Math.Sin(radians);
                    break;
                case "rotate":
                    values[2] += weight * s.SpeedValue;
                    break;
                case "scale":
                    values[3] += weight * s.SpeedValue;
                    break;
            }
        }
        return values;
    }

    private static (Tensor X, Tensor Y) Matrices(FmriTable table, IReadOnlyDictionary<string, ClipTruth> truths, int framesPerClip, string split)
    {
        var samples = table.Samples.Where(s => s.Split == split).ToList();
        var y = samples.SelectMany(s => truths.TryGetValue(s.ClipId, out var t)
            ? MotionOf(t, framesPerClip)
            : throw new MindAnimatorException($"no ground truth for clip '{s.ClipId}' (ground_truth/clips.json).")).Select(v => (float)v).ToArray();
        return (tensor(samples.SelectMany(s => s.Voxels).ToArray(), new long[] { samples.Count, table.VoxelCount }),
            tensor(y, new long[] { samples.Count, Parameters.Length }));
    }

    private static (Tensor W, Tensor XMean, Tensor YMean) Fit(Tensor x, Tensor y, double lambda)
    {
        var xMean = x.mean(new long[] { 0 }, keepdim: true);
        var yMean = y.mean(new long[] { 0 }, keepdim: true);
        var xc = (x - xMean).to(ScalarType.Float64);
        var yc = (y - yMean).to(ScalarType.Float64);
        // Dual form when voxels outnumber samples: W = Xᵀ(XXᵀ + λI)⁻¹Y.
        var w = xc.shape[1] > xc.shape[0]
            ? xc.T.matmul(linalg.solve(xc.matmul(xc.T) + (eye(xc.shape[0], dtype: ScalarType.Float64) * lambda), yc))
            : linalg.solve(xc.T.matmul(xc) + (eye(xc.shape[1], dtype: ScalarType.Float64) * lambda), xc.T.matmul(yc));
        return (w.to(ScalarType.Float32), xMean, yMean);
    }

    private static Tensor Predict((Tensor W, Tensor XMean, Tensor YMean) model, Tensor x) => ((x - model.XMean).matmul(model.W)) + model.YMean;

    private static double R(Tensor a, Tensor b)
    {
        var r = DecoderEvaluation.RowCorrelation(a.unsqueeze(0), b.unsqueeze(0)).item<float>();
        return float.IsFinite(r) ? r : 0;
    }

    /// <summary>r over all parameters at once, each standardised by the truth's spread so none dominates by its units.</summary>
    private static double PooledR(Tensor predicted, Tensor truth)
    {
        var scale = truth.std(0, keepdim: true).clamp_min(1e-8);
        return R((predicted / scale).flatten(), (truth / scale).flatten());
    }
}
