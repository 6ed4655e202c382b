using System.Collections;
using MindAnimator.Data.Formats;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MindAnimator.Models.Common;

/// <summary>
/// Reads PyTorch-style state dicts (.safetensors, zip-format .bin/.pth) and copies them into modules by name,
/// with errors that list the mismatching keys (the strict loaders in TorchSharp do not).
/// </summary>
public static class StateDict
{
    /// <summary>Reads every tensor of a checkpoint onto the CPU, in the file's dtype.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: weights file not found.");
        }
        try
        {
            if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            {
                return Safetensors.LoadStateDict(path);
            }
            var table = PyTorchUnpickler.UnpickleStateDict(path);
            return Flatten(table, path);
        }
        catch (MindAnimatorException)
        {
            throw;
        }
        catch (Exception e)
        {
            throw new DataFormatException(path, $"cannot read weights ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Copies <paramref name="weights"/> into <paramref name="module"/> by name, converting dtype.
    /// Strict: every module entry must be present with the same shape and no checkpoint key may be left over,
    /// except keys in <paramref name="ignoreUnexpected"/> prefixes (e.g. a text_projection a text-only model lacks).
    /// </summary>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, Tensor> weights, string source, IEnumerable<string>? ignoreUnexpected = null)
    {
        var target = module.state_dict();
        var ignore = ignoreUnexpected?.ToArray() ?? Array.Empty<string>();
        var missing = target.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        var unexpected = weights.Keys.Where(k => !target.ContainsKey(k) && !ignore.Any(k.StartsWith)).ToList();
        var shapes = target.Where(kv => weights.TryGetValue(kv.Key, out var w) && !w.shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key}: checkpoint [{string.Join(",", weights[kv.Key].shape)}] vs model [{string.Join(",", kv.Value.shape)}]")
            .ToList();
        if (missing.Count + unexpected.Count + shapes.Count > 0)
        {
            throw new MindAnimatorException(
                $"{source}: weights do not match the model built from its config "
                + $"({missing.Count} missing, {unexpected.Count} unexpected, {shapes.Count} with another shape). "
                + Describe("missing", missing) + Describe("unexpected", unexpected) + Describe("shape", shapes));
        }
        using var noGrad = no_grad();
        foreach (var (name, dst) in target)
        {
            var src = weights[name];
            if (dst.device_type == DeviceType.META)
            {
                continue;
            }
            CopyConverted(dst, src);
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="destination"/>, converting dtype and device. The converted
    /// temporary is disposed here: left to the finalizer it can be freed while the native copy is still reading it
    /// (a GC between taking its handle and the call — a segfault in libtorch seen under parallel tests).
    /// </summary>
    public static void CopyConverted(Tensor destination, Tensor source)
    {
        var converted = source.to(destination.dtype, destination.device);
        try
        {
            destination.copy_(converted);
        }
        finally
        {
            if (!ReferenceEquals(converted, source))
            {
                converted.Dispose();
            }
        }
    }

    /// <summary>
    /// Writes a state dict as .safetensors in the given order: float tensors as F32, integer buffers (position ids) as
    /// I64 — what the reference checkpoints hold and <see cref="Read"/> reads back.
    /// </summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> weights, bool overwrite)
    {
        var entries = new List<SafetensorsEntry>();
        foreach (var (name, t) in weights)
        {
            using var c = t.detach().cpu().contiguous();
            entries.Add(c.dtype == ScalarType.Int64
                ? new SafetensorsEntry(name, "I64", c.shape, c.data<long>().ToArray().SelectMany(BitConverter.GetBytes).ToArray())
                : SafetensorsWriter.Float32(name, c.to(ScalarType.Float32).data<float>().ToArray(), c.shape));
        }
        SafetensorsWriter.Write(path, entries, overwrite);
    }

    /// <summary>Names of a diffusers model's weights (unet/, vae/), in order of preference.</summary>
    public static readonly string[] DiffusersWeightFiles = { "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin" };

    /// <summary>Names of a transformers model's weights (text_encoder/, a CLIP folder), in order of preference.</summary>
    public static readonly string[] TransformersWeightFiles = { "model.safetensors", "pytorch_model.bin" };

    /// <summary>The first of <paramref name="candidates"/> present in <paramref name="folder"/>; a clear error when none is.</summary>
    public static string FindWeights(string folder, IReadOnlyList<string> candidates)
    {
        foreach (var name in candidates)
        {
            var path = Path.Combine(folder, name);
            if (File.Exists(path))
            {
                return path;
            }
        }
        throw new MindAnimatorException($"{folder}: no weights file (expected {string.Join(" or ", candidates)}).");
    }

    /// <summary>Reads a checkpoint file and loads it strictly into the module.</summary>
    public static void LoadFile(nn.Module module, string path, IEnumerable<string>? ignoreUnexpected = null)
    {
        var weights = Read(path);
        try
        {
            Load(module, weights, path, ignoreUnexpected);
        }
        finally
        {
            foreach (var t in weights.Values)
            {
                t.Dispose();
            }
        }
    }

    private static string Describe(string what, List<string> keys) =>
        keys.Count == 0 ? string.Empty : $"First {what}: {string.Join("; ", keys.Take(8))}{(keys.Count > 8 ? " …" : string.Empty)}. ";

    private static Dictionary<string, Tensor> Flatten(Hashtable table, string path)
    {
        // Checkpoints saved as {"state_dict": {...}} or {"model": {...}} are unwrapped.
        foreach (var wrapper in new[] { "state_dict", "model", "module" })
        {
            if (table[wrapper] is Hashtable inner)
            {
                return Flatten(inner, path);
            }
        }
        var result = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry e in table)
        {
            if (e.Value is Tensor t)
            {
                result[(string)e.Key] = t;
            }
        }
        if (result.Count == 0)
        {
            throw new DataFormatException(path, "no tensors found in the checkpoint.");
        }
        return result;
    }
}
