using System.Text.Json;
using PveHealth.Configuration;
using PveHealth.Model;

namespace PveHealth.Inventory;

/// <summary>
/// Guests from the text of `terraform output -json` ({"name": {"sensitive", "type", "value"}}) or from
/// the outputs of a Terraform state v4 file. Without configured output names, every non-sensitive output
/// shaped like a guest list is read; a sensitive output is read only when named, and its values never
/// appear in messages.
/// </summary>
public static class TerraformOutputReader
{
    public static List<Guest> Read(string json, string source, string environment, InventoryConfig? options, bool isState)
    {
        JsonDocument doc;
        try
        {
            doc = SafeJson.Parse(json, source);
        }
        catch (UnsafeJsonException ex) when (ex.InnerException is JsonException j)
        {
            throw new InventoryException($"{source}: {SafeJson.Describe(j)}", ex) { Failure = EngineFailure.InventoryInvalid };
        }
        catch (UnsafeJsonException ex)
        {
            // The path is cut at the output's name: keys below it belong to the value, which may be sensitive.
            var at = OutputLevel(ex.JsonPath, isState);
            throw new InventoryException($"{source}: {at}: {ex.Reason}{(at != ex.JsonPath ? " (inside this output)" : string.Empty)}.", ex) { JsonPath = at, Failure = EngineFailure.InventoryInvalid };
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InventoryException($"{source}: $: expected an object, found {GuestListParser.Describe(root)}.");
            var outputs = root;
            var outputsPath = "$";
            if (isState)
            {
                if (!root.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v) || v != 4)
                {
                    throw new InventoryException($"{source}: $.version: expected a Terraform state of version 4.");
                }
                if (!root.TryGetProperty("outputs", out outputs) || outputs.ValueKind != JsonValueKind.Object)
                {
                    throw new InventoryException($"{source}: $.outputs: the state has no outputs object; add an output listing the guests.");
                }
                outputsPath = "$.outputs";
            }
            var parser = new GuestListParser(source, environment, options?.Fields);
            var named = options?.Outputs is { Count: > 0 } list ? list : null;
            var guests = new List<Guest>();
            if (named is not null)
            {
                foreach (var name in named)
                {
                    if (!outputs.TryGetProperty(name, out var output))
                    {
                        var available = string.Join(", ", outputs.EnumerateObject().Select(p => p.Name));
                        throw new InventoryException($"{source}: {outputsPath}.{name}: no such output; outputs present: {(available.Length == 0 ? "none" : available)}.");
                    }
                    guests.AddRange(ReadOutput(parser, output, $"{outputsPath}.{name}", name, options, source));
                }
            }
            else
            {
                foreach (var output in outputs.EnumerateObject())
                {
                    if (output.Value.ValueKind != JsonValueKind.Object || !output.Value.TryGetProperty("value", out var value)) continue;
                    if (IsSensitive(output.Value)) continue;
                    if (!GuestListParser.LooksLikeGuestList(value, options?.Fields)) continue;
                    guests.AddRange(ReadOutput(parser, output.Value, $"{outputsPath}.{output.Name}", output.Name, options, source));
                }
                if (guests.Count == 0)
                {
                    throw new InventoryException($"{source}: {outputsPath}: no output shaped like a list of guests; name the output in inventory.outputs (-OutputName).");
                }
            }
            return Deduplicate(guests, source);
        }
    }

    private static IEnumerable<Guest> ReadOutput(GuestListParser parser, JsonElement output, string path, string name, InventoryConfig? options, string source)
    {
        if (output.ValueKind != JsonValueKind.Object || !output.TryGetProperty("value", out var value))
        {
            throw new InventoryException($"{source}: {path}: expected an output object with a \"value\".");
        }
        var kind = options?.DefaultKind is { } k && Enum.TryParse<GuestKind>(k, true, out var parsed) ? parsed : KindFromName(name);
        return parser.Parse(value, path + ".value", kind);
    }

    private static bool IsSensitive(JsonElement output)
        => output.TryGetProperty("sensitive", out var s) && s.ValueKind == JsonValueKind.True;

    /// <summary>Outputs named like containers hold LXC guests; everything else defaults to VMs.</summary>
    internal static GuestKind KindFromName(string output)
    {
        var n = output.ToLowerInvariant();
        return n.Contains("lxc") || n.Contains("container") || n.StartsWith("ct") || n.EndsWith("_ct") || n.EndsWith("_cts") ? GuestKind.Lxc : GuestKind.Vm;
    }

    private static List<Guest> Deduplicate(List<Guest> guests, string source)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var g in guests)
        {
            if (!seen.Add(g.Name)) throw new InventoryException($"{source}: guest '{g.Name}' appears twice; guest names must be unique.");
        }
        return guests;
    }

    /// <summary>$.name.value.x → $.name ($.outputs.name for a state): never a key inside an output's value.</summary>
    internal static string OutputLevel(string jsonPath, bool isState)
    {
        var keep = isState ? 3 : 2;
        var segments = 0;
        for (var i = 0; i < jsonPath.Length; i++)
        {
            if (jsonPath[i] is '.' or '[' && ++segments == keep) return jsonPath[..i];
        }
        return jsonPath;
    }

    internal static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}
