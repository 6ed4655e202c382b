using System.CommandLine;
using System.Reflection;
using MindAnimator.Native;
using MindAnimator.Runs;
using Spectre.Console;
using TorchSharp;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim info`: versions, device, threads and where the native library came from.</summary>
internal static class InfoCommand
{
    public static Command Build() =>
        CommandRunner.Verb("info", "Print the tool version, TorchSharp/libtorch versions, device, threads and native library path.", (ctx, _) =>
        {
            foreach (var (key, value) in Collect(ctx.Config.Device))
            {
                AnsiConsole.MarkupLine($"[bold]{key,-16}[/] {Markup.Escape(value)}");
            }
            return ExitCodes.Success;
        });

    public static IEnumerable<(string Key, string Value)> Collect(string device)
    {
        TorchNativeLoader.EnsureLoaded();
        var resolved = DeviceSelector.Resolve(device);
        var torchSharp = typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        yield return ("mindanim", ToolInfo.Version);
        yield return ("TorchSharp", torchSharp.Split('+')[0]);
        yield return ("libtorch", LibTorchVersion());
        yield return ("backend", torch.cuda.is_available() ? $"CUDA ({torch.cuda.device_count()} device(s))" : "CPU");
        yield return ("device", $"{resolved.type} (requested: {device})");
        yield return ("threads", $"{torch.get_num_threads()} of {Environment.ProcessorCount} cores");
        yield return ("native library", $"{TorchNativeLoader.LoadedFrom ?? "(found by TorchSharp)"} [{TorchNativeLoader.LoadMode}]");
        yield return (".NET", Environment.Version.ToString());
    }

    private static string LibTorchVersion()
    {
        // The libtorch package version is recorded in TorchSharp's dependency list.
        var native = typeof(torch).Assembly.Location;
        var dir = Path.GetDirectoryName(native) ?? string.Empty;
        var deps = Directory.GetFiles(dir, "*.deps.json").FirstOrDefault();
        if (deps is not null)
        {
            var text = File.ReadAllText(deps);
            var i = text.IndexOf("\"libtorch-cpu-linux-x64/", StringComparison.Ordinal);
            if (i < 0)
            {
                i = text.IndexOf("\"libtorch-cuda-", StringComparison.Ordinal);
            }
            if (i >= 0)
            {
                var end = text.IndexOf('"', i + 1);
                return text[(i + 1)..end];
            }
        }
        return "unknown";
    }
}
