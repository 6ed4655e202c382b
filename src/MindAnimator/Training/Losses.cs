using MindAnimator.Models.Decoders;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Training;

/// <summary>The decoders' training losses.</summary>
// Mirrors Mind-Animator Feature_decoding/train_semantic_decoder.py (clip_loss, SimpleLossCompute), train_structure_decoder.py and train_CMG.py.
public static class Losses
{
    /// <summary>Symmetric InfoNCE (CLIP loss): mean of the cross-entropies of rows and of columns against the diagonal.</summary>
    public static Tensor SymmetricInfoNce(Tensor logits)
    {
        using var scope = NewDisposeScope();
        var targets = arange(logits.shape[0], dtype: ScalarType.Int64, device: logits.device);
        using var two = 2.ToScalar();
        var rows = nn.functional.cross_entropy(logits, targets);
        var cols = nn.functional.cross_entropy(logits.t(), targets);
        return rows.add(cols).div_(two).MoveToOuterDisposeScope();
    }

    /// <summary>Σ|θ| over the trainable parameters (the scripts' loss_reg).</summary>
    public static Tensor L1Penalty(nn.Module module)
    {
        using var scope = NewDisposeScope();
        Tensor? total = null;
        foreach (var p in module.parameters())
        {
            if (!p.requires_grad)
            {
                continue;
            }
            // Free each |θ| as soon as it is summed (autograd keeps only θ): at d_model 16384 they total 1.3 GB.
            using var magnitude = p.abs();
            var s = magnitude.sum();
            total = total is null ? s : total + s;
        }
        return (total ?? zeros(1)).MoveToOuterDisposeScope();
    }

    /// <summary>loss + weight · Σ|θ| (the L1 term skipped when the weight is 0).</summary>
    public static Tensor WithL1(Tensor loss, nn.Module module, double weight)
    {
        if (weight <= 0)
        {
            return loss.alias();
        }
        using var scope = NewDisposeScope();
        using var w = weight.ToScalar();
        return loss.add(L1Penalty(module).mul_(w)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The semantic decoder's loss: MSE(embedding, CLIP text) + contrastiveWeight · ½(InfoNCE(fMRI↔text) + InfoNCE(fMRI↔image))
    /// + tokenWeight · MSE(tokens, target tokens).
    /// </summary>
    public static SemanticLoss Semantic(Tensor embedding, Tensor tokens, Tensor logitsText, Tensor logitsImage,
        Tensor clipText, Tensor targetTokens, double contrastiveWeight, double tokenWeight)
    {
        using var scope = NewDisposeScope();
        var alignment = nn.functional.mse_loss(embedding, clipText);
        using var half = 0.5.ToScalar();
        using var wc = contrastiveWeight.ToScalar();
        using var wt = tokenWeight.ToScalar();
        var contrastive = SymmetricInfoNce(logitsText).add(SymmetricInfoNce(logitsImage)).mul_(half);
        var token = nn.functional.mse_loss(tokens, targetTokens);
        var total = alignment + contrastive.mul(wc) + token.mul(wt);
        return new SemanticLoss(total.MoveToOuterDisposeScope(), alignment.item<float>(), contrastive.item<float>(), token.item<float>());
    }
}

/// <summary>The semantic total (differentiable) and its parts (for logs).</summary>
public sealed record SemanticLoss(Tensor Total, double Alignment, double Contrastive, double Tokens);

/// <summary>Voxel-dropout augmentation: entries set to zero at random (the scripts' fMRI_sparsification).</summary>
// Mirrors Mind-Animator models/data_aug.py (fMRI_sparsification), redrawn for every batch rather than accumulated in place.
public static class VoxelDropout
{
    /// <summary>Zeroes each entry with probability <paramref name="rate"/> (no rescaling, as the reference).</summary>
    public static Tensor Apply(Tensor fmri, double rate, Generator? generator)
    {
        if (rate <= 0)
        {
            return fmri.alias();
        }
        using var threshold = rate.ToScalar();
        using var keep = RandomDraws.Uniform(fmri, generator).ge_(threshold);
        return fmri.mul(keep);
    }
}
