using MindAnimator.Models.Clip;
using MindAnimator.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Models.Clip;

/// <summary>Full-size CLIP towers built on the meta device (no memory), and config parsing.</summary>
public class ClipFullSizeAndConfigTests
{
    private static readonly Device Meta = new("meta");

    // One pre-LN encoder layer of width h, MLP width m: q/k/v/out (h·h + h each), two LayerNorms (2h each),
    // fc1 (h·m + m), fc2 (m·h + h).
    private static long LayerParameters(long h, long m) => (4 * ((h * h) + h)) + (2 * 2 * h) + ((h * m) + m) + ((m * h) + h);

    private static Dictionary<string, long[]> Shapes(nn.Module module) => module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);

    [Fact]
    public void StableDiffusionV15TextEncoder_OnMeta_HasReferenceNamesShapesAndCount()
    {
        var config = ClipTextConfig.StableDiffusionV15;
        using var model = new ClipTextModel(config, Meta);
        var shapes = Shapes(model);

        // 3 embedding entries (incl. the position_ids buffer) + 16 per layer + final LayerNorm weight/bias.
        Assert.Equal(3 + (12 * 16) + 2, shapes.Count);
        Assert.Equal(new long[] { 49408, 768 }, shapes["text_model.embeddings.token_embedding.weight"]);
        Assert.Equal(new long[] { 77, 768 }, shapes["text_model.embeddings.position_embedding.weight"]);
        Assert.Equal(new long[] { 1, 77 }, shapes["text_model.embeddings.position_ids"]);
        Assert.Equal(new long[] { 768, 768 }, shapes["text_model.encoder.layers.11.self_attn.q_proj.weight"]);
        Assert.Equal(new long[] { 3072, 768 }, shapes["text_model.encoder.layers.11.mlp.fc1.weight"]);
        Assert.Equal(new long[] { 768, 3072 }, shapes["text_model.encoder.layers.0.mlp.fc2.weight"]);
        Assert.Equal(new long[] { 768 }, shapes["text_model.encoder.layers.5.layer_norm2.bias"]);
        Assert.Equal(new long[] { 768 }, shapes["text_model.final_layer_norm.weight"]);
        Assert.DoesNotContain(shapes.Keys, k => k.StartsWith("text_projection", StringComparison.Ordinal));

        // 49408·768 token + 77·768 position + 12 × 7,087,872 per layer + 2·768 final LayerNorm = 123,060,480.
        var expected = (49408L * 768) + (77L * 768) + (12 * LayerParameters(768, 3072)) + (2 * 768);
        Assert.Equal(123_060_480L, expected);
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
        Assert.All(model.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
    }

    [Fact]
    public void VitB32VisionModelWithProjection_OnMeta_HasReferenceNamesShapesAndCount()
    {
        var config = ClipVisionConfig.VitB32;
        using var model = new ClipVisionModelWithProjection(config, Meta);
        var shapes = Shapes(model);

        // 4 embedding entries + pre/post LayerNorms + 16 per layer + visual_projection.
        Assert.Equal(4 + 4 + (12 * 16) + 1, shapes.Count);
        Assert.Equal(new long[] { 768 }, shapes["vision_model.embeddings.class_embedding"]);
        Assert.Equal(new long[] { 768, 3, 32, 32 }, shapes["vision_model.embeddings.patch_embedding.weight"]);
        Assert.DoesNotContain("vision_model.embeddings.patch_embedding.bias", shapes.Keys);
        Assert.Equal(new long[] { 50, 768 }, shapes["vision_model.embeddings.position_embedding.weight"]);
        Assert.Equal(new long[] { 1, 50 }, shapes["vision_model.embeddings.position_ids"]);
        Assert.Equal(new long[] { 768 }, shapes["vision_model.pre_layrnorm.weight"]);
        Assert.Equal(new long[] { 768 }, shapes["vision_model.post_layernorm.bias"]);
        Assert.Equal(new long[] { 3072, 768 }, shapes["vision_model.encoder.layers.11.mlp.fc1.weight"]);
        Assert.Equal(new long[] { 512, 768 }, shapes["visual_projection.weight"]);

        // class token 768 + patch conv 768·3·32·32 + 50 positions·768 + 2 LayerNorms·2·768 + 12 layers + projection 768·512.
        var expected = 768L + (768L * 3 * 32 * 32) + (50L * 768) + (2 * 2 * 768) + (12 * LayerParameters(768, 3072)) + (768L * 512);
        Assert.Equal(87_849_216L, expected);
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void TextConfig_FromFixture_ReadsEveryField()
    {
        var path = Path.Combine(TestEnvironment.Golden("clip_text"), "config.json");
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var config = ClipTextConfig.FromFile(path);
        Assert.Equal(root.GetProperty("vocab_size").GetInt32(), config.VocabSize);
        Assert.Equal(root.GetProperty("hidden_size").GetInt32(), config.HiddenSize);
        Assert.Equal(root.GetProperty("intermediate_size").GetInt32(), config.IntermediateSize);
        Assert.Equal(root.GetProperty("projection_dim").GetInt32(), config.ProjectionDim);
        Assert.Equal(root.GetProperty("num_hidden_layers").GetInt32(), config.NumHiddenLayers);
        Assert.Equal(root.GetProperty("num_attention_heads").GetInt32(), config.NumAttentionHeads);
        Assert.Equal(root.GetProperty("max_position_embeddings").GetInt32(), config.MaxPositionEmbeddings);
        Assert.Equal(root.GetProperty("hidden_act").GetString(), config.HiddenAct);
        Assert.Equal(root.GetProperty("layer_norm_eps").GetDouble(), config.LayerNormEps);
    }

    [Fact]
    public void Config_FullClipModelConfig_ReadsTheTowerSections()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("config.json");
        File.WriteAllText(path, """
            {"model_type": "clip", "projection_dim": 512,
             "text_config": {"hidden_size": 512, "num_attention_heads": 8, "intermediate_size": 2048},
             "vision_config": {"hidden_size": 768, "patch_size": 32, "image_size": 224}}
            """);
        Assert.Equal(512, ClipTextConfig.FromFile(path).HiddenSize);
        Assert.Equal(50, ClipVisionConfig.FromFile(path).NumPositions);
    }

    [Theory]
    [InlineData("""{"model_type": "clip_text_model", "hidden_act": "relu"}""", "hidden_act", "relu")]
    [InlineData("""{"model_type": "clip_text_model", "hidden_size": 30, "num_attention_heads": 4}""", "num_attention_heads", "30")]
    [InlineData("""{"model_type": "clip_text_model", "num_hidden_layers": "two"}""", "num_hidden_layers", "positive integer")]
    [InlineData("""{"model_type": "bert"}""", "model_type", "bert")]
    [InlineData("""{"text_config": {"hidden_act": "silu"}}""", "text_config.hidden_act", "silu")]
    public void TextConfig_UnsupportedValue_ErrorNamesFileAndField(string json, string field, string detail)
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("config.json");
        File.WriteAllText(path, json);
        var e = Assert.Throws<DataFormatException>(() => ClipTextConfig.FromFile(path));
        Assert.Contains(path, e.Message);
        Assert.Contains($"'{field}'", e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Fact]
    public void VisionConfig_ImageNotMultipleOfPatch_ErrorNamesField()
    {
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("config.json");
        File.WriteAllText(path, """{"model_type": "clip_vision_model", "image_size": 30, "patch_size": 8}""");
        var e = Assert.Throws<DataFormatException>(() => ClipVisionConfig.FromFile(path));
        Assert.Contains("'image_size'", e.Message);
    }

    [Fact]
    public void TextModel_WeightsOfAnotherSize_ListsTheMismatch()
    {
        var dir = TestEnvironment.Golden("clip_text");
        using var tmp = TestEnvironment.NewTempDir();
        var path = tmp.File("config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        config["intermediate_size"] = config["intermediate_size"]!.GetValue<int>() + 1;
        File.WriteAllText(path, config.ToJsonString());
        var e = Assert.Throws<MindAnimatorException>(() => ClipTextModel.FromFiles(path, Path.Combine(dir, "weights.safetensors")));
        Assert.Contains("mlp.fc1.weight", e.Message);
    }
}
