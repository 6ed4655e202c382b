namespace MindAnimator;

/// <summary>
/// A user-facing error: bad input, a bad config, a missing file. The CLI prints its message on one line and exits 1;
/// any other exception is an internal error (exit 2, details in the log file).
/// </summary>
public class MindAnimatorException : Exception
{
    public MindAnimatorException(string message)
        : base(message)
    {
    }

    public MindAnimatorException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>A file whose content is not what was expected; the message names the file and the field.</summary>
public class DataFormatException : MindAnimatorException
{
    public DataFormatException(string path, string message)
        : base($"{path}: {message}")
    {
        FilePath = path;
    }

    public DataFormatException(string path, string message, Exception inner)
        : base($"{path}: {message}", inner)
    {
        FilePath = path;
    }

    public string FilePath { get; }
}
