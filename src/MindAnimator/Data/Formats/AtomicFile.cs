namespace MindAnimator.Data.Formats;

/// <summary>An output that already exists and was not to be overwritten; the message tells the user to pass --force.</summary>
public sealed class OutputExistsException : MindAnimatorException
{
    public OutputExistsException(string path)
        : base($"{path}: already exists; pass --force to overwrite it")
    {
        OutputPath = path;
    }

    public string OutputPath { get; }
}

/// <summary>
/// Writes files so that readers only ever see a complete file or none: the content goes to a hidden temp file in the
/// destination's folder (same file system, so the final rename is atomic), which is flushed to disk and then moved
/// over the destination. An exception before <see cref="AtomicFileWriter.Commit"/> leaves neither file nor temp file.
/// </summary>
public static class AtomicFile
{
    /// <summary>Fails with <see cref="OutputExistsException"/> when <paramref name="path"/> exists and may not be replaced.</summary>
    public static void EnsureWritable(string path, bool overwrite)
    {
        if (!overwrite && (File.Exists(path) || Directory.Exists(path)))
        {
            throw new OutputExistsException(path);
        }
        if (Directory.Exists(path))
        {
            throw new MindAnimatorException($"{path}: is a folder, expected a file path");
        }
    }

    /// <summary>Fails when a folder output exists (non-empty) and may not be replaced, or when a file is in its place.</summary>
    public static void EnsureWritableFolder(string path, bool overwrite)
    {
        if (File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: is a file, expected a folder path");
        }
        if (!overwrite && Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
        {
            throw new OutputExistsException(path);
        }
    }

    /// <summary>Starts an atomic write; call <see cref="AtomicFileWriter.Commit"/> when the content is complete.</summary>
    public static AtomicFileWriter Create(string path, bool overwrite) => new(path, overwrite);

    public static void Write(string path, bool overwrite, Action<Stream> write)
    {
        using var writer = Create(path, overwrite);
        write(writer.Stream);
        writer.Commit();
    }

    public static async Task WriteAsync(string path, bool overwrite, Func<Stream, Task> write)
    {
        using var writer = Create(path, overwrite);
        await write(writer.Stream).ConfigureAwait(false);
        writer.Commit();
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes, bool overwrite)
    {
        using var writer = Create(path, overwrite);
        writer.Stream.Write(bytes);
        writer.Commit();
    }

    public static void WriteAllText(string path, string text, bool overwrite) =>
        WriteAllBytes(path, new System.Text.UTF8Encoding(false).GetBytes(text), overwrite);

    /// <summary>Commits several writers together: all are complete on disk before the first rename happens.</summary>
    public static void CommitAll(params AtomicFileWriter[] writers)
    {
        foreach (var w in writers)
        {
            w.Flush();
        }
        foreach (var w in writers)
        {
            w.Commit();
        }
    }
}

/// <summary>A file being written atomically (see <see cref="AtomicFile"/>). Disposing without committing discards it.</summary>
public sealed class AtomicFileWriter : IDisposable
{
    private readonly bool overwrite;
    private FileStream? stream;
    private bool committed;

    internal AtomicFileWriter(string path, bool overwrite)
    {
        Path = System.IO.Path.GetFullPath(path);
        this.overwrite = overwrite;
        AtomicFile.EnsureWritable(Path, overwrite);
        var dir = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(dir);
        // Hidden and ending in .tmp so that a crash leaves something obviously disposable and git-ignored.
        TempPath = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid().ToString("N")[..8]}.tmp");
        stream = new FileStream(TempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
    }

    /// <summary>The destination.</summary>
    public string Path { get; }

    /// <summary>Where the content lives until <see cref="Commit"/>.</summary>
    public string TempPath { get; }

    /// <summary>The temp file's stream (seekable, readable).</summary>
    public FileStream Stream => stream ?? throw new ObjectDisposedException(nameof(AtomicFileWriter), $"{Path} was already committed or discarded");

    internal void Flush() => Stream.Flush(flushToDisk: true);

    /// <summary>Flushes the content to disk and moves it over the destination.</summary>
    public void Commit()
    {
        if (committed)
        {
            return;
        }
        Stream.Flush(flushToDisk: true);
        stream!.Dispose();
        stream = null;
        try
        {
            // Re-checked here: another process may have created the file while we were writing.
            File.Move(TempPath, Path, overwrite);
        }
        catch (IOException) when (!overwrite && File.Exists(Path))
        {
            TryDelete(TempPath);
            throw new OutputExistsException(Path);
        }
        catch
        {
            TryDelete(TempPath);
            throw;
        }
        committed = true;
    }

    public void Dispose()
    {
        stream?.Dispose();
        stream = null;
        if (!committed)
        {
            TryDelete(TempPath);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
