using static TorchSharp.torch;

namespace MindAnimator.Training;

/// <summary>
/// The random streams of a training run, each its own generator so none disturbs another: the order of the batches,
/// dropout masks, augmentation (voxel dropout, the seeds of caption augmentation and the sparse attention masks). Their states are saved in every
/// checkpoint and restored on resume, so a resumed run draws exactly what the uninterrupted run would have.
/// </summary>
public sealed class TrainingRandom : IDisposable
{
    public TrainingRandom(int seed)
    {
        Order = new Generator((ulong)seed * 3 + 1);
        Dropout = new Generator((ulong)seed * 3 + 2);
        Augment = new Generator((ulong)seed * 3 + 3);
    }

    public Generator Order { get; }

    public Generator Dropout { get; }

    public Generator Augment { get; }

    /// <summary>Generator states as base64 strings, by name.</summary>
    public Dictionary<string, string> SaveStates() => new()
    {
        ["order"] = Save(Order),
        ["dropout"] = Save(Dropout),
        ["augment"] = Save(Augment),
    };

    public void RestoreStates(IReadOnlyDictionary<string, string> states, string source)
    {
        Restore(Order, states, "order", source);
        Restore(Dropout, states, "dropout", source);
        Restore(Augment, states, "augment", source);
    }

    public void Dispose()
    {
        Order.Dispose();
        Dropout.Dispose();
        Augment.Dispose();
    }

    private static string Save(Generator g)
    {
        using var state = g.get_state();
        return Convert.ToBase64String(state.data<byte>().ToArray());
    }

    private static void Restore(Generator g, IReadOnlyDictionary<string, string> states, string name, string source)
    {
        if (!states.TryGetValue(name, out var text))
        {
            throw new MindAnimatorException($"{source}: checkpoint lacks the '{name}' generator state; cannot resume exactly.");
        }
        var bytes = Convert.FromBase64String(text);
        using var state = tensor(bytes, dtype: ScalarType.Byte);
        g.set_state(state);
    }
}
