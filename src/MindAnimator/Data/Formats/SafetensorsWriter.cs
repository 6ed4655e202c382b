using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace MindAnimator.Data.Formats;

/// <summary>One tensor to write: its name, safetensors dtype (F32, U8, I64…), shape and little-endian bytes.</summary>
public sealed record SafetensorsEntry(string Name, string Dtype, long[] Shape, ReadOnlyMemory<byte> Data);

/// <summary>
/// Writes the safetensors format (<c>[u64 header size][JSON header][data]</c>, header padded to 8 bytes) atomically;
/// any safetensors reader (Python's, TorchSharp.PyBridge) opens the result.
/// </summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyList<SafetensorsEntry> entries, bool overwrite, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        long offset = 0;
        foreach (var e in entries)
        {
            if (header.ContainsKey(e.Name) || e.Name == "__metadata__")
            {
                throw new ArgumentException($"tensor name '{e.Name}' is used twice or reserved", nameof(entries));
            }
            header[e.Name] = new JsonObject
            {
                ["dtype"] = e.Dtype,
                ["shape"] = new JsonArray(e.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + e.Data.Length),
            };
            offset += e.Data.Length;
        }
        if (metadata is { Count: > 0 })
        {
            header["__metadata__"] = new JsonObject(metadata.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value)));
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;
        AtomicFile.Write(path, overwrite, stream =>
        {
            Span<byte> size = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(size, (ulong)padded);
            stream.Write(size);
            stream.Write(json);
            for (var i = json.Length; i < padded; i++)
            {
                stream.WriteByte((byte)' ');
            }
            foreach (var e in entries)
            {
                stream.Write(e.Data.Span);
            }
        });
    }

    /// <summary>A float32 entry (little-endian, as on every platform .NET runs on here).</summary>
    public static SafetensorsEntry Float32(string name, float[] values, params long[] shape)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != values.Length)
        {
            throw new ArgumentException($"tensor '{name}': {values.Length} values do not fill shape [{string.Join(",", shape)}]", nameof(values));
        }
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return new SafetensorsEntry(name, "F32", shape, bytes);
    }
}
