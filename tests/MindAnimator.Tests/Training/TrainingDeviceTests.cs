using MindAnimator.Models.Decoders;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Training;

/// <summary>
/// What lets `train --device cuda` work: random draws stay on the run's CPU generators and are moved to the tensors'
/// device, and the data move as a whole. Checked against the meta device (no GPU here).
/// </summary>
public sealed class TrainingDeviceTests
{
    private static readonly Device Meta = new(DeviceType.META);

    [Fact]
    public void Draws_for_a_tensor_on_another_device_come_from_the_CPU_generator_and_land_on_that_device()
    {
        using var reference = new Generator(7);
        using var generator = new Generator(7);
        using var cpu = zeros(3, 5);
        Assert.True(RandomDraws.Uniform(cpu, generator).allclose(rand(new long[] { 3, 5 }, generator: reference), rtol: 0, atol: 0));

        using var elsewhere = empty(new long[] { 3, 5 }, device: Meta);
        using var drawn = RandomDraws.Uniform(elsewhere, generator);
        Assert.Equal(DeviceType.META, drawn.device_type);
        Assert.Equal(new long[] { 3, 5 }, drawn.shape);
        // The draw consumed the CPU generator exactly as a CPU draw would: both streams stay in step.
        using var skipped = rand(new long[] { 3, 5 }, generator: reference);
        Assert.True(rand(new long[] { 2 }, generator: generator).allclose(rand(new long[] { 2 }, generator: reference), rtol: 0, atol: 0));
    }

    [Fact]
    public void Dropout_masks_follow_the_input_device()
    {
        var dropout = new SeededDropout(0.5) { Generator = new Generator(3) };
        dropout.train();
        using var input = ones(new long[] { 4, 6 }, device: Meta);
        using var output = dropout.forward(input);
        Assert.Equal(DeviceType.META, output.device_type);
        Assert.Equal(input.shape, output.shape);
    }

    [Fact]
    public void Training_data_move_to_a_device_with_their_ids_and_fingerprint()
    {
        using var data = TinyDecoders.Data();
        using var moved = data.To(Meta);
        Assert.Equal(data.ClipIds, moved.ClipIds);
        Assert.Equal(data.Fingerprint, moved.Fingerprint);
        Assert.Equal(DeviceType.META, moved.Fmri.device_type);
        Assert.Equal(data.Fmri.shape, moved.Fmri.shape);
        Assert.Equal(data.Targets.Keys.OrderBy(k => k), moved.Targets.Keys.OrderBy(k => k));
        foreach (var (name, t) in moved.Targets)
        {
            Assert.Equal(DeviceType.META, t.device_type);
            Assert.Equal(data.Targets[name].shape, t.shape);
        }
        Assert.Equal(DeviceType.CPU, data.Fmri.device_type);
    }
}
