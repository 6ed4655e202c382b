using MindAnimator.Config;

namespace MindAnimator.Reconstruction;

/// <summary>
/// Where the generative models come from: the configured folders, or else the demo prior that ships with mindanim
/// (models/demo-prior in the repository, copied beside the binaries at build time).
/// </summary>
public static class ModelFolders
{
    /// <summary>The repository folder of the shipped demo prior, relative to the binaries.</summary>
    public const string DemoPriorFolder = "models/demo-prior";

    /// <summary>The shipped demo prior beside the binaries.</summary>
    public static string DemoPrior => Path.Combine(AppContext.BaseDirectory, DemoPriorFolder);

    /// <summary>diffusion.sd_folder, or the demo prior's Stable Diffusion folder.</summary>
    public static string StableDiffusion(MindAnimatorConfig config) =>
        config.Diffusion.SdFolder ?? Shipped("sd", "diffusion.sd_folder (--sd)", "a diffusers Stable Diffusion v1.x folder such as runwayml/stable-diffusion-v1-5");

    /// <summary>features.clip_folder, or the demo prior's CLIP folder.</summary>
    public static string Clip(MindAnimatorConfig config) =>
        config.Features.ClipFolder ?? Shipped("clip", "features.clip_folder (--clip)", "a transformers CLIP folder such as openai/clip-vit-base-patch32");

    private static string Shipped(string component, string key, string what)
    {
        var folder = Path.Combine(DemoPrior, component);
        if (!Directory.Exists(folder))
        {
            throw new MindAnimatorException($"{key} is not set and the demo prior is missing from this build ({folder}); "
                + $"set {key} to {what}, or rebuild mindanim from a full clone (the prior lives in {DemoPriorFolder}/{component}).");
        }
        return folder;
    }
}
