using System.CommandLine;
using MindAnimator.Evaluation;
using MindAnimator.Reconstruction;
using Spectre.Console;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim score-decoders`: do the trained decoders beat chance, baselines and shuffled fMRI on held-out clips?</summary>
internal static class ScoreDecodersCommand
{
    public static Command Build()
    {
        var data = new Option<string>("--data", "-d") { Description = "Dataset folder (from `data simulate` or `data import`).", Required = true };
        var features = new Option<string?>("--features") { Description = "Feature folder from `mindanim features` (default: <data>/features)." };
        var run = new Option<string>("--run") { Description = "Folder holding the semantic/, structure/ and motion/ training runs.", Required = true };
        var split = new Option<string>("--split") { Description = "Held-out samples to score on.", DefaultValueFactory = _ => "test" };
        split.AcceptOnlyFromAmong("test", "val");
        var output = new Option<string?>("--out", "-o") { Description = $"Folder for {DecoderEvaluation.FileName} (default: print only)." };
        var command = CommandRunner.Verb("score-decoders", "Score the three decoders on held-out clips: semantic retrieval, structure latent correlation, motion next-frame error — each against chance or a baseline and against shuffled fMRI.", (ctx, parse) =>
        {
            var dataFolder = parse.GetValue(data)!;
            var splitName = parse.GetValue(split)!;
            using var decoders = DecoderSet.Load(parse.GetValue(run), null, null, null, ctx.Device);
            var scores = DecoderEvaluation.Run(dataFolder, parse.GetValue(features) ?? Path.Combine(dataFolder, "features"), decoders, splitName, ctx.Config.Seed, ctx.Log);
            var table = new Table().AddColumns("decoder", "score", "own fMRI", "shuffled fMRI", "paired p", "reference", "better than both");
            foreach (var s in scores)
            {
                table.AddRow(s.Decoder, s.Name + (s.HigherIsBetter ? " ↑" : " ↓"), s.Value.ToString("G4"), s.ShuffledFmri.ToString("G4"), s.PairedP?.ToString("G3") ?? "",
                    Markup.Escape($"{s.Reference:G4} ({s.ReferenceName})"), s.BeatsControls ? "yes" : "[red]no[/]");
            }
            AnsiConsole.Write(table);
            if (parse.GetValue(output) is { } outFolder)
            {
                var folder = ctx.CreateRun(outFolder);
                DecoderEvaluation.Write(folder.File(DecoderEvaluation.FileName), scores, splitName);
            }
            return ExitCodes.Success;
        });
        foreach (var o in new Option[] { data, features, run, split, output })
        {
            command.Options.Add(o);
        }
        return command;
    }
}
