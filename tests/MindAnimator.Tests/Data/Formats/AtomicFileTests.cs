using MindAnimator.Data.Formats;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Data.Formats;

public class AtomicFileTests
{
    [Fact]
    public void ExceptionMidWrite_LeavesNeitherFileNorTempFile()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("sub/out.bin");
        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, false, s =>
        {
            s.Write(new byte[100_000]);
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal("boom", e.Message);
        Assert.Empty(FormatTestData.FileNames(tmp.Path));
    }

    [Fact]
    public void ExistingFile_IsKept_UnlessOverwriteIsTrue()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("a.txt");
        AtomicFile.WriteAllText(path, "first", false);

        var e = Assert.Throws<OutputExistsException>(() => AtomicFile.WriteAllText(path, "second", false));
        Assert.Equal($"{path}: already exists; pass --force to overwrite it", e.Message);
        Assert.Equal("first", File.ReadAllText(path));

        AtomicFile.WriteAllBytes(path, "third"u8, overwrite: true);
        Assert.Equal("third", File.ReadAllText(path));
        Assert.Equal(new[] { "a.txt" }, FormatTestData.FileNames(tmp.Path));
    }

    [Fact]
    public void FileCreatedWhileWriting_IsNotReplaced()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("race.txt");
        using (var w = AtomicFile.Create(path, overwrite: false))
        {
            w.Stream.Write("mine"u8);
            File.WriteAllText(path, "theirs");
            Assert.Throws<OutputExistsException>(w.Commit);
        }
        Assert.Equal("theirs", File.ReadAllText(path));
        Assert.Equal(new[] { "race.txt" }, FormatTestData.FileNames(tmp.Path));
    }

    [Fact]
    public void UncommittedWriter_IsDiscarded_AndCommittedContentIsComplete()
    {
        using var tmp = TestEnvironment.NewTempDir();
        using (var w = AtomicFile.Create(tmp.File("dropped.bin"), false))
        {
            w.Stream.Write(new byte[10]);
            Assert.True(File.Exists(w.TempPath));
            Assert.False(File.Exists(w.Path));
        }
        Assert.Empty(FormatTestData.FileNames(tmp.Path));

        var a = AtomicFile.Create(tmp.File("a.bin"), false);
        var b = AtomicFile.Create(tmp.File("b.bin"), false);
        a.Stream.Write(new byte[] { 1, 2 });
        b.Stream.Write(new byte[] { 3 });
        AtomicFile.CommitAll(a, b);
        a.Dispose();
        b.Dispose();
        Assert.Equal(new byte[] { 1, 2 }, File.ReadAllBytes(tmp.File("a.bin")));
        Assert.Equal(new byte[] { 3 }, File.ReadAllBytes(tmp.File("b.bin")));
        Assert.Equal(new[] { "a.bin", "b.bin" }, FormatTestData.FileNames(tmp.Path));
    }
}
