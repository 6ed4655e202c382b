using MindAnimator.Models.Common;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MindAnimator.Models.Clip;

// Mirrors transformers 4.29 src/transformers/models/clip/modeling_clip.py (CLIPTextEmbeddings,
// CLIPTextTransformer, CLIPTextModel, CLIPTextModelWithProjection).

/// <summary>Outputs of the CLIP text encoder.</summary>
/// <param name="LastHiddenState">(B, L, hidden), after final_layer_norm: Stable Diffusion's text conditioning.</param>
/// <param name="PoolerOutput">(B, hidden): LastHiddenState at the first end-of-text token (argmax of the ids).</param>
/// <param name="TextEmbeds">(B, projection_dim) = text_projection(PoolerOutput), or null without a projection.</param>
/// <param name="HiddenStates">When requested: the embeddings, then each layer's output (before final_layer_norm).</param>
public sealed record ClipTextOutput(Tensor LastHiddenState, Tensor PoolerOutput, Tensor? TextEmbeds, IReadOnlyList<Tensor>? HiddenStates);

/// <summary>Token embedding plus learned position embedding.</summary>
internal sealed class ClipTextEmbeddings : nn.Module<Tensor, Tensor>
{
    private readonly Embedding token_embedding;
    private readonly Embedding position_embedding;
    private readonly Tensor position_ids;

    public ClipTextEmbeddings(ClipTextConfig config, Device? device = null)
        : base(nameof(ClipTextEmbeddings))
    {
        token_embedding = nn.Embedding(config.VocabSize, config.HiddenSize, device: device);
        position_embedding = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, device: device);
        // A persistent buffer in transformers 4.29, so checkpoints (SD v1.5's included) carry it.
        position_ids = arange(config.MaxPositionEmbeddings, ScalarType.Int64, device).unsqueeze(0);
        RegisterComponents();
    }

    public override Tensor forward(Tensor inputIds)
    {
        var length = inputIds.shape[^1];
        if (length > position_ids.shape[1])
        {
            throw new ArgumentException($"sequence length {length} exceeds max_position_embeddings {position_ids.shape[1]}.", nameof(inputIds));
        }
        using var scope = NewDisposeScope();
        var positions = position_ids.narrow(1, 0, length);
        return (token_embedding.call(inputIds) + position_embedding.call(positions)).MoveToOuterDisposeScope();
    }
}

/// <summary>The <c>text_model</c> of transformers' CLIP text models: embeddings, causal encoder, final LayerNorm.</summary>
internal sealed class ClipTextTransformer : nn.Module
{
    private readonly ClipTextEmbeddings embeddings;
    private readonly ClipEncoder encoder;
    private readonly LayerNorm final_layer_norm;

    public ClipTextTransformer(ClipTextConfig config, Device? device = null)
        : base(nameof(ClipTextTransformer))
    {
        embeddings = new ClipTextEmbeddings(config, device);
        encoder = new ClipEncoder(config.NumHiddenLayers, config.HiddenSize, config.IntermediateSize, config.NumAttentionHeads, config.HiddenAct, config.LayerNormEps, device);
        final_layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device);
        RegisterComponents();
    }

    /// <summary>Runs the encoder; the causal mask is always applied, <paramref name="attentionMask"/> (B, L) is added when given.</summary>
    public (Tensor LastHiddenState, Tensor PoolerOutput, IReadOnlyList<Tensor>? HiddenStates) Forward(Tensor inputIds, Tensor? attentionMask, bool outputHiddenStates)
    {
        if (inputIds.dim() != 2)
        {
            throw new ArgumentException($"input_ids must be (batch, length), got [{string.Join(", ", inputIds.shape)}].", nameof(inputIds));
        }
        var hidden = embeddings.call(inputIds);
        var states = outputHiddenStates ? new List<Tensor> { hidden } : null;
        using var mask = attentionMask is null ? null : ClipEncoder.CausalPaddingMask(attentionMask.to(hidden.device), hidden.dtype);
        var encoded = encoder.Forward(hidden, mask, causal: true, states);
        var last = final_layer_norm.call(encoded);
        // transformers 4.29 pools at argmax(input_ids), i.e. the first <|endoftext|> (the highest id), even
        // when padding also uses that id; config.eos_token_id is not consulted.
        var eos = inputIds.to(last.device).argmax(-1);
        var pooled = last.gather(1, eos.view(-1, 1, 1).expand(-1, 1, last.shape[2])).squeeze(1);
        return (last, pooled, states);
    }
}

/// <summary>
/// transformers' <c>CLIPTextModel</c> (Stable Diffusion's <c>text_encoder</c>). Loading a checkpoint of
/// <c>CLIPTextModelWithProjection</c> ignores its <c>text_projection</c>.
/// </summary>
public sealed class ClipTextModel : nn.Module
{
    private readonly ClipTextTransformer text_model;

    public ClipTextModel(ClipTextConfig config, Device? device = null)
        : base(nameof(ClipTextModel))
    {
        Config = config;
        text_model = new ClipTextTransformer(config, device);
        RegisterComponents();
    }

    public ClipTextConfig Config { get; }

    /// <summary>Builds the model from a transformers folder (config.json + model.safetensors or pytorch_model.bin).</summary>
    public static ClipTextModel FromFolder(string folder, Device? device = null) =>
        FromFiles(Path.Combine(folder, "config.json"), StateDict.FindWeights(folder, StateDict.TransformersWeightFiles), device);

    /// <summary>Builds the model from its config.json and loads a checkpoint strictly by name.</summary>
    public static ClipTextModel FromFiles(string configPath, string weightsPath, Device? device = null)
    {
        var model = new ClipTextModel(ClipTextConfig.FromFile(configPath), device);
        StateDict.LoadFile(model, weightsPath, ignoreUnexpected: ["text_projection."]);
        model.eval();
        return model;
    }

    public ClipTextOutput Forward(Tensor inputIds, Tensor? attentionMask = null, bool outputHiddenStates = false)
    {
        var (last, pooled, states) = text_model.Forward(inputIds, attentionMask, outputHiddenStates);
        return new ClipTextOutput(last, pooled, null, states);
    }
}

/// <summary>transformers' <c>CLIPTextModelWithProjection</c>: the text model plus a bias-free <c>text_projection</c>.</summary>
public sealed class ClipTextModelWithProjection : nn.Module
{
    private readonly ClipTextTransformer text_model;
    private readonly Linear text_projection;

    public ClipTextModelWithProjection(ClipTextConfig config, Device? device = null)
        : base(nameof(ClipTextModelWithProjection))
    {
        Config = config;
        text_model = new ClipTextTransformer(config, device);
        text_projection = nn.Linear(config.HiddenSize, config.ProjectionDim, hasBias: false, device: device);
        RegisterComponents();
    }

    public ClipTextConfig Config { get; }

    public static ClipTextModelWithProjection FromFolder(string folder, Device? device = null) =>
        FromFiles(Path.Combine(folder, "config.json"), StateDict.FindWeights(folder, StateDict.TransformersWeightFiles), device);

    public static ClipTextModelWithProjection FromFiles(string configPath, string weightsPath, Device? device = null)
    {
        var model = new ClipTextModelWithProjection(ClipTextConfig.FromFile(configPath), device);
        // A full CLIPModel checkpoint (e.g. ViT-B/32) also holds the vision tower.
        StateDict.LoadFile(model, weightsPath, ignoreUnexpected: ["vision_model.", "visual_projection.", "logit_scale"]);
        model.eval();
        return model;
    }

    public ClipTextOutput Forward(Tensor inputIds, Tensor? attentionMask = null, bool outputHiddenStates = false)
    {
        var (last, pooled, states) = text_model.Forward(inputIds, attentionMask, outputHiddenStates);
        return new ClipTextOutput(last, pooled, text_projection.call(pooled), states);
    }
}
