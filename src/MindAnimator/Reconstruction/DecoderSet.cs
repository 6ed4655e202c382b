using MindAnimator.Models.Decoders;
using MindAnimator.Training;
using static TorchSharp.torch;

namespace MindAnimator.Reconstruction;

/// <summary>
/// The three trained decoders a reconstruction needs, loaded from their checkpoints (the best validation epoch by
/// default). A path may be a training run folder (with checkpoints/best.json) or a checkpoint sidecar (.json).
/// </summary>
public sealed class DecoderSet : IDisposable
{
    private DecoderSet(SemanticDecoder semantic, StructureDecoder structure, MotionGenerator motion, IReadOnlyDictionary<string, string> sources)
    {
        Semantic = semantic;
        Structure = structure;
        Motion = motion;
        Sources = sources;
    }

    public SemanticDecoder Semantic { get; }

    public StructureDecoder Structure { get; }

    public MotionGenerator Motion { get; }

    /// <summary>The checkpoint sidecar each decoder came from.</summary>
    public IReadOnlyDictionary<string, string> Sources { get; }

    /// <summary>Input voxels (equal for all three decoders).</summary>
    public int Voxels => Semantic.Options.InputDim;

    /// <summary>Decoders already in memory (benchmarks, tests); disposed with the set.</summary>
    public static DecoderSet FromModels(SemanticDecoder semantic, StructureDecoder structure, MotionGenerator motion) =>
        new(semantic, structure, motion, new Dictionary<string, string> { ["semantic"] = "(in memory)", ["structure"] = "(in memory)", ["motion"] = "(in memory)" });

    /// <summary>
    /// Loads <paramref name="run"/>/semantic, /structure and /motion (the layout `demo` writes), each replaceable by an
    /// explicit path; checks that the three agree on the voxel count and that the motion tokens are the structure latent.
    /// </summary>
    public static DecoderSet Load(string? run, string? semantic, string? structure, string? motion, Device device)
    {
        string Sidecar(string kind, string? path)
        {
            path ??= run is null
                ? throw new MindAnimatorException($"no {kind} decoder: pass --run <folder with semantic/, structure/ and motion/ training runs> or --{kind} <run folder or checkpoint .json>.")
                : Path.Combine(run, kind);
            var file = path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? path : Path.Combine(path, "checkpoints", DecoderTrainer.BestSidecar);
            if (!File.Exists(file))
            {
                throw new MindAnimatorException($"{file}: the {kind} decoder's checkpoint is missing (train it with `mindanim train {kind} -o {path}`).");
            }
            var sidecar = DecoderCheckpoint.ReadSidecar(file);
            if (sidecar.Kind != kind)
            {
                throw new DataFormatException(file, $"kind: expected a {kind} decoder checkpoint, found '{sidecar.Kind}'.");
            }
            return file;
        }

        var files = DecoderTaskFactory.Kinds.ToDictionary(k => k, k => Sidecar(k, k switch { "semantic" => semantic, "structure" => structure, _ => motion }));
        var s = (SemanticDecoder)DecoderCheckpoint.LoadModel(files["semantic"], device);
        var st = (StructureDecoder)DecoderCheckpoint.LoadModel(files["structure"], device);
        var m = (MotionGenerator)DecoderCheckpoint.LoadModel(files["motion"], device);
        var set = new DecoderSet(s, st, m, files);
        try
        {
            var voxels = new Dictionary<string, int> { ["semantic"] = s.Options.InputDim, ["structure"] = st.Options.InputDim, ["motion"] = m.Options.InputDim };
            if (voxels.Values.Distinct().Count() != 1)
            {
                throw new MindAnimatorException("the decoders were trained on different voxel counts: "
                    + string.Join(", ", voxels.Select(kv => $"{kv.Key} {kv.Value} ({files[kv.Key]})")) + ".");
            }
            if (st.Options.OutputDim != m.Options.ModelDim)
            {
                throw new MindAnimatorException($"the structure decoder predicts {st.Options.OutputDim} latent values ({files["structure"]}) but the motion decoder's "
                    + $"frame tokens have {m.Options.ModelDim} ({files["motion"]}); both must be the flattened first-frame latent.");
            }
            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Semantic.Dispose();
        Structure.Dispose();
        Motion.Dispose();
    }
}
