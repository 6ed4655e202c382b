using System.Text.Json.Nodes;
using MindAnimator.Config;
using MindAnimator.Data.Formats;
using MindAnimator.Models.Clip;
using MindAnimator.Models.Common;
using MindAnimator.Models.Diffusers;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Training.Prior;

/// <summary>
/// The configs of the demo prior's four models for one frame size and vocabulary, and their config.json files in the
/// diffusers / transformers spelling that the loaders (<see cref="UnetConfig.Load"/>, <see cref="AutoencoderKlConfig.Load"/>,
/// <see cref="ClipTextConfig.FromFile"/>, <see cref="ClipVisionConfig.FromFile"/>) read back.
/// </summary>
public sealed record PriorArchitecture(ClipTextConfig Text, ClipVisionConfig Vision, AutoencoderKlConfig Vae, UnetConfig Unet)
{
    /// <summary>Stable Diffusion v1.x's noise schedule (scheduler/scheduler_config.json).</summary>
    public static readonly JsonObject SchedulerConfig = new()
    {
        ["_class_name"] = "DDIMScheduler",
        ["beta_start"] = 0.00085,
        ["beta_end"] = 0.012,
        ["beta_schedule"] = "scaled_linear",
        ["num_train_timesteps"] = 1000,
        ["clip_sample"] = false,
        ["set_alpha_to_one"] = false,
        ["steps_offset"] = 1,
        ["prediction_type"] = "epsilon",
    };

    public static PriorArchitecture From(PriorSettings s, int frameSize, int vocabSize, double scalingFactor = AutoencoderKlConfig.StableDiffusionScalingFactor)
    {
        if (frameSize % s.PatchSize != 0)
        {
            throw new ConfigException("config", "prior.patch_size", $"{s.PatchSize} does not divide the frame size {frameSize}");
        }
        var downscale = 1 << (s.VaeChannels.Length - 1);
        if (frameSize % downscale != 0)
        {
            throw new ConfigException("config", "prior.vae_channels", $"{s.VaeChannels.Length} blocks halve the frame {s.VaeChannels.Length - 1} times, which {frameSize} does not allow");
        }
        var latentSize = frameSize / downscale;
        if (latentSize % (1 << (s.UnetChannels.Length - 1)) != 0)
        {
            throw new ConfigException("config", "prior.unet_channels", $"{s.UnetChannels.Length} blocks halve the {latentSize}×{latentSize} latent too often");
        }
        foreach (var (key, widths) in new[] { ("prior.vae_channels", s.VaeChannels), ("prior.unet_channels", s.UnetChannels) })
        {
            if (widths.Any(w => w % s.NormGroups != 0))
            {
                throw new ConfigException("config", key, $"every width must be a multiple of prior.norm_groups ({s.NormGroups})");
            }
        }
        if (s.UnetChannels.Any(w => w % s.UnetHeads != 0))
        {
            throw new ConfigException("config", "prior.unet_heads", $"{s.UnetHeads} heads must divide every prior.unet_channels width");
        }
        if (s.TextHidden % s.TextHeads != 0 || s.VisionHidden % s.VisionHeads != 0)
        {
            throw new ConfigException("config", "prior.text_heads", "the heads must divide the hidden widths of their towers (text_hidden, vision_hidden)");
        }
        var n = s.UnetChannels.Length;
        return new PriorArchitecture(
            new ClipTextConfig
            {
                VocabSize = vocabSize,
                HiddenSize = s.TextHidden,
                IntermediateSize = s.TextIntermediate,
                ProjectionDim = s.ProjectionDim,
                NumHiddenLayers = s.TextLayers,
                NumAttentionHeads = s.TextHeads,
                MaxPositionEmbeddings = 77,
            },
            new ClipVisionConfig
            {
                HiddenSize = s.VisionHidden,
                IntermediateSize = s.VisionIntermediate,
                ProjectionDim = s.ProjectionDim,
                NumHiddenLayers = s.VisionLayers,
                NumAttentionHeads = s.VisionHeads,
                ImageSize = frameSize,
                PatchSize = s.PatchSize,
            },
            new AutoencoderKlConfig
            {
                BlockOutChannels = s.VaeChannels,
                LayersPerBlock = s.VaeLayersPerBlock,
                LatentChannels = s.LatentChannels,
                NormNumGroups = s.NormGroups,
                SampleSize = frameSize,
                ScalingFactor = scalingFactor,
            },
            new UnetConfig
            {
                SampleSize = latentSize,
                InChannels = s.LatentChannels,
                OutChannels = s.LatentChannels,
                // SD v1.x's layout: cross-attention in every block but the deepest.
                DownBlockTypes = Enumerable.Range(0, n).Select(i => i < n - 1 || n == 1 ? UnetBlockKind.CrossAttention : UnetBlockKind.Plain).ToArray(),
                UpBlockTypes = Enumerable.Range(0, n).Select(i => i > 0 || n == 1 ? UnetBlockKind.CrossAttention : UnetBlockKind.Plain).ToArray(),
                BlockOutChannels = s.UnetChannels,
                LayersPerBlock = s.UnetLayersPerBlock,
                NormNumGroups = s.NormGroups,
                CrossAttentionDim = s.TextHidden,
                AttentionHeads = Enumerable.Repeat(s.UnetHeads, n).ToArray(),
                Source = "(prior settings)",
            }.Validate());
    }

    /// <summary>transformers CLIPTextConfig fields.</summary>
    public static JsonObject TextJson(ClipTextConfig c) => new()
    {
        ["model_type"] = "clip_text_model",
        ["architectures"] = new JsonArray("CLIPTextModel"),
        ["vocab_size"] = c.VocabSize,
        ["hidden_size"] = c.HiddenSize,
        ["intermediate_size"] = c.IntermediateSize,
        ["projection_dim"] = c.ProjectionDim,
        ["num_hidden_layers"] = c.NumHiddenLayers,
        ["num_attention_heads"] = c.NumAttentionHeads,
        ["max_position_embeddings"] = c.MaxPositionEmbeddings,
        ["hidden_act"] = c.HiddenAct,
        ["layer_norm_eps"] = c.LayerNormEps,
        ["bos_token_id"] = c.VocabSize - 2,
        ["eos_token_id"] = c.VocabSize - 1,
        ["pad_token_id"] = c.VocabSize - 1,
    };

    /// <summary>transformers CLIPVisionConfig fields.</summary>
    public static JsonObject VisionJson(ClipVisionConfig c) => new()
    {
        ["model_type"] = "clip_vision_model",
        ["hidden_size"] = c.HiddenSize,
        ["intermediate_size"] = c.IntermediateSize,
        ["projection_dim"] = c.ProjectionDim,
        ["num_hidden_layers"] = c.NumHiddenLayers,
        ["num_attention_heads"] = c.NumAttentionHeads,
        ["num_channels"] = c.NumChannels,
        ["image_size"] = c.ImageSize,
        ["patch_size"] = c.PatchSize,
        ["hidden_act"] = c.HiddenAct,
        ["layer_norm_eps"] = c.LayerNormEps,
    };

    /// <summary>A full transformers CLIPConfig (both towers).</summary>
    public JsonObject ClipJson() => new()
    {
        ["model_type"] = "clip",
        ["architectures"] = new JsonArray("CLIPModel"),
        ["projection_dim"] = Text.ProjectionDim,
        ["logit_scale_init_value"] = Math.Log(1 / 0.07),
        ["text_config"] = TextJson(Text),
        ["vision_config"] = VisionJson(Vision),
    };

    /// <summary>diffusers AutoencoderKL config.</summary>
    public JsonObject VaeJson() => new()
    {
        ["_class_name"] = "AutoencoderKL",
        ["in_channels"] = Vae.InChannels,
        ["out_channels"] = Vae.OutChannels,
        ["down_block_types"] = new JsonArray(Vae.BlockOutChannels.Select(_ => (JsonNode)"DownEncoderBlock2D").ToArray()),
        ["up_block_types"] = new JsonArray(Vae.BlockOutChannels.Select(_ => (JsonNode)"UpDecoderBlock2D").ToArray()),
        ["block_out_channels"] = Ints(Vae.BlockOutChannels),
        ["layers_per_block"] = Vae.LayersPerBlock,
        ["act_fn"] = "silu",
        ["latent_channels"] = Vae.LatentChannels,
        ["norm_num_groups"] = Vae.NormNumGroups,
        ["sample_size"] = Vae.SampleSize,
        ["scaling_factor"] = Vae.ScalingFactor,
    };

    /// <summary>diffusers UNet2DConditionModel config.</summary>
    public JsonObject UnetJson() => new()
    {
        ["_class_name"] = "UNet2DConditionModel",
        ["sample_size"] = Unet.SampleSize,
        ["in_channels"] = Unet.InChannels,
        ["out_channels"] = Unet.OutChannels,
        ["center_input_sample"] = Unet.CenterInputSample,
        ["flip_sin_to_cos"] = Unet.FlipSinToCos,
        ["freq_shift"] = Unet.FreqShift,
        ["down_block_types"] = new JsonArray(Unet.DownBlockTypes.Select(k => (JsonNode)(k == UnetBlockKind.CrossAttention ? "CrossAttnDownBlock2D" : "DownBlock2D")).ToArray()),
        ["mid_block_type"] = "UNetMidBlock2DCrossAttn",
        ["up_block_types"] = new JsonArray(Unet.UpBlockTypes.Select(k => (JsonNode)(k == UnetBlockKind.CrossAttention ? "CrossAttnUpBlock2D" : "UpBlock2D")).ToArray()),
        ["block_out_channels"] = Ints(Unet.BlockOutChannels),
        ["layers_per_block"] = Unet.LayersPerBlock,
        ["downsample_padding"] = Unet.DownsamplePadding,
        ["mid_block_scale_factor"] = Unet.MidBlockScaleFactor,
        ["act_fn"] = "silu",
        ["norm_num_groups"] = Unet.NormNumGroups,
        ["norm_eps"] = Unet.NormEps,
        ["cross_attention_dim"] = Unet.CrossAttentionDim,
        ["attention_head_dim"] = Ints(Unet.AttentionHeads),
    };

    private static JsonArray Ints(IEnumerable<int> values) => new(values.Select(v => (JsonNode)v).ToArray());
}

/// <summary>Writes trained models as model folders (safetensors weights named as in PyTorch, configs as JSON).</summary>
public static class PriorFolders
{
    /// <summary>
    /// The diffusers Stable Diffusion layout that <see cref="Diffusion.Pipelines.StableDiffusionFolder.Open"/> accepts:
    /// unet/, vae/, text_encoder/ (the CLIP text tower), tokenizer/, scheduler/.
    /// </summary>
    public static void WriteStableDiffusion(string root, PriorArchitecture arch, CaptionTokenizerTables tokenizer, Unet2DConditionModel unet,
        AutoencoderKl vae, ClipTextModelWithProjection text)
    {
        WriteJson(Path.Combine(root, "unet", "config.json"), arch.UnetJson());
        WriteWeights(Path.Combine(root, "unet", "diffusion_pytorch_model.safetensors"), unet.state_dict());
        WriteJson(Path.Combine(root, "vae", "config.json"), arch.VaeJson());
        WriteWeights(Path.Combine(root, "vae", "diffusion_pytorch_model.safetensors"), vae.state_dict());
        WriteJson(Path.Combine(root, "text_encoder", "config.json"), PriorArchitecture.TextJson(arch.Text));
        // SD's text encoder is a CLIPTextModel: the tower without its projection.
        WriteWeights(Path.Combine(root, "text_encoder", "model.safetensors"), text.state_dict().Where(kv => kv.Key.StartsWith("text_model.", StringComparison.Ordinal)));
        tokenizer.WriteFolder(Path.Combine(root, "tokenizer"));
        WriteJson(Path.Combine(root, "scheduler", "scheduler_config.json"), (JsonObject)PriorArchitecture.SchedulerConfig.DeepClone());
        WriteJson(Path.Combine(root, "model_index.json"), new JsonObject
        {
            ["_class_name"] = "StableDiffusionPipeline",
            ["unet"] = new JsonArray("diffusers", "UNet2DConditionModel"),
            ["vae"] = new JsonArray("diffusers", "AutoencoderKL"),
            ["text_encoder"] = new JsonArray("transformers", "CLIPTextModel"),
            ["tokenizer"] = new JsonArray("transformers", "CLIPTokenizer"),
            ["scheduler"] = new JsonArray("diffusers", "DDIMScheduler"),
        });
    }

    /// <summary>
    /// A transformers CLIP folder (config.json with text_config and vision_config, model.safetensors with both towers,
    /// their projections and logit_scale, tokenizer files) that <see cref="Features.FeatureModels.Load"/> accepts.
    /// </summary>
    public static void WriteClip(string root, PriorArchitecture arch, CaptionTokenizerTables tokenizer, ClipTextModelWithProjection text,
        ClipVisionModelWithProjection vision, Tensor logitScale)
    {
        WriteJson(Path.Combine(root, "config.json"), arch.ClipJson());
        var weights = text.state_dict().Concat(vision.state_dict()).Append(new("logit_scale", logitScale));
        WriteWeights(Path.Combine(root, "model.safetensors"), weights);
        tokenizer.WriteFolder(root);
    }

    /// <summary>Writes float tensors as F32 and integer buffers (position ids) as I64, in the given order.</summary>
    public static void WriteWeights(string path, IEnumerable<KeyValuePair<string, Tensor>> weights)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        StateDict.Write(path, weights, overwrite: true);
    }

    private static void WriteJson(string path, JsonObject json)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllText(path, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }), overwrite: true);
    }
}
