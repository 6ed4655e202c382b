using System.CommandLine;
using System.Text.Json;
using MindAnimator.Benchmarks;
using Spectre.Console;

namespace MindAnimator.Cli.Commands;

/// <summary>`mindanim bench NAME`: run one benchmark in this process (scripts/bench runs each in its own, so peak memory is per benchmark).</summary>
internal static class BenchCommand
{
    public static Command Build()
    {
        var names = new Argument<string[]>("names") { Description = "Benchmarks to run (see --list).", Arity = ArgumentArity.ZeroOrMore };
        var list = new Option<bool>("--list") { Description = "List the benchmarks and exit." };
        var quick = new Option<bool>("--quick") { Description = "Smaller sizes: a smoke run, not numbers to quote." };
        var json = new Option<string?>("--json") { Description = "Also write the results to this JSON file." };
        var command = CommandRunner.Verb("bench", "Measure speed and memory (the numbers quoted in the issues).", (ctx, parse) =>
        {
            if (parse.GetValue(list) || (parse.GetValue(names) ?? Array.Empty<string>()).Length == 0)
            {
                foreach (var b in BenchmarkRegistry.All)
                {
                    System.Console.Out.WriteLine($"{b.Name,-24} {b.Description}");
                }
                return ExitCodes.Success;
            }
            // Reading the device applies --threads (torch intra-op threads) before anything is timed.
            _ = ctx.Device;
            var results = new Dictionary<string, IReadOnlyList<Measurement>>();
            foreach (var name in parse.GetValue(names)!)
            {
                var bench = BenchmarkRegistry.Find(name);
                var work = Path.Combine(Path.GetTempPath(), $"mindanim-bench-{name}-{Environment.ProcessId}");
                Directory.CreateDirectory(work);
                try
                {
                    ctx.Log.Information("bench {Name}: {Description}", name, bench.Description);
                    results[name] = bench.Run(new BenchmarkContext(work, parse.GetValue(quick), ctx.Log));
                }
                finally
                {
                    Directory.Delete(work, recursive: true);
                }
                var table = new Table().AddColumns("benchmark", "measurement", "value", "unit", "note");
                foreach (var m in results[name])
                {
                    table.AddRow(Markup.Escape(name), Markup.Escape(m.Name), m.Value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(m.Unit), Markup.Escape(m.Note));
                }
                AnsiConsole.Write(table);
            }
            if (parse.GetValue(json) is { } path)
            {
                File.WriteAllText(path, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
            }
            return ExitCodes.Success;
        });
        command.Arguments.Add(names);
        command.Options.Add(list);
        command.Options.Add(quick);
        command.Options.Add(json);
        return command;
    }
}
