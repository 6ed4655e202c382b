using System.CommandLine;
using MindAnimator.Features;
using MindAnimator.Reconstruction;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim features`: the decoders' training targets for every clip of a dataset folder.</summary>
internal static class FeaturesCommand
{
    public static Command Build()
    {
        var data = new Option<string>("--data", "-d")
        {
            Description = "Dataset folder (from `data simulate` or `data import`).",
            Required = true,
        };
        var output = new Option<string?>("--out", "-o") { Description = "Feature folder (default: <data>/features). An interrupted run resumes here." };
        var clip = new Option<string?>("--clip") { Description = "transformers CLIP folder for the contrastive targets (overrides features.clip_folder; default: the demo prior's), e.g. openai/clip-vit-base-patch32." };
        var sd = new Option<string?>("--sd") { Description = "diffusers Stable Diffusion v1.x folder for text-condition tokens and VAE latents (overrides diffusion.sd_folder; default: the demo prior's)." };
        var command = CommandRunner.Verb("features", "Compute CLIP image/text embeddings, SD text-condition tokens and VAE latents for every clip (batched, resumable).", (ctx, parse) =>
        {
            var dataFolder = parse.GetValue(data)!;
            // Default: the shipped demo prior (its CLIP and SD folders).
            var clipFolder = ModelFolders.Clip(ctx.Config);
            var sdFolder = ModelFolders.StableDiffusion(ctx.Config);
            // Check the dataset and load the models before anything is written.
            _ = Data.DatasetManifest.Read(dataFolder);
            using var models = FeatureModels.Load(clipFolder, sdFolder, ctx.Device, ctx.Log);
            var run = ctx.CreateRun(parse.GetValue(output) ?? Path.Combine(dataFolder, "features"), resumable: true);
            FeatureExtractor.Run(dataFolder, run.Path, models, ctx.Config, ctx.Force, ctx.Progress, ctx.Log);
            return ExitCodes.Success;
        }, overrides: parse =>
        {
            var list = new List<string>();
            if (parse.GetValue(clip) is { } c)
            {
                list.Add($"features.clip_folder={Path.GetFullPath(c)}");
            }
            if (parse.GetValue(sd) is { } s)
            {
                list.Add($"diffusion.sd_folder={Path.GetFullPath(s)}");
            }
            return list;
        });
        command.Options.Add(data);
        command.Options.Add(output);
        command.Options.Add(clip);
        command.Options.Add(sd);
        return command;
    }
}
