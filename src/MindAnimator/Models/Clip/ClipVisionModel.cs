using MindAnimator.Models.Common;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Clip;

// Mirrors transformers 4.29 src/transformers/models/clip/modeling_clip.py (CLIPVisionEmbeddings,
// CLIPVisionTransformer, CLIPVisionModelWithProjection).

/// <summary>Outputs of the CLIP vision encoder.</summary>
/// <param name="LastHiddenState">(B, 1 + patches, hidden), encoder output without post_layernorm.</param>
/// <param name="PoolerOutput">(B, hidden) = post_layernorm(class token).</param>
/// <param name="ImageEmbeds">(B, projection_dim) = visual_projection(PoolerOutput), not normalised.</param>
/// <param name="HiddenStates">When requested: the embeddings after pre_layrnorm, then each layer's output.</param>
public sealed record ClipVisionOutput(Tensor LastHiddenState, Tensor PoolerOutput, Tensor? ImageEmbeds, IReadOnlyList<Tensor>? HiddenStates);

/// <summary>Bias-free patch convolution, a learned class token in front, learned position embeddings.</summary>
internal sealed class ClipVisionEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Parameter class_embedding;
    private readonly Conv2d patch_embedding;
    private readonly Embedding position_embedding;
    private readonly Tensor position_ids;
    private readonly ClipVisionConfig _config;

    public ClipVisionEmbeddings(ClipVisionConfig config, Device? device = null)
        : base(nameof(ClipVisionEmbeddings))
    {
        _config = config;
        class_embedding = nn.Parameter(randn(config.HiddenSize, device: device));
        patch_embedding = nn.Conv2d(config.NumChannels, config.HiddenSize, config.PatchSize, stride: config.PatchSize, bias: false, device: device);
        position_embedding = nn.Embedding(config.NumPositions, config.HiddenSize, device: device);
        position_ids = arange(config.NumPositions, ScalarType.Int64, device).unsqueeze(0);
        RegisterComponents();
    }

    public override Tensor forward(Tensor pixelValues)
    {
        var c = _config;
        if (pixelValues.dim() != 4 || pixelValues.shape[1] != c.NumChannels || pixelValues.shape[2] != c.ImageSize || pixelValues.shape[3] != c.ImageSize)
        {
            throw new ArgumentException(
                $"pixel_values must be (batch, {c.NumChannels}, {c.ImageSize}, {c.ImageSize}), got [{string.Join(", ", pixelValues.shape)}].", nameof(pixelValues));
        }
        using var scope = NewDisposeScope();
        var batch = pixelValues.shape[0];
        var patches = patch_embedding.call(pixelValues.to(patch_embedding.weight!.dtype)).flatten(2).transpose(1, 2);
        var cls = class_embedding.view(1, 1, -1).expand(batch, 1, -1);
        var tokens = cat([cls, patches], 1);
        return (tokens + position_embedding.call(position_ids)).MoveToOuterDisposeScope();
    }
}

/// <summary>The <c>vision_model</c> of transformers' CLIP vision models.</summary>
internal sealed class ClipVisionTransformer : nn.Module
{
    private readonly ClipVisionEmbeddings embeddings;
    private readonly LayerNorm pre_layrnorm;
    private readonly ClipEncoder encoder;
    private readonly LayerNorm post_layernorm;

    public ClipVisionTransformer(ClipVisionConfig config, Device? device = null)
        : base(nameof(ClipVisionTransformer))
    {
        embeddings = new ClipVisionEmbeddings(config, device);
        // "pre_layrnorm" (sic) is the state-dict name in transformers and in CLIP checkpoints.
        pre_layrnorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device);
        encoder = new ClipEncoder(config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize, config.NumAttentionHeads, config.HiddenAct, config.LayerNormEps, device);
        post_layernorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device);
        RegisterComponents();
    }

    public (Tensor LastHiddenState, Tensor PoolerOutput, IReadOnlyList<Tensor>? HiddenStates) Forward(Tensor pixelValues, bool outputHiddenStates)
    {
        var hidden = pre_layrnorm.call(embeddings.call(pixelValues));
        var states = outputHiddenStates ? new List<Tensor> { hidden } : null;
        var last = encoder.Forward(hidden, null, causal: false, states);
        var pooled = post_layernorm.call(last.select(1, 0));
        return (last, pooled, states);
    }
}

/// <summary>transformers' <c>CLIPVisionModelWithProjection</c>: the vision model plus a bias-free <c>visual_projection</c>.</summary>
public sealed class ClipVisionModelWithProjection : nn.Module
{
    private readonly ClipVisionTransformer vision_model;
    private readonly Linear visual_projection;

    public ClipVisionModelWithProjection(ClipVisionConfig config, Device? device = null)
        : base(nameof(ClipVisionModelWithProjection))
    {
        Config = config;
        vision_model = new ClipVisionTransformer(config, device);
        visual_projection = nn.Linear(config.HiddenSize, config.ProjectionDim, hasBias: false, device: device);
        RegisterComponents();
    }

    public ClipVisionConfig Config { get; }

    /// <summary>Builds the model from a transformers folder (config.json + model.safetensors or pytorch_model.bin).</summary>
    public static ClipVisionModelWithProjection FromFolder(string folder, Device? device = null) =>
        FromFiles(Path.Combine(folder, "config.json"), StateDict.FindWeights(folder, StateDict.TransformersWeightFiles), device);

    /// <summary>
    /// Builds the model from its config.json and loads a checkpoint strictly by name. A full CLIPModel checkpoint
    /// also works: its text tower, logit_scale and text_projection are ignored.
    /// </summary>
    public static ClipVisionModelWithProjection FromFiles(string configPath, string weightsPath, Device? device = null)
    {
        var model = new ClipVisionModelWithProjection(ClipVisionConfig.FromFile(configPath), device);
        StateDict.LoadFile(model, weightsPath, ignoreUnexpected: ["text_model.", "text_projection.", "logit_scale"]);
        model.eval();
        return model;
    }

    /// <param name="pixelValues">(B, channels, image_size, image_size), normalised as <see cref="ClipImageProcessor"/> does.</param>
    public ClipVisionOutput Forward(Tensor pixelValues, bool outputHiddenStates = false)
    {
        var (last, pooled, states) = vision_model.Forward(pixelValues, outputHiddenStates);
        return new ClipVisionOutput(last, pooled, visual_projection.call(pooled), states);
    }
}
