using System.Globalization;
using System.Text.Json;
using PveHealth.Configuration;
using PveHealth.Model;

namespace PveHealth.Inventory;

/// <summary>
/// Reads guests out of a JSON value in the shapes Terraform outputs usually take:
/// a map of name to object, a list of objects, or a map of name to address.
/// Field names are configurable (<see cref="FieldMapping"/>); errors name the source and JSON path,
/// and never quote a value (it may come from a sensitive output).
/// </summary>
public sealed class GuestListParser
{
    public static readonly string[] DefaultName = ["name", "hostname", "vm_name"];
    public static readonly string[] DefaultAddress = ["address", "ip", "ipv4", "ip_address", "ipv4_address", "default_ipv4_address", "ipv4_addresses", "host"];
    public static readonly string[] DefaultVmId = ["vmid", "vm_id", "id"];
    public static readonly string[] DefaultNode = ["node", "target_node", "node_name"];
    public static readonly string[] DefaultKind = ["kind", "type"];
    public static readonly string[] DefaultTags = ["tags"];
    public static readonly string[] DefaultEnvironment = ["environment", "env"];

    private readonly FieldMapping _fields;
    private readonly string _source;
    private readonly string _environment;

    public GuestListParser(string source, string environment, FieldMapping? fields)
    {
        _source = source;
        _environment = environment;
        _fields = fields ?? new FieldMapping();
    }

    /// <summary>True when <paramref name="value"/> has one of the supported guest-list shapes.</summary>
    /// <remarks>
    /// Objects must carry at least one known guest field (name, address, vmid or node, with the configured names);
    /// a map of strings must map names to IP addresses (optionally with a /prefix), so an output such as a
    /// map of tags is not taken for guests.
    /// </remarks>
    public static bool LooksLikeGuestList(JsonElement value, FieldMapping? fields = null)
    {
        var known = new HashSet<string>(
            (fields?.Name ?? [.. DefaultName]).Concat(fields?.Address ?? [.. DefaultAddress]).Concat(fields?.VmId ?? [.. DefaultVmId])
                .Concat(fields?.Node ?? [.. DefaultNode]), StringComparer.Ordinal);
        bool IsGuestObject(JsonElement e) => e.ValueKind == JsonValueKind.Object && e.EnumerateObject().Any(p => known.Contains(p.Name));
        if (value.ValueKind == JsonValueKind.Array)
        {
            return value.GetArrayLength() > 0 && value.EnumerateArray().All(IsGuestObject);
        }
        if (value.ValueKind == JsonValueKind.Object)
        {
            var props = value.EnumerateObject().ToList();
            return props.Count > 0 && (props.All(p => IsGuestObject(p.Value))
                || props.All(p => p.Value.ValueKind == JsonValueKind.String && System.Net.IPAddress.TryParse(StripPrefix(p.Value.GetString()), out _)));
        }
        return false;
    }

    /// <summary>Parses a guest list at <paramref name="path"/> (for messages), with <paramref name="defaultKind"/> where an entry does not say.</summary>
    public List<Guest> Parse(JsonElement value, string path, GuestKind defaultKind)
    {
        var guests = new List<Guest>();
        switch (value.ValueKind)
        {
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in value.EnumerateArray())
                {
                    var at = $"{path}[{i++}]";
                    if (item.ValueKind != JsonValueKind.Object) throw Error(at, $"expected an object describing a guest, found {Describe(item)}");
                    var name = String(item, _fields.Name ?? [.. DefaultName], at) ?? throw Error(at, $"the guest has no name field (looked for {string.Join(", ", _fields.Name ?? [.. DefaultName])})");
                    guests.Add(FromObject(name, item, at, defaultKind));
                }
                break;
            case JsonValueKind.Object:
                foreach (var prop in value.EnumerateObject())
                {
                    var at = $"{path}.{prop.Name}";
                    switch (prop.Value.ValueKind)
                    {
                        case JsonValueKind.Object:
                            var name = String(prop.Value, _fields.Name ?? [.. DefaultName], at) ?? prop.Name;
                            guests.Add(FromObject(name, prop.Value, at, defaultKind));
                            break;
                        case JsonValueKind.String:
                            guests.Add(new Guest(prop.Name, defaultKind)
                            {
                                Address = StripPrefix(prop.Value.GetString()),
                                Environment = _environment,
                                Source = _source,
                            });
                            break;
                        default:
                            throw Error(at, $"expected an object or an address string, found {Describe(prop.Value)}");
                    }
                }
                break;
            default:
                throw Error(path, $"expected a map of guests or a list of guests, found {Describe(value)}");
        }
        return guests;
    }

    private Guest FromObject(string name, JsonElement obj, string at, GuestKind defaultKind)
    {
        var kindText = String(obj, _fields.Kind ?? [.. DefaultKind], at);
        var kind = kindText is null ? defaultKind : ParseKind(kindText) ?? throw Error(at, $"kind must be qemu/vm or lxc/container");
        var vmIdText = String(obj, _fields.VmId ?? [.. DefaultVmId], at);
        int? vmId = null;
        if (vmIdText is not null)
        {
            // Accept 101, "101" and the provider's "pve/qemu/101" ids.
            var tail = vmIdText[(vmIdText.LastIndexOf('/') + 1)..];
            if (!int.TryParse(tail, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
            {
                throw Error(at, "the VMID must be a positive whole number");
            }
            vmId = id;
        }
        return new Guest(name, kind)
        {
            VmId = vmId,
            Node = String(obj, _fields.Node ?? [.. DefaultNode], at),
            Address = StripPrefix(String(obj, _fields.Address ?? [.. DefaultAddress], at, addressLists: true)),
            Tags = Tags(obj, _fields.Tags ?? [.. DefaultTags], at),
            Environment = String(obj, _fields.Environment ?? [.. DefaultEnvironment], at) ?? _environment,
            Source = _source,
        };
    }

    public static GuestKind? ParseKind(string text) => text.Trim().ToLowerInvariant() switch
    {
        "vm" or "qemu" or "kvm" or "virtual-machine" or "proxmox_vm_qemu" or "proxmox_virtual_environment_vm" => GuestKind.Vm,
        "lxc" or "ct" or "container" or "proxmox_lxc" or "proxmox_virtual_environment_container" => GuestKind.Lxc,
        _ => null,
    };

    /// <summary>The first of <paramref name="names"/> present; numbers become their text. Null when absent or null.</summary>
    private string? String(JsonElement obj, IEnumerable<string> names, string at, bool addressLists = false)
    {
        foreach (var name in names)
        {
            if (!obj.TryGetProperty(name, out var v)) continue;
            switch (v.ValueKind)
            {
                case JsonValueKind.Null: continue;
                case JsonValueKind.String: return v.GetString();
                case JsonValueKind.Number: return v.GetRawText();
                case JsonValueKind.Array when addressLists:
                    // ipv4_addresses = ["10.0.0.5"], or the bpg provider's per-interface lists
                    // [["127.0.0.1"], [], ["10.0.0.5"]]: the first address that is not the guest's own lo (127.0.0.1, ::1), else the first one.
                    var all = new List<string>();
                    Flatten(v, $"{at}.{name}", all, depth: 0);
                    if (all.Count == 0) continue; // the guest agent has not reported yet
                    return all.FirstOrDefault(a => !IsLoopback(a)) ?? all[0];
                default:
                    throw Error($"{at}.{name}", $"expected a string or a number, found {Describe(v)}");
            }
        }
        return null;
    }

    private void Flatten(JsonElement array, string at, List<string> into, int depth)
    {
        var i = 0;
        foreach (var e in array.EnumerateArray())
        {
            var here = $"{at}[{i++}]";
            switch (e.ValueKind)
            {
                case JsonValueKind.String when !string.IsNullOrWhiteSpace(e.GetString()): into.Add(e.GetString()!); break;
                case JsonValueKind.String or JsonValueKind.Null: break;
                case JsonValueKind.Array when depth == 0: Flatten(e, here, into, depth + 1); break;
                default: throw Error(here, $"expected an address string or a list of them, found {Describe(e)}");
            }
        }
    }

    /// <summary>The address of the guest's own "lo" interface (127.0.0.1 or ::1), which the guest agent reports first.</summary>
    private static bool IsLoopback(string address)
    {
        var a = StripPrefix(address);
        return a is not null && System.Net.IPAddress.TryParse(a, out var ip)
            && (ip.Equals(System.Net.IPAddress.Loopback) || ip.Equals(System.Net.IPAddress.IPv6Loopback));
    }

    private IReadOnlyList<string> Tags(JsonElement obj, IEnumerable<string> names, string at)
    {
        foreach (var name in names)
        {
            if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) continue;
            if (v.ValueKind == JsonValueKind.String)
            {
                return v.GetString()!.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            }
            if (v.ValueKind == JsonValueKind.Array)
            {
                return v.EnumerateArray().Select((e, i) => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Error($"{at}.{name}[{i}]", $"expected a string tag, found {Describe(e)}")).ToList();
            }
            throw Error($"{at}.{name}", $"expected a list of tags or \"a;b\", found {Describe(v)}");
        }
        return Array.Empty<string>();
    }

    /// <summary>"10.0.0.5/24" → "10.0.0.5".</summary>
    private static string? StripPrefix(string? address)
    {
        if (string.IsNullOrWhiteSpace(address)) return null;
        var slash = address.IndexOf('/');
        return (slash > 0 ? address[..slash] : address).Trim();
    }

    private InventoryException Error(string path, string message) => new($"{_source}: {path}: {message}.") { JsonPath = path };

    internal static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => v.ValueKind.ToString(),
    };
}
