using MindAnimator.Benchmarks;
using MindAnimator.Config;
using MindAnimator.Models.Decoders;
using TorchSharp;
using static TorchSharp.torch;

namespace MindAnimator.Training;

/// <summary>
/// `mindanim bench decoder-epoch-{semantic,structure,motion}`: one training epoch of a decoder at the paper's size
/// (4500 voxels, 19×768 head, d_model 16384, 4000 training + 320 validation clips, batch 64). A full epoch is timed as
/// a fixed number of batches (after one warm-up batch) on random data and extrapolated; the note says so.
/// </summary>
public sealed class DecoderEpochBenchmark : IBenchmark
{
    private const int Voxels = 4500;
    private const int TrainClips = 4000;
    private const int ValidationClips = 320;
    private readonly string _kind;

    public DecoderEpochBenchmark(string kind) => _kind = kind;

    public string Name => $"decoder-epoch-{_kind}";

    public string Description => $"one training epoch of the {_kind} decoder at the paper's size (4000 clips, batch 64), timed over a few batches and extrapolated";

    public IReadOnlyList<Measurement> Run(BenchmarkContext context)
    {
        var config = new MindAnimatorConfig();
        var timedBatches = context.Quick ? 1 : 3;
        using var task = new Holder(Build(config));
        var batch = task.Task.Training.BatchSize;
        var rows = batch * (timedBatches + 1);
        using var data = RandomData(config, rows);
        var model = task.Task.Model;
        var parameters = model.parameters().ToList();
        using var random = new TrainingRandom(config.Seed);
        DropoutGenerators.Set(model, random.Dropout);
        var t = task.Task.Training;
        using var optimizer = optim.Adam(parameters, t.LearningRate > 0 ? t.LearningRate : 1e-3, t.AdamBeta1, t.AdamBeta2, t.AdamEpsilon);
        long step = 0;
        void TrainBatch(int index)
        {
            using var scope = NewDisposeScope();
            var batchRows = arange(index * batch, (index + 1) * batch, dtype: ScalarType.Int64);
            step++;
            foreach (var g in optimizer.ParamGroups)
            {
                g.LearningRate = task.Task.LearningRate(0, step);
            }
            optimizer.zero_grad();
            var (loss, _) = task.Task.TrainLoss(data, batchRows, 0, random);
            loss.backward();
            optimizer.step();
        }
        model.train();
        var warmup = Measure.Seconds(() => TrainBatch(0));
        var timed = Measure.Seconds(() =>
        {
            for (var i = 1; i <= timedBatches; i++)
            {
                TrainBatch(i);
            }
        });
        model.eval();
        var validation = Measure.Seconds(() =>
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            task.Task.ValidationLoss(data, arange(0, batch, dtype: ScalarType.Int64));
        });
        var perBatch = timed / timedBatches;
        var trainBatches = (int)Math.Ceiling(TrainClips / (double)batch);
        var validationBatches = (int)Math.Ceiling(ValidationClips / (double)batch);
        var epoch = (perBatch * trainBatches) + (validation * validationBatches);
        var note = $"{timedBatches} batches of {batch} timed after a warm-up, × {trainBatches} + validation × {validationBatches}; {Environment.ProcessorCount} cores, torch threads {get_num_threads()}";
        context.Log.Information("{Name}: {PerBatch:F2} s per training batch, {Validation:F2} s per validation batch, epoch ≈ {Epoch:F0} s", Name, perBatch, validation, epoch);
        return new[]
        {
            new Measurement("epoch (extrapolated)", epoch, "s", note),
            new Measurement("training batch", perBatch, "s", $"warm-up batch {warmup:F2} s"),
            new Measurement("validation batch", validation, "s", _kind == "motion" ? "greedy decoding of 8 frames" : "forward + loss"),
            new Measurement("parameters", parameters.Sum(p => p.numel()), "count"),
            new Measurement("peak RSS", Measure.PeakRssMiB(), "MiB", $"model + Adam state + {rows} random clips"),
        };
    }

    private IDecoderTask Build(MindAnimatorConfig config) => _kind switch
    {
        "semantic" => new SemanticTask(new SemanticDecoder(SemanticDecoderOptions.FromSettings(config.Semantic, Voxels)), config.Semantic),
        "structure" => new StructureTask(new StructureDecoder(StructureDecoderOptions.FromSettings(config.Structure, Voxels)), config.Structure),
        "motion" => new MotionTask(new MotionGenerator(MotionGeneratorOptions.FromSettings(config.Motion, Voxels)), config.Motion, config.Seed),
        _ => throw new MindAnimatorException($"unknown decoder '{_kind}'"),
    };

    private static DecoderDataset RandomData(MindAnimatorConfig config, int rows)
    {
        using var g = new Generator((ulong)config.Seed);
        var ids = Enumerable.Range(0, rows).Select(i => $"clip{i}").ToArray();
        ClipTable Table(params long[] shape) => new(ids, randn(new long[] { rows }.Concat(shape).ToArray(), generator: g));
        var s = config.Semantic;
        return DecoderDataset.Align(Table(Voxels), new Dictionary<string, ClipTable>
        {
            ["clip_text"] = Table(s.ClipDim),
            ["clip_image"] = Table(s.ClipDim),
            ["tokens"] = Table(s.Tokens, s.TokenDim),
            ["first_frame"] = Table(config.Structure.OutputDim),
            ["latents"] = Table(config.Data.FramesPerClip, config.Motion.ModelDim),
        });
    }

    private sealed class Holder : IDisposable
    {
        public Holder(IDecoderTask task) => Task = task;

        public IDecoderTask Task { get; }

        public void Dispose() => Task.Model.Dispose();
    }
}
