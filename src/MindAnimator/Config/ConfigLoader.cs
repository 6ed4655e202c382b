using System.Reflection;

namespace MindAnimator.Config;

/// <summary>Loads a run's configuration: a YAML file (or the embedded demo default) plus command-line overrides.</summary>
public static class ConfigLoader
{
    /// <summary>Name shown for the built-in default config in messages and run records.</summary>
    public const string EmbeddedDefaultName = "embedded:configs/demo.yaml";

    /// <summary>Loads <paramref name="path"/>, or the embedded demo config when null.</summary>
    public static MindAnimatorConfig Load(string? path, IEnumerable<string>? overrides = null)
    {
        if (path is null)
        {
            return ConfigBinder.Bind<MindAnimatorConfig>(EmbeddedDefaultYaml(), EmbeddedDefaultName, overrides);
        }
        if (!File.Exists(path))
        {
            throw new ConfigException(path, string.Empty, "config file not found");
        }
        return ConfigBinder.Bind<MindAnimatorConfig>(File.ReadAllText(path), path, overrides);
    }

    /// <summary>The text of configs/demo.yaml as compiled into the library.</summary>
    public static string EmbeddedDefaultYaml()
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("MindAnimator.configs.demo.yaml")
            ?? throw new InvalidOperationException("embedded demo.yaml missing from the build");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }
}
