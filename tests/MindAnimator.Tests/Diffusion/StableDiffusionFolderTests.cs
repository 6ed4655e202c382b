using MindAnimator.Diffusion.Pipelines;

namespace MindAnimator.Tests.Diffusion;

/// <summary>Clear errors for incomplete or mismatched Stable Diffusion folders.</summary>
public sealed class StableDiffusionFolderTests
{
    [Theory]
    [InlineData("vae/", "'vae/'")]
    [InlineData("unet/", "'unet/'")]
    [InlineData("tokenizer/", "'tokenizer/'")]
    [InlineData("text_encoder/model.safetensors", "model.safetensors or pytorch_model.bin")]
    [InlineData("scheduler/scheduler_config.json", "scheduler_config.json")]
    public void Missing_component_or_file_is_named(string omit, string named)
    {
        using var tiny = new TinyStableDiffusion(omit);
        var e = Assert.Throws<MindAnimatorException>(() => StableDiffusionFolder.Open(tiny.Root));
        Assert.Contains(named, e.Message);
        Assert.Contains(tiny.Root, e.Message);
    }

    [Fact]
    public void Complete_folder_opens()
    {
        using var tiny = new TinyStableDiffusion();
        Assert.Equal(tiny.Root, StableDiffusionFolder.Open(tiny.Root).Root);
    }

    [Fact]
    public void Weights_of_another_model_list_the_mismatched_names()
    {
        using var tiny = new TinyStableDiffusion();
        var vaeWeights = Path.Combine(tiny.Root, "vae", "diffusion_pytorch_model.safetensors");
        File.Delete(vaeWeights);
        File.CreateSymbolicLink(vaeWeights, Path.Combine(tiny.Root, "unet", "diffusion_pytorch_model.safetensors"));
        var e = Assert.Throws<MindAnimatorException>(() => StableDiffusionFolder.Open(tiny.Root).LoadVae());
        Assert.Contains(vaeWeights, e.Message);
        Assert.Contains("First missing: encoder.conv_in.weight", e.Message);
    }

    [Fact]
    public void Unsupported_scheduler_value_names_file_and_field()
    {
        using var tiny = new TinyStableDiffusion("scheduler/");
        var config = Path.Combine(tiny.Root, "scheduler", "scheduler_config.json");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        File.WriteAllText(config, "{\"beta_schedule\": \"squaredcos_cap_v2\", \"prediction_type\": \"epsilon\"}");
        var e = Assert.Throws<DataFormatException>(() => StableDiffusionFolder.Open(tiny.Root).LoadDdimScheduler());
        Assert.Contains(config, e.Message);
        Assert.Contains("'beta_schedule'", e.Message);
    }
}
