using System.CommandLine;
using MindAnimator.Training;
using MindAnimator.Training.Prior;

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
        train.Subcommands.Add(Prior());
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
            var result = DecoderTraining.Run(kind, dataFolder, parse.GetValue(features) ?? Path.Combine(dataFolder, "features"), run.Path, ctx.Config,
                parse.GetValue(resume), ctx.Log, ctx.Device);
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

    private static Command Prior()
    {
        var data = new Option<string>("--data", "-d") { Description = "Dataset folder with clips and captions (from `data simulate` or `data import`); only its training and validation clips are used.", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output folder: sd/ (diffusers Stable Diffusion layout), clip/ (transformers CLIP), losses.csv, prior.json.", DefaultValueFactory = _ => "runs/prior" };
        var command = CommandRunner.Verb("prior", "The demo's small Stable-Diffusion-shaped generative prior, trained on single frames and their captions only (never frame order).", (ctx, parse) =>
        {
            var run = ctx.CreateRun(parse.GetValue(output)!);
            if (ctx.Device.type != TorchSharp.DeviceType.CPU)
            {
                ctx.Log.Warning("train prior runs on the CPU (the demo prior is small); --device {Device} is not used", ctx.Device.type);
            }
            var result = PriorTraining.Run(parse.GetValue(data)!, run.Path, ctx.Config, ctx.Log);
            ctx.Log.Information("Prior trained on {Frames} frames: use --sd {Sd} and --clip {Clip}", result.Frames, result.StableDiffusionFolder, result.ClipFolder);
            return ExitCodes.Success;
        }, path: "train prior");
        command.Options.Add(data);
        command.Options.Add(output);
        return command;
    }
}
