using System.CommandLine;

namespace MindAnimator.Cli;

/// <summary>Options every compute command shares. A new instance per command keeps each command's symbol tree its own.</summary>
internal sealed class CommonOptions
{
    public Option<FileInfo> Config { get; } = new Option<FileInfo>("--config", "-c")
    {
        Description = "YAML config file (default: the embedded demo config, configs/demo.yaml).",
    }.AcceptExistingOnly();

    public Option<string[]> Set { get; } = new("--set")
    {
        Description = "Override one config key, e.g. --set simulation.snr=0.3 (repeatable; keys as in the YAML).",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<int?> Seed { get; } = new("--seed")
    {
        Description = "Random seed (overrides the config's seed).",
    };

    public Option<string?> Device { get; } = new Option<string?>("--device")
    {
        Description = "Compute device: auto (CUDA when available), cpu or cuda.",
    }.AcceptOnlyFromAmong("auto", "cpu", "cuda");

    public Option<int?> Threads { get; } = new("--threads")
    {
        Description = "CPU threads for tensor work (default: all cores).",
    };

    public Option<bool> Force { get; } = new("--force")
    {
        Description = "Overwrite existing outputs.",
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Log debug messages too.",
    };

    public void AddTo(Command command, bool compute = true)
    {
        command.Options.Add(Config);
        command.Options.Add(Set);
        command.Options.Add(Seed);
        if (compute)
        {
            command.Options.Add(Device);
            command.Options.Add(Threads);
        }
        command.Options.Add(Force);
        command.Options.Add(Verbose);
        Threads.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 0)
            {
                r.AddError("--threads must be 0 or more.");
            }
        });
    }

    /// <summary>The config overrides implied by the options, in the order they apply.</summary>
    public List<string> Overrides(ParseResult parse)
    {
        var list = new List<string>(parse.GetValue(Set) ?? Array.Empty<string>());
        if (parse.GetValue(Seed) is { } seed)
        {
            list.Add($"seed={seed}");
        }
        if (parse.GetValue(Device) is { } device)
        {
            list.Add($"device={device}");
        }
        if (parse.GetValue(Threads) is { } threads)
        {
            list.Add($"threads={threads}");
        }
        return list;
    }
}
