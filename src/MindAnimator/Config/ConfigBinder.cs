using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace MindAnimator.Config;

/// <summary>
/// Binds YAML onto immutable config records by reflection, so every error can name the key path and line:
/// unknown keys, wrong types and out-of-range values. Keys are snake_case versions of the property names.
/// </summary>
public static class ConfigBinder
{
    /// <summary>The source named in errors about --set overrides.</summary>
    public const string CommandLineSource = "--set";

    /// <summary>Parses <paramref name="yaml"/> and applies <c>key.path=value</c> overrides on top.</summary>
    public static T Bind<T>(string yaml, string source, IEnumerable<string>? overrides = null)
        where T : new()
    {
        var result = new T();
        if (!string.IsNullOrWhiteSpace(yaml))
        {
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(yaml));
            }
            catch (YamlException e)
            {
                throw new ConfigException(source, string.Empty, $"not valid YAML ({e.Message})", (int)e.Start.Line);
            }
            if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is not YamlScalarNode { Value: null or "" })
            {
                if (stream.Documents[0].RootNode is not YamlMappingNode root)
                {
                    throw new ConfigException(source, string.Empty, "expected a mapping of keys at the top level", (int)stream.Documents[0].RootNode.Start.Line);
                }
                BindMapping(result, root, string.Empty, source);
            }
        }
        foreach (var o in overrides ?? Array.Empty<string>())
        {
            ApplyOverride(result, o);
        }
        Validate(result, string.Empty, source);
        return result;
    }

    /// <summary>Writes a config back to YAML (snake_case keys), as saved into run directories.</summary>
    public static string ToYaml(object config) =>
        new SerializerBuilder().ConfigureDefaultValuesHandling(DefaultValuesHandling.Preserve).Build().Serialize(ToTree(config));

    // Only bindable (settable) properties are written, so derived values never come back as unknown keys.
    private static Dictionary<string, object?> ToTree(object section) =>
        Settable(section.GetType()).ToDictionary(KeyOf, p => p.GetValue(section) is { } v && IsSection(p.PropertyType) ? ToTree(v) : p.GetValue(section));

    /// <summary>The snake_case key of a property.</summary>
    public static string KeyOf(PropertyInfo p) => UnderscoredNamingConvention.Instance.Apply(p.Name);

    private static IEnumerable<PropertyInfo> Settable(Type t) =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetIndexParameters().Length == 0);

    private static void BindMapping(object target, YamlMappingNode node, string prefix, string source)
    {
        var props = Settable(target.GetType()).ToDictionary(KeyOf);
        foreach (var (keyNode, valueNode) in node.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? string.Empty;
            var path = prefix.Length == 0 ? key : prefix + "." + key;
            if (!props.TryGetValue(key, out var prop))
            {
                throw new ConfigException(source, path, $"unknown key; expected one of: {string.Join(", ", props.Keys.Order())}", (int)keyNode.Start.Line);
            }
            SetFromNode(target, prop, valueNode, path, source);
        }
    }

    private static void SetFromNode(object target, PropertyInfo prop, YamlNode node, string path, string source)
    {
        var type = prop.PropertyType;
        var line = (int)node.Start.Line;
        if (IsSection(type))
        {
            if (node is YamlScalarNode { Value: null or "" or "~" or "null" })
            {
                return;
            }
            if (node is not YamlMappingNode map)
            {
                throw new ConfigException(source, path, "expected a mapping of keys", line);
            }
            // Start from the current (default) value so unspecified keys keep their defaults.
            var section = prop.GetValue(target) ?? Activator.CreateInstance(type)!;
            section = CloneSection(section);
            BindMapping(section, map, path, source);
            prop.SetValue(target, section);
            return;
        }
        if (IsList(type, out var elementType))
        {
            if (node is not YamlSequenceNode seq)
            {
                throw new ConfigException(source, path, $"expected a list of {Describe(elementType)}", line);
            }
            var items = seq.Children.Select((c, i) => c is YamlScalarNode s
                ? ConvertScalar(s.Value, elementType, $"{path}[{i}]", source, (int)c.Start.Line)
                : throw new ConfigException(source, $"{path}[{i}]", $"expected {Describe(elementType)}", (int)c.Start.Line)).ToList();
            prop.SetValue(target, MakeList(type, elementType, items));
            return;
        }
        if (node is not YamlScalarNode scalar)
        {
            throw new ConfigException(source, path, $"expected {Describe(type)}", line);
        }
        // A plain empty scalar (`key:`) means null; a quoted one ('') is an empty string.
        var raw = scalar.Style == ScalarStyle.Plain && string.IsNullOrEmpty(scalar.Value) ? null : scalar.Value;
        prop.SetValue(target, ConvertScalar(raw, type, path, source, line));
    }

    private static void ApplyOverride(object root, string assignment)
    {
        const string source = CommandLineSource;
        var eq = assignment.IndexOf('=');
        if (eq <= 0)
        {
            throw new ConfigException(source, assignment, "expected key.path=value");
        }
        var path = assignment[..eq].Trim();
        var value = assignment[(eq + 1)..].Trim();
        var parts = path.Split('.');
        var target = root;
        for (var i = 0; i < parts.Length; i++)
        {
            var props = Settable(target.GetType()).ToDictionary(KeyOf);
            var sofar = string.Join('.', parts.Take(i + 1));
            if (!props.TryGetValue(parts[i], out var prop))
            {
                throw new ConfigException(source, sofar, $"unknown key; expected one of: {string.Join(", ", props.Keys.Order())}");
            }
            if (i == parts.Length - 1)
            {
                var node = new YamlStream();
                node.Load(new StringReader(value.Length == 0 ? "''" : value));
                SetFromNode(target, prop, node.Documents[0].RootNode, path, source);
                return;
            }
            if (!IsSection(prop.PropertyType))
            {
                throw new ConfigException(source, sofar, "is a value, not a section");
            }
            var section = CloneSection(prop.GetValue(target) ?? Activator.CreateInstance(prop.PropertyType)!);
            prop.SetValue(target, section);
            target = section;
        }
    }

    private static void Validate(object section, string prefix, string source)
    {
        foreach (var prop in Settable(section.GetType()))
        {
            var path = prefix.Length == 0 ? KeyOf(prop) : prefix + "." + KeyOf(prop);
            var value = prop.GetValue(section);
            if (value is null)
            {
                continue;
            }
            if (IsSection(prop.PropertyType))
            {
                Validate(value, path, source);
                continue;
            }
            var values = value is IEnumerable e and not string ? e.Cast<object>().ToArray() : new[] { value };
            if (prop.GetCustomAttribute<BoundsAttribute>() is { } b)
            {
                foreach (var v in values)
                {
                    var d = Convert.ToDouble(v, CultureInfo.InvariantCulture);
                    if (double.IsNaN(d) || d < b.Min || d > b.Max)
                    {
                        throw new ConfigException(source, path, $"{Fmt(v)} is out of range; expected a value in [{Fmt(b.Min)}, {Fmt(b.Max)}]");
                    }
                }
            }
            if (prop.GetCustomAttribute<OneOfAttribute>() is { } one)
            {
                foreach (var v in values)
                {
                    if (!one.Values.Contains((string)v))
                    {
                        throw new ConfigException(source, path, $"'{v}' is not allowed; expected one of: {string.Join(", ", one.Values)}");
                    }
                }
            }
        }
        if (section is IValidatedSection vs)
        {
            foreach (var (key, message) in vs.Validate())
            {
                throw new ConfigException(source, prefix.Length == 0 ? key : prefix + "." + key, message);
            }
        }
    }

    private static string Fmt(object v) => Convert.ToString(v, CultureInfo.InvariantCulture) ?? string.Empty;

    private static bool IsSection(Type t) => t.IsClass && t != typeof(string) && !IsList(t, out _);

    private static bool IsList(Type t, out Type element)
    {
        if (t.IsArray)
        {
            element = t.GetElementType()!;
            return true;
        }
        if (t.IsGenericType && t.GetGenericTypeDefinition() is var g && (g == typeof(IReadOnlyList<>) || g == typeof(List<>)))
        {
            element = t.GetGenericArguments()[0];
            return true;
        }
        element = typeof(object);
        return false;
    }

    private static object MakeList(Type listType, Type element, List<object?> items)
    {
        var array = Array.CreateInstance(element, items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            array.SetValue(items[i], i);
        }
        if (listType.IsArray || listType.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            return array;
        }
        var list = (IList)Activator.CreateInstance(listType)!;
        foreach (var i in items)
        {
            list.Add(i);
        }
        return list;
    }

    private static object CloneSection(object section)
    {
        // Records expose a compiler-generated copy constructor through the protected <Clone>$ method.
        var clone = section.GetType().GetMethod("<Clone>$", BindingFlags.Public | BindingFlags.Instance);
        return clone is null ? section : clone.Invoke(section, null)!;
    }

    private static string Describe(Type t)
    {
        var u = Nullable.GetUnderlyingType(t) ?? t;
        return u == typeof(int) || u == typeof(long) ? "an integer"
            : u == typeof(double) || u == typeof(float) ? "a number"
            : u == typeof(bool) ? "true or false"
            : u == typeof(string) ? "a string"
            : u.Name;
    }

    private static object? ConvertScalar(string? raw, Type type, string path, string source, int line)
    {
        var nullable = Nullable.GetUnderlyingType(type);
        if (raw is null or "~" or "null" || (raw.Length == 0 && type != typeof(string)))
        {
            if (nullable is not null || !type.IsValueType)
            {
                return null;
            }
            throw new ConfigException(source, path, $"expected {Describe(type)}, got nothing", line);
        }
        var t = nullable ?? type;
        var inv = CultureInfo.InvariantCulture;
        object? result = null;
        if (t == typeof(string))
        {
            result = raw;
        }
        else if (t == typeof(int) && int.TryParse(raw, NumberStyles.Integer, inv, out var i))
        {
            result = i;
        }
        else if (t == typeof(long) && long.TryParse(raw, NumberStyles.Integer, inv, out var l))
        {
            result = l;
        }
        else if (t == typeof(double) && double.TryParse(raw, NumberStyles.Float, inv, out var d))
        {
            result = d;
        }
        else if (t == typeof(float) && float.TryParse(raw, NumberStyles.Float, inv, out var f))
        {
            result = f;
        }
        else if (t == typeof(bool) && bool.TryParse(raw, out var b))
        {
            result = b;
        }
        return result ?? throw new ConfigException(source, path, $"expected {Describe(type)}, got '{raw}'", line);
    }

    /// <summary>A markdown table of every key with its default, for the README's config reference.</summary>
    public static string Reference(object defaults)
    {
        var sb = new StringBuilder();
        void Walk(object section, string prefix)
        {
            foreach (var p in Settable(section.GetType()))
            {
                var key = prefix.Length == 0 ? KeyOf(p) : prefix + "." + KeyOf(p);
                var v = p.GetValue(section);
                if (v is not null && IsSection(p.PropertyType))
                {
                    Walk(v, key);
                    continue;
                }
                var shown = v is IEnumerable e and not string ? "[" + string.Join(", ", e.Cast<object>().Select(Fmt)) + "]" : v is null ? "null" : Fmt(v);
                var range = p.GetCustomAttribute<BoundsAttribute>() is { } b ? $"[{Fmt(b.Min)}, {Fmt(b.Max)}]"
                    : p.GetCustomAttribute<OneOfAttribute>() is { } o ? string.Join(" \\| ", o.Values) : string.Empty;
                sb.AppendLine($"| `{key}` | `{shown}` | {range} |");
            }
        }
        Walk(defaults, string.Empty);
        return sb.ToString();
    }
}
