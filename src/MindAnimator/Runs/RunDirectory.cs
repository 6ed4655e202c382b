using System.Text.Json;
using MindAnimator.Config;

namespace MindAnimator.Runs;

/// <summary>
/// The folder a command writes its results into. Every run records what reproduces it:
/// `config.resolved.yaml` (the config after overrides), `run.json` (seed, tool version, command line, time, host).
/// </summary>
public sealed class RunDirectory
{
    private RunDirectory(string path) => Path = path;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>
    /// Creates <paramref name="path"/>. An existing non-empty folder is an error unless <paramref name="force"/>,
    /// so a finished result is never overwritten by accident.
    /// </summary>
    public static RunDirectory Create(string path, bool force)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any() && !force)
        {
            throw new MindAnimatorException($"{full}: output folder exists and is not empty; pass --force to overwrite it.");
        }
        Directory.CreateDirectory(full);
        return new RunDirectory(full);
    }

    /// <summary>Opens an existing run folder (e.g. a training run used by reconstruct).</summary>
    public static RunDirectory Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(full))
        {
            throw new MindAnimatorException($"{full}: run folder not found.");
        }
        return new RunDirectory(full);
    }

    /// <summary>Saves the resolved config, seed, version and command line beside the outputs.</summary>
    public void RecordProvenance(MindAnimatorConfig config, string configSource, IReadOnlyList<string> commandLine)
    {
        WriteText("config.resolved.yaml", $"# resolved from {configSource}\n" + ConfigBinder.ToYaml(config));
        var record = new RunRecord(
            ToolInfo.Version,
            config.Seed,
            configSource,
            string.Join(' ', commandLine),
            DateTimeOffset.UtcNow,
            Environment.MachineName,
            Environment.ProcessorCount);
        WriteText("run.json", JsonSerializer.Serialize(record, JsonOptions));
    }

    /// <summary>Writes a text file atomically (temp file in the same folder, then rename).</summary>
    public void WriteText(string name, string text)
    {
        var target = File(name);
        var tmp = target + ".tmp-" + Environment.ProcessId;
        System.IO.File.WriteAllText(tmp, text);
        System.IO.File.Move(tmp, target, overwrite: true);
    }

    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}

/// <summary>What run.json holds.</summary>
public sealed record RunRecord(string ToolVersion, int Seed, string Config, string CommandLine, DateTimeOffset StartedUtc, string Host, int Cores);
