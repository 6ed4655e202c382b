using System.Reflection;

namespace MindAnimator.Runs;

/// <summary>The tool's version, as stamped at build time (0.1.0+&lt;git sha&gt;).</summary>
public static class ToolInfo
{
    public static string Version { get; } =
        typeof(ToolInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(ToolInfo).Assembly.GetName().Version?.ToString() ?? "unknown";
}
