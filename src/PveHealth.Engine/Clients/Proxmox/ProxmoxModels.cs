using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace PveHealth.Clients.Proxmox;

/// <summary>One guest row of <c>GET /cluster/resources?type=vm</c>.</summary>
public sealed class PveResource
{
    /// <summary>"qemu/101" or "lxc/104".</summary>
    public string Id { get; init; } = string.Empty;
    public int VmId { get; init; }
    /// <summary>qemu or lxc.</summary>
    public string Type { get; init; } = string.Empty;
    public string Node { get; init; } = string.Empty;
    /// <summary>Guest name; Proxmox leaves it out for some guests (then empty).</summary>
    public string Name { get; init; } = string.Empty;
    /// <summary>running, stopped, paused, or unknown (the guest's node is offline).</summary>
    public string Status { get; init; } = string.Empty;
    public bool Template { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public string? Pool { get; init; }
    public long? Uptime { get; init; }

    public bool IsLxc => string.Equals(Type, "lxc", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The answer of <c>GET /cluster/status</c>: the cluster entry and one entry per node.</summary>
public sealed class PveClusterStatus
{
    /// <summary>Cluster name; empty for a single node without a cluster.</summary>
    public string Name { get; init; } = string.Empty;
    /// <summary>True/false from the cluster entry's 0/1 <c>quorate</c>; null when there is no cluster entry (standalone node).</summary>
    public bool? Quorate { get; init; }
    public IReadOnlyList<PveNodeState> Nodes { get; init; } = [];

    public PveNodeState? Node(string name) => Nodes.FirstOrDefault(n => string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase));
}

public sealed class PveNodeState
{
    public string Name { get; init; } = string.Empty;
    public bool Online { get; init; }
    public string? Ip { get; init; }
}

/// <summary>One address a guest reports (agent network-get-interfaces or the container's interfaces).</summary>
public sealed record PveGuestAddress(string Interface, IPAddress Address, int? Prefix);

/// <summary>
/// Parsers for the shapes the Proxmox API really sends: every body is {"data": ...}, booleans are 0/1,
/// numbers sometimes arrive as strings, names may be missing, tags are "a;b".
/// </summary>
public static class ProxmoxParsers
{
    /// <summary>An answer of the wrong shape: never read as a healthy one (the checks report Unknown).</summary>
    public static ProxmoxApiException Unexpected(string route, string expected, JsonElement found)
        => new(ProxmoxFailure.InvalidResponse, $"unexpected answer from {route}: expected {expected}, found {Describe(found)}");

    /// <summary>"a number", "an object", "null", ... (never the value: it may be anything).</summary>
    public static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static void RequireKind(JsonElement obj, string name, string route, string at, params JsonValueKind[] kinds)
    {
        if (obj.TryGetProperty(name, out var v) && Array.IndexOf(kinds, v.ValueKind) < 0)
        {
            var expected = string.Join(" or ", kinds.Select(k => k switch { JsonValueKind.String => "a string", JsonValueKind.Number => "a number", _ => k.ToString().ToLowerInvariant() }));
            throw Unexpected(route, $"{at}.{name} to be {expected}", v);
        }
    }

    public static IReadOnlyList<PveResource> ParseResources(JsonElement data)
    {
        const string route = "/cluster/resources";
        var list = new List<PveResource>();
        if (data.ValueKind != JsonValueKind.Array) throw Unexpected(route, "a list of resources in data", data);
        var index = 0;
        foreach (var item in data.EnumerateArray())
        {
            var at = $"data[{index++}]";
            if (item.ValueKind != JsonValueKind.Object) throw Unexpected(route, $"{at} to be an object", item);
            RequireKind(item, "type", route, at, JsonValueKind.String);
            RequireKind(item, "id", route, at, JsonValueKind.String);
            RequireKind(item, "status", route, at, JsonValueKind.String);
            RequireKind(item, "node", route, at, JsonValueKind.String);
            RequireKind(item, "vmid", route, at, JsonValueKind.Number, JsonValueKind.String);
            var type = Str(item, "type") ?? string.Empty;
            var id = Str(item, "id") ?? string.Empty;
            if (type.Length == 0 && id.Contains('/')) type = id[..id.IndexOf('/')];
            if (type is not ("qemu" or "lxc")) continue;
            var vmid = Int(item, "vmid") ?? (id.Contains('/') && int.TryParse(id[(id.IndexOf('/') + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : (int?)null);
            if (vmid is null) continue;
            list.Add(new PveResource
            {
                Id = id.Length > 0 ? id : $"{type}/{vmid}",
                VmId = vmid.Value,
                Type = type,
                Node = Str(item, "node") ?? string.Empty,
                Name = Str(item, "name") ?? string.Empty,
                Status = Str(item, "status") ?? "unknown",
                Template = Bool(item, "template"),
                Tags = SplitTags(Str(item, "tags")),
                Pool = Str(item, "pool"),
                Uptime = Long(item, "uptime"),
            });
        }
        return list;
    }

    public static PveClusterStatus ParseClusterStatus(JsonElement data)
    {
        const string route = "/cluster/status";
        var nodes = new List<PveNodeState>();
        string name = string.Empty;
        bool? quorate = null;
        if (data.ValueKind != JsonValueKind.Array) throw Unexpected(route, "a list of cluster and node entries in data", data);
        var index = 0;
        foreach (var item in data.EnumerateArray())
        {
            var at = $"data[{index++}]";
            if (item.ValueKind != JsonValueKind.Object) throw Unexpected(route, $"{at} to be an object", item);
            if (!item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                throw Unexpected(route, $"{at}.type to be a string", type);
            }
            switch (type.GetString())
            {
                case "cluster":
                    RequireKind(item, "name", route, at, JsonValueKind.String);
                    name = Str(item, "name") ?? string.Empty;
                    quorate = StrictBool(item, "quorate", route, at);
                    break;
                case "node":
                    if (!item.TryGetProperty("name", out var nodeName) || nodeName.ValueKind != JsonValueKind.String || nodeName.GetString()!.Length == 0)
                    {
                        throw Unexpected(route, $"{at}.name to be a node name", nodeName);
                    }
                    RequireKind(item, "ip", route, at, JsonValueKind.String);
                    nodes.Add(new PveNodeState { Name = nodeName.GetString()!, Online = StrictBool(item, "online", route, at), Ip = Str(item, "ip") });
                    break;
            }
        }
        if (nodes.Count == 0) throw new ProxmoxApiException(ProxmoxFailure.InvalidResponse, $"unexpected answer from {route}: expected at least one node entry, found none");
        return new PveClusterStatus { Name = name, Quorate = quorate, Nodes = nodes };
    }

    /// <summary>
    /// Addresses from the QEMU agent's <c>network-get-interfaces</c>: data.result[].ip-addresses[] with
    /// ip-address-type ipv4/ipv6 (some agents say inet/inet6).
    /// </summary>
    public static IReadOnlyList<PveGuestAddress> ParseAgentInterfaces(JsonElement data)
    {
        var items = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("result", out var r) ? r : data;
        return ParseInterfaceList(items);
    }

    /// <summary>
    /// Addresses from <c>GET /nodes/{node}/lxc/{vmid}/interfaces</c>: [{name, inet "a.b.c.d/nn", inet6}] or, on newer
    /// servers, ip-addresses[] with type inet/inet6. A stopped container answers <c>data: null</c>: no addresses.
    /// </summary>
    public static IReadOnlyList<PveGuestAddress> ParseLxcInterfaces(JsonElement data) => ParseInterfaceList(data);

    private static IReadOnlyList<PveGuestAddress> ParseInterfaceList(JsonElement items)
    {
        var list = new List<PveGuestAddress>();
        if (items.ValueKind != JsonValueKind.Array) return list;
        foreach (var iface in items.EnumerateArray())
        {
            if (iface.ValueKind != JsonValueKind.Object) continue;
            var name = Str(iface, "name") ?? string.Empty;
            if (iface.TryGetProperty("ip-addresses", out var addrs) && addrs.ValueKind == JsonValueKind.Array)
            {
                foreach (var a in addrs.EnumerateArray())
                {
                    if (a.ValueKind != JsonValueKind.Object) continue;
                    var text = Str(a, "ip-address") ?? Str(a, "address");
                    if (text is null) continue;
                    if (TryParseCidr(text, out var ip, out var prefix)) list.Add(new PveGuestAddress(name, ip, Int(a, "prefix") ?? prefix));
                }
                continue;
            }
            foreach (var key in new[] { "inet", "ipv4", "inet6", "ipv6" })
            {
                var text = Str(iface, key);
                if (text is null) continue;
                // Some servers join several addresses with spaces or commas.
                foreach (var part in text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries))
                {
                    if (TryParseCidr(part, out var ip, out var prefix)) list.Add(new PveGuestAddress(name, ip, prefix));
                }
            }
        }
        return list;
    }

    /// <summary>
    /// The address to use: the first non-loopback (and non link-local IPv6) address of <paramref name="family"/>
    /// (ipv4, ipv6 or any), inside <paramref name="cidr"/> when given.
    /// </summary>
    public static IPAddress? PickAddress(IEnumerable<PveGuestAddress> addresses, string? family = null, string? cidr = null)
    {
        var want = (family ?? "ipv4").ToLowerInvariant();
        (IPAddress Net, int Bits)? range = null;
        if (!string.IsNullOrWhiteSpace(cidr) && TryParseCidr(cidr, out var net, out var bits)) range = (net, bits ?? (net.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
        foreach (var a in addresses)
        {
            var ip = a.Address;
            // Loopback means the loopback interface (lo, "Loopback Pseudo-Interface 1") and 127.0.0.1/::1 anywhere.
            if (IsLoopbackInterface(a.Interface) || ip.Equals(IPAddress.Loopback) || ip.Equals(IPAddress.IPv6Loopback)) continue;
            if (ip.AddressFamily == AddressFamily.InterNetworkV6 && (ip.IsIPv6LinkLocal || ip.IsIPv6Multicast)) continue;
            if (want is "ipv4" or "inet" && ip.AddressFamily != AddressFamily.InterNetwork) continue;
            if (want is "ipv6" or "inet6" && ip.AddressFamily != AddressFamily.InterNetworkV6) continue;
            if (range is { } rg && !InRange(ip, rg.Net, rg.Bits)) continue;
            return ip;
        }
        return null;
    }

    private static bool IsLoopbackInterface(string name)
        => name == "lo" || name.StartsWith("lo:", StringComparison.Ordinal) || name.StartsWith("Loopback", StringComparison.OrdinalIgnoreCase);

    internal static bool InRange(IPAddress ip, IPAddress net, int bits)
    {
        if (ip.AddressFamily != net.AddressFamily) return false;
        var a = ip.GetAddressBytes();
        var b = net.GetAddressBytes();
        for (var i = 0; i < a.Length && bits > 0; i++, bits -= 8)
        {
            var mask = bits >= 8 ? 0xff : (byte)(0xff << (8 - bits));
            if ((a[i] & mask) != (b[i] & mask)) return false;
        }
        return true;
    }

    /// <summary>"a.b.c.d", "a.b.c.d/nn", "fe80::1/64", "fe80::1%eth0".</summary>
    public static bool TryParseCidr(string text, out IPAddress address, out int? prefix)
        => Configuration.NetworkValues.TryParseCidr(text, out address, out prefix);

    /// <summary>Proxmox tags: "a;b" (older servers: "a,b" or spaces).</summary>
    public static IReadOnlyList<string> SplitTags(string? tags)
        => string.IsNullOrWhiteSpace(tags) ? [] : tags.Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Proxmox booleans are 0/1 integers; true/false and "0"/"1" strings are accepted too.</summary>
    public static bool Bool(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v)) return false;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.Number => v.TryGetDouble(out var d) && d != 0,
            JsonValueKind.String => v.GetString() is "1" or "true" or "True",
            _ => false,
        };
    }

    /// <summary>A required Proxmox boolean: 0 or 1 (true/false accepted); anything else is an unexpected answer.</summary>
    private static bool StrictBool(JsonElement obj, string name, string route, string at)
    {
        if (!obj.TryGetProperty(name, out var v)) throw new ProxmoxApiException(ProxmoxFailure.InvalidResponse, $"unexpected answer from {route}: expected {at}.{name} (0 or 1), found none");
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when v.TryGetInt32(out var i) && i is 0 or 1 => i == 1,
            _ => throw Unexpected(route, $"{at}.{name} to be 0 or 1", v),
        };
    }

    /// <summary>
    /// The answer of <c>POST .../agent/ping</c>: <c>{"result": {}}</c>. Anything else (a number, null, a missing
    /// result) is an unexpected answer, never an answering agent.
    /// </summary>
    public static void RequireAgentPing(JsonElement data)
    {
        const string route = "agent/ping";
        if (data.ValueKind != JsonValueKind.Object) throw Unexpected(route, "an object with a result in data", data);
        if (!data.TryGetProperty("result", out var result)) throw new ProxmoxApiException(ProxmoxFailure.InvalidResponse, $"unexpected answer from {route}: expected data.result (an object), found none");
        if (result.ValueKind != JsonValueKind.Object) throw Unexpected(route, "data.result to be an object", result);
    }

    public static string? Str(JsonElement obj, string name)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            _ => null,
        };
    }

    public static int? Int(JsonElement obj, string name)
        => Long(obj, name) is long l && l is >= int.MinValue and <= int.MaxValue ? (int)l : null;

    public static long? Long(JsonElement obj, string name)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number)
        {
            if (v.TryGetInt64(out var l)) return l;
            if (v.TryGetDouble(out var d)) return (long)d;
        }
        if (v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)) return s;
        return null;
    }
}
