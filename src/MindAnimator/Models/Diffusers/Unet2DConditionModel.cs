using MindAnimator.Models.Common;
using static TorchSharp.torch;

namespace MindAnimator.Models.Diffusers;

/// <summary>
/// Stable Diffusion's noise-prediction UNet (diffusers 0.11.1 <c>UNet2DConditionModel</c>, SD v1.x block layout):
/// (B, 4, H, W) latents, timestep, (B, S, D) text context → predicted noise of the latents' shape.
/// </summary>
// Mirrors diffusers 0.11.1 src/diffusers/models/unet_2d_condition.py (UNet2DConditionModel).
public sealed class Unet2DConditionModel : UnetConditionModel
{
    /// <summary>Builds the model with freshly initialised (random) weights.</summary>
    /// <param name="device">Where to build it (CPU by default; <c>meta</c> builds shapes without memory).</param>
    /// <param name="dtype">Parameter dtype (float32 by default).</param>
    public Unet2DConditionModel(UnetConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(Unet2DConditionModel), config, temporal: false, device, dtype)
    {
    }

    /// <summary>
    /// Loads a diffusers UNet folder (<c>config.json</c> + <c>diffusion_pytorch_model.safetensors|.bin</c>),
    /// e.g. a local Stable Diffusion v1.5 <c>unet/</c>; the model is in eval mode with frozen parameters.
    /// </summary>
    public static Unet2DConditionModel FromPretrained(string directory, Device? device = null, ScalarType dtype = ScalarType.Float32) =>
        FromFiles(Path.Combine(directory, "config.json"), StateDict.FindWeights(directory, StateDict.DiffusersWeightFiles), device, dtype);

    /// <summary>Loads a UNet from an explicit config file and weights file (.safetensors, .bin, .pth).</summary>
    public static Unet2DConditionModel FromFiles(string configPath, string weightsPath, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        var model = new Unet2DConditionModel(UnetConfig.Load(configPath), device, dtype);
        try
        {
            StateDict.LoadFile(model, weightsPath);
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

    /// <param name="sample">(B, in_channels, H, W) noisy latents.</param>
    /// <param name="timestep">Scalar or (B) timesteps.</param>
    /// <param name="encoderHiddenStates">(B, S, cross_attention_dim) text context.</param>
    public override Tensor forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates)
    {
        if (sample.dim() != 4 || sample.shape[1] != Config.InChannels)
        {
            throw new ArgumentException($"sample must be (B, {Config.InChannels}, H, W), got [{string.Join(",", sample.shape)}].", nameof(sample));
        }
        return ForwardFrames(sample, timestep, encoderHiddenStates, 1);
    }
}
