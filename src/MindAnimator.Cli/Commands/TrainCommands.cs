using System.CommandLine;
using MindAnimator.Training;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim train semantic|structure|motion|prior`.</summary>
internal static class TrainCommands
{
    public static Command Build()
    {
        var train = new Command("train", "Train a decoder or the demo's generative prior.");
        train.Subcommands.Add(Decoder("semantic", "fMRI → CLIP space and SD text-condition tokens (tri-modal contrastive)."));
        train.Subcommands.Add(Decoder("structure", "fMRI → the first frame's VAE latent."));
        train.Subcommands.Add(Decoder("motion", "Consistency Motion Generator: next-frame latents under a sparse causal mask."));
        train.Subcommands.Add(CommandRunner.Pending("prior", "The demo's small Stable-Diffusion-shaped generative prior (single frames and captions only).", "issue #6: from fMRI to video", "train prior"));
        return train;
    }

    private static Command Decoder(string kind, string description)
    {
        var data = new Option<string>("--data", "-d") { Description = "Dataset folder (from `data simulate` or `data import`).", Required = true };
        var features = new Option<string?>("--features") { Description = "Feature folder from `mindanim features` (default: <data>/features)." };
        var output = new Option<string>("--out", "-o") { Description = "Run folder (checkpoints, loss curves, metrics).", DefaultValueFactory = _ => $"runs/train-{kind}" };
        var resume = new Option<bool>("--resume") { Description = "Continue an interrupted run in --out exactly where its last checkpoint left off." };
        var command = CommandRunner.Verb(kind, description, (ctx, parse) =>
        {
            var dataFolder = parse.GetValue(data)!;
            var run = ctx.CreateRun(parse.GetValue(output)!, resumable: parse.GetValue(resume));
            _ = ctx.Device;
            var result = DecoderTraining.Run(kind, dataFolder, parse.GetValue(features) ?? Path.Combine(dataFolder, "features"), run.Path, ctx.Config,
                parse.GetValue(resume), ctx.Log);
            ctx.Log.Information("{Kind} decoder: {Epochs} epochs, best validation loss {Loss:G4} at epoch {Best}{Early}; checkpoint {Checkpoint}",
                kind, result.EpochsCompleted, result.BestValidationLoss, result.BestEpoch, result.StoppedEarly ? " (stopped early)" : string.Empty, result.BestCheckpoint);
            return ExitCodes.Success;
        }, path: $"train {kind}");
        command.Options.Add(data);
        command.Options.Add(features);
        command.Options.Add(output);
        command.Options.Add(resume);
        return command;
    }
}
