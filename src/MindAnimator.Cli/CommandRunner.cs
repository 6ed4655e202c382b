using System.CommandLine;
using MindAnimator.Config;

namespace MindAnimator.Cli;

/// <summary>Builds verbs with the shared options and turns exceptions into the documented exit codes.</summary>
internal static class CommandRunner
{
    /// <summary>A verb whose action receives a <see cref="CommandContext"/>.</summary>
    /// <param name="overrides">Config overrides implied by the verb's own options (e.g. `--motion-voxels 0`), applied last.</param>
    public static Command Verb(string name, string description, Func<CommandContext, ParseResult, int> body, bool compute = true, string? path = null,
        Func<ParseResult, IEnumerable<string>>? overrides = null)
    {
        var command = new Command(name, description);
        var options = new CommonOptions();
        options.AddTo(command, compute);
        command.SetAction(parse => Execute(path ?? name, parse, options, body, overrides));
        return command;
    }

    /// <summary>A verb that exists in the CLI but whose issue has not landed yet.</summary>
    public static Command Pending(string name, string description, string issue, string? path = null) =>
        Verb(name, description + " (not implemented yet)", (_, _) => throw new NotImplementedYetException(path ?? name, issue), path: path);

    public static int Execute(string verb, ParseResult parse, CommonOptions options, Func<CommandContext, ParseResult, int> body,
        Func<ParseResult, IEnumerable<string>>? overrides = null)
    {
        CommandContext? context = null;
        try
        {
            context = CommandContext.Create(verb, parse, options, Environment.GetCommandLineArgs().Skip(1).ToArray(), overrides?.Invoke(parse));
            return body(context, parse);
        }
        catch (NotImplementedYetException e)
        {
            System.Console.Error.WriteLine(e.Message);
            return ExitCodes.NotImplemented;
        }
        catch (MindAnimatorException e)
        {
            context?.Log.Debug(e, "user error");
            System.Console.Error.WriteLine($"error: {OneLine(e.Message)}");
            return ExitCodes.UserError;
        }
        catch (Exception e)
        {
            var log = WriteCrashLog(context, verb, e);
            System.Console.Error.WriteLine($"internal error in mindanim {verb}: {e.GetType().Name}: {OneLine(e.Message)}");
            System.Console.Error.WriteLine($"details: {log}");
            return ExitCodes.InternalError;
        }
        finally
        {
            context?.Dispose();
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();

    private static string WriteCrashLog(CommandContext? context, string verb, Exception e)
    {
        var path = context?.Run?.File("error.log")
            ?? Path.Combine(Path.GetTempPath(), $"mindanim-error-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
        try
        {
            var config = context is null ? "(config not loaded)" : ConfigBinder.ToYaml(context.Config);
            File.WriteAllText(path, $"mindanim {verb} {Runs.ToolInfo.Version}\n{DateTimeOffset.UtcNow:O}\n\n{e}\n\nconfig:\n{config}");
        }
        catch (IOException)
        {
            return "(could not write a log file)";
        }
        return path;
    }
}
