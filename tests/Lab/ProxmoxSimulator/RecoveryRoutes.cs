// Proxmox simulator: storage, backups (jobs, coverage, content, vzdump tasks and logs), replication and snapshots.
// Real field names and quirks (ESTATE-FACTS.md §2): 0/1 booleans, used_fraction absent when total is 0, PBS volids
// <sid>:backup/vm/<id>/<ISO-UTC>, "WARNINGS: n" statuses, multi-guest vzdump tasks (id "") with per-guest log lines,
// "TASK ERROR: job errors", content lists that are silently empty for a token without backup privileges.
//
// The scripted cases hang off the lab's scripted guests by name (the first six of PveLab's plan):
//   web-01   backed up (PBS 20 h, local vzdump 3 d); failing replication to pve2; a 45-day-old snapshot
//   web-02   failed in pve2's multi-guest vzdump task ("ERROR: Backup of VM 102 failed - ..."); newest good backup 44 h
//   db-01    stale: newest backup 60 h old; replication to pve2 fine
//   app-01   newest PBS backup failed verification; the one before is 44 h old; an unfinished snapshot (snapstate prepare)
//   cache-01 only in a disabled job
//   ci-01    in no job
//   fillers  backed up by the daily job, 20 h old
// Storages: pve1 local-lvm at 93 %, nfs-archive inactive (active 0, total 0, no used_fraction) on every node, a shared
// PBS storage, each node's local dir storage (content backup).
// Control: POST /_lab/recovery {"backupVisible": false} makes content?content=backup list nothing (a PVEAuditor token);
// {"snapshotDelayMs": n} delays every snapshot list by n ms (a slow node: the Snapshots unit runs out of time).
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

static class RecoveryRoutes
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;
    private static readonly long Now = T0.ToUnixTimeSeconds();

    /// <summary>False: backup volumes are invisible, as for a token with PVEAuditor only.</summary>
    public static bool BackupVisible { get; set; } = true;

    /// <summary>Delay of each GET .../snapshot answer in ms (0: none); awaited outside the lab lock.</summary>
    public static int SnapshotDelayMs { get; set; }

    /// <summary>How long the request with these path segments waits before it is handled (ms).</summary>
    public static int DelayOf(string[] segs) => segs is ["nodes", _, "qemu" or "lxc", _, "snapshot"] ? SnapshotDelayMs : 0;

    private const long GiB = 1L << 30;

    public static bool Control(HttpContext ctx, string[] parts, JsonObject body)
    {
        if (parts is not ["recovery"]) return false;
        if (body["backupVisible"] is JsonValue v) BackupVisible = v.GetValue<bool>();
        if (body["snapshotDelayMs"] is JsonValue d) SnapshotDelayMs = d.GetValue<int>();
        Json(ctx, 200, new JsonObject { ["backupVisible"] = BackupVisible, ["snapshotDelayMs"] = SnapshotDelayMs });
        return true;
    }

    /// <summary>Handles the recovery routes; false when the path is not one of them.</summary>
    public static bool Handle(HttpContext ctx, string method, string[] segs, LabState lab)
    {
        if (!HttpMethods.IsGet(method)) return false;
        var q = ctx.Request.Query;
        switch (segs)
        {
            case ["cluster", "backup"]:
                Data(ctx, BackupJobs(lab));
                return true;
            case ["cluster", "backup-info", "not-backed-up"]:
                Data(ctx, new JsonArray(Guests(lab).Where(g => JobsOf(lab, g).Count == 0)
                    .Select(g => (JsonNode)new JsonObject { ["vmid"] = g.VmId, ["type"] = g.Type, ["name"] = g.Name }).ToArray()));
                return true;
            case ["nodes", var node, "storage"]:
                if (!Online(ctx, lab, node)) return true;
                Data(ctx, new JsonArray(Storages(node).Select(s => (JsonNode)s.ToJson()).ToArray()));
                return true;
            case ["nodes", var node, "storage", var sid, "content"]:
                if (!Online(ctx, lab, node)) return true;
                var storage = Storages(node).FirstOrDefault(s => s.Id == sid);
                if (storage is null) { Error(ctx, 500, $"storage '{sid}' does not exist"); return true; }
                if (!storage.Active) { Error(ctx, 500, $"storage '{sid}' is not online"); return true; }
                var wanted = q["content"].ToString();
                var items = new JsonArray();
                if (wanted is "" or "backup")
                {
                    if (BackupVisible)
                    {
                        foreach (var v in Volumes(lab).Where(v => v.Storage == sid && (storage.Shared || v.Node == node))) items.Add(v.ToJson());
                    }
                }
                Data(ctx, items);
                return true;
            case ["nodes", var node, "tasks"]:
                if (!Online(ctx, lab, node)) return true;
                var since = long.TryParse(q["since"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var sv) ? sv : 0;
                var limit = int.TryParse(q["limit"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var lv) ? lv : 50;
                var type = q["typefilter"].ToString();
                var tasks = Tasks(lab).Where(t => t.Node == node && t.Start >= since && (type.Length == 0 || t.Type == type))
                    .OrderByDescending(t => t.Start).Take(limit == 0 ? int.MaxValue : limit);
                Data(ctx, new JsonArray(tasks.Select(t => (JsonNode)t.ToJson()).ToArray()));
                return true;
            case ["nodes", var node, "tasks", var upid, "log"]:
                if (!Online(ctx, lab, node)) return true;
                var task = Tasks(lab).FirstOrDefault(t => t.Upid == upid);
                if (task is null) { Error(ctx, 500, $"unable to parse worker upid '{upid}'"); return true; }
                var lines = new JsonArray();
                var n = 1;
                foreach (var line in task.Log) lines.Add(new JsonObject { ["n"] = n++, ["t"] = line });
                Data(ctx, lines);
                return true;
            case ["nodes", var node, "replication"]:
                if (!Online(ctx, lab, node)) return true;
                Data(ctx, new JsonArray(Replications(lab).Where(r => r.Source == node).Select(r => (JsonNode)r.ToJson()).ToArray()));
                return true;
            case ["nodes", var node, "qemu" or "lxc", var id, "snapshot"] when int.TryParse(id, out var vmid):
                if (!Online(ctx, lab, node)) return true;
                var g = lab.Guests.FirstOrDefault(x => x.VmId == vmid && x.Node == node && x.Type == segs[2]);
                if (g is null) return false; // the guest routes answer "does not exist"
                if (g.Restricted) { Error(ctx, 403, $"Permission check failed (/vms/{vmid}, VM.Audit)"); return true; }
                Data(ctx, Snapshots(g));
                return true;
        }
        return false;
    }

    private static bool Online(HttpContext ctx, LabState lab, string node)
    {
        var n = lab.Nodes.FirstOrDefault(x => x.Name == node);
        if (n is null) { Error(ctx, 500, $"hostname lookup '{node}' failed - failed to get address info for: {node}: Name or service not known"); return false; }
        if (!n.Online) { Error(ctx, 595, "No route to host"); return false; }
        return true;
    }

    private static IEnumerable<LabGuest> Guests(LabState lab) => lab.Guests.Where(g => !g.Template);

    private static int? Id(LabState lab, string name) => lab.Guests.FirstOrDefault(g => g.Name == name)?.VmId;

    // ---- storages ------------------------------------------------------------------------------
    private sealed record Storage(string Id, string Type, string Content, bool Shared, bool Active, long Total, long Used)
    {
        public JsonObject ToJson()
        {
            var o = new JsonObject
            {
                ["storage"] = Id, ["type"] = Type, ["content"] = Content, ["enabled"] = 1, ["active"] = Active ? 1 : 0,
                ["shared"] = Shared ? 1 : 0, ["total"] = Total, ["used"] = Used, ["avail"] = Math.Max(0, Total - Used),
            };
            if (Total > 0) o["used_fraction"] = (double)Used / Total;
            return o;
        }
    }

    private static List<Storage> Storages(string node) =>
    [
        new("local", "dir", "iso,vztmpl,backup", false, true, 100 * GiB, node == "pve1" ? 41 * GiB : 37 * GiB),
        new("local-lvm", "lvmthin", "images,rootdir", false, true, 200 * GiB, node == "pve1" ? 186 * GiB : 102 * GiB),
        new("pbs", "pbs", "backup", true, true, 2048 * GiB, 760 * GiB),
        new("nfs-archive", "nfs", "backup,iso", true, false, 0, 0),
    ];

    // ---- backup jobs ---------------------------------------------------------------------------
    private static JsonArray BackupJobs(LabState lab)
    {
        var exclude = string.Join(',', new[] { Id(lab, "cache-01"), Id(lab, "ci-01") }.Where(i => i is not null));
        var arr = new JsonArray
        {
            new JsonObject
            {
                ["id"] = "backup-daily", ["type"] = "vzdump", ["schedule"] = "21:00", ["storage"] = "pbs", ["all"] = 1, ["exclude"] = exclude,
                ["mode"] = "snapshot", ["enabled"] = 1, ["next-run"] = Now + 3600, ["prune-backups"] = new JsonObject { ["keep-daily"] = 7 },
            },
        };
        if (Id(lab, "cache-01") is int cache)
        {
            arr.Add(new JsonObject
            {
                ["id"] = "backup-old", ["type"] = "vzdump", ["schedule"] = "sun 02:00", ["storage"] = "local", ["vmid"] = cache.ToString(CultureInfo.InvariantCulture),
                ["mode"] = "snapshot", ["enabled"] = 0, ["next-run"] = Now + 86400,
            });
        }
        return arr;
    }

    /// <summary>Job ids covering a guest, disabled jobs included (as /cluster/backup-info/not-backed-up counts them).</summary>
    private static List<string> JobsOf(LabState lab, LabGuest g)
    {
        var jobs = new List<string>();
        if (g.Name != "cache-01" && g.Name != "ci-01") jobs.Add("backup-daily");
        if (g.Name == "cache-01") jobs.Add("backup-old");
        return jobs;
    }

    // ---- backup volumes ------------------------------------------------------------------------
    private sealed record Volume(string Storage, string Node, int VmId, string Type, long Ctime, string? Verification, bool Pbs)
    {
        public JsonObject ToJson()
        {
            var when = DateTimeOffset.FromUnixTimeSeconds(Ctime);
            var volid = Pbs
                ? $"{Storage}:backup/{(Type == "lxc" ? "ct" : "vm")}/{VmId}/{when.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}"
                : $"{Storage}:backup/vzdump-{Type}-{VmId}-{when.UtcDateTime:yyyy_MM_dd-HH_mm_ss}.{(Type == "lxc" ? "tar.zst" : "vma.zst")}";
            var o = new JsonObject
            {
                ["volid"] = volid, ["content"] = "backup", ["vmid"] = VmId, ["ctime"] = Ctime, ["size"] = 3 * GiB + VmId,
                ["format"] = Pbs ? (Type == "lxc" ? "pbs-ct" : "pbs-vm") : (Type == "lxc" ? "tar.zst" : "vma.zst"),
                ["subtype"] = Type, ["notes"] = "daily", ["protected"] = 0,
            };
            if (Pbs) o["encrypted"] = null;
            if (Verification is not null) o["verification"] = new JsonObject { ["state"] = Verification, ["upid"] = $"UPID:pbs:0000A1B2:00C0FFEE:{Ctime + 600:X8}:verificationjob:{VmId}:root@pam:" };
            return o;
        }
    }

    private static List<Volume> Volumes(LabState lab)
    {
        var list = new List<Volume>();
        foreach (var g in Guests(lab).Where(g => !g.Restricted))
        {
            if (g.Name is "cache-01" or "ci-01") continue;
            var hours = g.Name switch { "db-01" => new[] { 60, 84 }, "web-02" => [44, 68], _ => [20, 44] };
            for (var i = 0; i < hours.Length; i++)
            {
                var verification = g.Name == "app-01" && i == 0 ? "failed" : i == 0 ? null : "ok";
                var h = g.Name == "app-01" && i == 0 ? 20 : hours[i];
                list.Add(new Volume("pbs", g.Node, g.VmId, g.Type, Now - h * 3600L, verification, true));
            }
            if (g.Name == "web-01") list.Add(new Volume("local", g.Node, g.VmId, g.Type, Now - 72 * 3600L, null, false));
        }
        // A guest that no longer exists still has backups: never a finding.
        list.Add(new Volume("pbs", "pve1", 150, "qemu", Now - 400 * 3600L, "ok", true));
        return list;
    }

    // ---- vzdump tasks --------------------------------------------------------------------------
    private sealed record LabTask(string Node, string Upid, string Type, string Id, long Start, long End, string Status, List<string> Log)
    {
        public JsonObject ToJson() => new()
        {
            ["upid"] = Upid, ["node"] = Node, ["pid"] = 4242, ["pstart"] = 123456, ["starttime"] = Start, ["endtime"] = End,
            ["type"] = Type, ["id"] = Id, ["user"] = "root@pam", ["status"] = Status, ["saved"] = "1",
        };
    }

    private static string Upid(string node, long start, string type, string id)
        => $"UPID:{node}:{(start % 0xFFFF):X8}:{(start % 0xFFFFFF):X8}:{start:X8}:{type}:{id}:root@pam:";

    private static List<LabTask> Tasks(LabState lab)
    {
        var tasks = new List<LabTask>();
        foreach (var node in lab.Nodes.Select(n => n.Name))
        {
            var start = Now - 20 * 3600L - (node == "pve2" ? 120 : 0);
            var log = new List<string> { $"INFO: starting new backup job: vzdump --all 1 --mode snapshot --storage pbs --node {node}" };
            var failed = false;
            var warnings = 0;
            // db-01 (the stale case) is not in last night's run: its newest backup is 60 h old.
            foreach (var g in Guests(lab).Where(g => g.Node == node && !g.Restricted && g.Name != "db-01" && JobsOf(lab, g).Contains("backup-daily")))
            {
                var kind = g.Type == "lxc" ? "lxc" : "qemu";
                log.Add($"INFO: Starting Backup of VM {g.VmId} ({kind})");
                if (g.Name == "web-02")
                {
                    log.Add($"ERROR: Backup of VM {g.VmId} failed - VM {g.VmId} qmp command 'backup' failed - got timeout");
                    failed = true;
                    continue;
                }
                if (g.Name == "web-01") { log.Add("WARN: no lock found trying to remove 'backup'  lock"); warnings++; }
                log.Add($"INFO: Finished Backup of VM {g.VmId} (00:00:{10 + g.VmId % 40:d2})");
            }
            log.Add(failed ? "INFO: Backup job finished with errors" : "INFO: Backup job finished successfully");
            if (failed) log.Add("TASK ERROR: job errors");
            else if (warnings > 0) log.Add($"TASK WARNINGS: {warnings}");
            var status = failed ? "job errors" : warnings > 0 ? $"WARNINGS: {warnings}" : "OK";
            tasks.Add(new LabTask(node, Upid(node, start, "vzdump", ""), "vzdump", "", start, start + 300, status, log));
        }
        // A manual single-guest backup of web-01 two hours ago (id is the VMID).
        if (lab.Guests.FirstOrDefault(g => g.Name == "web-01") is { } w)
        {
            var s = Now - 2 * 3600L;
            var id = w.VmId.ToString(CultureInfo.InvariantCulture);
            tasks.Add(new LabTask(w.Node, Upid(w.Node, s, "vzdump", id), "vzdump", id, s, s + 60, "OK",
                [$"INFO: Starting Backup of VM {id} (qemu)", $"INFO: Finished Backup of VM {id} (00:00:42)", "TASK OK"]));
        }
        return tasks;
    }

    // ---- replication ---------------------------------------------------------------------------
    private sealed record Replication(string Source, int Guest, string Target, string Schedule, long LastSync, long LastTry, int FailCount, string? Error, long NextSync)
    {
        public JsonObject ToJson()
        {
            var o = new JsonObject
            {
                ["id"] = $"{Guest}-0", ["jobnum"] = 0, ["guest"] = Guest, ["type"] = "local", ["target"] = Target, ["schedule"] = Schedule,
                ["source"] = Source, ["last_sync"] = LastSync, ["last_try"] = LastTry, ["fail_count"] = FailCount, ["next_sync"] = NextSync,
                ["duration"] = 3.21, ["vmtype"] = "qemu",
            };
            if (Error is not null) o["error"] = Error;
            return o;
        }
    }

    private static List<Replication> Replications(LabState lab)
    {
        var list = new List<Replication>();
        if (lab.Guests.FirstOrDefault(g => g.Name == "web-01") is { } w)
        {
            list.Add(new Replication(w.Node, w.VmId, "pve2", "*/15", Now - 4 * 3600L, Now - 300, 3,
                "command 'zfs recv' failed: exit code 1 - cannot receive incremental stream: destination rpool/data has been modified", Now + 600));
        }
        if (lab.Guests.FirstOrDefault(g => g.Name == "db-01") is { } d)
        {
            list.Add(new Replication(d.Node, d.VmId, "pve2", "*/15", Now - 400, Now - 400, 0, null, Now + 500));
        }
        return list;
    }

    // ---- snapshots -----------------------------------------------------------------------------
    private static JsonArray Snapshots(LabGuest g)
    {
        var arr = new JsonArray();
        string? parent = null;
        if (g.Name == "web-01")
        {
            arr.Add(new JsonObject { ["name"] = "before-upgrade", ["snaptime"] = Now - 45 * 86400L, ["description"] = "pre 12.8 upgrade", ["vmstate"] = 0 });
            parent = "before-upgrade";
        }
        if (g.Name == "app-01")
        {
            arr.Add(new JsonObject { ["name"] = "nightly-test", ["snaptime"] = Now - 3600, ["description"] = "", ["snapstate"] = "prepare" });
            parent = "nightly-test";
        }
        var current = new JsonObject { ["name"] = "current", ["description"] = "You are here!", ["running"] = g.Status == "running" ? 1 : 0 };
        if (parent is not null) current["parent"] = parent;
        arr.Add(current);
        return arr;
    }

    // ---- answers -------------------------------------------------------------------------------
    private static void Data(HttpContext ctx, JsonNode? data) => Json(ctx, 200, new JsonObject { ["data"] = data });

    private static void Json(HttpContext ctx, int status, JsonObject body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json;charset=UTF-8";
        Answer.Set(ctx, body);
    }

    private static void Error(HttpContext ctx, int status, string reason)
    {
        ctx.Response.StatusCode = status;
        ctx.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = reason;
        ctx.Response.ContentType = "application/json;charset=UTF-8";
        Answer.Set(ctx, new JsonObject { ["data"] = null, ["message"] = reason + "\n" });
    }
}
