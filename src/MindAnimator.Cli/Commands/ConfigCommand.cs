using System.CommandLine;
using MindAnimator.Config;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim config show|reference`: the resolved config, and every key with its default.</summary>
internal static class ConfigCommand
{
    public static Command Build()
    {
        var config = new Command("config", "Inspect configurations.");
        config.Subcommands.Add(CommandRunner.Verb("show", "Print the resolved config (file + --set overrides) as YAML.", (ctx, _) =>
        {
            System.Console.Out.Write($"# resolved from {ctx.ConfigSource}\n{ConfigBinder.ToYaml(ctx.Config)}");
            return ExitCodes.Success;
        }, compute: false, path: "config show"));
        config.Subcommands.Add(CommandRunner.Verb("reference", "Print every config key with its default and allowed range (markdown).", (_, _) =>
        {
            System.Console.Out.Write("| key | default | allowed |\n|---|---|---|\n" + ConfigBinder.Reference(new MindAnimatorConfig()));
            return ExitCodes.Success;
        }, compute: false, path: "config reference"));
        return config;
    }
}
