using MindAnimator.Config;
using MindAnimator.Models.Decoders;

namespace MindAnimator.Training;

/// <summary>Builds a decoder and its training task from the run config (what `mindanim train KIND` needs).</summary>
public static class DecoderTaskFactory
{
    public static readonly IReadOnlyList<string> Kinds = new[] { "semantic", "structure", "motion" };

    /// <summary>A freshly initialised decoder of <paramref name="kind"/> for <paramref name="voxels"/> input voxels, with its task.</summary>
    /// <remarks>The initial weights are seeded by the config's seed (and the kind), so a run is reproducible within and across processes.</remarks>
    /// <param name="kind">semantic, structure or motion.</param>
    /// <param name="config">The run config.</param>
    /// <param name="voxels">Input width.</param>
    /// <param name="captions">Caption augmentation of the semantic decoder (ignored by the others).</param>
    public static IDecoderTask Create(string kind, MindAnimatorConfig config, int voxels, CaptionAugmentation? captions = null)
    {
        var seed = config.Seed + (1000L * (Kinds.ToList().IndexOf(kind) + 1));
        return kind switch
        {
            "semantic" => new SemanticTask(FreshWeights.Build(seed, () => new SemanticDecoder(SemanticDecoderOptions.FromSettings(config.Semantic, voxels))), config.Semantic, captions),
            "structure" => new StructureTask(FreshWeights.Build(seed, () => new StructureDecoder(StructureDecoderOptions.FromSettings(config.Structure, voxels))), config.Structure),
            "motion" => new MotionTask(FreshWeights.Build(seed, () => new MotionGenerator(MotionGeneratorOptions.FromSettings(config.Motion, voxels))), config.Motion, config.Seed),
            _ => throw new MindAnimatorException($"unknown decoder '{kind}'; expected one of: {string.Join(", ", Kinds)}."),
        };
    }

    /// <summary>Trainer options of a run: seed and validation share from the config, the decoder's settings recorded in checkpoints.</summary>
    public static TrainerOptions Options(string kind, MindAnimatorConfig config, string runDirectory, bool resume) => new()
    {
        RunDirectory = runDirectory,
        Seed = config.Seed,
        ValidationFraction = config.Data.ValidationFraction,
        Resume = resume,
        Settings = kind switch
        {
            "semantic" => config.Semantic,
            "structure" => config.Structure,
            "motion" => config.Motion,
            _ => null,
        },
    };
}
