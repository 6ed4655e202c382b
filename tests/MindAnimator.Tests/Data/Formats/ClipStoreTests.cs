using System.Text.Json;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Data.Formats;

public class ClipStoreTests
{
    private static ClipFrames Clip(string id, int seed, int frames = 8, int h = 6, int w = 5)
    {
        var bytes = new byte[frames * h * w * 3];
        new Random(seed).NextBytes(bytes);
        return new ClipFrames(id, frames, h, w, bytes);
    }

    [Fact]
    public void RoundTrip_RandomAccessAcrossShards_InWrittenOrder()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var clips = Enumerable.Range(0, 23).Select(i => Clip($"seg{i / 10}-clip{i:D3}", i)).ToList();
        var folder = tmp.File("clips");
        // 3 clips per shard: 720 bytes each, cap 2200 bytes.
        ClipStore.Write(folder, clips, overwrite: false, shardBytes: 2200);
        Assert.Equal(8, Directory.GetFiles(folder, "shard-*.safetensors").Length);
        var reader = ClipStore.Open(folder);
        Assert.Equal(clips.Select(c => c.ClipId), reader.ClipIds);
        Assert.Equal((8, 6, 5), (reader.Frames, reader.Height, reader.Width));
        foreach (var i in new[] { 22, 0, 13, 7 })
        {
            Assert.Equal(clips[i].Rgb, reader.Read(clips[i].ClipId).Rgb);
        }
        Assert.False(reader.Contains("nope"));
        Assert.Contains("no clip 'nope'", Assert.Throws<MindAnimatorException>(() => reader.Read("nope")).Message);
        Assert.DoesNotContain(Directory.GetDirectories(tmp.Path), d => Path.GetFileName(d).StartsWith('.'));
    }

    [Fact]
    public void Writer_RejectsDuplicatesMixedShapesAndExistingOutput_LeavingNothingBehind()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var folder = tmp.File("clips");
        using (var w = ClipStore.Create(folder, overwrite: false))
        {
            w.Add(Clip("a", 1));
            Assert.Contains("duplicate clip id 'a'", Assert.Throws<MindAnimatorException>(() => w.Add(Clip("a", 2))).Message);
            Assert.Contains("expected 8×6×5", Assert.Throws<MindAnimatorException>(() => w.Add(Clip("b", 2, frames: 7))).Message);
        }
        Assert.False(Directory.Exists(folder));
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Path));

        ClipStore.Write(folder, new[] { Clip("a", 1) }, overwrite: false);
        Assert.Throws<OutputExistsException>(() => ClipStore.Write(folder, new[] { Clip("b", 1) }, overwrite: false));
        Assert.Equal(new[] { "a" }, ClipStore.Open(folder).ClipIds);
        ClipStore.Write(folder, new[] { Clip("b", 1) }, overwrite: true);
        Assert.Equal(new[] { "b" }, ClipStore.Open(folder).ClipIds);
    }

    [Fact]
    public void Reader_RejectsTruncatedShardsAndBadIndexes_NamingTheFile()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var folder = tmp.File("clips");
        ClipStore.Write(folder, Enumerable.Range(0, 4).Select(i => Clip($"c{i}", i)), overwrite: false);
        var shard = Path.Combine(folder, "shard-00000.safetensors");
        var bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..^100]);
        var e = Assert.Throws<DataFormatException>(() => ClipStore.Open(folder).Read("c0"));
        Assert.Equal(shard, e.FilePath);
        Assert.Contains("truncated", e.Message);
        File.WriteAllBytes(shard, bytes[..5]);
        Assert.Contains("truncated", Assert.Throws<DataFormatException>(() => ClipStore.Open(folder).Read("c1")).Message);

        var index = Path.Combine(folder, ClipStore.IndexFile);
        var json = File.ReadAllText(index);
        File.WriteAllText(index, json.Replace("[\"c1\",0]", "[\"c0\",0]", StringComparison.Ordinal));
        Assert.Contains("duplicate clip id 'c0'", Assert.Throws<DataFormatException>(() => ClipStore.Open(folder)).Message);
        File.WriteAllText(index, json.Replace("\"frames\":8", "\"frames\":0", StringComparison.Ordinal));
        Assert.Contains("'frames' is 0", Assert.Throws<DataFormatException>(() => ClipStore.Open(folder)).Message);
        File.Delete(index);
        Assert.Contains("index.json", Assert.Throws<DataFormatException>(() => ClipStore.Open(folder)).Message);
    }

    private const string NumpyReader = """
        import json, struct, sys
        import numpy as np
        folder = sys.argv[1]
        index = json.load(open(folder + '/index.json'))
        out = {}
        for clip_id, shard in index['clips']:
            with open(folder + '/' + index['shards'][shard], 'rb') as f:
                n = struct.unpack('<Q', f.read(8))[0]
                header = json.loads(f.read(n))
                begin, end = header[clip_id]['data_offsets']
                f.seek(8 + n + begin)
                a = np.frombuffer(f.read(end - begin), dtype=header[clip_id]['dtype'].lower().replace('u8', 'uint8')).reshape(header[clip_id]['shape'])
            out[clip_id] = {'shape': list(a.shape), 'sum': int(a.astype(np.int64).sum()), 'pixel': a[3, 2, 1].tolist()}
        print(json.dumps(out))
        """;

    [Fact]
    public void NumPy_ReadsOurShardsByTheSafetensorsSpec()
    {
        var python = NpyTests.PythonWithNumpy();
        Assert.True(python is not null, "NumPy is needed for this interoperability test: apt-get install python3-numpy");
        using var tmp = TestEnvironment.NewTempDir();
        var clips = Enumerable.Range(0, 5).Select(i => Clip($"clip-{i}", 40 + i)).ToList();
        var folder = tmp.File("clips");
        ClipStore.Write(folder, clips, overwrite: false, shardBytes: 1500);
        var script = tmp.File("read.py");
        File.WriteAllText(script, NumpyReader);
        var run = FormatTestData.Run(python!, script, folder)!.Value;
        Assert.True(run.Code == 0, run.Stderr);
        using var doc = JsonDocument.Parse(run.Stdout);
        foreach (var c in clips)
        {
            var got = doc.RootElement.GetProperty(c.ClipId);
            Assert.Equal("[8,6,5,3]", got.GetProperty("shape").GetRawText().Replace(" ", string.Empty, StringComparison.Ordinal));
            Assert.Equal(c.Rgb.Sum(b => (long)b), got.GetProperty("sum").GetInt64());
            var at = (((3 * 6) + 2) * 5 + 1) * 3;
            Assert.Equal(c.Rgb[at..(at + 3)].Select(b => (int)b), got.GetProperty("pixel").EnumerateArray().Select(x => x.GetInt32()));
        }
    }
}
