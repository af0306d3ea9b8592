using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PveHealth.Configuration;
using PveHealth.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PveHealth.Inventory;

/// <summary>
/// Reads an inventory file, JSON (<c>.json</c>) or YAML (any other extension). The format:
/// <code>
/// guests:                      # a list of guests...
///   - name: web-01             # required, unique in the file
///     kind: vm                 # vm (default) or lxc
///     vmid: 101                # optional Proxmox VMID
///     node: pve1               # optional Proxmox node
///     address: 10.0.0.5        # address for ping/SSH; a "/24" suffix is dropped
///     tags: [web, frontend]    # optional: a list, or "web;frontend"
///     environment: prod        # optional; default the group or the configured environment
/// </code>
/// or grouped per environment:
/// <code>
/// environments:
///   prod:
///     guests: [ ... ]
///   staging:
///     guests: [ ... ]
/// </code>
/// The JSON form has the same keys. Unknown keys are errors (a typo must not silently drop an address).
/// Both formats become one JSON value read by <see cref="GuestListParser"/>; errors name the file, the
/// JSON path and, for YAML, the line.
/// </summary>
public static class InventoryFileReader
{
    /// <summary>Keys a guest entry may have.</summary>
    public static readonly string[] GuestKeys = ["name", "kind", "vmid", "node", "address", "tags", "environment"];

    private static readonly FieldMapping Fields = new()
    {
        Name = ["name"], Kind = ["kind"], VmId = ["vmid"], Node = ["node"], Address = ["address"], Tags = ["tags"], Environment = ["environment"],
    };

    /// <summary>The guests of the file, and the environment groups it has (empty when it has a plain guests list).</summary>
    public sealed record Result(IReadOnlyList<Guest> Guests, IReadOnlyList<string> Groups);

    /// <summary>True when <paramref name="path"/> is read as YAML (.yaml, .yml) rather than JSON.</summary>
    public static bool IsYaml(string path)
        => path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses the text of an inventory file; <paramref name="path"/> names it in messages and in each guest's Source.</summary>
    public static Result Read(string text, string path, string defaultEnvironment, bool? yaml = null)
    {
        var lines = new Dictionary<string, long>(StringComparer.Ordinal);
        JsonDocument doc;
        if (yaml ?? IsYaml(path))
        {
            var node = YamlToJson(text, path, lines);
            try
            {
                doc = SafeJson.Parse(node?.ToJsonString() ?? "null", path);
            }
            catch (UnsafeJsonException ex)
            {
                var line = LineOf(lines, ex.JsonPath) is long l ? $" (line {l})" : string.Empty;
                throw new InventoryException($"{path}: {ex.JsonPath}: {ex.Reason}{line}.", ex) { JsonPath = ex.JsonPath, Failure = EngineFailure.InventoryInvalid };
            }
        }
        else
        {
            try
            {
                doc = SafeJson.Parse(text, path, allowComments: true);
            }
            catch (UnsafeJsonException ex) when (ex.InnerException is JsonException j)
            {
                throw new InventoryException($"{path}: {SafeJson.Describe(j)}.", ex) { Failure = EngineFailure.InventoryInvalid };
            }
            catch (UnsafeJsonException ex)
            {
                throw new InventoryException($"{path}: {ex.JsonPath}: {ex.Reason}.", ex) { JsonPath = ex.JsonPath, Failure = EngineFailure.InventoryInvalid };
            }
        }
        using (doc)
        {
            try
            {
                return ReadRoot(doc.RootElement, path, defaultEnvironment);
            }
            catch (InventoryException ex) when (ex.JsonPath is not null && LineOf(lines, ex.JsonPath) is long line)
            {
                throw new InventoryException($"{ex.Message.TrimEnd('.')} (line {line}).") { JsonPath = ex.JsonPath, Failure = ex.Failure };
            }
        }
    }

    private static Result ReadRoot(JsonElement root, string path, string defaultEnvironment)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(path, "$", $"expected an object with a \"guests\" list or an \"environments\" map, found {GuestListParser.Describe(root)}");
        }
        var guests = new List<Guest>();
        var groups = new List<string>();
        var any = false;
        foreach (var prop in root.EnumerateObject())
        {
            switch (prop.Name)
            {
                case "$schema":
                    break;
                case "guests":
                    any = true;
                    guests.AddRange(ReadGuests(prop.Value, "$.guests", path, defaultEnvironment));
                    break;
                case "environments":
                    any = true;
                    if (prop.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw Invalid(path, "$.environments", $"expected a map of environment name to {{ guests: [...] }}, found {GuestListParser.Describe(prop.Value)}");
                    }
                    foreach (var env in prop.Value.EnumerateObject())
                    {
                        var at = $"$.environments.{env.Name}";
                        groups.Add(env.Name);
                        if (env.Value.ValueKind != JsonValueKind.Object)
                        {
                            throw Invalid(path, at, $"expected an object with a \"guests\" list, found {GuestListParser.Describe(env.Value)}");
                        }
                        foreach (var key in env.Value.EnumerateObject())
                        {
                            if (key.Name != "guests") throw Invalid(path, $"{at}.{key.Name}", "unknown key; an environment group has only \"guests\"");
                            guests.AddRange(ReadGuests(key.Value, $"{at}.guests", path, env.Name));
                        }
                    }
                    break;
                default:
                    throw Invalid(path, $"$.{prop.Name}", "unknown key; an inventory file has \"guests\" or \"environments\"");
            }
        }
        if (!any) throw Invalid(path, "$", "expected a \"guests\" list or an \"environments\" map");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var g in guests)
        {
            if (!seen.Add(g.Name)) throw new InventoryException($"{path}: guest '{g.Name}' appears twice; guest names must be unique.");
        }
        return new Result(guests, groups);
    }

    private static List<Guest> ReadGuests(JsonElement list, string at, string path, string environment)
    {
        if (list.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(path, at, $"expected a list of guests, found {GuestListParser.Describe(list)}");
        }
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object)
            {
                foreach (var key in item.EnumerateObject())
                {
                    if (!GuestKeys.Contains(key.Name, StringComparer.Ordinal))
                    {
                        throw Invalid(path, $"{at}[{i}].{key.Name}", $"unknown key; a guest has {string.Join(", ", GuestKeys)}");
                    }
                }
            }
            i++;
        }
        var parser = new GuestListParser($"inventory:{path}", environment, Fields);
        try
        {
            return parser.Parse(list, at, GuestKind.Vm);
        }
        catch (InventoryException ex)
        {
            // The parser names the source "inventory:path"; messages name the file itself.
            throw new InventoryException(ex.Message.Replace($"inventory:{path}: ", $"{path}: ", StringComparison.Ordinal)) { JsonPath = ex.JsonPath };
        }
    }

    private static InventoryException Invalid(string path, string jsonPath, string message)
        => new($"{path}: {jsonPath}: {message}.") { JsonPath = jsonPath };

    private static long? LineOf(Dictionary<string, long> lines, string jsonPath)
    {
        // The value itself, else the closest enclosing one ($.guests[2].vmid → $.guests[2] → $.guests).
        for (var p = jsonPath; p.Length > 0;)
        {
            if (lines.TryGetValue(p, out var line)) return line;
            var cut = Math.Max(p.LastIndexOf('.'), p.LastIndexOf('['));
            if (cut <= 0) break;
            p = p[..cut];
        }
        return null;
    }

    private static readonly Regex Integer = new(@"^[-+]?[0-9]+$", RegexOptions.CultureInvariant);
    private static readonly Regex Float = new(@"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant);

    /// <summary>YAML → JSON node, recording the line of every JSON path in <paramref name="lines"/>.</summary>
    internal static JsonNode? YamlToJson(string text, string path, Dictionary<string, long> lines)
    {
        var stream = new YamlStream();
        try
        {
            Guard(text, path);
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            var inner = ex.InnerException?.Message;
            throw new InventoryException($"{path}: invalid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {(string.IsNullOrEmpty(inner) ? ex.Message : inner)}".TrimEnd('.') + ".", ex);
        }
        if (stream.Documents.Count == 0) throw new InventoryException($"{path}: the file is empty; expected a \"guests\" list.");
        if (stream.Documents.Count > 1) throw new InventoryException($"{path}: line {stream.Documents[1].RootNode.Start.Line}: expected one YAML document, found {stream.Documents.Count}.");
        return Convert(stream.Documents[0].RootNode, "$", path, lines);
    }

    /// <summary>Deepest YAML nesting accepted (an inventory is 4 levels deep).</summary>
    public const int MaxYamlDepth = 64;

    /// <summary>Most YAML nodes accepted (10,000 guests of 8 fields is about 170,000).</summary>
    public const int MaxYamlNodes = 1_000_000;

    /// <summary>
    /// Reads the YAML events once, without building anything, before the document is loaded: aliases are refused (a
    /// self-referencing alias would recurse without end, a "billion laughs" document would expand into gigabytes),
    /// and nesting and node count are bounded (deep nesting would overflow the stack of the loader).
    /// </summary>
    private static void Guard(string text, string path)
    {
        var parser = new YamlDotNet.Core.Parser(new StringReader(text));
        var depth = 0;
        var nodes = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case YamlDotNet.Core.Events.AnchorAlias alias:
                    throw new InventoryException($"{path}: line {alias.Start.Line}: YAML aliases (*{alias.Value}) are not supported in an inventory file; write the value out.") { Failure = EngineFailure.InventoryInvalid };
                case YamlDotNet.Core.Events.MappingStart or YamlDotNet.Core.Events.SequenceStart:
                    if (++depth > MaxYamlDepth)
                    {
                        throw new InventoryException($"{path}: line {parser.Current.Start.Line}: nested deeper than {MaxYamlDepth} levels; an inventory file is a few levels deep.") { Failure = EngineFailure.InventoryInvalid };
                    }
                    nodes++;
                    break;
                case YamlDotNet.Core.Events.MappingEnd or YamlDotNet.Core.Events.SequenceEnd:
                    depth--;
                    break;
                case YamlDotNet.Core.Events.Scalar:
                    nodes++;
                    break;
            }
            if (nodes > MaxYamlNodes)
            {
                throw new InventoryException($"{path}: line {parser.Current!.Start.Line}: more than {MaxYamlNodes} YAML nodes; too large for an inventory file.") { Failure = EngineFailure.InventoryInvalid };
            }
        }
    }

    private static JsonNode? Convert(YamlNode node, string at, string path, Dictionary<string, long> lines)
    {
        lines[at] = node.Start.Line;
        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (k, v) in map.Children)
                {
                    if (k is not YamlScalarNode { Value: { } key })
                    {
                        throw new InventoryException($"{path}: {at}: line {k.Start.Line}: keys must be plain text.") { JsonPath = at };
                    }
                    if (obj.ContainsKey(key))
                    {
                        throw new InventoryException($"{path}: {at}.{key}: line {k.Start.Line}: the key appears twice.") { JsonPath = $"{at}.{key}" };
                    }
                    obj[key] = Convert(v, $"{at}.{key}", path, lines);
                }
                return obj;
            case YamlSequenceNode seq:
                var array = new JsonArray();
                var i = 0;
                foreach (var item in seq.Children) array.Add(Convert(item, $"{at}[{i++}]", path, lines));
                return array;
            case YamlScalarNode scalar:
                var text = scalar.Value ?? string.Empty;
                if (scalar.Style is not ScalarStyle.Plain) return JsonValue.Create(text);
                if (text is "" or "~" or "null" or "Null" or "NULL") return null;
                if (text is "true" or "True" or "TRUE") return JsonValue.Create(true);
                if (text is "false" or "False" or "FALSE") return JsonValue.Create(false);
                if (Integer.IsMatch(text) && long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
                if (Float.IsMatch(text) && double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
                return JsonValue.Create(text);
            default:
                throw new InventoryException($"{path}: {at}: line {node.Start.Line}: unsupported YAML node.") { JsonPath = at };
        }
    }
}

/// <summary>An inventory file (JSON or YAML, see <see cref="InventoryFileReader"/>): local, so the dry run reads it.</summary>
public sealed class InventoryFileSource : IInventorySource
{
    private readonly string _path;
    private readonly string _environment;

    public InventoryFileSource(string path, string environment)
    {
        _path = path;
        _environment = environment;
    }

    public string Description => $"inventory:{_path}";
    public bool IsLocal => true;

    /// <summary>Guests of the environment: the group named like it when the file is grouped, else every guest.</summary>
    public async Task<IReadOnlyList<Guest>> GetGuestsAsync(CancellationToken cancellationToken)
    {
        var text = await InventoryFileText.ReadAsync(_path, "the inventory file", cancellationToken).ConfigureAwait(false);
        var result = InventoryFileReader.Read(text, _path, _environment);
        if (result.Groups.Count == 0) return result.Guests;
        if (!result.Groups.Contains(_environment, StringComparer.OrdinalIgnoreCase) && !result.Guests.Any(g => string.Equals(g.Environment, _environment, StringComparison.OrdinalIgnoreCase)))
        {
            throw new InventoryException($"{_path}: $.environments: no group for environment '{_environment}'; groups: {string.Join(", ", result.Groups)}.") { JsonPath = "$.environments" };
        }
        return result.Guests.Where(g => string.Equals(g.Environment, _environment, StringComparison.OrdinalIgnoreCase)).ToList();
    }
}
