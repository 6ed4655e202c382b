using System.Text.Json;
using System.Text.Json.Serialization;
using MindAnimator.Models.Common;
using MindAnimator.Models.Decoders;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MindAnimator.Training;

/// <summary>One row of the loss curve.</summary>
public sealed record EpochRecord(int Epoch, double TrainLoss, double TrainMain, double ValidationLoss, double LearningRate, double Seconds);

/// <summary>
/// The JSON beside a checkpoint's weights: what built the model, which data and seed trained it, how far, and everything a
/// resume needs to continue exactly (optimizer state file, generator states, early-stopping counters, loss history).
/// </summary>
public sealed record CheckpointSidecar
{
    public const string CurrentFormat = "mindanim-decoder-checkpoint/1";

    public string Format { get; init; } = CurrentFormat;

    public required string Kind { get; init; }

    /// <summary>The model's size options (SemanticDecoderOptions, StructureDecoderOptions or MotionGeneratorOptions).</summary>
    public required JsonElement ModelOptions { get; init; }

    /// <summary>The decoder and training settings of the run (informative).</summary>
    public JsonElement? Settings { get; init; }

    public required int Seed { get; init; }

    public required string DataFingerprint { get; init; }

    public int TrainClips { get; init; }

    public int ValidationClips { get; init; }

    /// <summary>Epochs completed (the next epoch to run, 0-based).</summary>
    public required int Epoch { get; init; }

    /// <summary>Optimiser steps taken so far (the Noam schedule's clock).</summary>
    public long GlobalStep { get; init; }

    public int BestEpoch { get; init; } = -1;

    public double BestValidationLoss { get; init; } = double.PositiveInfinity;

    public int EpochsWithoutImprovement { get; init; }

    public bool StoppedEarly { get; init; }

    /// <summary>Weights file (safetensors), relative to the sidecar's folder.</summary>
    public required string Weights { get; init; }

    /// <summary>Optimizer state file (TorchSharp's format), relative to the sidecar's folder; null in weights-only checkpoints.</summary>
    public string? Optimizer { get; init; }

    public Dictionary<string, string> Generators { get; init; } = new();

    public List<EpochRecord> History { get; init; } = new();

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>Reads and writes decoder checkpoints (safetensors weights + JSON sidecar) and the authors' .pth files.</summary>
public static class DecoderCheckpoint
{
    /// <summary>Writes the sidecar atomically (temp file + rename), so a reader sees the old or the new one, never half.</summary>
    public static void WriteSidecar(string path, CheckpointSidecar sidecar)
    {
        var tmp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, JsonSerializer.Serialize(sidecar, CheckpointSidecar.Json));
        File.Move(tmp, path, overwrite: true);
    }

    public static CheckpointSidecar ReadSidecar(string path)
    {
        if (!File.Exists(path))
        {
            throw new MindAnimatorException($"{path}: checkpoint sidecar not found.");
        }
        CheckpointSidecar? sidecar;
        try
        {
            sidecar = JsonSerializer.Deserialize<CheckpointSidecar>(File.ReadAllText(path), CheckpointSidecar.Json);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"not a decoder checkpoint sidecar ({e.Message}).", e);
        }
        if (sidecar is null || sidecar.Format != CheckpointSidecar.CurrentFormat)
        {
            throw new DataFormatException(path, $"expected format '{CheckpointSidecar.CurrentFormat}', found '{sidecar?.Format}'.");
        }
        return sidecar;
    }

    /// <summary>Saves the model's state dict as safetensors (names as the reference's state_dict()).</summary>
    public static void SaveWeights(nn.Module model, string path)
    {
        var tmp = path + ".tmp-" + Environment.ProcessId;
        model.save_safetensors(tmp);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>
    /// Loads weights strictly by name from .safetensors or the authors' zip-format .pth files (torch.save(model.state_dict())),
    /// listing missing, unexpected and mis-shaped keys when they do not fit.
    /// </summary>
    public static void LoadWeights(nn.Module model, string path)
    {
        var weights = StateDict.Read(path);
        try
        {
            // Some writers store the 0-d logit_scale as shape [1]; a one-element tensor takes the model's shape.
            var target = model.state_dict();
            foreach (var (name, t) in weights.ToList())
            {
                if (target.TryGetValue(name, out var dst) && t.numel() == 1 && dst.numel() == 1 && !t.shape.SequenceEqual(dst.shape))
                {
                    weights[name] = t.reshape(dst.shape);
                    t.Dispose();
                }
            }
            StateDict.Load(model, weights, path);
        }
        finally
        {
            foreach (var t in weights.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>The options a sidecar recorded, as <typeparamref name="T"/> (e.g. <see cref="MotionGeneratorOptions"/>).</summary>
    public static T ReadOptions<T>(CheckpointSidecar sidecar, string source)
    {
        try
        {
            return sidecar.ModelOptions.Deserialize<T>(CheckpointSidecar.Json)
                ?? throw new DataFormatException(source, "model_options is empty.");
        }
        catch (JsonException e)
        {
            throw new DataFormatException(source, $"model_options do not describe a {typeof(T).Name} ({e.Message}).", e);
        }
    }

    /// <summary>Builds the decoder a sidecar describes and loads its weights.</summary>
    public static nn.Module LoadModel(string sidecarPath, Device? device = null)
    {
        var sidecar = ReadSidecar(sidecarPath);
        nn.Module model = sidecar.Kind switch
        {
            "semantic" => new SemanticDecoder(ReadOptions<SemanticDecoderOptions>(sidecar, sidecarPath)),
            "structure" => new StructureDecoder(ReadOptions<StructureDecoderOptions>(sidecar, sidecarPath)),
            "motion" => new MotionGenerator(ReadOptions<MotionGeneratorOptions>(sidecar, sidecarPath)),
            _ => throw new DataFormatException(sidecarPath, $"unknown decoder kind '{sidecar.Kind}'."),
        };
        LoadWeights(model, Path.Combine(Path.GetDirectoryName(Path.GetFullPath(sidecarPath))!, sidecar.Weights));
        if (device is not null)
        {
            model.to(device);
        }
        model.eval();
        return model;
    }
}
