using System.Globalization;
using System.Text.Json;

namespace MindAnimator.Models.Diffusers;

/// <summary>Whether a UNet block carries transformer (cross-attention) layers besides its resnets.</summary>
public enum UnetBlockKind
{
    /// <summary>CrossAttnDownBlock2D / CrossAttnUpBlock2D (and their 3-D Tune-A-Video twins).</summary>
    CrossAttention,

    /// <summary>DownBlock2D / UpBlock2D (resnets only).</summary>
    Plain,
}

/// <summary>
/// The constructor arguments of diffusers' <c>UNet2DConditionModel</c> that Stable Diffusion v1.x uses, read from a
/// diffusers <c>unet/config.json</c>. Values this port does not implement are rejected with the file and the field.
/// </summary>
// Mirrors diffusers 0.11.1 src/diffusers/models/unet_2d_condition.py (UNet2DConditionModel.__init__ arguments).
public sealed record UnetConfig
{
    public int SampleSize { get; init; } = 64;

    public int InChannels { get; init; } = 4;

    public int OutChannels { get; init; } = 4;

    public bool CenterInputSample { get; init; }

    public bool FlipSinToCos { get; init; } = true;

    public double FreqShift { get; init; }

    public IReadOnlyList<UnetBlockKind> DownBlockTypes { get; init; } =
        [UnetBlockKind.CrossAttention, UnetBlockKind.CrossAttention, UnetBlockKind.CrossAttention, UnetBlockKind.Plain];

    public IReadOnlyList<UnetBlockKind> UpBlockTypes { get; init; } =
        [UnetBlockKind.Plain, UnetBlockKind.CrossAttention, UnetBlockKind.CrossAttention, UnetBlockKind.CrossAttention];

    public IReadOnlyList<int> BlockOutChannels { get; init; } = [320, 640, 1280, 1280];

    public int LayersPerBlock { get; init; } = 2;

    public int DownsamplePadding { get; init; } = 1;

    public double MidBlockScaleFactor { get; init; } = 1.0;

    public int NormNumGroups { get; init; } = 32;

    public double NormEps { get; init; } = 1e-5;

    public int CrossAttentionDim { get; init; } = 768;

    /// <summary>
    /// Number of attention heads per down block (diffusers' <c>attention_head_dim</c>, which in 0.11.1 and SD v1.x
    /// configs is the head count, not the head size).
    /// </summary>
    public IReadOnlyList<int> AttentionHeads { get; init; } = [8, 8, 8, 8];

    /// <summary>Where this config came from (a file path), for error messages.</summary>
    public string Source { get; init; } = "(built in code)";

    /// <summary>Stable Diffusion v1.5's <c>unet/config.json</c>.</summary>
    public static UnetConfig StableDiffusionV15 { get; } = new() { Source = "(SD v1.5 preset)" };

    /// <summary>Reads a diffusers <c>config.json</c> (2-D, or the 3-D one Tune-A-Video saves).</summary>
    public static UnetConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: UNet config file not found.");
        }
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses config JSON text; <paramref name="source"/> names it in errors.</summary>
    public static UnetConfig Parse(string json, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(source, $"not valid JSON ({e.Message}).", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new DataFormatException(source, "expected a JSON object of UNet constructor arguments.");
            }
            return new Reader(source).Read(doc.RootElement);
        }
    }

    /// <summary>Checks the cross-field constraints (list lengths, channel/group divisibility).</summary>
    public UnetConfig Validate()
    {
        var n = BlockOutChannels.Count;
        if (n == 0)
        {
            throw Fail("block_out_channels", "expected at least one block");
        }
        if (DownBlockTypes.Count != n)
        {
            throw Fail("down_block_types", $"expected {n} entries (one per block_out_channels), found {DownBlockTypes.Count}");
        }
        if (UpBlockTypes.Count != n)
        {
            throw Fail("up_block_types", $"expected {n} entries (one per block_out_channels), found {UpBlockTypes.Count}");
        }
        if (AttentionHeads.Count != n)
        {
            throw Fail("attention_head_dim", $"expected a number or {n} numbers, found {AttentionHeads.Count}");
        }
        for (var i = 0; i < n; i++)
        {
            if (BlockOutChannels[i] <= 0 || BlockOutChannels[i] % NormNumGroups != 0)
            {
                throw Fail("block_out_channels", $"{BlockOutChannels[i]} is not a positive multiple of norm_num_groups {NormNumGroups}");
            }
            if (AttentionHeads[i] <= 0 || BlockOutChannels[i] % AttentionHeads[i] != 0)
            {
                throw Fail("attention_head_dim", $"{AttentionHeads[i]} heads do not divide {BlockOutChannels[i]} channels");
            }
        }
        if (LayersPerBlock < 1)
        {
            throw Fail("layers_per_block", "expected at least 1");
        }
        if (BlockOutChannels[0] % 2 != 0)
        {
            throw Fail("block_out_channels", "the first entry (timestep embedding size) must be even");
        }
        return this;
    }

    private DataFormatException Fail(string field, string message) => new(Source, $"field '{field}': {message}.");

    private sealed class Reader(string source)
    {
        // Keys newer diffusers versions write; accepted only at the value that keeps the SD v1.x architecture.
        private static readonly Dictionary<string, string> DefaultOnly = new()
        {
            ["act_fn"] = "\"silu\"",
            ["class_embed_type"] = "null",
            ["num_class_embeds"] = "null",
            ["dual_cross_attention"] = "false",
            ["only_cross_attention"] = "false",
            ["resnet_time_scale_shift"] = "\"default\"",
            ["upcast_attention"] = "false",
            ["use_linear_projection"] = "false",
            ["addition_embed_type"] = "null",
            ["addition_time_embed_dim"] = "null",
            ["class_embeddings_concat"] = "false",
            ["conv_in_kernel"] = "3",
            ["conv_out_kernel"] = "3",
            ["cross_attention_norm"] = "null",
            ["encoder_hid_dim"] = "null",
            ["encoder_hid_dim_type"] = "null",
            ["mid_block_only_cross_attention"] = "null",
            ["num_attention_heads"] = "null",
            ["projection_class_embeddings_input_dim"] = "null",
            ["resnet_out_scale_factor"] = "1.0",
            ["resnet_skip_time_act"] = "false",
            ["time_cond_proj_dim"] = "null",
            ["time_embedding_act_fn"] = "null",
            ["time_embedding_dim"] = "null",
            ["time_embedding_type"] = "\"positional\"",
            ["timestep_post_act"] = "null",
            ["transformer_layers_per_block"] = "1",
            ["reverse_transformer_layers_per_block"] = "null",
            ["dropout"] = "0.0",
            ["attention_type"] = "\"default\"",
        };

        // Keys whose value has no effect on the architecture.
        private static readonly HashSet<string> Ignored = ["addition_embed_type_num_heads"];

        public UnetConfig Read(JsonElement root)
        {
            var config = new UnetConfig { Source = source };
            int[]? heads = null;
            foreach (var p in root.EnumerateObject())
            {
                var name = p.Name;
                var v = p.Value;
                if (name.StartsWith('_') || Ignored.Contains(name))
                {
                    continue;
                }
                switch (name)
                {
                    case "sample_size":
                        config = config with { SampleSize = SampleSize(v) };
                        break;
                    case "in_channels":
                        config = config with { InChannels = Int(name, v) };
                        break;
                    case "out_channels":
                        config = config with { OutChannels = Int(name, v) };
                        break;
                    case "center_input_sample":
                        config = config with { CenterInputSample = Bool(name, v) };
                        break;
                    case "flip_sin_to_cos":
                        config = config with { FlipSinToCos = Bool(name, v) };
                        break;
                    case "freq_shift":
                        config = config with { FreqShift = Number(name, v) };
                        break;
                    case "down_block_types":
                        config = config with { DownBlockTypes = Blocks(name, v, "CrossAttnDownBlock", "DownBlock") };
                        break;
                    case "up_block_types":
                        config = config with { UpBlockTypes = Blocks(name, v, "CrossAttnUpBlock", "UpBlock") };
                        break;
                    case "mid_block_type":
                        var mid = v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                        if (mid is not ("UNetMidBlock2DCrossAttn" or "UNetMidBlock3DCrossAttn"))
                        {
                            throw Fail(name, $"expected \"UNetMidBlock2DCrossAttn\", found {v.GetRawText()}");
                        }
                        break;
                    case "block_out_channels":
                        config = config with { BlockOutChannels = IntList(name, v) };
                        break;
                    case "layers_per_block":
                        config = config with { LayersPerBlock = Int(name, v) };
                        break;
                    case "downsample_padding":
                        config = config with { DownsamplePadding = Int(name, v) };
                        break;
                    case "mid_block_scale_factor":
                        config = config with { MidBlockScaleFactor = Number(name, v) };
                        break;
                    case "norm_num_groups":
                        config = config with { NormNumGroups = Int(name, v) };
                        break;
                    case "norm_eps":
                        config = config with { NormEps = Number(name, v) };
                        break;
                    case "cross_attention_dim":
                        config = config with { CrossAttentionDim = Int(name, v) };
                        break;
                    case "attention_head_dim":
                        heads = v.ValueKind == JsonValueKind.Array ? IntList(name, v).ToArray() : [Int(name, v)];
                        break;
                    default:
                        if (DefaultOnly.TryGetValue(name, out var expected))
                        {
                            RequireDefault(name, v, expected);
                            break;
                        }
                        throw Fail(name, "unknown UNet config field (this port implements Stable Diffusion v1.x UNets)");
                }
            }
            var n = config.BlockOutChannels.Count;
            config = config with { AttentionHeads = heads is null ? config.AttentionHeads : heads.Length == 1 ? Enumerable.Repeat(heads[0], n).ToArray() : heads };
            return config.Validate();
        }

        private void RequireDefault(string name, JsonElement v, string expected)
        {
            var ok = expected switch
            {
                "null" => v.ValueKind == JsonValueKind.Null,
                "false" => v.ValueKind == JsonValueKind.False
                    || (name == "only_cross_attention" && v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.False)),
                _ when expected.StartsWith('"') => v.ValueKind == JsonValueKind.String
                    && (v.GetString() == expected.Trim('"') || (name == "act_fn" && v.GetString() == "swish")),
                _ => v.ValueKind == JsonValueKind.Number && v.GetDouble() == double.Parse(expected, CultureInfo.InvariantCulture),
            };
            if (name == "transformer_layers_per_block" && v.ValueKind == JsonValueKind.Array)
            {
                ok = v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number && e.GetDouble() == 1);
            }
            if (!ok)
            {
                throw Fail(name, $"value {v.GetRawText()} is not supported (this port implements {expected} only, as in Stable Diffusion v1.x)");
            }
        }

        private DataFormatException Fail(string field, string message) => new(source, $"field '{field}': {message}.");

        private int Int(string name, JsonElement v)
        {
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i))
            {
                return i;
            }
            throw Fail(name, $"expected an integer, found {v.GetRawText()}");
        }

        private double Number(string name, JsonElement v) =>
            v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Fail(name, $"expected a number, found {v.GetRawText()}");

        private bool Bool(string name, JsonElement v) => v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Fail(name, $"expected true or false, found {v.GetRawText()}"),
        };

        private int[] IntList(string name, JsonElement v) =>
            v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => Int(name, e)).ToArray() : throw Fail(name, $"expected a list of integers, found {v.GetRawText()}");

        private int SampleSize(JsonElement v)
        {
            if (v.ValueKind == JsonValueKind.Array)
            {
                var sizes = IntList("sample_size", v);
                return sizes.Length == 2 && sizes[0] == sizes[1] ? sizes[0] : throw Fail("sample_size", $"expected a number or a square [h, w], found {v.GetRawText()}");
            }
            return Int("sample_size", v);
        }

        private UnetBlockKind[] Blocks(string name, JsonElement v, string crossAttention, string plain)
        {
            if (v.ValueKind != JsonValueKind.Array)
            {
                throw Fail(name, $"expected a list of block type names, found {v.GetRawText()}");
            }
            return v.EnumerateArray().Select(e =>
            {
                var s = e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                if (s == crossAttention + "2D" || s == crossAttention + "3D")
                {
                    return UnetBlockKind.CrossAttention;
                }
                if (s == plain + "2D" || s == plain + "3D")
                {
                    return UnetBlockKind.Plain;
                }
                throw Fail(name, $"block type {e.GetRawText()} is not supported (expected {crossAttention}2D or {plain}2D, or their 3D variants)");
            }).ToArray();
        }
    }
}
