using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Data.Formats;
using MindAnimator.Evaluation;
using MindAnimator.Features;
using MindAnimator.Reconstruction;
using MindAnimator.Runs;
using MindAnimator.Simulation;
using MindAnimator.Tests.Diffusion;
using MindAnimator.Tests.Infrastructure;
using MindAnimator.Tests.Models.Clip;
using MindAnimator.Tests.Simulation;
using MindAnimator.Training;
using Serilog.Core;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Reconstruction;

/// <summary>A small simulated dataset, its features with the tiny reference CLIP/SD, and the three decoders trained briefly on them.</summary>
public sealed class ReconstructionFixture : IDisposable
{
    private readonly TempDir _dir = TestEnvironment.NewTempDir();
    private readonly TinyStableDiffusion _sd = new();
    private readonly TinyClipFolder _clip = new();

    public ReconstructionFixture()
    {
        var small = SimulatorTests.Small();
        var one = new TrainingSettings { Epochs = 1, BatchSize = 8, LearningRate = 1e-3 };
        Config = small with
        {
            Simulation = small.Simulation with { TrainSegments = 2, TestSegments = 1, ClipsPerSegment = 12, RetinotopicVoxels = 60, MotionVoxels = 60, SemanticVoxels = 60, NoiseVoxels = 20 },
            Preprocess = small.Preprocess with { SelectVoxels = 100 },
            Features = new FeatureSettings { BatchSize = 8 },
            Semantic = small.Semantic with { Hidden = 16, ClipDim = 16, TokenDim = 32, HeadHidden = new[] { 16, 16 }, ResidualBlocks = 1, Training = one },
            Structure = small.Structure with { Hidden = 32, OutputDim = 4 * 16 * 16, Training = one },
            Motion = small.Motion with { ModelDim = 4 * 16 * 16, AttentionDim = 16, Heads = 4, FeedForward = 16, Layers = 1, EncoderHidden = 16, Training = one },
            Diffusion = new DiffusionSettings { SdFolder = _sd.Root, InversionSteps = 2, SamplingSteps = 2, BatchSize = 3 },
        };
        Data = _dir.File("data");
        SimulatedDatasetWriter.Write(Config, Data, overwrite: false, NullProgress.Instance, Logger.None);
        using (var models = FeatureModels.Load(_clip.Root, _sd.Root, CPU, Logger.None))
        {
            FeatureExtractor.Run(Data, Path.Combine(Data, "features"), models, Config, force: false, NullProgress.Instance, Logger.None);
        }
        Decoders = _dir.File("decoders");
        foreach (var kind in DecoderTaskFactory.Kinds)
        {
            var run = Path.Combine(Decoders, kind);
            Directory.CreateDirectory(run);
            DecoderTraining.Run(kind, Data, Path.Combine(Data, "features"), run, Config, resume: false, Logger.None);
        }
    }

    public MindAnimatorConfig Config { get; }

    public string Data { get; }

    /// <summary>semantic/, structure/ and motion/ training runs.</summary>
    public string Decoders { get; }

    public string NewFolder() => _dir.File("out-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        _sd.Dispose();
        _clip.Dispose();
        _dir.Dispose();
    }
}

public sealed class ReconstructionTests : IClassFixture<ReconstructionFixture>
{
    private readonly ReconstructionFixture _f;

    public ReconstructionTests(ReconstructionFixture fixture) => _f = fixture;

    private ReconstructionJobOptions Options(string output, int limit = 4) => new()
    {
        Fmri = _f.Data,
        Run = _f.Decoders,
        Output = output,
        Limit = limit,
        WriteMp4 = false,
    };

    private static Dictionary<string, ClipFrames> ReadAll(string output)
    {
        var source = ClipSources.Open(Path.Combine(output, VideoReconstructor.FramesFolder));
        return source.ClipIds.ToDictionary(id => id, source.Read);
    }

    [Fact]
    public void TestClips_BecomeVideos_ThatEvalReads_WithGifsAndSideBySides()
    {
        var output = _f.NewFolder();
        var summary = ReconstructionJob.Run(Options(output), _f.Config, CPU, NullProgress.Instance, Logger.None);
        var test = FmriParquet.Read(Path.Combine(_f.Data, "fmri.parquet")).Samples.Where(s => s.Split == Splits.Test).Take(4).Select(s => s.ClipId).ToList();
        Assert.Equal(4, summary.Done);
        var clips = ReadAll(output);
        Assert.Equal(test.Order(), clips.Keys.Order());
        var gt = ClipStore.Open(Path.Combine(_f.Data, "clips"));
        foreach (var (id, clip) in clips)
        {
            Assert.Equal((gt.Frames, gt.Height, gt.Width), (clip.Frames, clip.Height, clip.Width));
            // A video, not a constant: frames carry structure.
            Assert.True(clip.Rgb.Max() - clip.Rgb.Min() > 10, id);
            Assert.True(File.Exists(Path.Combine(output, VideoReconstructor.GifFolder, id + ".gif")));
            var side = ClipSources.Open(Path.Combine(output, VideoReconstructor.SideBySideFolder), GifHalf.Left);
            // The left half of the side-by-side GIF is the ground truth (up to GIF palette quantisation).
            var left = side.Read(id);
            var truth = gt.Read(id);
            var meanError = left.Rgb.Zip(truth.Rgb, (a, b) => Math.Abs(a - b)).Average();
            Assert.True(meanError < 12, $"{id}: side-by-side left half differs from the ground truth by {meanError:F1} on average");
        }
    }

    [Fact]
    public void WithoutTheMotionDecoder_TheMotionDecodersWeightsDoNotMatter_AndTheShuffleControlIsRefused()
    {
        // A second motion decoder with other weights (another seed).
        var otherMotion = _f.NewFolder();
        Directory.CreateDirectory(otherMotion);
        DecoderTraining.Run("motion", _f.Data, Path.Combine(_f.Data, "features"), otherMotion, _f.Config with { Seed = _f.Config.Seed + 1 }, resume: false, Logger.None);

        Dictionary<string, ClipFrames> Reconstruct(bool ablation, string? motion)
        {
            var output = _f.NewFolder();
            ReconstructionJob.Run(Options(output, limit: 2) with { WithoutMotionDecoder = ablation, Motion = motion }, _f.Config, CPU, NullProgress.Instance, Logger.None);
            Assert.Contains(ablation ? "first-frame latent repeated" : "\"own\"", File.ReadAllText(Path.Combine(output, VideoReconstructor.SettingsFile)));
            return ReadAll(output);
        }

        var ablated = Reconstruct(true, null);
        var ablatedOther = Reconstruct(true, otherMotion);
        foreach (var (id, clip) in ablated)
        {
            Assert.Equal(clip.Rgb, ablatedOther[id].Rgb);
        }
        var withMotion = Reconstruct(false, null);
        var withOther = Reconstruct(false, otherMotion);
        Assert.Contains(withMotion.Keys, id => !withMotion[id].Rgb.AsSpan().SequenceEqual(withOther[id].Rgb));

        var both = Assert.Throws<MindAnimatorException>(() => ReconstructionJob.Run(
            Options(_f.NewFolder()) with { WithoutMotionDecoder = true, ShuffleMotionFmri = true }, _f.Config, CPU, NullProgress.Instance, Logger.None));
        Assert.Contains("--without-motion-decoder", both.Message);
    }

    [Fact]
    public void Results_DoNotDependOnBatching_OrSharding_AndDoneClipsAreSkipped()
    {
        var whole = _f.NewFolder();
        ReconstructionJob.Run(Options(whole), _f.Config with { Diffusion = _f.Config.Diffusion with { BatchSize = 4 } }, CPU, NullProgress.Instance, Logger.None);
        var sharded = _f.NewFolder();
        var first = ReconstructionJob.Run(Options(sharded) with { Shard = (0, 2) }, _f.Config with { Diffusion = _f.Config.Diffusion with { BatchSize = 1 } }, CPU, NullProgress.Instance, Logger.None);
        Assert.Equal(2, first.Done);
        var second = ReconstructionJob.Run(Options(sharded) with { Shard = (1, 2) }, _f.Config, CPU, NullProgress.Instance, Logger.None);
        Assert.Equal(2, second.Done);
        var a = ReadAll(whole);
        var b = ReadAll(sharded);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var id in a.Keys)
        {
            var maxDiff = a[id].Rgb.Zip(b[id].Rgb, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(maxDiff <= 2, $"{id}: batch 4 vs sharded batch 1 differ by up to {maxDiff}");
        }
        var stamp = File.GetLastWriteTimeUtc(VideoReconstructor.FramesPath(sharded, a.Keys.First()));
        var again = ReconstructionJob.Run(Options(sharded), _f.Config, CPU, NullProgress.Instance, Logger.None);
        Assert.Equal((0, 4), (again.Done, again.Skipped));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(VideoReconstructor.FramesPath(sharded, a.Keys.First())));
    }

    [Fact]
    public void ShuffledMotionFmri_ChangesTheVideos_AndOtherSeedsChangeTheNoise()
    {
        var plain = ReadAll(Run(Options(_f.NewFolder(), limit: 3), _f.Config));
        var shuffled = ReadAll(Run(Options(_f.NewFolder(), limit: 3) with { ShuffleMotionFmri = true }, _f.Config));
        var reseeded = ReadAll(Run(Options(_f.NewFolder(), limit: 3), _f.Config with { Seed = _f.Config.Seed + 1 }));
        var same = ReadAll(Run(Options(_f.NewFolder(), limit: 3), _f.Config));
        foreach (var id in plain.Keys)
        {
            Assert.Equal(plain[id].Rgb, same[id].Rgb);
            Assert.NotEqual(plain[id].Rgb, shuffled[id].Rgb);
            Assert.NotEqual(plain[id].Rgb, reseeded[id].Rgb);
        }
    }

    private static string Run(ReconstructionJobOptions options, MindAnimatorConfig config)
    {
        ReconstructionJob.Run(options, config, CPU, NullProgress.Instance, Logger.None);
        return options.Output;
    }

    [Fact]
    public void DecoderScores_NextFrameError_EqualsFrameByFramePrediction()
    {
        using var decoders = DecoderSet.Load(_f.Decoders, null, null, null, CPU);
        var scores = DecoderEvaluation.Run(_f.Data, Path.Combine(_f.Data, "features"), decoders, Splits.Test, _f.Config.Seed, Logger.None).ToDictionary(s => s.Name);
        Assert.All(scores.Values, s => Assert.True(double.IsFinite(s.Value) && double.IsFinite(s.ShuffledFmri) && double.IsFinite(s.Reference), s.Name));

        // Independently: predict frame t from the true frames 0..t−1 alone, one prefix at a time.
        var samples = FmriParquet.Read(Path.Combine(_f.Data, "fmri.parquet")).Samples.Where(x => x.Split == Splits.Test).ToList();
        using var noGrad = no_grad();
        using var fmri = tensor(samples.SelectMany(x => x.Voxels).ToArray(), new long[] { samples.Count, samples[0].Voxels.Length });
        using var latents = FeatureStore.Open(Path.Combine(_f.Data, "features")).Load(FeatureNames.Latents, samples.Select(x => x.ClipId).ToList());
        using var tokens = latents.reshape(samples.Count, latents.shape[1], -1);
        var frames = (int)tokens.shape[1];
        var squared = 0.0;
        for (var t = 1; t < frames; t++)
        {
            using var mask = MindAnimator.Models.Decoders.AttentionMasks.Causal(t);
            using var output = decoders.Motion.forward(fmri, tokens.narrow(1, 0, t), mask);
            using var diff = output.select(1, t - 1) - tokens.select(1, t);
            squared += diff.pow(2).sum().item<float>();
        }
        var expected = squared / (samples.Count * (frames - 1) * tokens.shape[2]);
        Assert.Equal(expected, scores["next_frame_mse"].Value, 4);
    }

    [Fact]
    public void Derangement_MovesEveryClip_AndIsSeeded()
    {
        for (var n = 2; n < 40; n += 7)
        {
            var p = ReconstructionJob.Derangement(n, 3);
            Assert.Equal(Enumerable.Range(0, n).Select(i => (long)i), p.Order());
            Assert.All(Enumerable.Range(0, n), i => Assert.NotEqual(i, p[i]));
            Assert.Equal(p, ReconstructionJob.Derangement(n, 3));
        }
        Assert.NotEqual(ReconstructionJob.Derangement(30, 3), ReconstructionJob.Derangement(30, 4));
    }

    [Fact]
    public void BadInputs_AreClearErrors()
    {
        var missing = Assert.Throws<MindAnimatorException>(() => ReconstructionJob.Run(Options(_f.NewFolder()) with { Run = _f.NewFolder() }, _f.Config, CPU, NullProgress.Instance, Logger.None));
        Assert.Contains("semantic decoder's checkpoint is missing", missing.Message);
        Assert.Contains("best.json", missing.Message);

        // A table with other voxels than the decoders were trained on.
        var table = FmriParquet.Read(Path.Combine(_f.Data, "fmri.parquet"));
        var fewer = new FmriTable(table.Samples.Select(s => s with { Voxels = s.Voxels[..50] }).ToList(), table.Voxels.Take(50).ToList(), table.Metadata);
        var path = Path.Combine(_f.NewFolder(), "fewer.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        FmriParquet.Write(path, fewer, overwrite: false);
        var voxels = Assert.Throws<MindAnimatorException>(() => ReconstructionJob.Run(Options(_f.NewFolder()) with { Fmri = path }, _f.Config, CPU, NullProgress.Instance, Logger.None));
        Assert.Contains("50 voxels", voxels.Message);
        Assert.Contains("trained on 100", voxels.Message);

        // Resuming into a folder made with other settings would mix two kinds of clips.
        var folder = _f.NewFolder();
        ReconstructionJob.Run(Options(folder, limit: 1), _f.Config, CPU, NullProgress.Instance, Logger.None);
        var other = _f.Config with { Diffusion = _f.Config.Diffusion with { SamplingSteps = 3 } };
        var mixed = Assert.Throws<MindAnimatorException>(() => ReconstructionJob.Run(Options(folder, limit: 2), other, CPU, NullProgress.Instance, Logger.None));
        Assert.Contains("other settings", mixed.Message);
        Assert.Equal(2, ReconstructionJob.Run(Options(folder, limit: 2) with { Force = true }, other, CPU, NullProgress.Instance, Logger.None).Done);

        var split = Assert.Throws<MindAnimatorException>(() => ReconstructionJob.Run(Options(_f.NewFolder()) with { Split = "nope" }, _f.Config, CPU, NullProgress.Instance, Logger.None));
        Assert.Contains("no samples in split 'nope'", split.Message);
    }
}
