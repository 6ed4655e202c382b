using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Evaluation;
using MindAnimator.Simulation;
using Serilog.Core;
using Xunit;

namespace MindAnimator.Tests.Evaluation;

/// <summary>Where the simulated brain carries the clips' motion: the read-out finds it, and finds none in the motion-free brain.</summary>
public sealed class MotionInformationProbeTests
{
    private static Dictionary<string, DecoderScore> Probe(int motionVoxels)
    {
        var demo = ConfigLoader.Load(null);
        return Probe(demo with { Simulation = demo.Simulation with { TrainSegments = 10, MotionVoxels = motionVoxels } });
    }

    private static Dictionary<string, DecoderScore> Probe(MindAnimatorConfig config)
    {
        var dataset = BrainSimulator.Run(config, null, Logger.None);
        return MotionInformationProbe.Score(dataset.Fmri, dataset.Truth.Clips.ToDictionary(c => c.ClipId), config.Data.FramesPerClip, Splits.Test, config.Seed)
            .ToDictionary(s => s.Name);
    }

    [Fact]
    public void Motion_is_read_out_of_the_default_brain()
    {
        var withMotion = Probe(ConfigLoader.Load(null).Simulation.MotionVoxels);
        var pooled = withMotion["motion_readout_r"];
        Assert.True(pooled.Value > 0.15 && pooled.Value > pooled.ShuffledFmri + 0.1, $"default brain: {pooled}");
        Assert.True(withMotion["motion_readout_r_vx"].Value > 0.3, $"default brain: {withMotion["motion_readout_r_vx"]}");
    }

    [Fact]
    public void On_the_demos_4000_clips_a_brain_without_motion_voxels_still_carries_motion_and_the_motion_free_brain_does_not()
    {
        // The retinotopic voxels integrate each clip's trajectory through the slow HRF, and a continuing scene's next
        // clip shows where the object went; --motion-free removes both.
        var withoutMotionVoxels = Probe(ConfigLoader.Load(null, new[] { "simulation.motion_voxels=0" }))["motion_readout_r"];
        Assert.True(withoutMotionVoxels.Value > 0.08, $"brain without motion voxels: {withoutMotionVoxels}");

        var motionFree = Probe(ConfigLoader.Load(null, SimulationSettings.MotionFreeOverrides));
        Assert.True(Math.Abs(motionFree["motion_readout_r"].Value) < 0.05, $"motion-free brain: {motionFree["motion_readout_r"]}");
        foreach (var parameter in MotionInformationProbe.Parameters)
        {
            Assert.True(Math.Abs(motionFree[$"motion_readout_r_{parameter}"].Value) < 0.1, $"motion-free brain: {motionFree[$"motion_readout_r_{parameter}"]}");
        }
    }

    [Fact]
    public void Scoring_the_validation_split_never_fits_or_tunes_on_it()
    {
        // fMRI of pure noise: any read-out above chance could only come from fitting the scored samples themselves.
        var random = new Random(3);
        const int voxels = 300;
        var samples = new List<FmriSample>();
        var truths = new Dictionary<string, ClipTruth>();
        foreach (var (split, count) in new[] { (Splits.Train, 60), (Splits.Val, 30) })
        {
            for (var i = 0; i < count; i++)
            {
                var id = $"{split}-{i:D3}";
                samples.Add(new FmriSample
                {
                    ClipId = id,
                    Subject = "s",
                    Split = split,
                    Segment = split,
                    ClipIndex = i,
                    Repeats = 1,
                    Voxels = Enumerable.Range(0, voxels).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray(),
                });
                truths[id] = Clip(id, split, new[] { "translate", "rotate", "scale" }[random.Next(3)], (random.NextDouble() * 2) - 1, random.Next(8) * 45);
            }
        }
        var table = new FmriTable(samples, Enumerable.Range(0, voxels).Select(v => new VoxelInfo(v, v, "s", -1, "", "noise")).ToList(), new Dictionary<string, string>());
        var pooled = MotionInformationProbe.Score(table, truths, 8, Splits.Val, 1).Single(s => s.Name == "motion_readout_r");
        Assert.True(Math.Abs(pooled.Value) < 0.4, $"read-out of noise on the scored validation split: {pooled}");
    }

    private static ClipTruth Clip(string id, string split, string motion, double speed, double degrees, params ScenePart[] more) => new()
    {
        ClipId = id,
        Split = split,
        Segment = split,
        ClipIndex = 0,
        SceneChangeAtStart = false,
        Caption = id,
        Parts = new[] { Part(0, motion, speed, degrees) }.Concat(more).ToArray(),
    };

    private static ScenePart Part(int first, string motion, double speed, double degrees = 0) => new(first, first, new SceneSpec
    {
        Category = 0,
        Shape = "circle",
        Color = "red",
        Size = "small",
        Radius = 0.1,
        Texture = "plain",
        TextureColor = "black",
        Background = "plain",
        BackgroundColor = "blue",
        Motion = motion,
        Direction = "x",
        Speed = "fast",
        SpeedValue = speed,
        DirectionDegrees = degrees,
    });

    [Fact]
    public void A_clips_motion_is_weighted_by_the_frames_each_scene_part_covers()
    {
        var clip = Clip("c", Splits.Test, "translate", 0.2, 90, Part(6, "rotate", -1.0));
        var m = MotionInformationProbe.MotionOf(clip, 8);
        Assert.Equal(0, m[0], 9);
        Assert.Equal(0.2 * 6 / 8, m[1], 9);
        Assert.Equal(-1.0 * 2 / 8, m[2], 9);
        Assert.Equal(0, m[3], 9);
    }
}
