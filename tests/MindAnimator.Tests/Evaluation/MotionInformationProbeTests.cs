using MindAnimator.Config;
using MindAnimator.Data;
using MindAnimator.Evaluation;
using MindAnimator.Simulation;
using Serilog.Core;
using Xunit;

namespace MindAnimator.Tests.Evaluation;

/// <summary>The simulated brain carries the clips' motion in its motion voxels, and only there.</summary>
public sealed class MotionInformationProbeTests
{
    private static Dictionary<string, DecoderScore> Probe(int motionVoxels)
    {
        var demo = ConfigLoader.Load(null);
        var config = demo with { Simulation = demo.Simulation with { TrainSegments = 10, MotionVoxels = motionVoxels } };
        var dataset = BrainSimulator.Run(config, null, Logger.None);
        return MotionInformationProbe.Score(dataset.Fmri, dataset.Truth.Clips.ToDictionary(c => c.ClipId), config.Data.FramesPerClip, Splits.Test, config.Seed)
            .ToDictionary(s => s.Name);
    }

    [Fact]
    public void Motion_is_read_out_of_the_default_brain_and_not_out_of_a_brain_without_motion_voxels()
    {
        var withMotion = Probe(ConfigLoader.Load(null).Simulation.MotionVoxels);
        var pooled = withMotion["motion_readout_r"];
        Assert.True(pooled.Value > 0.15 && pooled.Value > pooled.ShuffledFmri + 0.1, $"default brain: {pooled}");
        Assert.True(withMotion["motion_readout_r_vx"].Value > 0.3, $"default brain: {withMotion["motion_readout_r_vx"]}");

        var without = Probe(0)["motion_readout_r"];
        Assert.True(Math.Abs(without.Value) < 0.1, $"brain without motion voxels: {without}");
    }

    [Fact]
    public void A_clips_motion_is_weighted_by_the_frames_each_scene_part_covers()
    {
        ScenePart Part(int first, string motion, double speed, double degrees = 0) => new(first, first, new SceneSpec
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
        var clip = new ClipTruth
        {
            ClipId = "c",
            Split = Splits.Test,
            Segment = "s",
            ClipIndex = 0,
            SceneChangeAtStart = false,
            Caption = "c",
            Parts = new[] { Part(0, "translate", 0.2, 90), Part(6, "rotate", -1.0) },
        };
        var m = MotionInformationProbe.MotionOf(clip, 8);
        Assert.Equal(0, m[0], 9);
        Assert.Equal(0.2 * 6 / 8, m[1], 9);
        Assert.Equal(-1.0 * 2 / 8, m[2], 9);
        Assert.Equal(0, m[3], 9);
    }
}
