using System.CommandLine;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim data simulate|import`.</summary>
internal static class DataCommands
{
    public static Command Build()
    {
        var data = new Command("data", "Make or import datasets in the tool's formats.");
        data.Subcommands.Add(SimulateCommand.Build());
        data.Subcommands.Add(ImportCommands.Build());
        return data;
    }
}
