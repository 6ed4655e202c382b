using System.CommandLine;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim data import cc2017|hcp|algonauts2021|npy|captions`.</summary>
internal static class ImportCommands
{
    public static Command Build()
    {
        var import = new Command("import", "Import a published dataset layout into the tool's formats.");
        foreach (var (name, what) in new[]
        {
            ("cc2017", "CC2017 (Wen et al. 2018): stimuli MP4s and CIFTI dense time series."),
            ("hcp", "HCP 7T movie."),
            ("algonauts2021", "Algonauts 2021 (pickled responses)."),
            ("npy", "The authors' preprocessed arrays (e.g. masked4500_test_data.npy)."),
            ("captions", "Caption files (official BLIP-2 .h5, CSV or JSON tables)."),
        })
        {
            import.Subcommands.Add(CommandRunner.Pending(name, what, "issue #4: real datasets", $"data import {name}"));
        }
        return import;
    }
}
