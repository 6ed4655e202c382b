using System.Runtime.CompilerServices;
using MindAnimator.Native;

namespace MindAnimator.Tests.Infrastructure;

/// <summary>Locates the repository and the shared reference fixtures for tests.</summary>
public static class TestEnvironment
{
#pragma warning disable CA2255 // tests may touch torch before the library's own initializer has run
    [ModuleInitializer]
    internal static void LoadTorch() => TorchNativeLoader.EnsureLoaded();
#pragma warning restore CA2255

    /// <summary>The repository root (the folder holding MindAnimator.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>`../shared` beside the checkout, or $MINDANIM_SHARED.</summary>
    public static string SharedRoot
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("MINDANIM_SHARED");
            return !string.IsNullOrEmpty(env) ? env : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
        }
    }

    /// <summary>A folder of `../shared/golden`; fails the test with a clear message when it is absent.</summary>
    public static string Golden(string fixture)
    {
        var dir = Path.Combine(SharedRoot, "golden", fixture);
        Assert.True(Directory.Exists(dir), $"Reference fixture folder missing: {dir} (set MINDANIM_SHARED to the shared folder).");
        return dir;
    }

    /// <summary>A fresh empty temporary folder, removed when disposed.</summary>
    public static TempDir NewTempDir() => new();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MindAnimator.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("MindAnimator.sln not found above " + AppContext.BaseDirectory);
    }
}

public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mindanim-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
