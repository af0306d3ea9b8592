// Node and service health routes of the Proxmox simulator (issue 16), in the real shapes of ESTATE-FACTS.md §2:
// /nodes/{n}/certificates/info, /nodes/{n}/disks/zfs[/{name}], /nodes/{n}/disks/list, /nodes/{n}/status,
// /nodes/{n}/apt/versions, /nodes/{n}/apt/update, /cluster/ha/status/current, /cluster/ceph/status.
// Scripted by default with the issue's faults (see NodeHealthLab); changed through POST /_lab/nodehealth.
// Requests that arrive on the second port (--port2, the lab's second environment) see a clean estate: every node
// healthy, no HA configured and no Ceph installed.
using System.Text.Json.Nodes;

/// <summary>An answer: 200 with data, or an error status and reason.</summary>
sealed record SimAnswer(int Status, string Reason, JsonNode? Data)
{
    public static SimAnswer Ok(JsonNode? data) => new(200, "OK", data);
    public static SimAnswer Fail(int status, string reason) => new(status, reason, null);
}

sealed class LabDisk
{
    public string Node { get; set; } = "pve1";
    public string DevPath { get; set; } = "/dev/sda";
    public string Type { get; set; } = "ssd";
    public string Model { get; set; } = "Samsung SSD 870 EVO 1TB";
    public string Serial { get; set; } = "S6PUNX0T000001";
    public string Health { get; set; } = "PASSED";
    /// <summary>Life remaining in percent, or null for "N/A" (spinning disks).</summary>
    public int? Wearout { get; set; } = 97;
    public string Used { get; set; } = "ZFS";
}

sealed class LabHaService
{
    public string Sid { get; set; } = "vm:101";
    public string Node { get; set; } = "pve1";
    public string CrmState { get; set; } = "started";
    public string State { get; set; } = "started";
    public string RequestState { get; set; } = "started";
}

/// <summary>The node health state the simulator serves. The defaults are the issue's scripted faults.</summary>
sealed class NodeHealthLab
{
    public const string InstalledKernel = "6.8.12-4-pve";

    /// <summary>"node/file" → days until notAfter (negative: expired). Missing files of a node: healthy defaults.</summary>
    public Dictionary<string, double> CertificateDays { get; set; } = new() { ["pve1/pveproxy-ssl.pem"] = 5 };
    /// <summary>"node/pool" → health; each node has its pools listed here (a node with none has no pools).</summary>
    public Dictionary<string, string> Pools { get; set; } = new() { ["pve1/rpool"] = "ONLINE", ["pve2/tank"] = "DEGRADED" };
    public List<LabDisk> Disks { get; set; } =
    [
        new() { Node = "pve1", DevPath = "/dev/sda", Wearout = 96, Serial = "S6PUNX0T100001" },
        new() { Node = "pve1", DevPath = "/dev/sdb", Type = "hdd", Model = "ST4000NM0035-1V4107", Serial = "ZC1B2C3D", Health = "FAILED!", Wearout = null },
        new() { Node = "pve2", DevPath = "/dev/nvme0n1", Type = "nvme", Model = "Samsung SSD 980 PRO 1TB", Serial = "S5GXNX0T200002", Wearout = 8 },
        new() { Node = "pve2", DevPath = "/dev/sda", Type = "hdd", Model = "ST4000NM0035-1V4107", Serial = "ZC1B2C3E", Wearout = null },
    ];
    public List<LabHaService> HaServices { get; set; } =
    [
        new() { Sid = "vm:101", Node = "pve1", CrmState = "error", State = "error", RequestState = "started" },
        new() { Sid = "vm:102", Node = "pve2" },
    ];
    public bool HaQuorate { get; set; } = true;
    /// <summary>HEALTH_OK, HEALTH_WARN, HEALTH_ERR, or absent (Ceph not installed).</summary>
    public string Ceph { get; set; } = "HEALTH_WARN";
    /// <summary>node → running kernel; missing nodes run <see cref="InstalledKernel"/>.</summary>
    public Dictionary<string, string> RunningKernel { get; set; } = new() { ["pve1"] = "6.8.12-2-pve" };
    /// <summary>Pending updates; null: the token lacks Sys.Modify (403), as the lab's PVEAuditor-like token does.</summary>
    public List<string>? Updates { get; set; }

    /// <summary>The second environment's clean estate.</summary>
    public static NodeHealthLab Clean() => new()
    {
        CertificateDays = new(), Pools = new() { ["pve1/rpool"] = "ONLINE", ["pve2/rpool"] = "ONLINE" },
        Disks = [new() { Node = "pve1", DevPath = "/dev/sda" }, new() { Node = "pve2", DevPath = "/dev/sda", Serial = "S6PUNX0T100009" }],
        HaServices = [], Ceph = "absent", RunningKernel = new(),
    };
}

static class NodeHealthRoutes
{
    /// <summary>The answer for a node health route, or null when the route is not one of them.</summary>
    public static SimAnswer? Answer(NodeHealthLab s, string method, string[] segs, IReadOnlyList<string> nodes)
    {
        if (method != "GET") return null;
        switch (segs)
        {
            case ["cluster", "ha", "status", "current"]:
                return SimAnswer.Ok(HaStatus(s, nodes));
            case ["cluster", "ceph", "status"]:
                if (s.Ceph == "absent") return SimAnswer.Fail(500, "binary not installed: /usr/bin/ceph-mon");
                return SimAnswer.Ok(CephStatus(s.Ceph));
            case ["nodes", var node, "certificates", "info"]:
                return SimAnswer.Ok(Certificates(s, node));
            case ["nodes", var node, "disks", "zfs"]:
                return SimAnswer.Ok(new JsonArray(s.Pools.Where(p => p.Key.StartsWith(node + "/", StringComparison.Ordinal)).Select(p => (JsonNode)new JsonObject
                {
                    ["name"] = p.Key[(node.Length + 1)..], ["size"] = 1_992_864_825_344L, ["alloc"] = 412_316_860_416L, ["free"] = 1_580_547_964_928L,
                    ["frag"] = 7, ["dedup"] = 1.0, ["health"] = p.Value,
                }).ToArray()));
            case ["nodes", var node, "disks", "zfs", var pool]:
                if (!s.Pools.TryGetValue($"{node}/{pool}", out var health)) return SimAnswer.Fail(500, $"zpool status: cannot open '{pool}': no such pool");
                return SimAnswer.Ok(ZfsDetail(pool, health));
            case ["nodes", var node, "disks", "list"]:
                return SimAnswer.Ok(new JsonArray(s.Disks.Where(d => d.Node == node).Select(d => (JsonNode)new JsonObject
                {
                    ["devpath"] = d.DevPath, ["model"] = d.Model, ["serial"] = d.Serial, ["vendor"] = "ATA     ", ["type"] = d.Type,
                    ["size"] = 1_000_204_886_016L, ["health"] = d.Health, ["wearout"] = d.Wearout is int w ? w : "N/A", ["used"] = d.Used,
                    ["gpt"] = 1, ["rpm"] = d.Type == "hdd" ? 7200 : 0, ["osdid"] = -1, ["osdid-list"] = null,
                    ["wwn"] = "0x5002538e40000001", ["by_id_link"] = "/dev/disk/by-id/ata-" + d.Serial,
                }).ToArray()));
            case ["nodes", var node, "status"]:
                var release = s.RunningKernel.GetValueOrDefault(node, NodeHealthLab.InstalledKernel);
                var build = release.Replace("-pve", string.Empty, StringComparison.Ordinal);
                return SimAnswer.Ok(new JsonObject
                {
                    ["uptime"] = 864000, ["cpu"] = 0.03, ["wait"] = 0.0, ["loadavg"] = new JsonArray("0.12", "0.08", "0.05"),
                    ["kversion"] = $"Linux {release} #1 SMP PREEMPT_DYNAMIC PMX {build} (2024-11-26T12:07Z)",
                    ["current-kernel"] = new JsonObject { ["sysname"] = "Linux", ["release"] = release, ["version"] = $"#1 SMP PREEMPT_DYNAMIC PMX {build} (2024-11-26T12:07Z)", ["machine"] = "x86_64" },
                    ["pveversion"] = "pve-manager/8.3.2/3e76eec21c4a14a7", ["boot-info"] = new JsonObject { ["mode"] = "efi", ["secureboot"] = 0 },
                    ["memory"] = new JsonObject { ["total"] = 34359738368L, ["used"] = 8589934592L, ["free"] = 25769803776L },
                });
            case ["nodes", var node, "apt", "versions"]:
                var running = s.RunningKernel.GetValueOrDefault(node, NodeHealthLab.InstalledKernel);
                return SimAnswer.Ok(new JsonArray(
                    Pkg("proxmox-ve", "8.3.0", running),
                    Pkg("pve-manager", "8.3.2", null),
                    Pkg("proxmox-kernel-helper", "8.1.0", null),
                    Pkg("proxmox-kernel-6.8", "6.8.12-4", null),
                    Pkg("proxmox-kernel-6.8.12-2-pve-signed", "6.8.12-2", null),
                    Pkg("proxmox-kernel-" + NodeHealthLab.InstalledKernel + "-signed", "6.8.12-4", null),
                    Pkg("pve-kernel-5.15.158-2-pve", "5.15.158-2", null),
                    Pkg("qemu-server", "8.3.3", null)));
            case ["nodes", var node, "apt", "update"]:
                if (s.Updates is null) return SimAnswer.Fail(403, $"Permission check failed (/nodes/{node}, Sys.Modify)");
                return SimAnswer.Ok(new JsonArray(s.Updates.Select(p => (JsonNode)new JsonObject
                {
                    ["Package"] = p, ["Title"] = p, ["Version"] = "9.9.9-1", ["OldVersion"] = "9.9.8-1", ["Origin"] = "Proxmox", ["Priority"] = "optional", ["Section"] = "admin", ["Arch"] = "amd64",
                }).ToArray()));
            default:
                return null;
        }
    }

    private static JsonObject Pkg(string name, string version, string? runningKernel)
    {
        var o = new JsonObject
        {
            ["Package"] = name, ["Title"] = name, ["Version"] = version, ["CurrentState"] = "Installed", ["Origin"] = "Proxmox",
            ["Priority"] = "optional", ["Section"] = "admin", ["Arch"] = "amd64", ["Description"] = name,
        };
        if (runningKernel is not null) { o["RunningKernel"] = runningKernel; o["ManagerVersion"] = "8.3.2"; }
        return o;
    }

    private static JsonArray Certificates(NodeHealthLab s, string node)
    {
        var now = DateTimeOffset.UtcNow;
        var files = new List<(string File, string Subject, string Issuer, double Days)>
        {
            ("pve-root-ca.pem", "/CN=Proxmox Virtual Environment/OU=3f2a9c1e/O=PVE Cluster Manager CA", "/CN=Proxmox Virtual Environment/OU=3f2a9c1e/O=PVE Cluster Manager CA", 3650),
            ("pve-ssl.pem", $"/OU=PVE Cluster Node/O=Proxmox Virtual Environment/CN={node}.lab.invalid", "/CN=Proxmox Virtual Environment/OU=3f2a9c1e/O=PVE Cluster Manager CA", 700),
        };
        if (s.CertificateDays.ContainsKey($"{node}/pveproxy-ssl.pem"))
        {
            files.Add(("pveproxy-ssl.pem", $"/CN={node}.lab.invalid", "/C=US/O=Let's Encrypt/CN=R11", 60));
        }
        var arr = new JsonArray();
        foreach (var f in files)
        {
            var days = s.CertificateDays.GetValueOrDefault($"{node}/{f.File}", f.Days);
            var notAfter = now.AddDays(days);
            arr.Add(new JsonObject
            {
                ["filename"] = f.File, ["fingerprint"] = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
                ["subject"] = f.Subject, ["issuer"] = f.Issuer, ["notbefore"] = notAfter.AddDays(-(days > 90 ? days + 30 : 90)).ToUnixTimeSeconds(),
                ["notafter"] = notAfter.ToUnixTimeSeconds(), ["san"] = new JsonArray($"{node}.lab.invalid", "127.0.0.1", "localhost"),
                ["public-key-type"] = "rsa", ["public-key-bits"] = 2048, ["pem"] = "-----BEGIN CERTIFICATE-----\n(lab)\n-----END CERTIFICATE-----\n",
            });
        }
        return arr;
    }

    private static JsonObject ZfsDetail(string pool, string health)
    {
        JsonObject Vdev(string name, string state, int read, int write, int cksum, string? msg, bool leaf, params JsonObject[] children)
        {
            var o = new JsonObject { ["name"] = name, ["state"] = state, ["read"] = read, ["write"] = write, ["cksum"] = cksum, ["leaf"] = leaf ? 1 : 0 };
            if (msg is not null) o["msg"] = msg;
            if (children.Length > 0) o["children"] = new JsonArray(children);
            return o;
        }
        var degraded = health != "ONLINE";
        var mirror = Vdev("mirror-0", degraded ? "DEGRADED" : "ONLINE", 0, 0, 0, null, false,
            Vdev("/dev/disk/by-id/ata-ST4000NM0035-1V4107_ZC1B2C3F-part1", "ONLINE", 0, 0, 0, null, true),
            Vdev("/dev/disk/by-id/ata-ST4000NM0035-1V4107_ZC1B2C3G-part1", degraded ? "FAULTED" : "ONLINE", degraded ? 3 : 0, degraded ? 41 : 0, degraded ? 12 : 0, degraded ? "too many errors" : null, true));
        var o = new JsonObject
        {
            ["name"] = pool, ["state"] = health,
            ["errors"] = "No known data errors",
            ["scan"] = "scrub repaired 0B in 00:41:07 with 0 errors on Sun Nov 8 00:41:08 2026",
            ["children"] = new JsonArray(Vdev(pool, health, 0, 0, 0, null, false, mirror)),
        };
        if (degraded)
        {
            o["status"] = "One or more devices are faulted in response to persistent errors. Sufficient replicas exist for the pool to continue functioning in a degraded state.";
            o["action"] = "Replace the faulted device, or use 'zpool clear' to mark the device repaired.";
        }
        return o;
    }

    private static JsonArray HaStatus(NodeHealthLab s, IReadOnlyList<string> nodes)
    {
        var arr = new JsonArray();
        if (s.HaServices.Count == 0) return new JsonArray(new JsonObject { ["id"] = "quorum", ["type"] = "quorum", ["node"] = nodes.FirstOrDefault() ?? "pve1", ["status"] = s.HaQuorate ? "OK" : "No quorum on node", ["quorate"] = s.HaQuorate ? 1 : 0 });
        arr.Add(new JsonObject { ["id"] = "quorum", ["type"] = "quorum", ["node"] = nodes.FirstOrDefault() ?? "pve1", ["status"] = s.HaQuorate ? "OK" : "No quorum on node", ["quorate"] = s.HaQuorate ? 1 : 0 });
        arr.Add(new JsonObject { ["id"] = "master", ["type"] = "master", ["node"] = nodes.FirstOrDefault() ?? "pve1", ["status"] = $"{nodes.FirstOrDefault() ?? "pve1"} (active, Wed Dec  2 16:00:00 2026)", ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() });
        foreach (var n in nodes)
        {
            arr.Add(new JsonObject { ["id"] = "lrm:" + n, ["type"] = "lrm", ["node"] = n, ["status"] = $"{n} (active, Wed Dec  2 16:00:00 2026)", ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() });
        }
        foreach (var svc in s.HaServices)
        {
            arr.Add(new JsonObject
            {
                ["id"] = "service:" + svc.Sid, ["type"] = "service", ["sid"] = svc.Sid, ["node"] = svc.Node, ["crm_state"] = svc.CrmState,
                ["state"] = svc.State, ["request_state"] = svc.RequestState, ["status"] = $"{svc.Sid} ({svc.Node}, {svc.State})",
                ["max_restart"] = 1, ["max_relocate"] = 1,
            });
        }
        return arr;
    }

    private static JsonObject CephStatus(string status)
    {
        var checks = new JsonObject();
        if (status != "HEALTH_OK")
        {
            checks["OSD_NEARFULL"] = new JsonObject { ["severity"] = "HEALTH_WARN", ["summary"] = new JsonObject { ["message"] = "1 nearfull osd(s)", ["count"] = 1 }, ["muted"] = false };
            checks["POOL_NEARFULL"] = new JsonObject { ["severity"] = "HEALTH_WARN", ["summary"] = new JsonObject { ["message"] = "2 pool(s) nearfull", ["count"] = 2 }, ["muted"] = false };
        }
        if (status == "HEALTH_ERR")
        {
            checks["PG_DAMAGED"] = new JsonObject { ["severity"] = "HEALTH_ERR", ["summary"] = new JsonObject { ["message"] = "Possible data damage: 1 pg inconsistent", ["count"] = 1 }, ["muted"] = false };
        }
        return new JsonObject
        {
            ["fsid"] = "8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b",
            ["health"] = new JsonObject { ["status"] = status, ["checks"] = checks, ["mutes"] = new JsonArray() },
            ["election_epoch"] = 42, ["quorum"] = new JsonArray(0, 1), ["quorum_names"] = new JsonArray("pve1", "pve2"),
            ["pgmap"] = new JsonObject { ["num_pgs"] = 129, ["bytes_used"] = 412316860416L, ["bytes_total"] = 1992864825344L },
        };
    }
}
