using System.Text.Json;
using MindAnimator.Models.Common;
using MindAnimator.Models.Diffusers;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Models.Diffusers;

public sealed class Unet3DConditionModelTests(ITestOutputHelper output)
{
    /// <summary>
    /// The inflated UNet built from the unet2d fixture's SD v1.5-style config and weights plus the temporal weights
    /// as initialised reproduces `output.sample`, and `check.same_frames.sample` for identical frames.
    /// </summary>
    [Fact]
    public void Inflated_from_2d_weights_matches_reference()
    {
        using var fixture = UnetFixture.Open("unet3d_inflated");
        var unet2d = Infrastructure.TestEnvironment.Golden("unet2d");
        using var unet = Unet3DConditionModel.FromFiles2D(Path.Combine(unet2d, "config_sd15_style.json"), Path.Combine(unet2d, "weights.safetensors"),
            temporalWeights: fixture.File("weights_temporal_init.safetensors"));
        Assert.All(unet.parameters(), p => Assert.False(p.requires_grad));

        AssertClose(fixture, unet, "input.sample", "output.sample");
        AssertClose(fixture, unet, "check.same_frames.input", "check.same_frames.sample");
    }

    /// <summary>`output_temporal_active.sample`: the model built from the fixture's own 3-D config with the active temporal weights.</summary>
    [Fact]
    public void Active_temporal_weights_match_reference()
    {
        using var fixture = UnetFixture.Open("unet3d_inflated");
        using var unet = new Unet3DConditionModel(UnetConfig.Load(fixture.File("config.json")));
        var unet2d = Infrastructure.TestEnvironment.Golden("unet2d");
        var weights = StateDict.Read(Path.Combine(unet2d, "weights.safetensors"));
        unet.Load2DWeights(weights, "unet2d/weights.safetensors");
        unet.LoadTemporalWeights(fixture.File("weights_temporal_active.safetensors"));
        unet.eval();
        AssertClose(fixture, unet, "input.sample", "output_temporal_active.sample");
    }

    /// <summary>Full state-dict order, names and shapes equal the reference's `state_dict_keys.json`.</summary>
    [Fact]
    public void State_dict_order_and_shapes_equal_reference()
    {
        var dir = Infrastructure.TestEnvironment.Golden("unet3d_inflated");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "state_dict_keys.json")));
        var expected = doc.RootElement.GetProperty("state_dict_order").EnumerateArray()
            .Select(e => $"{e[0].GetString()} [{string.Join(",", e[1].EnumerateArray().Select(d => d.GetInt64()))}]").ToList();
        using var unet = new Unet3DConditionModel(UnetConfig.Load(Path.Combine(dir, "config.json")), device: META);
        var actual = unet.state_dict().Select(kv => $"{kv.Key} [{string.Join(",", kv.Value.shape)}]").ToList();
        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// The seeded initialisation follows the reference's rules for every new tensor listed in `new_params.json`:
    /// zeros / ones exactly, random ones within torch's default Linear bound U(−1/√fan_in, 1/√fan_in); reproducible per seed.
    /// </summary>
    [Fact]
    public void Temporal_initialisation_follows_reference_rules_and_is_seeded()
    {
        var dir = Infrastructure.TestEnvironment.Golden("unet3d_inflated");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "new_params.json")));
        var specs = doc.RootElement.GetProperty("new_parameters").EnumerateArray()
            .ToDictionary(e => e.GetProperty("key").GetString()!, e => e.GetProperty("init").GetString()!);
        var config = UnetConfig.Load(Path.Combine(dir, "config.json"));
        using var a = new Unet3DConditionModel(config, temporalSeed: 7);
        using var b = new Unet3DConditionModel(config, temporalSeed: 7);
        using var c = new Unet3DConditionModel(config, temporalSeed: 8);
        var temporal = a.TemporalParameters;
        Assert.Equal(specs.Keys.Order(), temporal.Select(p => p.Name).Order());
        var bByName = b.TemporalParameters.ToDictionary(p => p.Name, p => p.Parameter);
        var cByName = c.TemporalParameters.ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var (name, p) in temporal)
        {
            var init = specs[name];
            var values = p.data<float>().ToArray();
            if (init == "zeros")
            {
                Assert.All(values, v => Assert.Equal(0f, v));
            }
            else if (init == "ones")
            {
                Assert.All(values, v => Assert.Equal(1f, v));
            }
            else
            {
                Assert.StartsWith("random", init);
                // The bias of to_out.0 has fan_in = its length (a square layer); weights have fan_in = shape[1].
                var bound = 1 / Math.Sqrt(p.dim() == 2 ? p.shape[1] : p.shape[0]);
                Assert.All(values, v => Assert.InRange(Math.Abs(v), 0, bound));
                Assert.True(values.Max(Math.Abs) > 0.8 * bound, $"{name}: values do not fill U(±{bound:F3}).");
                Assert.True(p.allclose(bByName[name], 0, 0), $"{name}: same seed gave different values.");
                Assert.False(p.allclose(cByName[name], 0, 0), $"{name}: another seed gave the same values.");
            }
        }
    }

    /// <summary>
    /// A batch of two clips (as classifier-free guidance runs it) with per-sample timesteps and contexts gives each
    /// clip exactly what it gets alone: frames never mix across clips (attention, GroupNorm statistics, time embedding).
    /// </summary>
    [Fact]
    public void Batched_clips_equal_separate_runs()
    {
        // Laid out as a diffusers unet/ folder, to go through FromPretrained2D.
        var unet2d = Infrastructure.TestEnvironment.Golden("unet2d");
        using var dir = Infrastructure.TestEnvironment.NewTempDir();
        File.Copy(Path.Combine(unet2d, "config.json"), dir.File("config.json"));
        File.CreateSymbolicLink(dir.File("diffusion_pytorch_model.safetensors"), Path.Combine(unet2d, "weights.safetensors"));
        using var unet = Unet3DConditionModel.FromPretrained2D(dir.Path, temporalSeed: 3);
        using var scope = NewDisposeScope();
        var generator = new Generator(11, CPU);
        var clips = randn([2, unet.Config.InChannels, 4, 16, 16], generator: generator);
        var contexts = randn([2, 6, unet.Config.CrossAttentionDim], generator: generator);
        var timesteps = tensor(new long[] { 981, 21 });
        var batched = unet.Predict(clips, timesteps, contexts);
        for (var i = 0; i < 2; i++)
        {
            var alone = unet.Predict(clips.narrow(0, i, 1), timesteps.narrow(0, i, 1), contexts.narrow(0, i, 1));
            var diff = UnetFixture.MaxAbsDiff(batched.narrow(0, i, 1), alone);
            output.WriteLine($"clip {i}: max|Δ| batched vs alone {diff:E2}");
            Assert.True(diff < 1e-5, $"clip {i}: batched differs from alone by {diff:E3}");
        }
    }

    /// <summary>A diffusers model folder without weights is a user error naming the folder.</summary>
    [Fact]
    public void Folder_without_weights_is_a_user_error()
    {
        using var dir = Infrastructure.TestEnvironment.NewTempDir();
        File.Copy(Path.Combine(Infrastructure.TestEnvironment.Golden("unet2d"), "config.json"), dir.File("config.json"));
        var e = Assert.ThrowsAny<MindAnimatorException>(() => Unet3DConditionModel.FromPretrained2D(dir.Path));
        Assert.Contains(dir.Path, e.Message);
        Assert.Contains("diffusion_pytorch_model.safetensors", e.Message);
    }

    [Fact]
    public void Temporal_weights_file_with_other_tensors_is_rejected()
    {
        var unet2d = Infrastructure.TestEnvironment.Golden("unet2d");
        using var unet = new Unet3DConditionModel(UnetConfig.Load(Path.Combine(unet2d, "config_sd15_style.json")), device: META);
        var path = Path.Combine(unet2d, "weights.safetensors");
        var e = Assert.ThrowsAny<MindAnimatorException>(() => unet.LoadTemporalWeights(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("_temp.", e.Message);
    }

    private void AssertClose(UnetFixture fixture, Unet3DConditionModel unet, string input, string expected)
    {
        using var scope = NewDisposeScope();
        var prediction = unet.Predict(fixture[input], fixture["input.timestep"], fixture["input.encoder_hidden_states"]);
        var diff = UnetFixture.MaxAbsDiff(prediction, fixture[expected]);
        output.WriteLine($"{expected}: max|Δ| {diff:E2}");
        Assert.True(diff <= fixture.Atol, $"{expected}: max |Δ| {diff:E3} > atol {fixture.Atol:E1}");
    }
}
