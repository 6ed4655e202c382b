namespace MindAnimator.Config;

/// <summary>A config error: names the file, the key path and what was expected.</summary>
public sealed class ConfigException : MindAnimatorException
{
    public ConfigException(string source, string keyPath, string message, int line = 0)
        : base(Format(source, keyPath, message, line))
    {
        Source_ = source;
        KeyPath = keyPath;
    }

    public string Source_ { get; }

    public string KeyPath { get; }

    private static string Format(string source, string keyPath, string message, int line)
    {
        var where = line > 0 && source != ConfigBinder.CommandLineSource ? $"{source}:{line}" : source;
        return string.IsNullOrEmpty(keyPath) ? $"{where}: {message}" : $"{where}: '{keyPath}': {message}";
    }
}

/// <summary>Sections that check relations between their fields after binding.</summary>
public interface IValidatedSection
{
    /// <summary>Returns (relative key, message) for every problem.</summary>
    IEnumerable<(string Key, string Message)> Validate();
}

/// <summary>Inclusive numeric bounds of a config value.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class BoundsAttribute : Attribute
{
    public BoundsAttribute(double min, double max)
    {
        Min = min;
        Max = max;
    }

    public double Min { get; }

    public double Max { get; }
}

/// <summary>The allowed values of a string config value.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OneOfAttribute : Attribute
{
    public OneOfAttribute(params string[] values) => Values = values;

    public string[] Values { get; }
}
