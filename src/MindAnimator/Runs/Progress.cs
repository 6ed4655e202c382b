namespace MindAnimator.Runs;

/// <summary>Where long-running library work reports progress; the CLI supplies a console implementation.</summary>
public interface IProgressReporter
{
    /// <summary>Starts a task of <paramref name="total"/> units (clips, epochs, steps).</summary>
    IProgressTask Start(string description, long total, string unit = "items");
}

/// <summary>One unit of reported work; disposing it marks it finished.</summary>
public interface IProgressTask : IDisposable
{
    void Advance(long amount = 1);

    /// <summary>A short status shown beside the bar (e.g. the current loss).</summary>
    void SetStatus(string status);
}

/// <summary>Reports nothing; the default for library callers that pass no reporter.</summary>
public sealed class NullProgress : IProgressReporter
{
    public static readonly NullProgress Instance = new();

    public IProgressTask Start(string description, long total, string unit = "items") => new Task();

    private sealed class Task : IProgressTask
    {
        public void Advance(long amount = 1)
        {
        }

        public void SetStatus(string status)
        {
        }

        public void Dispose()
        {
        }
    }
}
