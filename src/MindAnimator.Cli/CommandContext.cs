using System.CommandLine;
using MindAnimator.Cli.Console;
using MindAnimator.Config;
using MindAnimator.Runs;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;
using TorchSharp;

namespace MindAnimator.Cli;

/// <summary>
/// What a verb's action works with: the resolved config, logging, progress, the device and its run folder.
/// Creating the run folder records the config, seed and version and starts the JSON log there.
/// </summary>
internal sealed class CommandContext : IDisposable
{
    private readonly LoggingLevelSwitch _level;
    private Logger _logger;

    private CommandContext(string verb, MindAnimatorConfig config, string configSource, bool force, bool verbose, IReadOnlyList<string> args)
    {
        Verb = verb;
        Config = config;
        ConfigSource = configSource;
        Force = force;
        CommandLine = args;
        _level = new LoggingLevelSwitch(verbose ? LogEventLevel.Debug : LogEventLevel.Information);
        _logger = BuildLogger(null);
        Progress = new ConsoleProgress(Log);
    }

    public string Verb { get; }

    public MindAnimatorConfig Config { get; }

    public string ConfigSource { get; }

    public bool Force { get; }

    public IReadOnlyList<string> CommandLine { get; }

    public ILogger Log => _logger;

    public IProgressReporter Progress { get; }

    public RunDirectory? Run { get; private set; }

    /// <summary>The device from the config (`--device`), with TorchSharp threads set.</summary>
    public torch.Device Device
    {
        get
        {
            DeviceSelector.ConfigureThreads(Config.Threads);
            return DeviceSelector.Resolve(Config.Device);
        }
    }

    public static CommandContext Create(string verb, ParseResult parse, CommonOptions options, IReadOnlyList<string> args, IEnumerable<string>? verbOverrides = null)
    {
        var configFile = parse.GetValue(options.Config);
        var config = ConfigLoader.Load(configFile?.FullName, options.Overrides(parse).Concat(verbOverrides ?? Array.Empty<string>()));
        return new CommandContext(verb, config, configFile?.FullName ?? ConfigLoader.EmbeddedDefaultName, parse.GetValue(options.Force), parse.GetValue(options.Verbose), args);
    }

    /// <summary>Creates the output folder (refusing a non-empty one without --force) and records provenance there.</summary>
    /// <param name="resumable">The verb continues an interrupted run in an existing folder (it checks the settings match).</param>
    public RunDirectory CreateRun(string path, bool resumable = false)
    {
        var run = RunDirectory.Create(path, Force || resumable);
        run.RecordProvenance(Config, ConfigSource, CommandLine);
        var old = _logger;
        _logger = BuildLogger(run.File("log.jsonl"));
        old.Dispose();
        Run = run;
        Log.Information("mindanim {Verb} {Version}: writing to {Path} (seed {Seed})", Verb, ToolInfo.Version, run.Path, Config.Seed);
        return run;
    }

    public void Dispose() => _logger.Dispose();

    private Logger BuildLogger(string? file)
    {
        var c = new LoggerConfiguration().MinimumLevel.Verbose()
            .WriteTo.Sink(new SpectreConsoleSink(), levelSwitch: _level);
        if (file is not null)
        {
            c = c.WriteTo.File(new CompactJsonFormatter(), file, restrictedToMinimumLevel: LogEventLevel.Debug);
        }
        return c.CreateLogger();
    }
}
