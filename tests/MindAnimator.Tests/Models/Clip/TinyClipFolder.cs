using System.Text.Json.Nodes;
using MindAnimator.Data.Formats;
using MindAnimator.Models.Common;
using MindAnimator.Tests.Infrastructure;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Models.Clip;

/// <summary>
/// A transformers CLIP folder (one config with text_config and vision_config, one weights file, the tokenizer files)
/// assembled from the clip_text, clip_vision and clip_tokenizer fixtures: what openai/clip-vit-base-patch32 looks like.
/// </summary>
internal sealed class TinyClipFolder : IDisposable
{
    private readonly TempDir _dir = TestEnvironment.NewTempDir();

    public TinyClipFolder()
    {
        var text = JsonNode.Parse(File.ReadAllText(Path.Combine(TestEnvironment.Golden("clip_text"), "config.json")))!;
        var vision = JsonNode.Parse(File.ReadAllText(Path.Combine(TestEnvironment.Golden("clip_vision"), "config.json")))!;
        File.WriteAllText(Path.Combine(Root, "config.json"), new JsonObject { ["model_type"] = "clip", ["text_config"] = text, ["vision_config"] = vision }.ToJsonString());
        var weights = StateDict.Read(Path.Combine(TestEnvironment.Golden("clip_text"), "weights.safetensors"))
            .Concat(StateDict.Read(Path.Combine(TestEnvironment.Golden("clip_vision"), "weights.safetensors")));
        StateDict.Write(Path.Combine(Root, "model.safetensors"), weights, overwrite: false);
        foreach (var f in new[] { "vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json" })
        {
            File.CreateSymbolicLink(Path.Combine(Root, f), Path.Combine(TestEnvironment.Golden("clip_tokenizer"), f));
        }
    }

    public string Root => _dir.Path;

    public void Dispose() => _dir.Dispose();
}
