using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MindAnimator.Models.Decoders;
using Serilog;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Training;

/// <summary>How a training run is driven (sizes and schedules come from the task's settings).</summary>
public sealed record TrainerOptions
{
    /// <summary>Folder of the run: checkpoints/, loss_curve.csv/.png, metrics.json.</summary>
    public required string RunDirectory { get; init; }

    public int Seed { get; init; } = 1234;

    /// <summary>Share of the clips held out for validation: the last ⌈fraction·N⌉ clips in clip order, as the official scripts (4000 + 320).</summary>
    public double ValidationFraction { get; init; } = 320.0 / 4320.0;

    /// <summary>Continue from checkpoints/last.json (same model options, seed and data required).</summary>
    public bool Resume { get; init; }

    /// <summary>Write loss_curve.png (ScottPlot) beside the CSV.</summary>
    public bool Plot { get; init; } = true;

    /// <summary>Called after each epoch's checkpoint is on disk.</summary>
    public Action<EpochRecord>? OnEpoch { get; init; }

    /// <summary>Checked after each epoch's checkpoint: a cancelled run stops there and can be resumed.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Extra settings recorded in the sidecar (informative).</summary>
    public object? Settings { get; init; }

    /// <summary>
    /// Where the model and the data are put for training (null: where they are). Random draws stay on the CPU
    /// generators and are moved, so a run draws the same masks and batches on any device.
    /// </summary>
    public Device? Device { get; init; }
}

/// <summary>What a run ended with.</summary>
public sealed record TrainingResult(int EpochsCompleted, int BestEpoch, double BestValidationLoss, bool StoppedEarly, bool Interrupted,
    IReadOnlyList<EpochRecord> History, string LastCheckpoint, string BestCheckpoint);

/// <summary>
/// Trains a decoder on in-memory data: seeded train/validation split, Adam, per-epoch checkpoints that resume exactly,
/// early stopping on the validation loss, loss curves (CSV + PNG) and metrics.json.
/// </summary>
public static class DecoderTrainer
{
    public const string LastSidecar = "last.json";
    public const string BestSidecar = "best.json";

    public static TrainingResult Train(IDecoderTask task, DecoderDataset data, TrainerOptions options, ILogger? log = null)
    {
        log ??= Log.ForContext(typeof(DecoderTrainer));
        CheckData(task, data);
        var training = task.Training;
        var (trainRows, validationRows) = Split(data.Count, options.ValidationFraction);
        var checkpoints = Path.Combine(options.RunDirectory, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        var model = task.Model;
        if (options.Device is not null)
        {
            model.to(options.Device);
        }
        using var moved = options.Device is null || options.Device.type == data.Fmri.device_type ? null : data.To(options.Device);
        data = moved ?? data;
        var modelOptions = JsonSerializer.SerializeToElement(task.ModelOptions, task.ModelOptions.GetType(), CheckpointSidecar.Json);

        using var random = new TrainingRandom(options.Seed);
        DropoutGenerators.Set(model, random.Dropout);
        var parameters = model.parameters().ToList();
        using var optimizer = optim.Adam(parameters, training.LearningRate > 0 ? training.LearningRate : 1e-3, training.AdamBeta1, training.AdamBeta2, training.AdamEpsilon);

        var history = new List<EpochRecord>();
        var startEpoch = 0;
        long step = 0;
        var bestEpoch = -1;
        var bestLoss = double.PositiveInfinity;
        var sinceBest = 0;
        var stoppedEarly = false;
        var lastPath = Path.Combine(checkpoints, LastSidecar);
        if (options.Resume)
        {
            var sidecar = DecoderCheckpoint.ReadSidecar(lastPath);
            CheckResume(sidecar, task.Kind, modelOptions, options.Seed, data.Fingerprint, lastPath);
            DecoderCheckpoint.LoadWeights(model, Path.Combine(checkpoints, sidecar.Weights));
            optimizer.load_state_dict(Path.Combine(checkpoints, sidecar.Optimizer
                ?? throw new DataFormatException(lastPath, "weights-only checkpoint; cannot resume training.")));
            random.RestoreStates(sidecar.Generators, lastPath);
            history.AddRange(sidecar.History);
            (startEpoch, step, bestEpoch, bestLoss, sinceBest, stoppedEarly) =
                (sidecar.Epoch, sidecar.GlobalStep, sidecar.BestEpoch, sidecar.BestValidationLoss, sidecar.EpochsWithoutImprovement, sidecar.StoppedEarly);
            log.Information("Resuming {Kind} training at epoch {Epoch} of {Epochs} (step {Step}) from {Path}", task.Kind, startEpoch, training.Epochs, step, lastPath);
        }
        else if (File.Exists(lastPath))
        {
            throw new MindAnimatorException($"{lastPath}: a training run is already here; pass --resume to continue it or choose another folder.");
        }

        log.Information("Training {Kind} decoder: {Train} train / {Val} validation clips, {Params:N0} parameters, batch {Batch}, epochs {Start}..{Epochs}",
            task.Kind, trainRows.Length, validationRows.Length, parameters.Sum(p => p.numel()), training.BatchSize, startEpoch, training.Epochs);
        var interrupted = false;
        for (var epoch = startEpoch; epoch < training.Epochs && !stoppedEarly; epoch++)
        {
            var watch = Stopwatch.StartNew();
            model.train();
            var (trainLoss, trainMain, lastRate) = RunTrainingEpoch(task, data, trainRows, training.BatchSize, epoch, random, optimizer, ref step);
            model.eval();
            var validationLoss = Validate(task, data, validationRows, training.BatchSize);
            var record = new EpochRecord(epoch, trainLoss, trainMain, validationLoss, lastRate, watch.Elapsed.TotalSeconds);
            history.Add(record);

            var improved = validationRows.Length == 0 ? epoch == 0 || trainMain < bestLoss : validationLoss < bestLoss;
            if (improved)
            {
                bestLoss = validationRows.Length == 0 ? trainMain : validationLoss;
                bestEpoch = epoch;
                sinceBest = 0;
            }
            else
            {
                sinceBest++;
            }
            stoppedEarly = training.EarlyStoppingPatience > 0 && sinceBest >= training.EarlyStoppingPatience;

            // Files first, sidecar last: a kill between them leaves the previous sidecar valid.
            var weights = $"epoch-{epoch + 1:D4}.safetensors";
            var optimizerFile = $"epoch-{epoch + 1:D4}.optimizer.bin";
            DecoderCheckpoint.SaveWeights(model, Path.Combine(checkpoints, weights));
            optimizer.save_state_dict(Path.Combine(checkpoints, optimizerFile));
            var sidecar = new CheckpointSidecar
            {
                Kind = task.Kind,
                ModelOptions = modelOptions,
                Settings = options.Settings is null ? null : JsonSerializer.SerializeToElement(options.Settings, options.Settings.GetType(), CheckpointSidecar.Json),
                Seed = options.Seed,
                DataFingerprint = data.Fingerprint,
                TrainClips = trainRows.Length,
                ValidationClips = validationRows.Length,
                Epoch = epoch + 1,
                GlobalStep = step,
                BestEpoch = bestEpoch,
                BestValidationLoss = bestLoss,
                EpochsWithoutImprovement = sinceBest,
                StoppedEarly = stoppedEarly,
                Weights = weights,
                Optimizer = optimizerFile,
                Generators = random.SaveStates(),
                History = history.ToList(),
            };
            var previous = File.Exists(lastPath) ? DecoderCheckpoint.ReadSidecar(lastPath) : null;
            DecoderCheckpoint.WriteSidecar(lastPath, sidecar);
            if (improved)
            {
                var bestWeights = Path.Combine(checkpoints, "best.safetensors");
                File.Copy(Path.Combine(checkpoints, weights), bestWeights + ".tmp", overwrite: true);
                File.Move(bestWeights + ".tmp", bestWeights, overwrite: true);
                DecoderCheckpoint.WriteSidecar(Path.Combine(checkpoints, BestSidecar), sidecar with { Weights = "best.safetensors", Optimizer = null, Generators = new() });
            }
            DeleteSuperseded(checkpoints, previous, sidecar);
            WriteCurves(options.RunDirectory, history, task.Kind, options.Plot, log);
            log.Information("{Kind} epoch {Epoch}/{Epochs}: train {Train:G5} (main {Main:G5}), validation {Val:G5}, lr {Lr:G4}, {Seconds:F1} s",
                task.Kind, epoch + 1, training.Epochs, trainLoss, trainMain, validationLoss, lastRate, record.Seconds);
            options.OnEpoch?.Invoke(record);
            if (options.Cancellation.IsCancellationRequested && epoch + 1 < training.Epochs && !stoppedEarly)
            {
                interrupted = true;
                log.Warning("{Kind} training stopped after epoch {Epoch}; continue with --resume", task.Kind, epoch + 1);
                break;
            }
        }
        if (stoppedEarly)
        {
            log.Information("{Kind} training stopped early: no validation improvement for {Patience} epochs (best epoch {Best})", task.Kind, training.EarlyStoppingPatience, bestEpoch + 1);
        }
        var result = new TrainingResult(history.Count, bestEpoch, bestLoss, stoppedEarly, interrupted, history, lastPath, Path.Combine(checkpoints, BestSidecar));
        WriteMetrics(options, task, data, trainRows.Length, validationRows.Length, parameters.Sum(p => p.numel()), result);
        return result;
    }

    /// <summary>Validation = the last ⌈fraction·N⌉ rows (contiguous, so temporally adjacent clips do not leak across the split).</summary>
    public static (long[] Train, long[] Validation) Split(int count, double fraction)
    {
        var validation = (int)Math.Ceiling(count * fraction);
        if (fraction > 0 && count - validation < 1)
        {
            throw new MindAnimatorException($"{count} clips are too few for a validation share of {fraction:P0}.");
        }
        var train = Enumerable.Range(0, count - validation).Select(i => (long)i).ToArray();
        var val = Enumerable.Range(count - validation, validation).Select(i => (long)i).ToArray();
        return (train, val);
    }

    private static void CheckData(IDecoderTask task, DecoderDataset data)
    {
        foreach (var name in task.RequiredTargets)
        {
            data.Target(name);
        }
        switch (task)
        {
            case SemanticTask s:
                s.Check(data);
                break;
            case StructureTask s:
                s.Check(data);
                break;
            case MotionTask m:
                m.Check(data);
                break;
        }
    }

    private static void CheckResume(CheckpointSidecar sidecar, string kind, JsonElement modelOptions, int seed, string fingerprint, string path)
    {
        if (sidecar.Kind != kind)
        {
            throw new MindAnimatorException($"{path}: the run trained a {sidecar.Kind} decoder, not {kind}.");
        }
        if (!JsonElement.DeepEquals(sidecar.ModelOptions, modelOptions))
        {
            throw new MindAnimatorException($"{path}: the model options differ from the run's ({JsonSerializer.Serialize(sidecar.ModelOptions)} vs {JsonSerializer.Serialize(modelOptions)}); resume with the same config.");
        }
        if (sidecar.Seed != seed)
        {
            throw new MindAnimatorException($"{path}: the run used seed {sidecar.Seed}, not {seed}; an exact resume needs the same seed.");
        }
        if (sidecar.DataFingerprint != fingerprint)
        {
            throw new MindAnimatorException($"{path}: the training data differ from the run's (fingerprint {sidecar.DataFingerprint[..12]}… vs {fingerprint[..12]}…).");
        }
    }

    private static (double Loss, double Main, double Rate) RunTrainingEpoch(IDecoderTask task, DecoderDataset data, long[] trainRows, int batchSize,
        int epoch, TrainingRandom random, optim.Optimizer optimizer, ref long step)
    {
        using var order = randperm(trainRows.Length, generator: random.Order);
        var permutation = order.data<long>().ToArray();
        double total = 0, main = 0, rate = 0;
        var batches = 0;
        for (var start = 0; start < permutation.Length; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var rows = tensor(permutation.Skip(start).Take(batchSize).Select(i => trainRows[i]).ToArray(), device: data.Fmri.device);
            step++;
            rate = task.LearningRate(epoch, step);
            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = rate;
            }
            optimizer.zero_grad();
            var (loss, lossMain) = task.TrainLoss(data, rows, epoch, random);
            loss.backward();
            optimizer.step();
            total += loss.item<float>();
            main += lossMain;
            batches++;
        }
        return batches == 0 ? (double.NaN, double.NaN, rate) : (total / batches, main / batches, rate);
    }

    private static double Validate(IDecoderTask task, DecoderDataset data, long[] rows, int batchSize)
    {
        if (rows.Length == 0)
        {
            return double.NaN;
        }
        using var noGrad = no_grad();
        double sum = 0;
        for (var start = 0; start < rows.Length; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = rows.Skip(start).Take(batchSize).ToArray();
            sum += task.ValidationLoss(data, tensor(batch, device: data.Fmri.device)) * batch.Length;
        }
        return sum / rows.Length;
    }

    private static void DeleteSuperseded(string folder, CheckpointSidecar? previous, CheckpointSidecar current)
    {
        if (previous is null)
        {
            return;
        }
        foreach (var file in new[] { previous.Weights, previous.Optimizer })
        {
            if (file is not null && file != current.Weights && file != current.Optimizer)
            {
                File.Delete(Path.Combine(folder, file));
            }
        }
    }

    private static void WriteCurves(string runDirectory, IReadOnlyList<EpochRecord> history, string kind, bool plot, ILogger log)
    {
        var csv = new StringBuilder("epoch,train_loss,train_main,validation_loss,learning_rate,seconds\n");
        foreach (var r in history)
        {
            csv.AppendLine(string.Join(',', new[] { (r.Epoch + 1).ToString(CultureInfo.InvariantCulture) }
                .Concat(new[] { r.TrainLoss, r.TrainMain, r.ValidationLoss, r.LearningRate, r.Seconds }.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
        }
        WriteText(Path.Combine(runDirectory, "loss_curve.csv"), csv.ToString());
        if (!plot)
        {
            return;
        }
        try
        {
            LossCurvePlot.Save(Path.Combine(runDirectory, "loss_curve.png"), history, $"{kind} decoder");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.Warning("Could not draw loss_curve.png ({Message}); the CSV is complete", e.Message);
        }
    }

    private static void WriteMetrics(TrainerOptions options, IDecoderTask task, DecoderDataset data, int train, int validation, long parameters, TrainingResult result)
    {
        var last = result.History.Count > 0 ? result.History[^1] : null;
        var metrics = new Dictionary<string, object?>
        {
            ["kind"] = task.Kind,
            ["epochs_completed"] = result.EpochsCompleted,
            ["epochs_planned"] = task.Training.Epochs,
            ["best_epoch"] = result.BestEpoch + 1,
            ["best_validation_loss"] = double.IsFinite(result.BestValidationLoss) ? result.BestValidationLoss : null,
            ["final_train_loss"] = last?.TrainLoss,
            ["final_validation_loss"] = last is not null && double.IsFinite(last.ValidationLoss) ? last.ValidationLoss : null,
            ["stopped_early"] = result.StoppedEarly,
            ["interrupted"] = result.Interrupted,
            ["seed"] = options.Seed,
            ["data_fingerprint"] = data.Fingerprint,
            ["train_clips"] = train,
            ["validation_clips"] = validation,
            ["parameters"] = parameters,
            ["settings"] = task.Describe(),
        };
        WriteText(Path.Combine(options.RunDirectory, "metrics.json"), JsonSerializer.Serialize(metrics, CheckpointSidecar.Json));
    }

    private static void WriteText(string path, string text)
    {
        var tmp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}

/// <summary>Draws the train/validation loss curves.</summary>
internal static class LossCurvePlot
{
    public static void Save(string path, IReadOnlyList<EpochRecord> history, string title)
    {
        var plot = new ScottPlot.Plot();
        var epochs = history.Select(r => (double)(r.Epoch + 1)).ToArray();
        var train = plot.Add.Scatter(epochs, history.Select(r => r.TrainMain).ToArray());
        train.LegendText = "train";
        var valid = history.Where(r => double.IsFinite(r.ValidationLoss)).ToList();
        if (valid.Count > 0)
        {
            var val = plot.Add.Scatter(valid.Select(r => (double)(r.Epoch + 1)).ToArray(), valid.Select(r => r.ValidationLoss).ToArray());
            val.LegendText = "validation";
        }
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("loss");
        plot.ShowLegend();
        var tmp = path + ".tmp-" + Environment.ProcessId + ".png";
        plot.SavePng(tmp, 800, 500);
        File.Move(tmp, path, overwrite: true);
    }
}
