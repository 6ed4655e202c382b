namespace MindAnimator.Training;

/// <summary>Learning-rate and penalty schedules of the official training scripts, as pure functions of the step or epoch.</summary>
// Mirrors Mind-Animator Feature_decoding/train_CMG.py (NoamOpt.rate) and models/utils.py (decay).
public static class Schedules
{
    /// <summary>
    /// The Noam rate used before optimiser step number <paramref name="step"/> (1-based):
    /// factor · d_model^−½ · min(step^−½, step · warmup^−1.5).
    /// </summary>
    public static double Noam(long step, int modelDim, double warmup, double factor)
    {
        if (step < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "Noam steps are counted from 1.");
        }
        var s = (double)step;
        var ramp = warmup > 0 ? s * Math.Pow(warmup, -1.5) : double.PositiveInfinity;
        return factor * Math.Pow(modelDim, -0.5) * Math.Min(Math.Pow(s, -0.5), ramp);
    }

    /// <summary>ExponentialLR: lr₀ · γ^epoch (the rate during 0-based <paramref name="epoch"/>).</summary>
    public static double Exponential(double initial, double gamma, int epoch) => initial * Math.Pow(gamma, epoch);

    /// <summary>
    /// Weight of the L1 penalty during 0-based <paramref name="epoch"/>. The scripts call
    /// <c>w = decay(w, rate, epoch)</c> after every epoch, which compounds to w₀·e^(−rate·e(e−1)/2) ("official");
    /// "exponential" is the paper's w₀·e^(−rate·e).
    /// </summary>
    public static double L1Weight(double initial, double rate, int epoch, string schedule) => schedule switch
    {
        "official" => initial * Math.Exp(-rate * ((double)epoch * (epoch - 1) / 2.0)),
        "exponential" => initial * Math.Exp(-rate * epoch),
        _ => throw new ArgumentException($"unknown L1 schedule '{schedule}'", nameof(schedule)),
    };
}
