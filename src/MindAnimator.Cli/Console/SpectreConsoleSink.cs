using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;
using Spectre.Console;

namespace MindAnimator.Cli.Console;

/// <summary>
/// Console log output. On a terminal it writes through Spectre's console so log lines don't tear live progress
/// bars; elsewhere (CI, pipes) plain unwrapped lines.
/// </summary>
internal sealed class SpectreConsoleSink : ILogEventSink
{
    private static readonly MessageTemplateTextFormatter Message = new("{Message:lj}");
    private readonly bool _interactive = ConsoleProgress.IsInteractive;

    public void Emit(LogEvent logEvent)
    {
        var (tag, colour) = logEvent.Level switch
        {
            LogEventLevel.Warning => ("WRN", "yellow"),
            LogEventLevel.Error or LogEventLevel.Fatal => ("ERR", "red"),
            LogEventLevel.Debug or LogEventLevel.Verbose => ("DBG", "grey"),
            _ => ("INF", "blue"),
        };
        var writer = new StringWriter();
        Message.Format(logEvent, writer);
        if (logEvent.Exception is not null && logEvent.Level >= LogEventLevel.Debug)
        {
            writer.Write(" (" + logEvent.Exception.Message + ")");
        }
        var text = writer.ToString();
        if (_interactive)
        {
            AnsiConsole.MarkupLine($"[grey]{logEvent.Timestamp:HH:mm:ss}[/] [{colour}]{tag}[/] {Markup.Escape(text)}");
        }
        else
        {
            System.Console.Out.WriteLine($"{logEvent.Timestamp:HH:mm:ss} {tag} {text}");
        }
    }
}
