// Mirrors SPM's spm_hrf canonical haemodynamic response (p = [6 16 1 1 6 0 32]).
namespace MindAnimator.Simulation;

/// <summary>The canonical double-gamma HRF: gamma(6) − gamma(16)/6 (peak ≈ 5 s, undershoot ≈ 15 s), 32 s long.</summary>
public static class Hrf
{
    public const double LengthSeconds = 32;

    /// <summary>Unnormalised HRF value at <paramref name="t"/> seconds after a neural event.</summary>
    public static double Canonical(double t)
    {
        if (t <= 0)
        {
            return 0;
        }
        return GammaPdf(t, 6) - (GammaPdf(t, 16) / 6);
    }

    /// <summary>The HRF sampled every <paramref name="dt"/> seconds from 0 to 32 s, normalised to sum 1 (as spm_hrf).</summary>
    public static double[] Sample(double dt)
    {
        var n = (int)Math.Floor(LengthSeconds / dt) + 1;
        var h = new double[n];
        double sum = 0;
        for (var i = 0; i < n; i++)
        {
            h[i] = Canonical(i * dt);
            sum += h[i];
        }
        for (var i = 0; i < n; i++)
        {
            h[i] /= sum;
        }
        return h;
    }

    /// <summary>
    /// Convolves per-frame features (frames × features, time-major; the stimulus shown from t = 0 at
    /// <paramref name="frameRateHz"/>, blank before and after) with the HRF and samples it at each volume's
    /// acquisition time (j + <paramref name="acquisitionFraction"/>) · TR. Writes features × volumes (feature-major)
    /// into <paramref name="dest"/> at column offset <paramref name="volumeOffset"/> of rows <paramref name="destStride"/> long.
    /// </summary>
    public static void ConvolveAndSample(ReadOnlySpan<float> frameFeatures, int frames, int features, double frameRateHz, double trSeconds,
        double acquisitionFraction, int volumes, double[] hrf, Span<float> dest, int destStride, int volumeOffset)
    {
        var acc = new float[features];
        for (var j = 0; j < volumes; j++)
        {
            Array.Clear(acc);
            var now = (int)Math.Floor(((j + acquisitionFraction) * trSeconds * frameRateHz) + 1e-9);
            for (var i = 0; i < hrf.Length; i++)
            {
                var f = now - i;
                if (f < 0)
                {
                    break;
                }
                if (f >= frames)
                {
                    continue;
                }
                var w = (float)hrf[i];
                var row = frameFeatures.Slice(f * features, features);
                for (var k = 0; k < features; k++)
                {
                    acc[k] += w * row[k];
                }
            }
            for (var k = 0; k < features; k++)
            {
                dest[(k * destStride) + volumeOffset + j] = acc[k];
            }
        }
    }

    private static double GammaPdf(double t, double shape) =>
        Math.Exp(((shape - 1) * Math.Log(t)) - t - MathNet.Numerics.SpecialFunctions.GammaLn(shape));
}
