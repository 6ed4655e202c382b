using MindAnimator.Data.Formats;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Data.Formats;

public class CaptionTableTests
{
    [Fact]
    public void RoundTrip_KeepsOrderAndUnicode_AndRejectsBadLines()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("captions.jsonl");
        var captions = new[]
        {
            new KeyValuePair<string, string>("b-2", "a red star drifting left, \"quoted\"\nnew line"),
            new KeyValuePair<string, string>("a-1", "ünïcödé ✓ café"),
        };
        CaptionTable.Write(path, captions, overwrite: false);
        Assert.Equal(captions, CaptionTable.Read(path));
        Assert.Equal(2, File.ReadAllLines(path).Length);
        Assert.Throws<OutputExistsException>(() => CaptionTable.Write(path, captions, overwrite: false));
        Assert.Throws<MindAnimatorException>(() => CaptionTable.Write(tmp.File("dup.jsonl"), new[] { captions[0], captions[0] }, overwrite: false));

        var bad = tmp.File("bad.jsonl");
        File.WriteAllText(bad, "{\"clip_id\":\"x\",\"caption\":\"ok\"}\n{\"clip_id\":\"x\",\"caption\":\"again\"}\n");
        Assert.Contains("line 2: duplicate clip id 'x'", Assert.Throws<DataFormatException>(() => CaptionTable.Read(bad)).Message);
        File.WriteAllText(bad, "{\"clip_id\":\"x\"}\n");
        Assert.Contains("line 1: field 'caption' missing", Assert.Throws<DataFormatException>(() => CaptionTable.Read(bad)).Message);
        File.WriteAllText(bad, "not json\n");
        Assert.Contains("line 1", Assert.Throws<DataFormatException>(() => CaptionTable.Read(bad)).Message);
    }
}
