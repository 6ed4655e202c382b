using MindAnimator.Training;
using static TorchSharp.torch;

namespace MindAnimator.Models.Decoders;

/// <summary>
/// Frame-attention masks of the Consistency Motion Generator, (1, T, T) float, 1 = the row's frame may attend to the
/// column's frame. The reference's subsequent_mask(size, mask_ratio): lower-triangular; for rows i ≥ 2 every visible
/// column j ≠ 0 (the frame itself included) is hidden with probability 1 − mask_ratio; column 0 always stays visible.
/// </summary>
// Mirrors Mind-Animator models/Decoder.py (subsequent_mask).
public static class AttentionMasks
{
    /// <summary>Plain causal (subsequent_mask with mask_ratio 1).</summary>
    public static Tensor Causal(long size, Device? device = null) =>
        ones(1, size, size, device: device).tril_();

    /// <summary>The deterministic inference mask of the official greedy_decode (mask_ratio 0): rows 0–1 causal, rows ≥ 2 see frame 0 only.</summary>
    public static Tensor OfficialInference(long size, Device? device = null)
    {
        var mask = Causal(size, device);
        if (size > 2)
        {
            mask[0, TensorIndex.Slice(2, null), TensorIndex.Slice(1, null)] = 0f;
        }
        return mask;
    }

    /// <summary>A sparse causal training mask drawn from <paramref name="generator"/> (one draw of size×size uniforms).</summary>
    /// <param name="keepRatio">mask_ratio: probability that a visible earlier frame (not frame 0) stays visible.</param>
    public static Tensor Sparse(long size, double keepRatio, Generator? generator, Device? device = null)
    {
        using var scope = NewDisposeScope();
        var u = rand(new[] { 1L, size, size }, generator: generator);
        var rows = arange(size).view(1, size, 1).ge(2);
        var cols = arange(size).view(1, 1, size).ge(1);
        var hide = u.lt(1 - keepRatio).logical_and(rows).logical_and(cols);
        var mask = Causal(size).masked_fill(hide, 0f);
        return mask.to(device ?? CPU).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The reference's draw exactly: Python's <c>random.random()</c> consumed row by row for rows ≥ 2 and every column
    /// (the draw happens before the <c>j != 0</c> test). With a generator seeded like <c>random.seed(s)</c> this gives the
    /// official mask bit for bit; the official training draws it once per run (reproduction option only).
    /// </summary>
    public static Tensor OfficialSparse(int size, double maskRatio, PythonRandom random, Device? device = null)
    {
        var values = new float[size * size];
        for (var i = 0; i < size; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                values[(i * size) + j] = 1f;
            }
            if (i > 1)
            {
                for (var j = 0; j < size; j++)
                {
                    if (random.NextDouble() < 1 - maskRatio && j != 0)
                    {
                        values[(i * size) + j] = 0f;
                    }
                }
            }
        }
        return tensor(values, new long[] { 1, size, size }, device: device);
    }
}
