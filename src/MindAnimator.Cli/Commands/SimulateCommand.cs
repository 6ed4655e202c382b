using System.CommandLine;
using MindAnimator.Config;
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
            Description = "Number of motion-selective voxels (0 removes them; the retinotopic voxels still carry some motion, see --motion-free).",
        };
        var motionFree = MotionFreeOption();
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
        }, path: "data simulate", overrides: parse => Overrides(parse.GetValue(motionVoxels), parse.GetValue(motionFree)));
        command.Options.Add(outOption);
        command.Options.Add(motionVoxels);
        command.Options.Add(motionFree);
        command.Validators.Add(r =>
        {
            if (r.GetValue(motionFree) && r.GetValue(motionVoxels) is > 0)
            {
                r.AddError("--motion-free removes the motion voxels; it cannot be combined with --motion-voxels above 0.");
            }
        });
        return command;
    }

    /// <summary>`--motion-free`, shared with `demo`.</summary>
    internal static Option<bool> MotionFreeOption() => new("--motion-free")
    {
        Description = "Simulate a control brain that carries no motion information: no motion voxels, retinotopic voxels that see each clip's first frame only, a new scene at every clip (slow BOLD mixes neighbouring clips).",
    };

    private static string[] Overrides(int? motionVoxels, bool motionFree) => motionFree
        ? SimulationSettings.MotionFreeOverrides
        : motionVoxels is { } n ? new[] { $"simulation.motion_voxels={n}" } : Array.Empty<string>();
}
