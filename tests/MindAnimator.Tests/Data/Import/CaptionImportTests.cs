using System.Text.Json;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Import;
using MindAnimator.Tests.Cli;
using MindAnimator.Tests.Infrastructure;
using Serilog.Core;

namespace MindAnimator.Tests.Data.Import;

public class CaptionImportTests
{
    /// <summary>Every HDF5 file captions_layout.json describes, read as h5py 3.7 reads it.</summary>
    [Fact]
    public void OfficialH5Files_MatchTheirLayout()
    {
        var dir = TestEnvironment.Golden("captions");
        using var layout = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "captions_layout.json")));
        var files = layout.RootElement.EnumerateObject().ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var path = Path.Combine(dir, file.Name);
            foreach (var obj in file.Value.GetProperty("objects").EnumerateArray())
            {
                var name = obj.GetProperty("name").GetString()!;
                var byName = CaptionImporter.ReadH5(path, name);
                var auto = CaptionImporter.ReadH5(path);
                Assert.Equal(byName, auto);
                Assert.Equal(obj.GetProperty("shape")[0].GetInt32(), byName.Length);
                var first = obj.GetProperty("first_5").EnumerateArray().Select(e => e.GetString()).ToArray();
                var last = obj.GetProperty("last_2").EnumerateArray().Select(e => e.GetString()).ToArray();
                Assert.Equal(first, byName.Take(first.Length));
                Assert.Equal(last, byName.Skip(byName.Length - last.Length));
                Assert.Equal(obj.GetProperty("n_empty").GetInt32(), byName.Count(c => c.Length == 0));
                Assert.Equal(obj.GetProperty("max_len_chars").GetInt32(), byName.Max(c => c.EnumerateRunes().Count()));
                Assert.Equal(obj.GetProperty("n_with_and_then").GetInt32(), byName.Count(c => c.Contains(", and then ", StringComparison.Ordinal)));
            }
        }
    }

    [Fact]
    public void Tables_CsvJsonJsonl_AreRead()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var csv = tmp.File("c.csv");
        File.WriteAllText(csv, "clip_id,caption\r\na,\"a dog, running\"\nb,\"says \"\"hi\"\"\nover two lines\"\n");
        Assert.Equal(new (string?, string)[] { ("a", "a dog, running"), ("b", "says \"hi\"\nover two lines") }, CaptionImporter.ReadTable(csv));

        var onlyCaptions = tmp.File("o.csv");
        File.WriteAllText(onlyCaptions, "caption\nx\ny\n");
        Assert.Equal(new (string?, string)[] { (null, "x"), (null, "y") }, CaptionImporter.ReadTable(onlyCaptions));

        var json = tmp.File("c.json");
        File.WriteAllText(json, "[\"one\", \"two\"]");
        Assert.Equal(new (string?, string)[] { (null, "one"), (null, "two") }, CaptionImporter.ReadTable(json));
        File.WriteAllText(json, "[{\"clip_id\": \"k\", \"caption\": \"é ü\"}]");
        Assert.Equal(new (string?, string)[] { ("k", "é ü") }, CaptionImporter.ReadTable(json));
        File.WriteAllText(json, "{\"k1\": \"v1\", \"k2\": \"v2\"}");
        Assert.Equal(new (string?, string)[] { ("k1", "v1"), ("k2", "v2") }, CaptionImporter.ReadTable(json));

        var jsonl = tmp.File("c.jsonl");
        File.WriteAllText(jsonl, "{\"clip_id\": \"a\", \"caption\": \"x\"}\n\n{\"id\": \"b\", \"text\": \"y\"}\n");
        Assert.Equal(new (string?, string)[] { ("a", "x"), ("b", "y") }, CaptionImporter.ReadTable(jsonl));

        var bad = tmp.File("bad.csv");
        File.WriteAllText(bad, "clip_id,caption\na,b,c\n");
        var e = Assert.Throws<DataFormatException>(() => CaptionImporter.ReadTable(bad));
        Assert.Contains("row 2", e.Message);
        File.WriteAllText(jsonl, "{\"clip_id\": \"a\"}\n");
        e = Assert.Throws<DataFormatException>(() => CaptionImporter.ReadTable(jsonl));
        Assert.Contains("line 1", e.Message);
    }

    [Fact]
    public void CorruptH5_FailsNamingThePath()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var source = Directory.GetFiles(TestEnvironment.Golden("captions"), "*.h5").First();
        var path = tmp.File("cut.h5");
        File.WriteAllBytes(path, File.ReadAllBytes(source)[..4000]);
        var e = Assert.Throws<DataFormatException>(() => CaptionImporter.ReadH5(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Import_OfficialTrainAndTest_NamesClipsBySegment()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var dir = TestEnvironment.Golden("captions");
        var train = Directory.GetFiles(dir, "Train*.h5").Single();
        var test = Directory.GetFiles(dir, "Test*.h5").Single();
        var output = tmp.File("captions.jsonl");
        var all = CaptionImport.Run(new CaptionImportRequest { Train = train, Test = test, Output = output }, Logger.None);
        var trainCaptions = CaptionImporter.ReadH5(train);
        var testCaptions = CaptionImporter.ReadH5(test);
        Assert.Equal(trainCaptions.Length + testCaptions.Length, all.Count);
        var read = CaptionTable.Read(output).ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal(trainCaptions[0], read[ClipIds.Clip("train", 1, 0)]);
        Assert.Equal(trainCaptions[241], read[ClipIds.Clip("train", 2, 1)]);
        Assert.Equal(testCaptions[^1], read[ClipIds.Clip("test", testCaptions.Length / 240, 239)]);

        var e = Assert.Throws<DataFormatException>(() => CaptionImport.Run(new CaptionImportRequest { Train = train, ClipsPerSegment = 7, Output = tmp.File("x.jsonl") }, Logger.None));
        Assert.Contains("--clips-per-segment", e.Message);
    }

    [Fact]
    public void Cli_ImportsCaptions()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var test = Directory.GetFiles(TestEnvironment.Golden("captions"), "Test*.h5").Single();
        var output = tmp.File("c.jsonl");
        var r = CliProcess.Run("data", "import", "captions", "--test", test, "--out", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(CaptionImporter.ReadH5(test).Length, CaptionTable.Read(output).Count);
        var again = CliProcess.Run("data", "import", "captions", "--test", test, "--out", output);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", again.Stderr);
    }
}
