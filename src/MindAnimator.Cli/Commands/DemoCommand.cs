using System.CommandLine;

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
            ctx.Log.Warning("Stages still to come: simulate, features, train, reconstruct, eval, permtest, report.");
            ctx.Log.Information("Demo finished: {Path}", run.Path);
            return ExitCodes.Success;
        });
        command.Options.Add(outOption);
        return command;
    }
}
