using System.Text.Json;
using MindAnimator.Data.Formats;

namespace MindAnimator.Evaluation;

/// <summary>
/// The fMRI-shuffle control of the permutation test: the same clips reconstructed with another clip's fMRI fed to the
/// motion decoder (`reconstruct --shuffle-motion-fmri`). The frame-order test alone is significant for any temporally
/// smooth reconstruction — for the control too, and on a simulated brain with no motion information at all (README
/// "Is the motion from the brain?") — so the motion is credited to the fMRI only when the own-fMRI reconstructions
/// score better than their controls clip by clip.
/// </summary>
public sealed record FmriShuffleComparison(FrameShuffleResult Own, FrameShuffleResult Control, WilcoxonResult PairedScores)
{
    /// <summary>Significance level of <see cref="MotionFromFmri"/>.</summary>
    public const double Alpha = 0.05;

    public const string MotionFromFmriRule = "own-fMRI reconstructions score better than their fMRI-shuffle controls: two-sided paired Wilcoxon p < 0.05 with the median paired difference in the own reconstructions' favour";

    /// <summary>Clips whose own-fMRI reconstruction scores better than its control.</summary>
    public int OwnBetter => Own.Clips.Zip(Control.Clips, (o, c) => Own.Settings.LowerIsBetter ? o.Score < c.Score : o.Score > c.Score).Count(b => b);

    /// <summary>Whether the reconstructions' motion is credited to the fMRI (<see cref="MotionFromFmriRule"/>).</summary>
    public bool MotionFromFmri => PairedScores.PValue < Alpha
        && (Own.Settings.LowerIsBetter ? PairedScores.MedianDifference < 0 : PairedScores.MedianDifference > 0);

    /// <summary>Checks the control against the ground truth, runs the same frame-shuffle test on it and compares.</summary>
    public static FmriShuffleComparison Test(FrameShuffleResult own, IClipSource control, IClipSource groundTruth, FrameShuffleSettings settings, Runs.IProgressReporter progress)
    {
        FrameShuffleTest.Check(control, groundTruth, settings);
        return Compare(own, FrameShuffleTest.Run(control, groundTruth, settings, progress));
    }

    public static FmriShuffleComparison Compare(FrameShuffleResult own, FrameShuffleResult control)
    {
        var ids = own.Clips.Select(c => c.ClipId).ToList();
        if (!ids.SequenceEqual(control.Clips.Select(c => c.ClipId)))
        {
            throw new MindAnimatorException("the control reconstructions must hold the same clips as the reconstructions (reconstruct both from the same fMRI and split).");
        }
        return new FmriShuffleComparison(own, control, EvalStatistics.Wilcoxon(own.Clips.Select(c => c.Score).ToList(), control.Clips.Select(c => c.Score).ToList()));
    }

    /// <summary>control.json beside permtest.json, and the control's own permtest files under control/.</summary>
    public void Write(string folder, bool overwrite)
    {
        FrameShuffleReport.Write(Path.Combine(folder, "control"), Control, overwrite);
        var json = new
        {
            control = "fMRI shuffle: the motion decoder fed another clip's fMRI (reconstruct --shuffle-motion-fmri)",
            metric = Own.Settings.Metric,
            lower_is_better = Own.Settings.LowerIsBetter,
            clips = Own.Clips.Count,
            own = new { mean_score = Own.MeanScore, p_mean = Own.OverallMeanP, p_std = Own.OverallStdP, p_conservative = Own.OverallConservativeP },
            shuffled_fmri = new { mean_score = Control.MeanScore, p_mean = Control.OverallMeanP, p_std = Control.OverallStdP, p_conservative = Control.OverallConservativeP },
            own_better_clips = OwnBetter,
            paired_wilcoxon = new { n = PairedScores.N, statistic = PairedScores.Statistic, p = PairedScores.PValue, method = PairedScores.Method, median_difference = PairedScores.MedianDifference },
            motion_from_fmri = MotionFromFmri,
            motion_from_fmri_rule = MotionFromFmriRule,
        };
        AtomicFile.WriteAllText(Path.Combine(folder, "control.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }), overwrite);
    }
}
