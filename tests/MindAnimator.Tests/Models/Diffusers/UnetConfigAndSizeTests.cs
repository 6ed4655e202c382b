using System.Text.Json.Nodes;
using MindAnimator.Models.Diffusers;
using MindAnimator.Tests.Infrastructure;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Models.Diffusers;

public sealed class UnetConfigAndSizeTests
{
    // Facts of the published Stable Diffusion v1.5 unet/ checkpoint (not of a fixture).
    private const long Sd15UnetParameters = 859_520_964;
    private const int Sd15UnetTensors = 686;

    /// <summary>
    /// The fixture's SD v1.5-style config with SD v1.5's sizes substituted parses to the built-in preset, and the
    /// full-size model built on the meta device has SD v1.5's parameter count, tensor count and key shapes.
    /// </summary>
    [Fact]
    public void Full_size_sd15_unet2d_on_meta_device_has_sd15_parameters()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestEnvironment.Golden("unet2d"), "config_sd15_style.json")))!.AsObject();
        json["block_out_channels"] = new JsonArray(320, 640, 1280, 1280);
        json["cross_attention_dim"] = 768;
        json["sample_size"] = 64;
        json["layers_per_block"] = 2;
        json["attention_head_dim"] = 8;
        var parsed = UnetConfig.Parse(json.ToJsonString(), "sd15.json");
        Assert.Equal(UnetConfig.StableDiffusionV15 with { Source = "x" }, parsed with { Source = "x" }, new ConfigComparer());

        using var unet = new Unet2DConditionModel(parsed, META);
        Assert.Equal(Sd15UnetParameters, unet.ParameterCount);
        var shapes = unet.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal(Sd15UnetTensors, shapes.Count);
        Assert.Equal([320L, 4, 3, 3], shapes["conv_in.weight"]);
        Assert.Equal([1280L, 320], shapes["time_embedding.linear_1.weight"]);
        Assert.Equal([320L, 768], shapes["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"]);
        Assert.Equal([2560L, 320], shapes["down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight"]);
        Assert.Equal([640L, 320, 1, 1], shapes["down_blocks.1.resnets.0.conv_shortcut.weight"]);
        Assert.Equal([1280L, 1280, 1, 1], shapes["mid_block.attentions.0.proj_in.weight"]);
        Assert.Equal([1280L, 2560, 3, 3], shapes["up_blocks.0.resnets.0.conv1.weight"]);
        Assert.Equal([640L, 640, 3, 3], shapes["up_blocks.2.upsamplers.0.conv.weight"]);
        Assert.Equal([320L, 640, 1, 1], shapes["up_blocks.3.resnets.2.conv_shortcut.weight"]);
        Assert.Equal([4L, 320, 3, 3], shapes["conv_out.weight"]);
        Assert.DoesNotContain(shapes.Keys, k => k.Contains("_temp.", StringComparison.Ordinal));
    }

    /// <summary>
    /// The inflated full-size model adds exactly attn_temp (4·C² + C) and norm_temp (2·C) per transformer block
    /// (16 blocks: 5 at 320, 5 at 640, 6 at 1280 channels) and keeps every 2-D key and shape.
    /// </summary>
    [Fact]
    public void Full_size_sd15_unet3d_on_meta_device_adds_only_temporal_layers()
    {
        using var unet2d = new Unet2DConditionModel(UnetConfig.StableDiffusionV15, META);
        using var unet3d = new Unet3DConditionModel(UnetConfig.StableDiffusionV15, device: META);
        var shapes2d = unet2d.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var shapes3d = unet3d.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        static long Temporal(long c) => (4 * c * c) + c + (2 * c);
        var expectedNew = (5 * Temporal(320)) + (5 * Temporal(640)) + (6 * Temporal(1280));
        Assert.Equal(Sd15UnetParameters + expectedNew, unet3d.ParameterCount);
        Assert.Equal(shapes2d.Count + (16 * 7), shapes3d.Count);
        Assert.All(shapes2d, kv => Assert.Equal(kv.Value, shapes3d[kv.Key]));
        Assert.Equal([320L], shapes3d["up_blocks.3.attentions.2.transformer_blocks.0.attn_temp.to_out.0.bias"]);
        Assert.Equal([1280L, 1280], shapes3d["mid_block.attentions.0.transformer_blocks.0.attn_temp.to_q.weight"]);
        Assert.Equal([640L], shapes3d["down_blocks.1.attentions.1.transformer_blocks.0.norm_temp.weight"]);
    }

    [Theory]
    [InlineData("use_linear_projection", "true")]
    [InlineData("upcast_attention", "true")]
    [InlineData("class_embed_type", "\"timestep\"")]
    [InlineData("resnet_time_scale_shift", "\"scale_shift\"")]
    [InlineData("mid_block_type", "\"UNetMidBlock2DSimpleCrossAttn\"")]
    [InlineData("down_block_types", "[\"CrossAttnDownBlock2D\",\"CrossAttnDownBlock2D\",\"SimpleCrossAttnDownBlock2D\",\"DownBlock2D\"]")]
    [InlineData("attention_head_dim", "[8, 8, 8]")]
    [InlineData("attention_head_dim", "7")]
    [InlineData("layers_per_block", "\"two\"")]
    [InlineData("some_future_option", "1")]
    public void Unsupported_config_values_name_the_file_and_field(string field, string value)
    {
        using var dir = TestEnvironment.NewTempDir();
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TestEnvironment.Golden("unet2d"), "config.json")))!.AsObject();
        json[field] = JsonNode.Parse(value);
        var path = dir.File("config.json");
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<DataFormatException>(() => UnetConfig.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains($"'{field}'", e.Message);
    }

    /// <summary>Keys newer diffusers versions save, at their SD v1.x values, load to the same config.</summary>
    [Fact]
    public void Newer_diffusers_keys_at_default_values_are_accepted()
    {
        var path = Path.Combine(TestEnvironment.Golden("unet2d"), "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["time_embedding_type"] = "positional";
        json["transformer_layers_per_block"] = 1;
        json["num_attention_heads"] = null;
        json["addition_embed_type_num_heads"] = 64;
        json["conv_in_kernel"] = 3;
        json["dropout"] = 0.0;
        json["only_cross_attention"] = new JsonArray(false, false, false, false);
        var parsed = UnetConfig.Parse(json.ToJsonString(), "newer.json");
        Assert.Equal(UnetConfig.Load(path) with { Source = "x" }, parsed with { Source = "x" }, new ConfigComparer());
    }

    [Fact]
    public void Missing_config_file_is_a_user_error()
    {
        var e = Assert.ThrowsAny<MindAnimatorException>(() => UnetConfig.Load("/nonexistent/unet/config.json"));
        Assert.Contains("/nonexistent/unet/config.json", e.Message);
    }

    /// <summary>Records compare lists by reference; this compares them by content.</summary>
    private sealed class ConfigComparer : IEqualityComparer<UnetConfig>
    {
        public bool Equals(UnetConfig? x, UnetConfig? y) =>
            x is not null && y is not null
            && x.DownBlockTypes.SequenceEqual(y.DownBlockTypes) && x.UpBlockTypes.SequenceEqual(y.UpBlockTypes)
            && x.BlockOutChannels.SequenceEqual(y.BlockOutChannels) && x.AttentionHeads.SequenceEqual(y.AttentionHeads)
            && (x with { DownBlockTypes = [], UpBlockTypes = [], BlockOutChannels = [], AttentionHeads = [] })
                == (y with { DownBlockTypes = [], UpBlockTypes = [], BlockOutChannels = [], AttentionHeads = [] });

        public int GetHashCode(UnetConfig obj) => 0;
    }
}
