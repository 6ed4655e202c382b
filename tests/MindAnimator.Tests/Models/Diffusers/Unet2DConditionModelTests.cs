using System.Text.RegularExpressions;
using MindAnimator.Models.Diffusers;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Models.Diffusers;

public sealed partial class Unet2DConditionModelTests(ITestOutputHelper output)
{
    /// <summary>
    /// Every `output.{case}.sample` of the unet2d fixture, for every config file of the fixture (0.11.1-saved and
    /// SD v1.5-style). A case's timestep is `input.timestep.{case}`, or the `t{N}` its name states; a `_ctx{N}`
    /// suffix selects `input.encoder_hidden_states_{N}`.
    /// </summary>
    [Fact]
    public void Matches_reference_for_every_config_and_case()
    {
        using var fixture = UnetFixture.Open("unet2d");
        var configs = Directory.GetFiles(fixture.Dir, "config*.json").Order().ToArray();
        Assert.NotEmpty(configs);
        var cases = fixture.Tensors.Keys.Select(k => OutputPattern().Match(k)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToArray();
        Assert.NotEmpty(cases);
        var results = new List<string>();
        foreach (var config in configs)
        {
            using var unet = Unet2DConditionModel.FromFiles(config, fixture.File("weights.safetensors"));
            foreach (var name in cases)
            {
                using var scope = NewDisposeScope();
                var timestep = fixture.Tensors.TryGetValue($"input.timestep.{name}", out var t) ? t : tensor(long.Parse(TimestepPattern().Match(name).Groups[1].Value));
                var contextMatch = ContextPattern().Match(name);
                var context = fixture[contextMatch.Success ? $"input.encoder_hidden_states_{contextMatch.Groups[1].Value}" : "input.encoder_hidden_states"];
                var prediction = unet.Predict(fixture["input.sample"], timestep, context);
                var diff = UnetFixture.MaxAbsDiff(prediction, fixture[$"output.{name}.sample"]);
                results.Add($"{Path.GetFileName(config)} {name}: max|Δ| {diff:E2}");
                Assert.True(diff <= fixture.Atol, $"{Path.GetFileName(config)} case {name}: max |Δ| {diff:E3} > atol {fixture.Atol:E1}. All: {string.Join("; ", results)}");
            }
        }
        output.WriteLine(string.Join(Environment.NewLine, results));
    }

    [Fact]
    public void Loaded_model_is_frozen_and_in_eval_mode()
    {
        var dir = Infrastructure.TestEnvironment.Golden("unet2d");
        using var unet = Unet2DConditionModel.FromFiles(Path.Combine(dir, "config.json"), Path.Combine(dir, "weights.safetensors"));
        Assert.All(unet.parameters(), p => Assert.False(p.requires_grad));
        Assert.False(unet.training);
    }

    /// <summary>
    /// Latents whose size is not a multiple of the UNet's total stride keep their size (the upsamplers are given
    /// the skip tensors' sizes, as diffusers does), and a per-sample timestep vector of the wrong length is refused.
    /// </summary>
    [Fact]
    public void Odd_sized_latents_keep_their_size()
    {
        var dir = Infrastructure.TestEnvironment.Golden("unet2d");
        using var unet = new Unet2DConditionModel(UnetConfig.Load(Path.Combine(dir, "config.json")));
        using var scope = NewDisposeScope();
        var sample = zeros(1, unet.Config.InChannels, 20, 12);
        var context = zeros(1, 5, unet.Config.CrossAttentionDim);
        var prediction = unet.Predict(sample, 3, context);
        Assert.Equal([1L, unet.Config.OutChannels, 20, 12], prediction.shape);
        Assert.Throws<ArgumentException>(() => unet.Predict(sample, tensor(new long[] { 1, 2, 3 }), context));
    }

    /// <summary>A bfloat16 model runs on float32 inputs, returns float32 and stays close to the float32 model.</summary>
    [Fact]
    public void Bfloat16_model_predicts_close_to_float32()
    {
        using var fixture = UnetFixture.Open("unet2d");
        var config = fixture.File("config.json");
        var weights = fixture.File("weights.safetensors");
        using var full = Unet2DConditionModel.FromFiles(config, weights);
        using var half = Unet2DConditionModel.FromFiles(config, weights, dtype: ScalarType.BFloat16);
        Assert.All(half.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        using var scope = NewDisposeScope();
        var sample = fixture["input.sample"].narrow(2, 0, 16).narrow(3, 0, 16);
        var context = fixture["input.encoder_hidden_states"];
        var reference = full.Predict(sample, 500, context);
        var approx = half.Predict(sample, 500, context);
        Assert.Equal(ScalarType.Float32, approx.dtype);
        var relative = ((approx - reference).norm() / reference.norm()).item<float>();
        output.WriteLine($"bf16 relative L2 error {relative:E2}");
        Assert.InRange(relative, 0, 0.05);
    }

    [GeneratedRegex(@"^output\.(.+)\.sample$")]
    private static partial Regex OutputPattern();

    [GeneratedRegex(@"^t(\d+)")]
    private static partial Regex TimestepPattern();

    [GeneratedRegex(@"_ctx(\d+)$")]
    private static partial Regex ContextPattern();
}
