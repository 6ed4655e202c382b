using MindAnimator.Models.Common;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Models.Diffusers;

/// <summary>
/// Tune-A-Video's inflated UNet as used by Mind-Animator: the SD UNet applied per frame of (B, C, F, H, W) latents,
/// with sparse-causal self-attention, a temporal attention after each feed-forward, and ResNet GroupNorms whose
/// statistics span the whole clip. Built from a 2-D config and 2-D weights like <c>from_pretrained_2d</c>.
/// </summary>
// Mirrors Tune-A-Video tuneavideo/models/unet.py (UNet3DConditionModel, from_pretrained_2d).
public sealed class Unet3DConditionModel : UnetConditionModel
{
    /// <summary>
    /// Builds the inflated model from a 2-D (or 3-D) UNet config; the temporal layers are initialised as in
    /// <c>from_pretrained_2d</c> from a generator seeded with <paramref name="temporalSeed"/>.
    /// </summary>
    public Unet3DConditionModel(UnetConfig config, long temporalSeed = 0, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(Unet3DConditionModel), config, temporal: true, device, dtype)
    {
        InitializeTemporal(temporalSeed);
    }

    /// <summary>The parameters added by inflation (names contain <c>_temp.</c>), in state-dict order.</summary>
    public IReadOnlyList<(string Name, Tensor Parameter)> TemporalParameters =>
        named_parameters().Where(p => IsTemporal(p.name)).Select(p => (p.name, (Tensor)p.parameter)).ToList();

    /// <summary>
    /// Loads a diffusers 2-D UNet folder and inflates it; <paramref name="temporalWeights"/> (a file with the
    /// <c>_temp.</c> tensors) replaces the seeded initialisation when given. Eval mode, all parameters frozen.
    /// </summary>
    public static Unet3DConditionModel FromPretrained2D(string directory, long temporalSeed = 0, string? temporalWeights = null,
        Device? device = null, ScalarType dtype = ScalarType.Float32) =>
        FromFiles2D(Path.Combine(directory, "config.json"), StateDict.FindWeights(directory, StateDict.DiffusersWeightFiles), temporalSeed, temporalWeights, device, dtype);

    /// <summary>As <see cref="FromPretrained2D"/> with explicit config and weights files.</summary>
    public static Unet3DConditionModel FromFiles2D(string configPath, string weights2DPath, long temporalSeed = 0, string? temporalWeights = null,
        Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        var model = new Unet3DConditionModel(UnetConfig.Load(configPath), temporalSeed, device, dtype);
        try
        {
            var weights = StateDict.Read(weights2DPath);
            try
            {
                model.Load2DWeights(weights, weights2DPath);
            }
            finally
            {
                foreach (var t in weights.Values)
                {
                    t.Dispose();
                }
            }
            if (temporalWeights is not null)
            {
                model.LoadTemporalWeights(temporalWeights);
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        model.Freeze();
        return model;
    }

    /// <summary>
    /// (Re)initialises the temporal layers as Tune-A-Video does: attn_temp.to_q/k/v weights and to_out.0.bias
    /// U(−1/√C, 1/√C) (torch's default Linear init), to_out.0.weight zeros, norm_temp ones/zeros — drawn from
    /// a generator seeded with <paramref name="seed"/> (the reference draws them from torch's global RNG).
    /// </summary>
    public void InitializeTemporal(long seed)
    {
        if (Device.type == DeviceType.META)
        {
            return;
        }
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed, CPU);
        foreach (var (name, p) in TemporalParameters)
        {
            using var scope = NewDisposeScope();
            Tensor value;
            if (name.EndsWith("norm_temp.weight", StringComparison.Ordinal))
            {
                value = ones(p.shape);
            }
            else if (name.EndsWith("norm_temp.bias", StringComparison.Ordinal) || name.EndsWith("to_out.0.weight", StringComparison.Ordinal))
            {
                value = zeros(p.shape);
            }
            else
            {
                // Weights: fan_in = shape[1]; the to_out bias uses its layer's fan_in, which equals its length here.
                var bound = 1.0 / Math.Sqrt(p.dim() == 2 ? p.shape[1] : p.shape[0]);
                value = empty(p.shape).uniform_(-bound, bound, generator);
            }
            StateDict.CopyConverted(p, value);
        }
    }

    /// <summary>
    /// Loads 2-D UNet weights; the temporal parameters keep their current values (what <c>from_pretrained_2d</c> does).
    /// </summary>
    public void Load2DWeights(IReadOnlyDictionary<string, Tensor> weights2D, string source)
    {
        var merged = new Dictionary<string, Tensor>(weights2D);
        foreach (var (name, p) in TemporalParameters)
        {
            merged[name] = p;
        }
        StateDict.Load(this, merged, source);
    }

    /// <summary>Replaces the temporal parameters with the <c>_temp.</c> tensors of a file (all of them required; nothing else allowed).</summary>
    public void LoadTemporalWeights(string path)
    {
        var weights = StateDict.Read(path);
        try
        {
            LoadTemporalWeights(weights, path);
        }
        finally
        {
            foreach (var t in weights.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <inheritdoc cref="LoadTemporalWeights(string)"/>
    public void LoadTemporalWeights(IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        var extra = weights.Keys.Where(k => !IsTemporal(k)).ToList();
        if (extra.Count > 0)
        {
            throw new MindAnimatorException($"{source}: temporal weights file holds {extra.Count} non-temporal tensors (first: {extra[0]}); expected only '_temp.' keys.");
        }
        var merged = state_dict().Where(kv => !IsTemporal(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var (k, v) in weights)
        {
            merged[k] = v;
        }
        StateDict.Load(this, merged, source);
    }

    /// <param name="sample">(B, in_channels, F, H, W) video latents.</param>
    /// <param name="timestep">Scalar or (B) timesteps.</param>
    /// <param name="encoderHiddenStates">(B, S, cross_attention_dim) text context, shared by all frames.</param>
    public override Tensor forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates)
    {
        if (sample.dim() != 5 || sample.shape[1] != Config.InChannels)
        {
            throw new ArgumentException($"sample must be (B, {Config.InChannels}, F, H, W), got [{string.Join(",", sample.shape)}].", nameof(sample));
        }
        using var scope = NewDisposeScope();
        var frames = (int)sample.shape[2];
        var output = ForwardFrames(FrameOps.FramesToBatch(sample), timestep, encoderHiddenStates, frames);
        return FrameOps.BatchToFrames(output, frames).MoveToOuterDisposeScope();
    }

    private static bool IsTemporal(string key) => key.Contains("_temp.", StringComparison.Ordinal);
}
