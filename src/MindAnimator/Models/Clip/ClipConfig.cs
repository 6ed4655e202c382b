using System.Text.Json;

namespace MindAnimator.Models.Clip;

/// <summary>The fields of a transformers <c>CLIPTextConfig</c> that shape the text encoder.</summary>
// Mirrors transformers 4.29 src/transformers/models/clip/configuration_clip.py (CLIPTextConfig).
public sealed record ClipTextConfig
{
    public int VocabSize { get; init; } = 49408;

    public int HiddenSize { get; init; } = 512;

    public int IntermediateSize { get; init; } = 2048;

    public int ProjectionDim { get; init; } = 512;

    public int NumHiddenLayers { get; init; } = 12;

    public int NumAttentionHeads { get; init; } = 8;

    public int MaxPositionEmbeddings { get; init; } = 77;

    public string HiddenAct { get; init; } = "quick_gelu";

    public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>Stable Diffusion v1.5's <c>text_encoder</c> (the text tower of CLIP ViT-L/14).</summary>
    public static ClipTextConfig StableDiffusionV15 { get; } = new()
    {
        HiddenSize = 768,
        IntermediateSize = 3072,
        ProjectionDim = 768,
        NumHiddenLayers = 12,
        NumAttentionHeads = 12,
    };

    /// <summary>
    /// Reads a transformers config.json: a text config (<c>model_type</c> "clip_text_model") or the
    /// <c>text_config</c> section of a full CLIP config. Missing fields take transformers' defaults.
    /// </summary>
    public static ClipTextConfig FromFile(string path)
    {
        var fields = ClipConfigReader.Open(path, "text_config", "clip_text_model");
        var config = new ClipTextConfig
        {
            VocabSize = fields.Int("vocab_size", 49408),
            HiddenSize = fields.Int("hidden_size", 512),
            IntermediateSize = fields.Int("intermediate_size", 2048),
            ProjectionDim = fields.Int("projection_dim", 512),
            NumHiddenLayers = fields.Int("num_hidden_layers", 12),
            NumAttentionHeads = fields.Int("num_attention_heads", 8),
            MaxPositionEmbeddings = fields.Int("max_position_embeddings", 77),
            HiddenAct = fields.Activation("hidden_act"),
            LayerNormEps = fields.PositiveDouble("layer_norm_eps", 1e-5),
        };
        fields.CheckHeads(config.HiddenSize, config.NumAttentionHeads);
        return config;
    }
}

/// <summary>The fields of a transformers <c>CLIPVisionConfig</c> that shape the vision encoder.</summary>
// Mirrors transformers 4.29 src/transformers/models/clip/configuration_clip.py (CLIPVisionConfig).
public sealed record ClipVisionConfig
{
    public int HiddenSize { get; init; } = 768;

    public int IntermediateSize { get; init; } = 3072;

    public int ProjectionDim { get; init; } = 512;

    public int NumHiddenLayers { get; init; } = 12;

    public int NumAttentionHeads { get; init; } = 12;

    public int NumChannels { get; init; } = 3;

    public int ImageSize { get; init; } = 224;

    public int PatchSize { get; init; } = 32;

    public string HiddenAct { get; init; } = "quick_gelu";

    public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>Patches per image side squared, plus the class token.</summary>
    public int NumPositions => ((ImageSize / PatchSize) * (ImageSize / PatchSize)) + 1;

    /// <summary>CLIP ViT-B/32 (transformers' defaults), the image tower Mind-Animator's semantic features use.</summary>
    public static ClipVisionConfig VitB32 { get; } = new();

    /// <summary>
    /// Reads a transformers config.json: a vision config (<c>model_type</c> "clip_vision_model") or the
    /// <c>vision_config</c> section of a full CLIP config. Missing fields take transformers' defaults.
    /// </summary>
    public static ClipVisionConfig FromFile(string path)
    {
        var fields = ClipConfigReader.Open(path, "vision_config", "clip_vision_model");
        var config = new ClipVisionConfig
        {
            HiddenSize = fields.Int("hidden_size", 768),
            IntermediateSize = fields.Int("intermediate_size", 3072),
            ProjectionDim = fields.Int("projection_dim", 512),
            NumHiddenLayers = fields.Int("num_hidden_layers", 12),
            NumAttentionHeads = fields.Int("num_attention_heads", 12),
            NumChannels = fields.Int("num_channels", 3),
            ImageSize = fields.Int("image_size", 224),
            PatchSize = fields.Int("patch_size", 32),
            HiddenAct = fields.Activation("hidden_act"),
            LayerNormEps = fields.PositiveDouble("layer_norm_eps", 1e-5),
        };
        fields.CheckHeads(config.HiddenSize, config.NumAttentionHeads);
        if (config.ImageSize % config.PatchSize != 0)
        {
            throw new DataFormatException(path, $"field 'image_size': {config.ImageSize} is not a multiple of patch_size {config.PatchSize}.");
        }
        return config;
    }
}

/// <summary>Typed access to the fields of a CLIP config.json with errors naming the file and field.</summary>
internal sealed class ClipConfigReader
{
    /// <summary>Activations the CLIP encoders support (transformers' ACT2FN names).</summary>
    public static readonly string[] SupportedActivations = ["quick_gelu", "gelu"];

    private readonly string _path;
    private readonly JsonElement _root;
    private readonly string _prefix;

    private ClipConfigReader(string path, JsonElement root, string prefix)
    {
        _path = path;
        _root = root;
        _prefix = prefix;
    }

    public static ClipConfigReader Open(string path, string section, string modelType)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: model config not found.");
        }
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"invalid JSON ({e.Message}).", e);
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new DataFormatException(path, "expected a JSON object.");
        }
        if (root.TryGetProperty(section, out var inner) && inner.ValueKind == JsonValueKind.Object)
        {
            return new ClipConfigReader(path, inner, section + ".");
        }
        if (root.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() != modelType)
        {
            throw new DataFormatException(path, $"field 'model_type': '{type.GetString()}' is not a CLIP config (expected '{modelType}' or a '{section}' section).");
        }
        return new ClipConfigReader(path, root, string.Empty);
    }

    public int Int(string field, int fallback)
    {
        if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var result) || result <= 0)
        {
            throw new DataFormatException(_path, $"field '{_prefix}{field}': expected a positive integer, got {value.GetRawText()}.");
        }
        return result;
    }

    public double PositiveDouble(string field, double fallback)
    {
        if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        if (value.ValueKind != JsonValueKind.Number || !(value.GetDouble() > 0))
        {
            throw new DataFormatException(_path, $"field '{_prefix}{field}': expected a positive number, got {value.GetRawText()}.");
        }
        return value.GetDouble();
    }

    public string Activation(string field)
    {
        if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return "quick_gelu";
        }
        var name = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        if (!SupportedActivations.Contains(name))
        {
            throw new DataFormatException(_path, $"field '{_prefix}{field}': '{name}' is not supported (expected one of {string.Join(", ", SupportedActivations)}).");
        }
        return name;
    }

    public void CheckHeads(int hiddenSize, int heads)
    {
        if (hiddenSize % heads != 0)
        {
            throw new DataFormatException(_path, $"field '{_prefix}num_attention_heads': hidden_size {hiddenSize} is not divisible by {heads} heads.");
        }
    }
}
