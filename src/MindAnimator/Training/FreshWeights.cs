using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Training;

/// <summary>Initialisation of models built to be trained rather than loaded.</summary>
public static class FreshWeights
{
    private static readonly object GlobalGenerator = new();

    /// <summary>
    /// Builds a model whose initial weights are a function of <paramref name="seed"/>: modules draw their initialisation
    /// from libtorch's global generator, so it is seeded (under a lock, against other builders in the process) and the
    /// norms are reset.
    /// </summary>
    public static T Build<T>(long seed, Func<T> build)
        where T : nn.Module
    {
        lock (GlobalGenerator)
        {
            manual_seed(seed);
            var model = build();
            ResetNorms(model);
            return model;
        }
    }

    /// <summary>
    /// Sets every GroupNorm and LayerNorm to the identity (weight 1, bias 0), as PyTorch initialises them. TorchSharp 0.107
    /// leaves the affine parameters of a new GroupNorm as uninitialised memory (NaN at times), which only a loaded
    /// checkpoint overwrites. Returns how many norms were reset.
    /// </summary>
    public static int ResetNorms(nn.Module module)
    {
        using var noGrad = no_grad();
        var count = 0;
        foreach (var (_, m) in module.named_modules())
        {
            var (weight, bias) = m switch
            {
                GroupNorm g => (g.weight, g.bias),
                LayerNorm l => (l.weight, l.bias),
                _ => (null, null),
            };
            if (weight is null && bias is null)
            {
                continue;
            }
            weight?.fill_(1);
            bias?.zero_();
            count++;
        }
        return count;
    }
}
