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
        var rows = nn.functional.cross_entropy(logits, targets);
        var cols = nn.functional.cross_entropy(logits.t(), targets);
        return ((rows + cols) / 2).MoveToOuterDisposeScope();
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
            var s = p.abs().sum();
            total = total is null ? s : total + s;
        }
        return (total ?? zeros(1)).MoveToOuterDisposeScope();
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
        var contrastive = (SymmetricInfoNce(logitsText) + SymmetricInfoNce(logitsImage)) * 0.5;
        var token = nn.functional.mse_loss(tokens, targetTokens);
        var total = alignment + (contrastive * contrastiveWeight) + (token * tokenWeight);
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
        using var keep = rand(fmri.shape, dtype: fmri.dtype, device: fmri.device, generator: generator).ge_(rate);
        return fmri.mul(keep);
    }
}
