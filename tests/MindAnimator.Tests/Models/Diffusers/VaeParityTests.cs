using System.Text.Json;
using MindAnimator.Diffusion;
using MindAnimator.Models.Common;
using MindAnimator.Models.Diffusers;
using MindAnimator.Tests.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Models.Diffusers;

/// <summary>Parity of <see cref="AutoencoderKl"/> with diffusers 0.11.1 on the `vae` fixture.</summary>
public sealed class VaeParityTests
{
    // The "Suggested atol" of golden/README.md, section vae.
    private static readonly double Atol = UnetFixture.SuggestedAtol("vae");

    private static AutoencoderKl LoadFixtureModel(GoldenTensors io)
    {
        var model = new AutoencoderKl(AutoencoderKlConfig.Load(Path.Combine(io.Folder, "config.json")));
        model.LoadWeights(Path.Combine(io.Folder, "weights.safetensors"));
        model.eval();
        return model;
    }

    [Fact]
    public void Encode_matches_latent_dist_mean_logvar_std()
    {
        using var io = new GoldenTensors("vae");
        using var model = LoadFixtureModel(io);
        using var _ = no_grad();
        using var posterior = model.Encode(io["input.sample"]);
        GoldenTensors.AssertClose(io["output.latent_dist.mean"], posterior.Mean, Atol, "latent_dist.mean");
        GoldenTensors.AssertClose(io["output.latent_dist.logvar"], posterior.LogVar, Atol, "latent_dist.logvar");
        GoldenTensors.AssertClose(io["output.latent_dist.std"], posterior.Std, Atol, "latent_dist.std");
    }

    [Fact]
    public void Decode_forward_and_scaled_decode_match()
    {
        using var io = new GoldenTensors("vae");
        using var model = LoadFixtureModel(io);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        model.UseSlicing = false;
        GoldenTensors.AssertClose(io["output.decode.sample"], model.Decode(io["input.z"]), Atol, "decode.sample");
        GoldenTensors.AssertClose(io["output.forward_mode.sample"], model.forward(io["input.sample"]), Atol, "forward_mode.sample");
        model.UseSlicing = true;
        GoldenTensors.AssertClose(io["output.decode.sample"], model.Decode(io["input.z"]), Atol, "decode.sample (sliced)");
        var scaled = io["input.z"] / model.Config.ScalingFactor;
        GoldenTensors.AssertClose(io["output.decode_scaled.sample"], model.Decode(scaled), Atol, "decode_scaled.sample");
    }

    [Fact]
    public void DecodeVideo_gives_clamped_video_frame_by_frame()
    {
        using var io = new GoldenTensors("vae");
        using var model = LoadFixtureModel(io);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        // The fixture's batch of latents, seen as the frames of one clip: (B,C,h,w) → (1,C,F=B,h,w).
        var videoLatents = io["input.z"].permute(1, 0, 2, 3).unsqueeze(0);
        var video = model.DecodeVideo(videoLatents);
        var frames = video[0].permute(1, 0, 2, 3);
        GoldenTensors.AssertClose(io["output.decode_scaled.video01"], frames, Atol, "decode_scaled.video01");
        Assert.True(video.min().item<float>() >= 0 && video.max().item<float>() <= 1);
    }

    [Fact]
    public void Weights_with_new_attention_names_load_and_match()
    {
        using var io = new GoldenTensors("vae");
        using var map = JsonDocument.Parse(File.ReadAllText(Path.Combine(io.Folder, "attention_key_map.json")));
        var oldToNew = map.RootElement.GetProperty("old_to_new").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        var weights = StateDict.Read(Path.Combine(io.Folder, "weights.safetensors"));
        try
        {
            Assert.NotEmpty(oldToNew);
            Assert.All(oldToNew.Keys, k => Assert.True(weights.ContainsKey(k), k));
            var renamed = weights.ToDictionary(kv => oldToNew.GetValueOrDefault(kv.Key, kv.Key), kv => kv.Value);
            using var model = new AutoencoderKl(AutoencoderKlConfig.Load(Path.Combine(io.Folder, "config.json")));
            model.LoadWeights(renamed, "renamed weights");
            model.eval();
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            using var posterior = model.Encode(io["input.sample"]);
            GoldenTensors.AssertClose(io["output.latent_dist.mean"], posterior.Mean, Atol, "latent_dist.mean (new names)");
            GoldenTensors.AssertClose(io["output.decode.sample"], model.Decode(io["input.z"]), Atol, "decode.sample (new names)");
        }
        finally
        {
            foreach (var t in weights.Values)
            {
                t.Dispose();
            }
        }
    }

    [Fact]
    public void Posterior_sample_is_mean_plus_std_times_seeded_noise()
    {
        using var io = new GoldenTensors("vae");
        using var model = LoadFixtureModel(io);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var posterior = model.Encode(io["input.sample"]);
        var a = posterior.Sample(new Generator(7));
        var b = posterior.Sample(new Generator(7));
        var noise = randn(posterior.Mean.shape, generator: new Generator(7));
        GoldenTensors.AssertClose(a, b, 0, "same seed");
        GoldenTensors.AssertClose(posterior.Mean + posterior.Std * noise, a, 1e-6, "mean + std·ε");
        Assert.True((a - posterior.Mean).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void EncodeVideo_scales_the_posterior_mean_per_frame()
    {
        using var io = new GoldenTensors("vae");
        using var model = LoadFixtureModel(io);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var images = io["input.sample"];
        var video01 = (images / 2 + 0.5).permute(1, 0, 2, 3).unsqueeze(0);
        var latents = model.EncodeVideo(video01);
        var expected = (io["output.latent_dist.mean"] * model.Config.ScalingFactor).permute(1, 0, 2, 3).unsqueeze(0);
        GoldenTensors.AssertClose(expected, latents, Atol, "EncodeVideo");
    }

    [Fact]
    public void Missing_weight_is_named_in_the_error()
    {
        using var io = new GoldenTensors("vae");
        var weights = StateDict.Read(Path.Combine(io.Folder, "weights.safetensors"));
        try
        {
            weights.Remove("decoder.mid_block.attentions.0.query.weight");
            using var model = new AutoencoderKl(AutoencoderKlConfig.Load(Path.Combine(io.Folder, "config.json")));
            var e = Assert.Throws<MindAnimatorException>(() => model.LoadWeights(weights, "vae.safetensors"));
            Assert.Contains("decoder.mid_block.attentions.0.query.weight", e.Message);
        }
        finally
        {
            foreach (var t in weights.Values)
            {
                t.Dispose();
            }
        }
    }

    [Theory]
    [InlineData("\"down_block_types\": [\"DownEncoderBlock2D\", \"AttnDownEncoderBlock2D\"]", "down_block_types")]
    [InlineData("\"act_fn\": \"gelu\"", "act_fn")]
    [InlineData("\"block_out_channels\": \"64\"", "block_out_channels")]
    public void Unsupported_config_values_name_the_field(string field, string name)
    {
        var json = "{\"block_out_channels\": [32, 64], \"down_block_types\": [\"DownEncoderBlock2D\", \"DownEncoderBlock2D\"], "
            + "\"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\"]}";
        var patched = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        var replacement = System.Text.Json.Nodes.JsonNode.Parse("{" + field + "}")!.AsObject();
        foreach (var (k, v) in replacement.ToList())
        {
            replacement.Remove(k);
            patched[k] = v;
        }
        var e = Assert.Throws<DataFormatException>(() => AutoencoderKlConfig.From(DiffusersConfig.Parse(patched.ToJsonString(), "vae/config.json")));
        Assert.Contains("vae/config.json", e.Message);
        Assert.Contains($"'{name}'", e.Message);
    }

    [Fact]
    public void Stable_diffusion_v15_config_builds_the_published_vae()
    {
        // SD v1.5's vae/config.json as published (diffusers 0.6.0 era).
        const string Published = """
            {"_class_name": "AutoencoderKL", "_diffusers_version": "0.6.0", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
             "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
             "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3, "sample_size": 512,
             "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]}
            """;
        var parsed = AutoencoderKlConfig.From(DiffusersConfig.Parse(Published, "vae/config.json"));
        var preset = AutoencoderKlConfig.StableDiffusionV15;
        Assert.Equal(preset.BlockOutChannels, parsed.BlockOutChannels);
        Assert.Equal(preset with { BlockOutChannels = parsed.BlockOutChannels }, parsed);
        Assert.Equal(8, parsed.DownscaleFactor);

        using var model = new AutoencoderKl(parsed);
        // 83,653,863 parameters: the published SD v1.x VAE.
        Assert.Equal(83_653_863, model.parameters().Sum(p => p.numel()));
        var shapes = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(new long[] { 512, 512 }, shapes["decoder.mid_block.attentions.0.query.weight"]);
        Assert.Equal(new long[] { 256, 256, 3, 3 }, shapes["encoder.down_blocks.1.downsamplers.0.conv.weight"]);
        Assert.Equal(new long[] { 256, 512, 1, 1 }, shapes["decoder.up_blocks.2.resnets.0.conv_shortcut.weight"]);
        Assert.Equal(new long[] { 8, 8, 1, 1 }, shapes["quant_conv.weight"]);
        Assert.DoesNotContain(shapes.Keys, k => k.Contains("time_emb_proj", StringComparison.Ordinal));
    }

    [Fact]
    public void Scaling_factor_comes_from_the_config_when_present()
    {
        var without = AutoencoderKlConfig.From(DiffusersConfig.Parse("{}", "a.json"));
        var with = AutoencoderKlConfig.From(DiffusersConfig.Parse("{\"scaling_factor\": 0.13025}", "b.json"));
        Assert.Equal(0.18215, without.ScalingFactor);
        Assert.Equal(0.13025, with.ScalingFactor);
    }
}
