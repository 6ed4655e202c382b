namespace MindAnimator.Diffusion;

/// <summary>Finds the weights file of one component folder of a diffusers-format model.</summary>
public static class DiffusersWeights
{
    /// <summary>
    /// The first of `{stem}.safetensors`, `{stem}.bin` in <paramref name="folder"/>
    /// (stem "diffusion_pytorch_model" for diffusers models, "model"/"pytorch_model" for transformers ones).
    /// </summary>
    public static string Find(string folder, params string[] stems)
    {
        var candidates = new List<string>();
        foreach (var stem in stems)
        {
            candidates.Add(stem + ".safetensors");
            if (stem == "model")
            {
                candidates.Add("pytorch_model.bin");
            }
            else
            {
                candidates.Add(stem + ".bin");
            }
        }
        foreach (var name in candidates)
        {
            var path = Path.Combine(folder, name);
            if (File.Exists(path))
            {
                return path;
            }
        }
        throw new MindAnimatorException($"{folder}: no weights file found (expected one of {string.Join(", ", candidates.Distinct())}).");
    }
}
