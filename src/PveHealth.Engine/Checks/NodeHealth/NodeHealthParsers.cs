using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using static PveHealth.Clients.Proxmox.ProxmoxParsers;

namespace PveHealth.Checks.NodeHealth;

/// <summary>One file of <c>GET /nodes/{n}/certificates/info</c>.</summary>
public sealed record NodeCertificateInfo(string Filename, string? Subject, string? Issuer, DateTimeOffset? NotBefore, DateTimeOffset? NotAfter, string? Fingerprint);

/// <summary>One pool of <c>GET /nodes/{n}/disks/zfs</c>.</summary>
public sealed record ZfsPoolInfo(string Name, string Health, long? Size, long? Alloc, long? Free, long? Frag);

/// <summary>One vdev (or the pool itself) of <c>GET /nodes/{n}/disks/zfs/{name}</c>: <c>children[]</c>, nested.</summary>
public sealed record ZfsVdev(string Name, string State, long? Read, long? Write, long? Cksum, string? Message, IReadOnlyList<ZfsVdev> Children);

/// <summary>The detail of one pool (<c>GET /nodes/{n}/disks/zfs/{name}</c>).</summary>
public sealed record ZfsPoolDetail(string Name, string? State, string? Status, string? Action, string? Scan, string? Errors, IReadOnlyList<ZfsVdev> Children);

/// <summary>One disk of <c>GET /nodes/{n}/disks/list</c>: <c>health</c> is smartctl's raw word, <c>wearout</c> the life REMAINING in percent.</summary>
public sealed record DiskInfo(string DevPath, string? Model, string? Serial, string? Type, string? Health, int? WearoutRemaining);

/// <summary>One <c>service:&lt;sid&gt;</c> entry of <c>GET /cluster/ha/status/current</c>.</summary>
public sealed record HaService(string Sid, string? Node, string? CrmState, string? State, string? RequestState);

/// <summary><c>GET /cluster/ha/status/current</c>: the quorum entry and the services.</summary>
public sealed record HaStatus(bool? Quorate, string? QuorumStatus, IReadOnlyList<HaService> Services);

/// <summary>One entry of Ceph's <c>health.checks</c>.</summary>
public sealed record CephHealthCheck(string Code, string? Severity, string? Summary);

/// <summary><c>GET /cluster/ceph/status</c>: <c>health.status</c> and its checks.</summary>
public sealed record CephHealth(string? Status, IReadOnlyList<CephHealthCheck> Checks);

/// <summary>One installed package of <c>GET /nodes/{n}/apt/versions</c>.</summary>
public sealed record AptPackage(string Package, string? Version, string? CurrentState, string? RunningKernel);

/// <summary>Parsers for the node health answers, on the shapes of ESTATE-FACTS.md §2 (0/1 booleans, numbers as strings).</summary>
public static class NodeHealthParsers
{
    public static IReadOnlyList<NodeCertificateInfo> ParseCertificates(JsonElement data)
    {
        var list = new List<NodeCertificateInfo>();
        if (data.ValueKind != JsonValueKind.Array) return list;
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || Str(item, "filename") is not { Length: > 0 } file) continue;
            list.Add(new NodeCertificateInfo(file, Str(item, "subject"), Str(item, "issuer"), Epoch(Long(item, "notbefore")), Epoch(Long(item, "notafter")), Str(item, "fingerprint")));
        }
        return list;
    }

    public static IReadOnlyList<ZfsPoolInfo> ParseZfsPools(JsonElement data)
    {
        var list = new List<ZfsPoolInfo>();
        if (data.ValueKind != JsonValueKind.Array) return list;
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || Str(item, "name") is not { Length: > 0 } name) continue;
            list.Add(new ZfsPoolInfo(name, Str(item, "health") ?? string.Empty, Long(item, "size"), Long(item, "alloc"), Long(item, "free"), Long(item, "frag")));
        }
        return list;
    }

    public static ZfsPoolDetail? ParseZfsDetail(JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object) return null;
        return new ZfsPoolDetail(Str(data, "name") ?? string.Empty, Str(data, "state"), Str(data, "status"), Str(data, "action"), Str(data, "scan"), Str(data, "errors"), Vdevs(data, 0));
    }

    private static IReadOnlyList<ZfsVdev> Vdevs(JsonElement obj, int depth)
    {
        if (depth > 16 || !obj.TryGetProperty("children", out var children) || children.ValueKind != JsonValueKind.Array) return [];
        var list = new List<ZfsVdev>();
        foreach (var c in children.EnumerateArray())
        {
            if (c.ValueKind != JsonValueKind.Object) continue;
            list.Add(new ZfsVdev(Str(c, "name") ?? "?", Str(c, "state") ?? string.Empty, Long(c, "read"), Long(c, "write"), Long(c, "cksum"), Str(c, "msg"), Vdevs(c, depth + 1)));
        }
        return list;
    }

    /// <summary>
    /// The vdevs to name for an unhealthy pool: the deepest entries that are not ONLINE, else any entry with read,
    /// write or checksum errors. A DEGRADED mirror whose disk FAULTED names the disk, not the mirror.
    /// </summary>
    public static IReadOnlyList<ZfsVdev> FailingVdevs(ZfsPoolDetail detail)
    {
        var found = new List<ZfsVdev>();
        void Walk(ZfsVdev v)
        {
            var before = found.Count;
            foreach (var c in v.Children) Walk(c);
            if (found.Count == before && (!string.Equals(v.State, "ONLINE", StringComparison.OrdinalIgnoreCase) || v.Read > 0 || v.Write > 0 || v.Cksum > 0))
            {
                found.Add(v);
            }
        }
        foreach (var c in detail.Children) Walk(c);
        // The pool's own row (named like the pool) is only kept when nothing below it is named.
        return found.Count > 1 ? found.Where(v => v.Name != detail.Name).ToList() : found;
    }

    public static IReadOnlyList<DiskInfo> ParseDisks(JsonElement data)
    {
        var list = new List<DiskInfo>();
        if (data.ValueKind != JsonValueKind.Array) return list;
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || Str(item, "devpath") is not { Length: > 0 } dev) continue;
            int? wear = null;
            if (item.TryGetProperty("wearout", out var w))
            {
                if (w.ValueKind == JsonValueKind.Number && w.TryGetDouble(out var d) && d is >= 0 and <= 100) wear = (int)Math.Round(d);
                else if (w.ValueKind == JsonValueKind.String && double.TryParse(w.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s is >= 0 and <= 100) wear = (int)Math.Round(s);
            }
            list.Add(new DiskInfo(dev, Str(item, "model"), Str(item, "serial"), Str(item, "type"), Str(item, "health"), wear));
        }
        return list;
    }

    public static HaStatus ParseHaStatus(JsonElement data)
    {
        bool? quorate = null;
        string? quorumStatus = null;
        var services = new List<HaService>();
        if (data.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in data.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object) continue;
                var type = Str(item, "type") ?? string.Empty;
                var id = Str(item, "id") ?? string.Empty;
                if (type == "quorum" || id == "quorum")
                {
                    quorate = item.TryGetProperty("quorate", out _) ? Bool(item, "quorate") : null;
                    quorumStatus = Str(item, "status");
                }
                else if (type == "service" || id.StartsWith("service:", StringComparison.Ordinal))
                {
                    var sid = Str(item, "sid") ?? (id.StartsWith("service:", StringComparison.Ordinal) ? id["service:".Length..] : id);
                    if (sid.Length == 0) continue;
                    services.Add(new HaService(sid, Str(item, "node"), Str(item, "crm_state"), Str(item, "state"), Str(item, "request_state")));
                }
            }
        }
        return new HaStatus(quorate, quorumStatus, services);
    }

    public static CephHealth ParseCephStatus(JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("health", out var health) || health.ValueKind != JsonValueKind.Object)
        {
            return new CephHealth(null, []);
        }
        var checks = new List<CephHealthCheck>();
        if (health.TryGetProperty("checks", out var c) && c.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in c.EnumerateObject())
            {
                string? summary = null;
                if (p.Value.ValueKind == JsonValueKind.Object && p.Value.TryGetProperty("summary", out var s))
                {
                    summary = s.ValueKind == JsonValueKind.Object ? Str(s, "message") : s.ValueKind == JsonValueKind.String ? s.GetString() : null;
                }
                checks.Add(new CephHealthCheck(p.Name, p.Value.ValueKind == JsonValueKind.Object ? Str(p.Value, "severity") : null, summary));
            }
        }
        return new CephHealth(Str(health, "status"), checks);
    }

    /// <summary>The running kernel release of <c>GET /nodes/{n}/status</c>: <c>current-kernel.release</c>, else the second word of <c>kversion</c>.</summary>
    public static string? ParseRunningKernel(JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object) return null;
        if (data.TryGetProperty("current-kernel", out var ck) && Str(ck, "release") is { Length: > 0 } release) return release;
        var kversion = Str(data, "kversion");
        var parts = kversion?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts is { Length: >= 3 } ? parts[2] : null;
    }

    public static IReadOnlyList<AptPackage> ParseAptVersions(JsonElement data)
    {
        var list = new List<AptPackage>();
        if (data.ValueKind != JsonValueKind.Array) return list;
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || Str(item, "Package") is not { Length: > 0 } name) continue;
            list.Add(new AptPackage(name, Str(item, "Version"), Str(item, "CurrentState"), Str(item, "RunningKernel")));
        }
        return list;
    }

    private static readonly Regex KernelPackage = new(@"^(?:pve|proxmox)-kernel-(?<release>\d+\.\d+\.\d+-\d+-pve)(?:-signed)?$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>The newest installed kernel release among <c>pve-kernel-*</c>/<c>proxmox-kernel-*</c> packages (meta packages like proxmox-kernel-6.8 are not kernels).</summary>
    public static string? NewestInstalledKernel(IEnumerable<AptPackage> packages)
    {
        string? newest = null;
        foreach (var p in packages)
        {
            if (p.CurrentState is { } state && !string.Equals(state, "Installed", StringComparison.OrdinalIgnoreCase)) continue;
            var m = KernelPackage.Match(p.Package);
            if (!m.Success) continue;
            var release = m.Groups["release"].Value;
            if (newest is null || CompareKernel(release, newest) > 0) newest = release;
        }
        return newest;
    }

    /// <summary>Orders kernel releases "6.8.12-4-pve" numerically part by part (6.8.12-10 is newer than 6.8.12-9).</summary>
    public static int CompareKernel(string a, string b)
    {
        var x = Numbers(a);
        var y = Numbers(b);
        for (var i = 0; i < Math.Max(x.Count, y.Count); i++)
        {
            var p = i < x.Count ? x[i] : -1;
            var q = i < y.Count ? y[i] : -1;
            if (p != q) return p.CompareTo(q);
        }
        return 0;
    }

    private static List<long> Numbers(string release)
    {
        var list = new List<long>();
        foreach (Match m in Regex.Matches(release, @"\d+", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)))
        {
            list.Add(long.TryParse(m.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : long.MaxValue);
        }
        return list;
    }

    /// <summary>Packages with an update from <c>GET /nodes/{n}/apt/update</c> (names only).</summary>
    public static IReadOnlyList<string> ParseAptUpdates(JsonElement data)
    {
        var list = new List<string>();
        if (data.ValueKind != JsonValueKind.Array) return list;
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object && Str(item, "Package") is { Length: > 0 } name) list.Add(name);
        }
        return list;
    }

    private static DateTimeOffset? Epoch(long? seconds)
        => seconds is long s && s is > -62135596800 and < 253402300799 ? DateTimeOffset.FromUnixTimeSeconds(s) : null;
}
