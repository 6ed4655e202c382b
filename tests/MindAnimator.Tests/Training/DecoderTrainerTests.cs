using System.Text.Json;
using MindAnimator.Models.Decoders;
using MindAnimator.Tests.Infrastructure;
using MindAnimator.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Tests.Training;

public class DecoderTrainerTests
{
    private const int Seed = 77;

    [Theory]
    [InlineData("semantic")]
    [InlineData("semantic-eda")]
    [InlineData("structure")]
    [InlineData("motion")]
    [InlineData("motion-fixed")]
    public void Resume_after_a_stop_ends_with_the_same_weights_as_an_uninterrupted_run(string kind)
    {
        const int epochs = 4;
        const int stopAfter = 2;
        using var data = TinyDecoders.Data();
        using var runA = TestEnvironment.NewTempDir();
        using var runB = TestEnvironment.NewTempDir();
        var a = TinyDecoders.Task(kind, epochs, Seed);
        var b = TinyDecoders.Task(kind, epochs, Seed);
        TinyDecoders.CopyWeights(a.Model, b.Model);

        var full = DecoderTrainer.Train(a, data, new TrainerOptions { RunDirectory = runA.Path, Seed = Seed, ValidationFraction = 0.25, Plot = false });
        Assert.Equal(epochs, full.EpochsCompleted);

        using var cts = new CancellationTokenSource();
        var stopped = DecoderTrainer.Train(b, data, new TrainerOptions
        {
            RunDirectory = runB.Path,
            Seed = Seed,
            ValidationFraction = 0.25,
            Plot = false,
            Cancellation = cts.Token,
            OnEpoch = r =>
            {
                if (r.Epoch + 1 == stopAfter)
                {
                    cts.Cancel();
                }
            },
        });
        Assert.True(stopped.Interrupted);
        Assert.Equal(stopAfter, stopped.EpochsCompleted);

        // A new process would build a fresh model with other random weights: the checkpoint must restore everything.
        var c = TinyDecoders.Task(kind, epochs, Seed);
        var resumed = DecoderTrainer.Train(c, data, new TrainerOptions { RunDirectory = runB.Path, Seed = Seed, ValidationFraction = 0.25, Plot = false, Resume = true });
        Assert.Equal(epochs, resumed.EpochsCompleted);
        Assert.False(resumed.Interrupted);

        var expected = a.Model.state_dict();
        foreach (var (name, t) in c.Model.state_dict())
        {
            Assert.True(Same(expected[name], t), $"{kind}: {name} differs after resume");
        }
        Assert.Equal(full.History.Select(r => (r.TrainLoss, r.ValidationLoss, r.LearningRate)), resumed.History.Select(r => (r.TrainLoss, r.ValidationLoss, r.LearningRate)));
        // The runs must actually have trained (weights moved away from the start).
        Assert.NotEqual(full.History[0].TrainLoss, full.History[^1].TrainLoss);
        if (a is SemanticTask { Captions: { } captions })
        {
            // Augmented captions came from the checkpointed stream: the resumed half augmented as the full run did.
            Assert.Equal(epochs * 18, captions.Augmented);
            Assert.Equal(stopAfter * 18, ((SemanticTask)b).Captions!.Augmented);
            Assert.Equal((epochs - stopAfter) * 18, ((SemanticTask)c).Captions!.Augmented);
        }
    }

    [Fact]
    public void A_crash_in_the_middle_of_an_epoch_resumes_from_the_last_checkpoint_exactly()
    {
        using var data = TinyDecoders.Data();
        using var runA = TestEnvironment.NewTempDir();
        using var runB = TestEnvironment.NewTempDir();
        var a = TinyDecoders.Task("structure", 4, Seed);
        var b = TinyDecoders.Task("structure", 4, Seed);
        TinyDecoders.CopyWeights(a.Model, b.Model);
        DecoderTrainer.Train(a, data, new TrainerOptions { RunDirectory = runA.Path, Seed = Seed, ValidationFraction = 0.25, Plot = false });

        // Dies on the 2nd batch of the 3rd epoch (18 training clips, batches of 5: 4 batches an epoch).
        var crashing = new CrashingTask(b, crashAtCall: 10);
        Assert.Throws<InvalidOperationException>(() => DecoderTrainer.Train(crashing, data, new TrainerOptions { RunDirectory = runB.Path, Seed = Seed, ValidationFraction = 0.25, Plot = false }));
        Assert.Equal(2, DecoderCheckpoint.ReadSidecar(Path.Combine(runB.Path, "checkpoints", DecoderTrainer.LastSidecar)).Epoch);

        var c = TinyDecoders.Task("structure", 4, Seed);
        DecoderTrainer.Train(c, data, new TrainerOptions { RunDirectory = runB.Path, Seed = Seed, ValidationFraction = 0.25, Plot = false, Resume = true });
        var expected = a.Model.state_dict();
        foreach (var (name, t) in c.Model.state_dict())
        {
            Assert.True(Same(expected[name], t), $"{name} differs after resuming from a crash");
        }
    }

    [Fact]
    public void Run_writes_curves_metrics_and_loadable_checkpoints()
    {
        using var data = TinyDecoders.Data();
        using var run = TestEnvironment.NewTempDir();
        var task = TinyDecoders.Task("structure", 3, Seed);
        var result = DecoderTrainer.Train(task, data, new TrainerOptions { RunDirectory = run.Path, Seed = Seed, ValidationFraction = 0.25 });

        var csv = File.ReadAllLines(run.File("loss_curve.csv"));
        Assert.Equal("epoch,train_loss,train_main,validation_loss,learning_rate,seconds", csv[0]);
        Assert.Equal(3, csv.Length - 1);
        var png = File.ReadAllBytes(run.File("loss_curve.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png.Take(4));
        using var metrics = JsonDocument.Parse(File.ReadAllText(run.File("metrics.json")));
        Assert.Equal("structure", metrics.RootElement.GetProperty("kind").GetString());
        Assert.Equal(3, metrics.RootElement.GetProperty("epochs_completed").GetInt32());
        Assert.Equal(18, metrics.RootElement.GetProperty("train_clips").GetInt32());
        Assert.Equal(6, metrics.RootElement.GetProperty("validation_clips").GetInt32());
        Assert.Equal(data.Fingerprint, metrics.RootElement.GetProperty("data_fingerprint").GetString());

        // The last checkpoint rebuilds the trained model from its sidecar alone.
        using var loaded = (StructureDecoder)DecoderCheckpoint.LoadModel(result.LastCheckpoint);
        task.Model.eval();
        using var noGrad = no_grad();
        using var x = data.Fmri.narrow(0, 0, 3);
        Assert.True(Same(((StructureDecoder)task.Model).forward(x), loaded.forward(x)));
        var best = DecoderCheckpoint.ReadSidecar(result.BestCheckpoint);
        Assert.Equal(result.BestEpoch + 1, best.Epoch);
        Assert.Null(best.Optimizer);
        // Only the newest epoch's weights and optimizer state are kept besides best.safetensors.
        Assert.Equal(2, Directory.GetFiles(Path.Combine(run.Path, "checkpoints"), "epoch-*").Length);
    }

    [Fact]
    public void Early_stopping_ends_the_run_when_validation_stops_improving()
    {
        using var data = TinyDecoders.Data();
        using var run = TestEnvironment.NewTempDir();
        // A zero learning rate leaves the validation loss unchanged after the first epoch.
        var task = TinyDecoders.Task("semantic", 10, Seed, patience: 2, lr: 0);
        var result = DecoderTrainer.Train(task, data, new TrainerOptions { RunDirectory = run.Path, Seed = Seed, ValidationFraction = 0.25, Plot = false });
        Assert.True(result.StoppedEarly);
        Assert.Equal(3, result.EpochsCompleted);
        Assert.Equal(0, result.BestEpoch);
    }

    [Fact]
    public void Misaligned_data_and_mismatched_runs_fail_with_clear_messages()
    {
        var missing = Assert.Throws<MindAnimatorException>(() => TinyDecoders.Data(dropFromTargets: new[] { "clip007" }));
        Assert.Contains("clip007", missing.Message);

        using var wide = TinyDecoders.Data(voxels: TinyDecoders.Voxels + 3);
        using var run = TestEnvironment.NewTempDir();
        var voxels = Assert.Throws<MindAnimatorException>(() => DecoderTrainer.Train(TinyDecoders.Task("motion", 1, Seed), wide, new TrainerOptions { RunDirectory = run.Path, Seed = Seed }));
        Assert.Contains($"{TinyDecoders.Voxels} voxels", voxels.Message);
        Assert.Contains($"{TinyDecoders.Voxels + 3}", voxels.Message);

        using var data = TinyDecoders.Data();
        DecoderTrainer.Train(TinyDecoders.Task("structure", 1, Seed), data, new TrainerOptions { RunDirectory = run.Path, Seed = Seed, Plot = false });
        var again = Assert.Throws<MindAnimatorException>(() => DecoderTrainer.Train(TinyDecoders.Task("structure", 2, Seed), data, new TrainerOptions { RunDirectory = run.Path, Seed = Seed, Plot = false }));
        Assert.Contains("--resume", again.Message);
        var seed = Assert.Throws<MindAnimatorException>(() => DecoderTrainer.Train(TinyDecoders.Task("structure", 2, Seed), data, new TrainerOptions { RunDirectory = run.Path, Seed = Seed + 1, Resume = true, Plot = false }));
        Assert.Contains("seed", seed.Message);
        using var other = TinyDecoders.Data(seed: 6);
        var fingerprint = Assert.Throws<MindAnimatorException>(() => DecoderTrainer.Train(TinyDecoders.Task("structure", 2, Seed), other, new TrainerOptions { RunDirectory = run.Path, Seed = Seed, Resume = true, Plot = false }));
        Assert.Contains("training data differ", fingerprint.Message);
        var kind = Assert.Throws<MindAnimatorException>(() => DecoderTrainer.Train(TinyDecoders.Task("motion", 2, Seed), data, new TrainerOptions { RunDirectory = run.Path, Seed = Seed, Resume = true, Plot = false }));
        Assert.Contains("structure", kind.Message);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Fact]
    public void Dataset_aligns_targets_to_fmri_order_by_clip_id()
    {
        var ids = new[] { "b", "a", "c" };
        using var fmri = arange(6, dtype: ScalarType.Float32).view(3, 2);
        using var target = tensor(new float[] { 10, 20, 30, 40 }).view(4, 1);
        using var data = DecoderDataset.Align(new ClipTable(ids, fmri), new Dictionary<string, ClipTable> { ["t"] = new(new[] { "a", "x", "c", "b" }, target) });
        Assert.Equal(new float[] { 40, 10, 30 }, data.Target("t").data<float>().ToArray());
        var duplicate = Assert.Throws<MindAnimatorException>(() => DecoderDataset.Align(new ClipTable(new[] { "a", "a", "c" }, fmri), new Dictionary<string, ClipTable>()));
        Assert.Contains("'a'", duplicate.Message);
    }

    /// <summary>Delegates to a task and throws on a given training-loss call, as a process killed mid-epoch.</summary>
    private sealed class CrashingTask(IDecoderTask inner, int crashAtCall) : IDecoderTask
    {
        private int _calls;

        public string Kind => inner.Kind;

        public nn.Module Model => inner.Model;

        public object ModelOptions => inner.ModelOptions;

        public MindAnimator.Config.TrainingSettings Training => inner.Training;

        public IReadOnlyList<string> RequiredTargets => inner.RequiredTargets;

        public double LearningRate(int epoch, long step) => inner.LearningRate(epoch, step);

        public (Tensor Loss, double Main) TrainLoss(DecoderDataset data, Tensor rows, int epoch, TrainingRandom random) =>
            ++_calls == crashAtCall ? throw new InvalidOperationException("killed") : inner.TrainLoss(data, rows, epoch, random);

        public double ValidationLoss(DecoderDataset data, Tensor rows) => inner.ValidationLoss(data, rows);

        public IReadOnlyDictionary<string, object> Describe() => inner.Describe();
    }
}
