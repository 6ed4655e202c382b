namespace MindAnimator.Cli;

/// <summary>The process exit codes, documented in README.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A user mistake (bad option, bad config, bad input file): one-line message on stderr.</summary>
    public const int UserError = 1;

    /// <summary>A bug or an environment failure: a short message and the path of a log file with the details.</summary>
    public const int InternalError = 2;

    /// <summary>The verb exists but its implementation has not landed yet.</summary>
    public const int NotImplemented = 3;
}

/// <summary>Thrown by verbs whose implementation has not landed yet.</summary>
public sealed class NotImplementedYetException : Exception
{
    public NotImplementedYetException(string verb, string issue)
        : base($"mindanim {verb}: not implemented yet ({issue}).")
    {
    }
}
