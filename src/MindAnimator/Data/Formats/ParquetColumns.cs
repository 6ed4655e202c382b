using Parquet;
using Parquet.Schema;

namespace MindAnimator.Data.Formats;

/// <summary>
/// Reads plain columns of a Parquet row group tolerantly: files written by pandas/pyarrow have nullable columns and
/// int64 integers, ours have int32; both are accepted, and every problem becomes a <see cref="DataFormatException"/>
/// naming the file, the column and the row.
/// </summary>
internal sealed class ParquetColumns
{
    private readonly string path;
    private readonly Dictionary<string, Field> topLevel;

    public ParquetColumns(string path, ParquetSchema schema)
    {
        this.path = path;
        topLevel = schema.Fields.GroupBy(f => f.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    }

    /// <summary>Fails naming every column of <paramref name="names"/> the file lacks.</summary>
    public void RequireColumns(IEnumerable<string> names)
    {
        var missing = names.Where(n => !topLevel.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            throw new DataFormatException(path, $"missing column{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(m => $"'{m}'"))} (has: {string.Join(", ", topLevel.Keys)})");
        }
    }

    public DataField Data(string name, params Type[] accepted)
    {
        if (!topLevel.TryGetValue(name, out var f))
        {
            throw new DataFormatException(path, $"missing column '{name}'");
        }
        if (f is not DataField df || df.IsArray || !accepted.Contains(df.ClrType))
        {
            throw new DataFormatException(path, $"column '{name}' has type {Describe(f)}, expected {string.Join(" or ", accepted.Select(TypeName).Distinct())}");
        }
        return df;
    }

    /// <summary>The element field of a LIST column whose elements are one of <paramref name="accepted"/>.</summary>
    public DataField ListElement(string name, params Type[] accepted)
    {
        if (!topLevel.TryGetValue(name, out var f))
        {
            throw new DataFormatException(path, $"missing column '{name}'");
        }
        if (f is ListField { Item: DataField item } && accepted.Contains(item.ClrType))
        {
            return item;
        }
        if (f is DataField { IsArray: true } arr && accepted.Contains(arr.ClrType))
        {
            return arr;
        }
        throw new DataFormatException(path, $"column '{name}' has type {Describe(f)}, expected list<{string.Join(" or ", accepted.Select(TypeName))}>");
    }

    public async Task<string[]> ReadStringsAsync(ParquetRowGroupReader rg, string name, long firstRow, bool allowEmpty, CancellationToken ct)
    {
        var field = Data(name, typeof(string), typeof(ReadOnlyMemory<char>));
        var values = new string?[rg.RowCount];
        await rg.ReadAsync(field, values.AsMemory(), null, ct).ConfigureAwait(false);
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is null || (!allowEmpty && values[i]!.Length == 0))
            {
                throw new DataFormatException(path, $"column '{name}', row {firstRow + i}: {(values[i] is null ? "null" : "empty string")}, expected a non-empty string");
            }
        }
        return values!;
    }

    public async Task<int[]> ReadInt32Async(ParquetRowGroupReader rg, string name, long firstRow, CancellationToken ct)
    {
        var field = Data(name, typeof(int), typeof(long), typeof(short));
        var rows = (int)rg.RowCount;
        var result = new int[rows];
        if (field.ClrType == typeof(int))
        {
            if (field.IsNullable)
            {
                var v = new int?[rows];
                await rg.ReadAsync(field, v.AsMemory(), null, ct).ConfigureAwait(false);
                for (var i = 0; i < rows; i++)
                {
                    result[i] = v[i] ?? throw Null(name, firstRow + i);
                }
            }
            else
            {
                await rg.ReadAsync(field, result.AsMemory(), null, ct).ConfigureAwait(false);
            }
        }
        else if (field.ClrType == typeof(long))
        {
            var v = new long?[rows];
            if (field.IsNullable)
            {
                await rg.ReadAsync(field, v.AsMemory(), null, ct).ConfigureAwait(false);
            }
            else
            {
                var plain = new long[rows];
                await rg.ReadAsync(field, plain.AsMemory(), null, ct).ConfigureAwait(false);
                for (var i = 0; i < rows; i++)
                {
                    v[i] = plain[i];
                }
            }
            for (var i = 0; i < rows; i++)
            {
                var x = v[i] ?? throw Null(name, firstRow + i);
                if (x is < int.MinValue or > int.MaxValue)
                {
                    throw new DataFormatException(path, $"column '{name}', row {firstRow + i}: {x} does not fit a 32-bit integer");
                }
                result[i] = (int)x;
            }
        }
        else
        {
            var v = new short?[rows];
            if (field.IsNullable)
            {
                await rg.ReadAsync(field, v.AsMemory(), null, ct).ConfigureAwait(false);
            }
            else
            {
                var plain = new short[rows];
                await rg.ReadAsync(field, plain.AsMemory(), null, ct).ConfigureAwait(false);
                for (var i = 0; i < rows; i++)
                {
                    v[i] = plain[i];
                }
            }
            for (var i = 0; i < rows; i++)
            {
                result[i] = v[i] ?? throw Null(name, firstRow + i);
            }
        }
        return result;
    }

    private DataFormatException Null(string name, long row) => new(path, $"column '{name}', row {row}: null, expected an integer");

    private static string Describe(Field f) => f switch
    {
        ListField { Item: DataField item } => $"list<{TypeName(item.ClrType)}>",
        ListField => "list<struct>",
        DataField { IsArray: true } d => $"list<{TypeName(d.ClrType)}>",
        DataField d => TypeName(d.ClrType),
        _ => f.SchemaType.ToString().ToLowerInvariant(),
    };

    private static string TypeName(Type t) => t == typeof(string) || t == typeof(ReadOnlyMemory<char>) ? "string"
        : t == typeof(int) ? "int32"
        : t == typeof(long) ? "int64"
        : t == typeof(short) ? "int16"
        : t == typeof(float) ? "float32"
        : t == typeof(double) ? "float64"
        : t.Name;
}
