using System.CommandLine;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim train semantic|structure|motion|prior`.</summary>
internal static class TrainCommands
{
    public static Command Build()
    {
        var train = new Command("train", "Train a decoder or the demo's generative prior.");
        train.Subcommands.Add(CommandRunner.Pending("semantic", "fMRI → CLIP space and SD text-condition tokens (tri-modal contrastive).", "issue #5: decoders", "train semantic"));
        train.Subcommands.Add(CommandRunner.Pending("structure", "fMRI → the first frame's VAE latent.", "issue #5: decoders", "train structure"));
        train.Subcommands.Add(CommandRunner.Pending("motion", "Consistency Motion Generator: next-frame latents under a sparse causal mask.", "issue #5: decoders", "train motion"));
        train.Subcommands.Add(CommandRunner.Pending("prior", "The demo's small Stable-Diffusion-shaped generative prior (single frames and captions only).", "issue #6: from fMRI to video", "train prior"));
        return train;
    }
}
