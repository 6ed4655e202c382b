using System.Diagnostics;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Cli;

/// <summary>Runs the built `mindanim` as a separate process, as a user would.</summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "mindanim.dll");

    public static Result RunIn(string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        psi.ArgumentList.Add(DllPath);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["CI"] = "true";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException("mindanim " + string.Join(' ', args));
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static Result Run(params string[] args) => RunIn(TestEnvironment.RepoRoot, args);
}
