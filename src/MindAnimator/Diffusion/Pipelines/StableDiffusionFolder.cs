using MindAnimator.Models.Clip;
using MindAnimator.Models.Diffusers;
using Serilog;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Diffusion.Pipelines;

/// <summary>How to build the inflated UNet from the 2-D Stable Diffusion UNet.</summary>
public sealed record InflationOptions
{
    /// <summary>Seed of the temporal layers' initialisation (the reference leaves it unseeded).</summary>
    public long TemporalSeed { get; init; }

    /// <summary>A file with trained or recorded temporal (`_temp.`) tensors replacing the initialisation.</summary>
    public string? TemporalWeights { get; init; }

    /// <summary>
    /// Weight dtype of the UNet, where nearly all of the compute is: float16 (GPUs) or bfloat16 halve its memory; the
    /// latents, the scheduler maths, the VAE and the text encoder stay float32.
    /// </summary>
    public ScalarType UnetDtype { get; init; } = ScalarType.Float32;

    /// <summary>Parses `diffusion.dtype` (float32, float16, bfloat16).</summary>
    public static ScalarType ParseDtype(string name) => name switch
    {
        "float32" => ScalarType.Float32,
        "float16" => ScalarType.Float16,
        "bfloat16" => ScalarType.BFloat16,
        _ => throw new MindAnimatorException($"diffusion.dtype '{name}': expected float32, float16 or bfloat16."),
    };
}

/// <summary>
/// A local Stable Diffusion v1.x model in the diffusers folder layout (unet/, vae/, text_encoder/, tokenizer/,
/// scheduler/). <see cref="Open"/> checks the layout and names the first missing component or file; each Load
/// method builds a component from its config and loads its weights strictly (mismatched names/shapes are listed).
/// </summary>
public sealed class StableDiffusionFolder
{
    private static readonly (string Component, string[][] Files)[] Layout =
    {
        ("unet", new[] { new[] { "config.json" }, new[] { "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin" } }),
        ("vae", new[] { new[] { "config.json" }, new[] { "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin" } }),
        ("text_encoder", new[] { new[] { "config.json" }, new[] { "model.safetensors", "pytorch_model.bin" } }),
        ("tokenizer", new[] { new[] { "vocab.json" }, new[] { "merges.txt" } }),
        ("scheduler", new[] { new[] { "scheduler_config.json" } }),
    };

    private readonly ILogger _log;

    private StableDiffusionFolder(string root, ILogger log)
    {
        Root = root;
        _log = log;
    }

    public string Root { get; }

    public string UnetFolder => Path.Combine(Root, "unet");

    public string VaeFolder => Path.Combine(Root, "vae");

    public string TextEncoderFolder => Path.Combine(Root, "text_encoder");

    public string TokenizerFolder => Path.Combine(Root, "tokenizer");

    public string SchedulerConfig => Path.Combine(Root, "scheduler", "scheduler_config.json");

    /// <summary>Checks the folder layout; throws a <see cref="MindAnimatorException"/> naming what is missing.</summary>
    public static StableDiffusionFolder Open(string root, ILogger? log = null)
    {
        if (!Directory.Exists(root))
        {
            throw new MindAnimatorException($"{root}: Stable Diffusion folder not found.");
        }
        foreach (var (component, files) in Layout)
        {
            var dir = Path.Combine(root, component);
            if (!Directory.Exists(dir))
            {
                throw new MindAnimatorException(
                    $"{root}: component folder '{component}/' is missing (a diffusers Stable Diffusion folder has {string.Join(", ", Layout.Select(l => l.Component + "/"))}).");
            }
            foreach (var alternatives in files)
            {
                if (!alternatives.Any(f => File.Exists(Path.Combine(dir, f))))
                {
                    throw new MindAnimatorException($"{dir}: file missing (expected {string.Join(" or ", alternatives)}).");
                }
            }
        }
        return new StableDiffusionFolder(root, log ?? Log.ForContext<StableDiffusionFolder>());
    }

    public AutoencoderKl LoadVae(Device? device = null)
    {
        var vae = AutoencoderKl.FromPretrained(VaeFolder, _log);
        return device is null ? vae : vae.to(device);
    }

    /// <summary>The UNet inflated to Tune-A-Video's 3-D UNet (what Mind-Animator's from_pretrained_2d builds).</summary>
    public Unet3DConditionModel LoadInflatedUnet(InflationOptions? options = null, Device? device = null)
    {
        options ??= new InflationOptions();
        var unet = Unet3DConditionModel.FromPretrained2D(UnetFolder, options.TemporalSeed, options.TemporalWeights, device, options.UnetDtype);
        _log.Information("Inflated UNet loaded from {Folder} (temporal layers: {Temporal})", UnetFolder,
            options.TemporalWeights ?? $"initialised with seed {options.TemporalSeed}");
        return unet;
    }

    /// <summary>SD's text encoder (transformers CLIPTextModel; a text_projection in the checkpoint is ignored).</summary>
    public ClipTextModel LoadTextEncoder(Device? device = null) => ClipTextModel.FromFolder(TextEncoderFolder, device);

    /// <summary>
    /// Mind-Animator's video pipeline from this folder: VAE, CLIP text encoder and tokenizer, the inflated UNet, a DDIM
    /// sampler and a DDPM noiser both from scheduler/scheduler_config.json. The pipeline owns (and disposes) the models.
    /// </summary>
    public InflatedSdPipeline LoadInflatedPipeline(InflationOptions? inflation = null, Device? device = null)
    {
        var owned = new List<IDisposable>();
        try
        {
            var vae = LoadVae(device);
            owned.Add(vae);
            var textModel = LoadTextEncoder(device);
            owned.Add(textModel);
            var unet = LoadInflatedUnet(inflation, device);
            owned.Add(unet);
            var ddim = LoadDdimScheduler();
            owned.Add(ddim);
            var ddpm = LoadDdpmScheduler();
            owned.Add(ddpm);
            return new InflatedSdPipeline(vae, LoadTokenizer(), ids => LastHiddenState(textModel, ids), unet.Predict, ddim, ddpm, _log, owned);
        }
        catch
        {
            owned.ForEach(o => o.Dispose());
            throw;
        }
    }

    private static Tensor LastHiddenState(ClipTextModel model, Tensor inputIds)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var device = model.parameters().First().device;
        return model.Forward(inputIds.to(device)).LastHiddenState.MoveToOuterDisposeScope();
    }

    public ClipTokenizer LoadTokenizer() => ClipTokenizer.FromFolder(TokenizerFolder);

    public DdimScheduler LoadDdimScheduler() => DdimScheduler.FromConfigFile(SchedulerConfig);

    public DdpmScheduler LoadDdpmScheduler() => DdpmScheduler.FromConfigFile(SchedulerConfig);
}
