using System.CommandLine;
using MindAnimator.Config;
using MindAnimator.Workflows;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim demo`: the whole method end to end on the embedded simulated default.</summary>
internal static class DemoCommand
{
    public static Command Build()
    {
        var outOption = new Option<string>("--out", "-o") { Description = "Output folder.", DefaultValueFactory = _ => "runs/demo" };
        var motionFree = SimulateCommand.MotionFreeOption();
        var command = CommandRunner.Verb("demo", "Run every stage end to end on the embedded simulated brain: simulate → features → train → reconstruct → eval → permtest → report.html.", (ctx, parse) =>
        {
            var run = ctx.CreateRun(parse.GetValue(outOption)!);
            foreach (var (key, value) in InfoCommand.Collect(ctx.Config.Device))
            {
                ctx.Log.Information("{Key}: {Value}", key, value);
            }
            var result = DemoWorkflow.Run(ctx.Config, run.Path, ctx.Force, ctx.Device, ctx.Progress, ctx.Log);
            ctx.Log.Information("Demo finished in {Seconds:F0} s: open {Report}", result.StageSeconds.Values.Sum(), Path.Combine(run.Path, result.Outputs.Report));
            return ExitCodes.Success;
        }, overrides: parse => parse.GetValue(motionFree) ? SimulationSettings.MotionFreeOverrides : Array.Empty<string>());
        command.Options.Add(outOption);
        command.Options.Add(motionFree);
        return command;
    }
}
