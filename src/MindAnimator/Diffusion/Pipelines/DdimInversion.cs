using static TorchSharp.torch;

namespace MindAnimator.Diffusion.Pipelines;

// Mirrors Mind-Animator models/utils.py (ddim_loop, ddim_inversion).

/// <summary>DDIM inversion: the deterministic DDIM update run from the clean latents towards noise.</summary>
public static class DdimInversion
{
    /// <summary>
    /// Sets <paramref name="steps"/> timesteps on the scheduler and, for i = 0 … steps−1, predicts ε at
    /// t = timesteps[steps−1−i] (ascending: 1, 21, …, 981 for 50 steps) on the current latent with the single
    /// (unguided) <paramref name="context"/>, then applies <see cref="DdimScheduler.InvertStep"/>.
    /// Returns steps + 1 latents, the input (cloned) first; the caller owns them.
    /// </summary>
    public static IReadOnlyList<Tensor> Invert(NoisePredictor predictNoise, DdimScheduler scheduler, Tensor videoLatents, Tensor context, int steps,
        StepCallback? callback = null)
    {
        using var _ = no_grad();
        scheduler.SetTimesteps(steps);
        var all = new List<Tensor> { videoLatents.clone().DetachFromDisposeScope() };
        try
        {
            for (var i = 0; i < steps; i++)
            {
                var t = scheduler.Timesteps[scheduler.Timesteps.Count - 1 - i];
                using (var scope = NewDisposeScope())
                {
                    var noise = predictNoise(all[^1], t, context);
                    all.Add(scheduler.InvertStep(noise, t, all[^1]).DetachFromDisposeScope());
                }
                callback?.Invoke(i, t, all[^1]);
            }
            return all;
        }
        catch
        {
            all.ForEach(x => x.Dispose());
            throw;
        }
    }
}
