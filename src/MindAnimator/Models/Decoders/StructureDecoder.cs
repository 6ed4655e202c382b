using MindAnimator.Config;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Decoders;

/// <summary>Sizes of a <see cref="StructureDecoder"/> (Strcuture_decoder(in_dim, out_dim, h, n_blocks)).</summary>
public sealed record StructureDecoderOptions
{
    public int InputDim { get; init; } = 4500;

    public int Hidden { get; init; } = 1024;

    public int ResidualBlocks { get; init; } = 2;

    /// <summary>The flattened first-frame latent (4·64·64 for SD at 512×512).</summary>
    public int OutputDim { get; init; } = 4 * 64 * 64;

    public double Dropout { get; init; } = 0.2;

    public static StructureDecoderOptions FromSettings(StructureDecoderSettings s, int voxels) => new()
    {
        InputDim = voxels,
        Hidden = s.Hidden,
        ResidualBlocks = s.ResidualBlocks,
        OutputDim = s.OutputDim,
        Dropout = s.Dropout,
    };
}

/// <summary>fMRI → the first frame's flattened VAE latent, (B, voxels) → (B, 1, out_dim).</summary>
// Mirrors Mind-Animator models/Decoder.py (Strcuture_decoder).
public sealed class StructureDecoder : nn.Module<Tensor, Tensor>
{
    private readonly Sequential lin0;
    private readonly ModuleList<Sequential> mlp;
    private readonly Sequential lin1;

    public StructureDecoder(StructureDecoderOptions options, Device? device = null)
        : base(nameof(StructureDecoder))
    {
        Options = options;
        var h = options.Hidden;
        lin0 = nn.Sequential(nn.Linear(options.InputDim, h, device: device), new SeededDropout(options.Dropout));
        mlp = nn.ModuleList(Enumerable.Range(0, options.ResidualBlocks)
            .Select(_ => nn.Sequential(nn.Linear(h, h, device: device), new SeededDropout(options.Dropout)))
            .ToArray());
        lin1 = nn.Sequential(nn.LayerNorm(h, device: device), nn.ReLU(), nn.Linear(h, options.OutputDim, device: device));
        RegisterComponents();
    }

    public StructureDecoderOptions Options { get; }

    public override Tensor forward(Tensor fmri)
    {
        using var scope = NewDisposeScope();
        var x = lin0.forward(fmri);
        foreach (var block in mlp)
        {
            x = block.forward(x) + x;
        }
        return lin1.forward(x).view(-1, 1, Options.OutputDim).MoveToOuterDisposeScope();
    }
}
