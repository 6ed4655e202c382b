using MindAnimator.Tests.Infrastructure;

namespace MindAnimator.Tests.Cli;

public class CliTests
{
    [Fact]
    public void InfoPrintsVersionsAndNativeLibrary()
    {
        var r = CliProcess.Run("info", "--device", "cpu");
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"mindanim\s+0\.1\.0\+", r.Stdout);
        Assert.Matches(@"TorchSharp\s+0\.107\.0", r.Stdout);
        Assert.Contains("libtorch-cpu-linux-x64/2.10.0", r.Stdout);
        Assert.Contains("libLibTorchSharp.so", r.Stdout);
        Assert.Matches(@"threads\s+\d+ of \d+ cores", r.Stdout);
    }

    [Fact]
    public void ConfigErrorIsOneLineWithExitCode1()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var cfg = tmp.File("bad.yaml");
        File.WriteAllText(cfg, "simulation:\n  snr: lots\n");
        var r = CliProcess.Run("info", "--config", cfg);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: {cfg}:2: 'simulation.snr': expected a number, got 'lots'", r.Stderr.Trim());
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void BadOptionsAreUserErrors()
    {
        var r = CliProcess.Run("info", "--device", "tpu");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("tpu", r.Stderr);
        var missing = CliProcess.Run("info", "--config", "/no/such/config.yaml");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("/no/such/config.yaml", missing.Stderr);
        var typo = CliProcess.Run("infoo");
        Assert.Equal(1, typo.ExitCode);
    }

    [Fact]
    public void Reconstruct_NamesAMissingTable_AndABadShard_InOneLine()
    {
        var missing = CliProcess.Run("reconstruct", "--fmri", "/no/such/sub1.parquet", "--run", "/no/such/run", "-o", Path.Combine(Path.GetTempPath(), "mindanim-cli-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("/no/such/sub1.parquet", missing.Stderr);
        Assert.DoesNotContain("   at ", missing.Stderr);
        var shard = CliProcess.Run("reconstruct", "--fmri", "/no/such/sub1.parquet", "--shard", "4/4", "-o", Path.Combine(Path.GetTempPath(), "mindanim-cli-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(1, shard.ExitCode);
        Assert.Contains("--shard '4/4'", shard.Stderr);
    }

    [Fact]
    public void EveryVerbHasHelp()
    {
        var root = MindAnimator.Cli.Program.BuildRoot();
        var verbs = new List<System.CommandLine.Command>();
        void Walk(System.CommandLine.Command c)
        {
            verbs.Add(c);
            foreach (var s in c.Subcommands)
            {
                Walk(s);
            }
        }
        Walk(root);
        Assert.True(verbs.Count >= 15, $"only {verbs.Count} commands");
        foreach (var c in verbs)
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Description), $"command '{c.Name}' has no description");
            foreach (var o in c.Options)
            {
                Assert.False(string.IsNullOrWhiteSpace(o.Description), $"option {o.Name} of '{c.Name}' has no description");
            }
        }
    }

    [Fact]
    public void DemoRecordsProvenanceAndRefusesToOverwrite()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var outDir = tmp.File("demo");
        // The whole demo, shrunk to seconds (DemoWorkflowTests checks its outputs; this checks the verb's provenance).
        string[] shrink =
        {
            "--set", "simulation.train_segments=2", "--set", "simulation.test_segments=1", "--set", "simulation.clips_per_segment=24",
            "--set", "preprocess.select_voxels=300", "--set", "semantic.training.epochs=2", "--set", "structure.training.epochs=2",
            "--set", "motion.training.epochs=2", "--set", "diffusion.inversion_steps=1", "--set", "diffusion.sampling_steps=1",
            "--set", "diffusion.batch_size=12", "--set", "eval.bootstrap_resamples=20", "--set", "eval.trials=2",
            "--set", "permtest.permutations=5", "--set", "permtest.repeats=1",
        };
        var first = CliProcess.Run(new[] { "demo", "--out", outDir, "--seed", "77", "--set", "simulation.snr=0.4" }.Concat(shrink).ToArray());
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.True(File.Exists(Path.Combine(outDir, "report.html")));
        var resolved = File.ReadAllText(Path.Combine(outDir, "config.resolved.yaml"));
        Assert.Contains("seed: 77", resolved);
        Assert.Contains("snr: 0.4", resolved);
        var runJson = File.ReadAllText(Path.Combine(outDir, "run.json"));
        Assert.Contains("\"seed\": 77", runJson);
        Assert.Matches("\"tool_version\": \"0\\.1\\.0", runJson);
        Assert.True(File.Exists(Path.Combine(outDir, "log.jsonl")));

        var second = CliProcess.Run("demo", "--out", outDir);
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("--force", second.Stderr);
        Assert.Contains("seed: 77", File.ReadAllText(Path.Combine(outDir, "config.resolved.yaml")));
    }

    [Fact]
    public void DataSimulate_WritesADataset_HonoursMotionVoxels_AndRefusesToOverwrite()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var outDir = tmp.File("sim");
        string[] small =
        {
            "--set", "simulation.train_segments=3", "--set", "simulation.test_segments=1", "--set", "simulation.clips_per_segment=20",
            "--set", "simulation.retinotopic_voxels=100", "--set", "simulation.semantic_voxels=100", "--set", "simulation.noise_voxels=50",
            "--set", "preprocess.select_voxels=120", "--set", "data.frame_size=32",
        };
        var first = CliProcess.Run(["data", "simulate", "--out", outDir, "--motion-voxels", "0", .. small]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("motion_voxels: 0", File.ReadAllText(Path.Combine(outDir, "config.resolved.yaml")));
        var manifest = MindAnimator.Data.DatasetManifest.Read(outDir);
        Assert.Equal(120, manifest.Voxels);
        Assert.Equal(20, manifest.Samples["test"]);
        var voxels = MindAnimator.Data.Formats.FmriParquet.Read(Path.Combine(outDir, manifest.Fmri)).Voxels;
        Assert.DoesNotContain(voxels, v => v.Population == "motion");
        Assert.Equal(32, MindAnimator.Data.Formats.ClipStore.Open(Path.Combine(outDir, manifest.Clips!)).Width);

        var again = CliProcess.Run(["data", "simulate", "--out", outDir, .. small]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", again.Stderr);
        var negative = CliProcess.Run("data", "simulate", "--out", tmp.File("x"), "--motion-voxels", "-1");
        Assert.Equal(1, negative.ExitCode);
        Assert.Contains("--motion-voxels", negative.Stderr);
        Assert.False(Directory.Exists(tmp.File("x")));

        var motionFree = CliProcess.Run(["data", "simulate", "--out", tmp.File("free"), "--motion-free", .. small]);
        Assert.True(motionFree.ExitCode == 0, motionFree.Stderr);
        var resolved = File.ReadAllText(Path.Combine(tmp.File("free"), "config.resolved.yaml"));
        Assert.Contains("motion_voxels: 0", resolved);
        Assert.Contains("retinotopic_drive: clip_onset", resolved);
        Assert.Contains("scene_change_probability: 1", resolved);
        var contradictory = CliProcess.Run("data", "simulate", "--out", tmp.File("y"), "--motion-free", "--motion-voxels", "5");
        Assert.Equal(1, contradictory.ExitCode);
        Assert.Contains("--motion-free", contradictory.Stderr);
        Assert.False(Directory.Exists(tmp.File("y")));
    }

    [Fact]
    public void Features_NamesAMissingDatasetOrModel_AndWritesNothing()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var r = CliProcess.Run("features", "--data", tmp.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("dataset.json", r.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Path));
        var data = tmp.File("sim");
        Assert.Equal(0, CliProcess.Run("data", "simulate", "--out", data, "--set", "simulation.train_segments=2", "--set", "simulation.test_segments=1",
            "--set", "simulation.clips_per_segment=10", "--set", "preprocess.select_voxels=50").ExitCode);
        var noClip = CliProcess.Run("features", "--data", data, "--clip", tmp.File("no-such-clip"));
        Assert.Equal(1, noClip.ExitCode);
        Assert.Contains("no-such-clip", noClip.Stderr);
        Assert.False(Directory.Exists(Path.Combine(data, "features")));
    }
}
