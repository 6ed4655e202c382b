using System.Diagnostics;
using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Data.Import;
using MindAnimator.Runs;
using MindAnimator.Tests.Infrastructure;
using Serilog.Core;

namespace MindAnimator.Tests.Data.Import;

public class AlgonautsImportTests
{
    // Made with Debian's numpy 1.24 (python3):
    //   rng = np.random.default_rng(0); train = rng.standard_normal((4, 3, 5)).astype(np.float32)
    //   mask = np.zeros((3, 4, 2), bool); mask.flat[[1, 5, 6, 13, 22]] = True
    //   wb = {'train': rng.standard_normal((4, 3, 5)).astype(np.float32), 'voxel_mask': mask.astype(np.float64)}
    //   pickle.dump({'train': train}, f, protocol=2)   # RoiProtocol2
    //   pickle.dump(wb, f, protocol=4)                  # WholeBrainProtocol4
    // numpy printed train[1, 2, 3] = -0.45772582, train.mean(axis=1)[1, 3] = 0.101804934, wb['train'].mean(axis=1)[3, 4] = 0.7484686.
    private const string RoiProtocol2 = "gAJ9cQBYBQAAAHRyYWlucQFjbnVtcHkuY29yZS5tdWx0aWFycmF5Cl9yZWNvbnN0cnVjdApxAmNudW1weQpuZGFycmF5CnEDSwCFcQRjX2NvZGVjcwplbmNvZGUKcQVYAQAAAGJxBlgGAAAAbGF0aW4xcQeGcQhScQmHcQpScQsoSwFLBEsDSwWHcQxjbnVtcHkKZHR5cGUKcQ1YAgAAAGY0cQ6JiIdxD1JxEChLA1gBAAAAPHERTk5OSv////9K/////0sAdHESYoloBVhjAQAAbMK/AD5/RgfCvsK9w7IjP8Ofw5XDlj3CoSEJwr/DvSLCuT55w6nCpj/DpnNyP8O+JzTCv1XDucKhwr/DqsKOH8K/bkUpPU7DjRTDgMOsCmDCvgN6wp/Cv8OgdTvCv8KPVAvCvxjDssKhwr49w4HDkj4UccKFP8KXwp4Dwr5Gw6jCrj8zSirCvyHDucKzPsOSSWc/woXCicOAPcO4VT7CvzLDtmvCvwpbw6rCvsOVemE+KzvCgcK/HzJWwr7Dogsjwr7Dm3QKP8Kaw49bPmnDs8K1PlBhJ8K/cMK5BMK+wp7Cskg/w4Aowr8/DynCocK/QcOIw4E/wqVFwqw/BgRIP8K6ZsKHPn7CusKgwr5swqDCuj/Cv8Opw7o/w7nCm8OmP1JVwqg/wpHDusK2Pi/CqsKawr/DusOzwpHCu8K+Dig/B8OpwqTCv3BNw4o+GBfDnD7Dmy8yPy3CkcKXwr9XZSnCv3ETaAeGcRRScRV0cRZicy4=";
    private const string WholeBrainProtocol4 = "gASVmQIAAAAAAAB9lCiMBXRyYWlulIwVbnVtcHkuY29yZS5tdWx0aWFycmF5lIwMX3JlY29uc3RydWN0lJOUjAVudW1weZSMB25kYXJyYXmUk5RLAIWUQwFilIeUUpQoSwFLBEsDSwWHlGgFjAVkdHlwZZSTlIwCZjSUiYiHlFKUKEsDjAE8lE5OTkr/////Sv////9LAHSUYolD8HF0374SvJW/m6PePwPo/b61bqg+n2OEvj2vyj+XAak/ZiMiP04GDcBVHFU9DwYvP9CBgD8oLx6/qzfpP+IDqb/nWSm/cF9vP37tSD0zJwBALQtBPgIZIr8BUMG+raqLvwaLo7+mYiE/SMcUPxq0pT/YLUG/rDTYP3skk742hsk/G5bdvqJIPL+9x38+qAaEP7LfJD445RW/Fq2rvwRls7/TrwA/1V19P9c8KL7KhIm/sX9fP/Pjo7+hiza/B/seP1ACEMA80sU+auYUvwnO3z1nCZu9E/dOPkG1MT+FJEK/veK1P0jhOT/d/lc/QxqVP5R0lGKMCnZveGVsX21hc2uUaARoB0sAhZRoCYeUUpQoSwFLA0sESwKHlGgOjAJmOJSJiIeUUpQoSwNoEk5OTkr/////Sv////9LAHSUYolDwAAAAAAAAAAAAAAAAAAA8D8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADwPwAAAAAAAPA/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8D8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8D8AAAAAAAAAAJR0lGJ1Lg==";

    [Fact]
    public void NumpyPickles_Protocols2And4_AreRead()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var roi = tmp.File("V1.pkl");
        File.WriteAllBytes(roi, Convert.FromBase64String(RoiProtocol2));
        var train = NumpyPickle.LoadArrays(roi)["train"];
        Assert.Equal(new long[] { 4, 3, 5 }, train.Shape);
        Assert.Equal("<f4", train.DType);
        Assert.Equal(-0.45772582, train.Values[(((1 * 3) + 2) * 5) + 3], 6);

        var wb = tmp.File("WB.pkl");
        File.WriteAllBytes(wb, Convert.FromBase64String(WholeBrainProtocol4));
        var arrays = NumpyPickle.LoadArrays(wb);
        Assert.Equal(new long[] { 3, 4, 2 }, arrays["voxel_mask"].Shape);
        Assert.Equal(new[] { 1, 5, 6, 13, 22 }, Enumerable.Range(0, 24).Where(i => arrays["voxel_mask"].Values[i] != 0));

        var cut = tmp.File("cut.pkl");
        File.WriteAllBytes(cut, Convert.FromBase64String(WholeBrainProtocol4)[..200]);
        var e = Assert.Throws<DataFormatException>(() => NumpyPickle.LoadArrays(cut));
        Assert.Contains(cut, e.Message);
    }

    [Fact]
    public void Import_TinyTree_AveragesRepeatsAndOrdersVideosByNumber()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var root = tmp.File("algonauts");
        var wb = AlgonautsImporter.PicklePath(root, "full", 1, "WB");
        Directory.CreateDirectory(Path.GetDirectoryName(wb)!);
        File.WriteAllBytes(wb, Convert.FromBase64String(WholeBrainProtocol4));
        var videos = Path.Combine(root, AlgonautsImporter.VideoFolder);
        Directory.CreateDirectory(videos);
        foreach (var (name, pattern) in new[] { ("0001_a.mp4", "testsrc"), ("0010_d.mp4", "smptebars"), ("0002_b.mp4", "rgbtestsrc"), ("0003_c.mp4", "testsrc2") })
        {
            MakeVideo(Path.Combine(videos, name), pattern);
        }
        Assert.Equal(new[] { "0001_a.mp4", "0002_b.mp4", "0003_c.mp4", "0010_d.mp4" }, AlgonautsImporter.VideoPaths(root).Select(Path.GetFileName));

        var config = new MindAnimatorConfig { Preprocess = new PreprocessSettings { StandardScale = false }, Data = new DataSettings { FrameSize = 16, ValidationFraction = 0 } };
        var output = tmp.File("out");
        var manifest = AlgonautsImporter.Run(new AlgonautsImportRequest { Root = root, Subject = 1, TestVideos = 1, Output = output }, config, NullProgress.Instance, Logger.None);
        Assert.Equal((3, 1), (manifest.Samples[Splits.Train], manifest.Samples[Splits.Test]));
        var table = FmriParquet.Read(Path.Combine(output, manifest.Fmri));
        Assert.Equal(0.7484686, table.Samples[3].Voxels[4], 5);
        Assert.Equal(new[] { 1, 5, 6, 13, 22 }, table.Voxels.Select(v => v.SourceIndex));
        Assert.All(table.Voxels, v => Assert.Equal("WB", v.Roi));
        var store = ClipStore.Open(Path.Combine(output, manifest.Clips!));
        Assert.Equal(table.Samples.Select(s => s.ClipId), store.ClipIds);
        Assert.Equal((8, 16, 16), (store.Read(store.ClipIds[0]).Frames, store.Read(store.ClipIds[0]).Height, store.Read(store.ClipIds[0]).Width));

        var e = Assert.Throws<MindAnimatorException>(() => AlgonautsImporter.Run(new AlgonautsImportRequest { Root = root, Subject = 2, Output = tmp.File("o2") }, config, NullProgress.Instance, Logger.None));
        Assert.Contains("sub02", e.Message);
    }

    private static void MakeVideo(string path, string pattern)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-v", "error", "-f", "lavfi", "-i", $"{pattern}=size=32x32:rate=30:duration=1", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", path })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"ffmpeg failed: {err}");
    }
}
