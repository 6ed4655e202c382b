using System.CommandLine;
using MindAnimator.Simulation;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim demo`: every stage that exists, end to end, on the embedded simulated default.</summary>
internal static class DemoCommand
{
    public static Command Build()
    {
        var outOption = new Option<string>("--out", "-o") { Description = "Output folder.", DefaultValueFactory = _ => "runs/demo" };
        var command = CommandRunner.Verb("demo", "Run every stage end to end on the embedded simulated brain (simulate → … → report).", (ctx, parse) =>
        {
            var run = ctx.CreateRun(parse.GetValue(outOption)!);
            foreach (var (key, value) in InfoCommand.Collect(ctx.Config.Device))
            {
                ctx.Log.Information("{Key}: {Value}", key, value);
            }
            ctx.Log.Information("Stage 1/7: simulate a brain watching generated movies → {Path}", run.File("data"));
            var dataset = SimulatedDatasetWriter.Write(ctx.Config, run.File("data"), ctx.Force, ctx.Progress, ctx.Log);
            ctx.Log.Information("Simulated {Train} training, {Val} validation and {Test} test clips, {Voxels} voxels",
                dataset.Samples["train"], dataset.Samples["val"], dataset.Samples["test"], dataset.Voxels);
            ctx.Log.Warning("The next demo stages (features → train the decoders → reconstruct → eval → permtest → report) need the demo's trained "
                + "generative prior, which is not shipped yet (issue #6). `features`, `train`, `eval` and `permtest` already work on their own with local models; see README.");
            ctx.Log.Information("Demo finished: {Path}", run.Path);
            return ExitCodes.Success;
        });
        command.Options.Add(outOption);
        return command;
    }
}
