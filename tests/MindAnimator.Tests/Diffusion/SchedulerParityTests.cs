using System.Text.Json;
using MindAnimator.Diffusion;
using MindAnimator.Tests.Models.Diffusers;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Diffusion;

/// <summary>Parity of the DDIM/DDPM schedulers with diffusers 0.11.1 on the `scheduler` fixture.</summary>
public sealed class SchedulerParityTests
{
    // golden/README.md, section scheduler: schedules "compare with atol ~1e-7"; tensors: its "Suggested atol".
    private const double ScheduleAtol = 1e-7;
    private static readonly double Atol = UnetFixture.SuggestedAtol("scheduler");

    private static DdimScheduler Ddim(string folder) => DdimScheduler.FromConfigFile(Path.Combine(folder, "sd15_scheduler_config.json"));

    [Fact]
    public void Schedules_match_in_float32()
    {
        using var io = new GoldenTensors("scheduler");
        using var ddim = Ddim(io.Folder);
        using var ddpm = DdpmScheduler.FromConfigFile(Path.Combine(io.Folder, "sd15_scheduler_config.json"));
        Assert.Equal(ScalarType.Float32, ddim.Betas.dtype);
        GoldenTensors.AssertClose(io["ddim.betas"], ddim.Betas, ScheduleAtol, "ddim.betas");
        GoldenTensors.AssertClose(io["ddim.alphas_cumprod"], ddim.AlphasCumprod, ScheduleAtol, "ddim.alphas_cumprod");
        GoldenTensors.AssertClose(io["ddim.final_alpha_cumprod"], ddim.FinalAlphaCumprod.reshape(1), ScheduleAtol, "ddim.final_alpha_cumprod");
        GoldenTensors.AssertClose(io["ddpm.alphas_cumprod"], ddpm.AlphasCumprod, ScheduleAtol, "ddpm.alphas_cumprod");
    }

    [Theory]
    [InlineData("sd15_scheduler_config.json")]
    [InlineData("ddim_config.json")]
    [InlineData("ddpm_config.json")]
    public void Every_fixture_config_gives_the_same_timesteps(string configFile)
    {
        using var io = new GoldenTensors("scheduler");
        using var ddim = DdimScheduler.FromConfigFile(Path.Combine(io.Folder, configFile));
        var expected = io["ddim.timesteps_50"];
        ddim.SetTimesteps((int)expected.shape[0]);
        using var actual = ddim.TimestepsTensor();
        Assert.Equal(expected.data<long>().ToArray(), actual.data<long>().ToArray());
    }

    [Fact]
    public void Every_recorded_step_matches()
    {
        using var io = new GoldenTensors("scheduler");
        using var ddim = Ddim(io.Folder);
        ddim.SetTimesteps((int)io["ddim.timesteps_50"].shape[0]);
        var steps = io.Keys.Where(k => k.StartsWith("step.t", StringComparison.Ordinal) && k.EndsWith(".prev_sample", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(steps);
        foreach (var key in steps)
        {
            var name = key[..^".prev_sample".Length];
            var t = long.Parse(name["step.t".Length..], System.Globalization.CultureInfo.InvariantCulture);
            using var output = ddim.Step(io["step.input.model_output"], t, io["step.input.sample"], eta: 0.0);
            GoldenTensors.AssertClose(io[key], output.PrevSample, Atol, key);
            GoldenTensors.AssertClose(io[name + ".pred_original_sample"], output.PredOriginalSample, Atol, name + ".pred_original_sample");
        }
    }

    [Fact]
    public void Every_recorded_add_noise_matches()
    {
        using var io = new GoldenTensors("scheduler");
        using var ddpm = DdpmScheduler.FromConfigFile(Path.Combine(io.Folder, "ddpm_config.json"));
        var cases = io.Keys.Where(k => k.StartsWith("add_noise.t", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(cases);
        foreach (var key in cases)
        {
            var t = long.Parse(key["add_noise.t".Length..], System.Globalization.CultureInfo.InvariantCulture);
            using var noisy = ddpm.AddNoise(io["add_noise.input.original"], io["add_noise.input.noise"], t);
            GoldenTensors.AssertClose(io[key], noisy, Atol, key);
        }
    }

    [Fact]
    public void Inversion_step_indices_follow_the_recorded_table()
    {
        // inversion_steps.json lists, per step, the UNet timestep and the ᾱ indices Mind-Animator's next_step uses;
        // InvertStep with ε = 0 exposes √(ᾱ_next/ᾱ_t), which pins both indices.
        using var io = new GoldenTensors("scheduler");
        using var ddim = Ddim(io.Folder);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(io.Folder, "inversion_steps.json")));
        var rows = doc.RootElement.GetProperty("inversion_steps").EnumerateArray().ToList();
        ddim.SetTimesteps(rows.Count);
        using var one = ones(1);
        using var zero = zeros(1);
        foreach (var row in rows)
        {
            var i = row.GetProperty("i").GetInt32();
            var t = ddim.Timesteps[ddim.Timesteps.Count - 1 - i];
            Assert.Equal(row.GetProperty("unet_timestep").GetInt64(), t);
            var at = row.GetProperty("alpha_prod_t_index");
            using var alphaT = at.ValueKind == JsonValueKind.String ? ddim.FinalAlphaCumprod.reshape(1) : ddim.AlphasCumprod[at.GetInt64()].reshape(1);
            using var alphaNext = ddim.AlphasCumprod[row.GetProperty("alpha_prod_t_next_index").GetInt64()].reshape(1);
            using var actual = ddim.InvertStep(zero, t, one);
            using var expected = (alphaNext / alphaT).sqrt();
            GoldenTensors.AssertClose(expected, actual, 1e-6, $"inversion step {i}");
        }
    }

    [Fact]
    public void Eta_adds_scaled_variance_noise()
    {
        using var io = new GoldenTensors("scheduler");
        using var ddim = Ddim(io.Folder);
        ddim.SetTimesteps(50);
        var sample = io["step.input.sample"];
        var eps = io["step.input.model_output"];
        using var noise = randn_like(sample);
        using var deterministic = ddim.Step(eps, 501, sample);
        using var noisy = ddim.Step(eps, 501, sample, eta: 1.0, varianceNoise: noise);
        using var zeroNoise = zeros_like(sample);
        using var noNoise = ddim.Step(eps, 501, sample, eta: 1.0, varianceNoise: zeroNoise);
        // With eta = 1 the direction term shrinks, so even zero noise changes the result; the noise adds σ·noise.
        Assert.True((noNoise.PrevSample - deterministic.PrevSample).abs().max().item<float>() > 1e-4);
        using var added = (noisy.PrevSample - noNoise.PrevSample) / noise;
        Assert.True(added.std().item<float>() < 1e-3);
        Assert.True(added.mean().item<float>() > 0);
    }

    [Theory]
    [InlineData("\"beta_schedule\": \"squaredcos_cap_v2\"", "beta_schedule")]
    [InlineData("\"prediction_type\": \"flow\"", "prediction_type")]
    [InlineData("\"timestep_spacing\": \"trailing\"", "timestep_spacing")]
    [InlineData("\"steps_offset\": \"one\"", "steps_offset")]
    public void Unsupported_config_values_name_file_and_field(string field, string name)
    {
        var e = Assert.Throws<DataFormatException>(() => new DdimScheduler(DiffusersConfig.Parse("{" + field + "}", "scheduler/scheduler_config.json")));
        Assert.Contains("scheduler/scheduler_config.json", e.Message);
        Assert.Contains($"'{name}'", e.Message);
    }

    [Fact]
    public void Stepping_before_set_timesteps_fails()
    {
        using var ddim = new DdimScheduler(DiffusersConfig.Parse("{}", "x.json"));
        using var x = zeros(1);
        Assert.Throws<InvalidOperationException>(() => ddim.Step(x, 10, x));
    }
}
