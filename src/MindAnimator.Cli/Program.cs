using System.CommandLine;
using MindAnimator.Cli.Commands;

namespace MindAnimator.Cli;

public static class Program
{
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();

    /// <summary>The whole verb tree; each verb lives in Commands/.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "mindanim — reconstruct the videos a person saw from their fMRI (Mind-Animator, ICLR 2025). "
            + "Exit codes: 0 success, 1 user error, 2 internal error (a log file path is printed), 3 not implemented yet.");
        root.Subcommands.Add(InfoCommand.Build());
        root.Subcommands.Add(DataCommands.Build());
        root.Subcommands.Add(FeaturesCommand.Build());
        root.Subcommands.Add(TrainCommands.Build());
        root.Subcommands.Add(ScoreDecodersCommand.Build());
        root.Subcommands.Add(ReconstructCommand.Build());
        root.Subcommands.Add(EvalCommand.Build());
        root.Subcommands.Add(PermtestCommand.Build());
        root.Subcommands.Add(DemoCommand.Build());
        root.Subcommands.Add(ConfigCommand.Build());
        root.Subcommands.Add(BenchCommand.Build());
        return root;
    }
}
