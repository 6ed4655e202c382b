using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace MindAnimator.Training;

/// <summary>Rows of one tensor keyed by clip id: row i of <see cref="Values"/> belongs to <c>ClipIds[i]</c>.</summary>
public sealed record ClipTable(IReadOnlyList<string> ClipIds, Tensor Values);

/// <summary>
/// In-memory training data of a decoder: the fMRI matrix and named target tensors, aligned row by row on clip id
/// (row order = the fMRI table's order). Target names: <c>clip_text</c>, <c>clip_image</c>, <c>tokens</c> (semantic),
/// <c>first_frame</c> (structure), <c>latents</c> (motion, (N, frames, d_model)).
/// </summary>
public sealed class DecoderDataset : IDisposable
{
    private DecoderDataset(IReadOnlyList<string> clipIds, Tensor fmri, Dictionary<string, Tensor> targets, string fingerprint)
    {
        ClipIds = clipIds;
        Fmri = fmri;
        Targets = targets;
        Fingerprint = fingerprint;
    }

    public IReadOnlyList<string> ClipIds { get; }

    /// <summary>(N, voxels) float32.</summary>
    public Tensor Fmri { get; }

    public IReadOnlyDictionary<string, Tensor> Targets { get; }

    /// <summary>SHA-256 of the clip ids and every value, recorded in checkpoints so a resume refuses other data.</summary>
    public string Fingerprint { get; }

    public int Count => ClipIds.Count;

    public int Voxels => (int)Fmri.shape[1];

    public Tensor Target(string name) => Targets.TryGetValue(name, out var t)
        ? t
        : throw new MindAnimatorException($"training data has no '{name}' target; it has: {string.Join(", ", Targets.Keys)}.");

    /// <summary>
    /// Aligns every target table to the fMRI table by clip id. Clip ids must be unique; a clip of the fMRI table missing
    /// from a target table is an error naming the first such ids (targets may hold extra clips).
    /// </summary>
    public static DecoderDataset Align(ClipTable fmri, IReadOnlyDictionary<string, ClipTable> targets)
    {
        if (fmri.Values.dim() != 2 || fmri.Values.shape[0] != fmri.ClipIds.Count)
        {
            throw new MindAnimatorException($"fMRI: expected a (clips, voxels) matrix with one row per clip id, got [{string.Join(", ", fmri.Values.shape)}] for {fmri.ClipIds.Count} clip ids.");
        }
        CheckUnique("fMRI", fmri.ClipIds);
        var aligned = new Dictionary<string, Tensor>();
        foreach (var (name, table) in targets.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (table.Values.dim() < 2 || table.Values.shape[0] != table.ClipIds.Count)
            {
                throw new MindAnimatorException($"target '{name}': expected one row per clip id, got [{string.Join(", ", table.Values.shape)}] for {table.ClipIds.Count} clip ids.");
            }
            CheckUnique($"target '{name}'", table.ClipIds);
            var index = new Dictionary<string, long>(StringComparer.Ordinal);
            for (var i = 0; i < table.ClipIds.Count; i++)
            {
                index[table.ClipIds[i]] = i;
            }
            var missing = fmri.ClipIds.Where(id => !index.ContainsKey(id)).ToList();
            if (missing.Count > 0)
            {
                throw new MindAnimatorException(
                    $"target '{name}' lacks {missing.Count} of the {fmri.ClipIds.Count} clips that have fMRI (first: {string.Join(", ", missing.Take(5))}); compute the features for every clip.");
            }
            if (table.ClipIds.SequenceEqual(fmri.ClipIds, StringComparer.Ordinal))
            {
                // Already in order: no copy of what may be gigabytes of latents.
                aligned[name] = table.Values.to(ScalarType.Float32).contiguous();
                continue;
            }
            using var rows = tensor(fmri.ClipIds.Select(id => index[id]).ToArray());
            aligned[name] = table.Values.to(ScalarType.Float32).index_select(0, rows).contiguous();
        }
        var values = fmri.Values.to(ScalarType.Float32).contiguous();
        return new DecoderDataset(fmri.ClipIds.ToArray(), values, aligned, ComputeFingerprint(fmri.ClipIds, values, aligned));
    }

    /// <summary>A copy of the data on <paramref name="device"/> (same ids and fingerprint); the caller disposes it.</summary>
    public DecoderDataset To(Device device) =>
        new(ClipIds, Fmri.to(device), Targets.ToDictionary(kv => kv.Key, kv => kv.Value.to(device)), Fingerprint);

    public void Dispose()
    {
        Fmri.Dispose();
        foreach (var t in Targets.Values)
        {
            t.Dispose();
        }
    }

    private static void CheckUnique(string what, IReadOnlyList<string> ids)
    {
        var duplicate = ids.GroupBy(i => i, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new MindAnimatorException($"{what}: clip id '{duplicate.Key}' appears {duplicate.Count()} times.");
        }
    }

    private static string ComputeFingerprint(IReadOnlyList<string> ids, Tensor fmri, IReadOnlyDictionary<string, Tensor> targets)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var id in ids)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(id + "\n"));
        }
        Append(hash, "fmri", fmri);
        foreach (var (name, t) in targets)
        {
            Append(hash, name, t);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void Append(IncrementalHash hash, string name, Tensor t)
    {
        hash.AppendData(Encoding.UTF8.GetBytes($"{name}[{string.Join(",", t.shape)}]"));
        var values = t.data<float>();
        const long chunk = 1 << 20;
        for (long start = 0; start < values.Count; start += chunk)
        {
            var n = (int)Math.Min(chunk, values.Count - start);
            var buffer = new float[n];
            values.CopyTo(buffer, 0, start);
            hash.AppendData(MemoryMarshal.AsBytes(buffer.AsSpan()));
        }
    }
}
