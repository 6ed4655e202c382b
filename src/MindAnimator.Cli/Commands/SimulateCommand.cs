using System.CommandLine;
using MindAnimator.Simulation;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim data simulate`: a simulated brain watching procedurally generated movies, as a dataset folder.</summary>
internal static class SimulateCommand
{
    public static Command Build()
    {
        var outOption = new Option<string>("--out", "-o")
        {
            Description = "Dataset folder to write (fmri.parquet, clips/, captions.jsonl, ground_truth/, dataset.json).",
            DefaultValueFactory = _ => "runs/sim",
        };
        var motionVoxels = new Option<int?>("--motion-voxels")
        {
            Description = "Number of motion-selective voxels (0 makes a control brain that carries no motion information).",
        };
        motionVoxels.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 0)
            {
                r.AddError("--motion-voxels must be 0 or more.");
            }
        });
        var command = CommandRunner.Verb("simulate", "Simulate a brain watching procedurally generated movies (fMRI, clips, captions, ground truth).", (ctx, parse) =>
        {
            var run = ctx.CreateRun(parse.GetValue(outOption)!);
            SimulatedDatasetWriter.Write(ctx.Config, run.Path, ctx.Force, ctx.Progress, ctx.Log);
            return ExitCodes.Success;
        }, path: "data simulate", overrides: parse => parse.GetValue(motionVoxels) is { } n ? new[] { $"simulation.motion_voxels={n}" } : Array.Empty<string>());
        command.Options.Add(outOption);
        command.Options.Add(motionVoxels);
        return command;
    }
}
