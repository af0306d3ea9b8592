using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using static PveHealth.Clients.Proxmox.ProxmoxParsers;

namespace PveHealth.Clients.Proxmox;

/// <summary>One row of <c>GET /nodes/{node}/storage</c>.</summary>
public sealed class PveStorage
{
    public string Node { get; init; } = string.Empty;
    public string Storage { get; init; } = string.Empty;
    /// <summary>dir, lvmthin, zfspool, nfs, cifs, pbs, rbd, ...</summary>
    public string Type { get; init; } = string.Empty;
    /// <summary>Content types ("images,rootdir", "backup").</summary>
    public IReadOnlyList<string> Content { get; init; } = [];
    /// <summary>0/1 <c>enabled</c>; absent counts as enabled (0 can mean "restricted to other nodes").</summary>
    public bool Enabled { get; init; } = true;
    public bool Active { get; init; }
    public bool Shared { get; init; }
    public long? Total { get; init; }
    public long? Used { get; init; }
    public long? Avail { get; init; }
    /// <summary><c>used_fraction</c>, present only when total &gt; 0.</summary>
    public double? UsedFraction { get; init; }

    public bool HasContent(string content) => Content.Contains(content, StringComparer.OrdinalIgnoreCase);
}

/// <summary>One job of <c>GET /cluster/backup</c>.</summary>
public sealed class PveBackupJob
{
    public string Id { get; init; } = string.Empty;
    public bool Enabled { get; init; } = true;
    public bool All { get; init; }
    public IReadOnlyList<int> VmIds { get; init; } = [];
    public IReadOnlyList<int> Exclude { get; init; } = [];
    public string? Pool { get; init; }
    public string? Node { get; init; }
    public string? Storage { get; init; }
    public string? Schedule { get; init; }
    public long? NextRun { get; init; }
}

/// <summary>One entry of <c>GET /cluster/backup-info/not-backed-up</c>.</summary>
public sealed record PveNotBackedUp(int VmId, string Type, string? Name);

/// <summary>One backup volume of <c>GET /nodes/{node}/storage/{storage}/content?content=backup</c>.</summary>
public sealed class PveBackupVolume
{
    public string Storage { get; init; } = string.Empty;
    public string VolId { get; init; } = string.Empty;
    public int VmId { get; init; }
    /// <summary>vma.zst, tar.zst, pbs-vm, pbs-ct, ...</summary>
    public string Format { get; init; } = string.Empty;
    public long? Size { get; init; }
    public DateTimeOffset Created { get; init; }
    /// <summary>PBS verification state (ok, failed), null when never verified or not PBS.</summary>
    public string? Verification { get; init; }
    public bool Protected { get; init; }
}

/// <summary>One row of <c>GET /nodes/{node}/tasks</c>.</summary>
public sealed class PveTask
{
    public string Node { get; init; } = string.Empty;
    public string Upid { get; init; } = string.Empty;
    public string Type { get; init; } = string.Empty;
    /// <summary>The VMID for single-guest vzdump runs, else empty.</summary>
    public string Id { get; init; } = string.Empty;
    public DateTimeOffset Start { get; init; }
    public DateTimeOffset? End { get; init; }
    /// <summary>"OK", "WARNINGS: n", an error text, "unexpected status"; null while running.</summary>
    public string? Status { get; init; }

    /// <summary>True for OK and "WARNINGS: n" (a success with warnings).</summary>
    public bool Succeeded => Status is { } s && (s == "OK" || s.StartsWith("WARNINGS", StringComparison.Ordinal));
    public bool Running => Status is null && End is null;
}

/// <summary>A guest's outcome in a vzdump task log.</summary>
public sealed record PveBackupOutcome(int VmId, bool Failed, string Line);

/// <summary>One job of <c>GET /nodes/{node}/replication</c>.</summary>
public sealed class PveReplicationJob
{
    public string Id { get; init; } = string.Empty;
    public int Guest { get; init; }
    public string Target { get; init; } = string.Empty;
    public string Schedule { get; init; } = "*/15";
    public bool Disabled { get; init; }
    public DateTimeOffset? LastSync { get; init; }
    public DateTimeOffset? LastTry { get; init; }
    public int FailCount { get; init; }
    public string? Error { get; init; }
    /// <summary>Epoch of the next sync; 0 means the target is offline after failures.</summary>
    public long? NextSync { get; init; }
    public double? Duration { get; init; }
}

/// <summary>One snapshot of <c>GET /nodes/{node}/{qemu|lxc}/{vmid}/snapshot</c> (the "current" entry left out).</summary>
public sealed class PveSnapshot
{
    public string Name { get; init; } = string.Empty;
    public DateTimeOffset? Created { get; init; }
    public string? Description { get; init; }
    /// <summary>prepare or delete while an operation is unfinished; null when complete.</summary>
    public string? SnapState { get; init; }
}

/// <summary>Parsers for the recovery endpoints (storage, backups, tasks, replication, snapshots): the real field names and quirks.</summary>
public static partial class RecoveryParsers
{
    public static IReadOnlyList<PveStorage> ParseStorages(string node, JsonElement data)
    {
        var list = new List<PveStorage>();
        foreach (var item in Objects(data))
        {
            var id = Str(item, "storage");
            if (string.IsNullOrEmpty(id)) continue;
            list.Add(new PveStorage
            {
                Node = node,
                Storage = id,
                Type = Str(item, "type") ?? string.Empty,
                Content = Split(Str(item, "content")),
                Enabled = !item.TryGetProperty("enabled", out _) || Bool(item, "enabled"),
                Active = Bool(item, "active"),
                Shared = Bool(item, "shared"),
                Total = Long(item, "total"),
                Used = Long(item, "used"),
                Avail = Long(item, "avail"),
                UsedFraction = Double(item, "used_fraction"),
            });
        }
        return list;
    }

    public static IReadOnlyList<PveBackupJob> ParseBackupJobs(JsonElement data)
    {
        var list = new List<PveBackupJob>();
        foreach (var item in Objects(data))
        {
            list.Add(new PveBackupJob
            {
                Id = Str(item, "id") ?? string.Empty,
                Enabled = !item.TryGetProperty("enabled", out _) || Bool(item, "enabled"),
                All = Bool(item, "all"),
                VmIds = Ids(Str(item, "vmid")),
                Exclude = Ids(Str(item, "exclude")),
                Pool = Str(item, "pool"),
                Node = Str(item, "node"),
                Storage = Str(item, "storage"),
                Schedule = Str(item, "schedule") ?? Str(item, "starttime"),
                NextRun = Long(item, "next-run"),
            });
        }
        return list;
    }

    public static IReadOnlyList<PveNotBackedUp> ParseNotBackedUp(JsonElement data)
    {
        var list = new List<PveNotBackedUp>();
        foreach (var item in Objects(data))
        {
            if (Int(item, "vmid") is not int id) continue;
            list.Add(new PveNotBackedUp(id, Str(item, "type") ?? string.Empty, Str(item, "name")));
        }
        return list;
    }

    public static IReadOnlyList<PveBackupVolume> ParseBackupContent(string storage, JsonElement data)
    {
        var list = new List<PveBackupVolume>();
        foreach (var item in Objects(data))
        {
            var volid = Str(item, "volid") ?? string.Empty;
            if (item.TryGetProperty("content", out _) && Str(item, "content") != "backup") continue;
            var vmid = Int(item, "vmid") ?? VmIdFromVolId(volid);
            if (vmid is not int id || Long(item, "ctime") is not long ctime) continue;
            string? verification = null;
            if (item.TryGetProperty("verification", out var v) && v.ValueKind == JsonValueKind.Object) verification = Str(v, "state");
            list.Add(new PveBackupVolume
            {
                Storage = storage,
                VolId = volid,
                VmId = id,
                Format = Str(item, "format") ?? string.Empty,
                Size = Long(item, "size"),
                Created = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(ctime, 0, 253402300799)),
                Verification = verification,
                Protected = Bool(item, "protected"),
            });
        }
        return list;
    }

    public static IReadOnlyList<PveTask> ParseTasks(string node, JsonElement data)
    {
        var list = new List<PveTask>();
        foreach (var item in Objects(data))
        {
            var upid = Str(item, "upid");
            if (string.IsNullOrEmpty(upid) || Long(item, "starttime") is not long start) continue;
            list.Add(new PveTask
            {
                Node = Str(item, "node") ?? node,
                Upid = upid,
                Type = Str(item, "type") ?? string.Empty,
                Id = Str(item, "id") ?? string.Empty,
                Start = Epoch(start),
                End = Long(item, "endtime") is long end ? Epoch(end) : null,
                Status = Str(item, "status"),
            });
        }
        return list;
    }

    /// <summary>
    /// Per-guest outcomes from a vzdump task log (<c>[{n, t}]</c>): "INFO: Finished Backup of VM 100 (00:01:23)" is a
    /// success, "ERROR: Backup of VM 101 failed - reason" a failure (the line is kept for the detail).
    /// </summary>
    public static IReadOnlyList<PveBackupOutcome> ParseVzdumpLog(JsonElement data)
    {
        var outcomes = new Dictionary<int, PveBackupOutcome>();
        foreach (var item in Objects(data))
        {
            var t = Str(item, "t");
            if (string.IsNullOrEmpty(t)) continue;
            var failed = FailedLine().Match(t);
            if (failed.Success && int.TryParse(failed.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var f))
            {
                outcomes[f] = new PveBackupOutcome(f, true, t.Trim());
                continue;
            }
            var ok = FinishedLine().Match(t);
            if (ok.Success && int.TryParse(ok.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var o) && !outcomes.ContainsKey(o))
            {
                outcomes[o] = new PveBackupOutcome(o, false, t.Trim());
            }
        }
        return outcomes.Values.OrderBy(o => o.VmId).ToList();
    }

    public static IReadOnlyList<PveReplicationJob> ParseReplication(JsonElement data)
    {
        var list = new List<PveReplicationJob>();
        foreach (var item in Objects(data))
        {
            var id = Str(item, "id") ?? Str(item, "jobid");
            if (string.IsNullOrEmpty(id)) continue;
            var guest = Int(item, "guest") ?? (int.TryParse(id.Split('-')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : 0);
            list.Add(new PveReplicationJob
            {
                Id = id,
                Guest = guest,
                Target = Str(item, "target") ?? string.Empty,
                Schedule = Str(item, "schedule") ?? "*/15",
                Disabled = Bool(item, "disable"),
                LastSync = Long(item, "last_sync") is long ls && ls > 0 ? Epoch(ls) : null,
                LastTry = Long(item, "last_try") is long lt && lt > 0 ? Epoch(lt) : null,
                FailCount = Int(item, "fail_count") ?? 0,
                Error = Str(item, "error"),
                NextSync = Long(item, "next_sync"),
                Duration = Double(item, "duration"),
            });
        }
        return list;
    }

    public static IReadOnlyList<PveSnapshot> ParseSnapshots(JsonElement data)
    {
        var list = new List<PveSnapshot>();
        foreach (var item in Objects(data))
        {
            var name = Str(item, "name");
            if (string.IsNullOrEmpty(name) || name == "current") continue;
            list.Add(new PveSnapshot
            {
                Name = name,
                Created = Long(item, "snaptime") is long t ? Epoch(t) : null,
                Description = Str(item, "description"),
                SnapState = Str(item, "snapstate"),
            });
        }
        return list;
    }

    /// <summary>
    /// The interval of a Proxmox calendar event, for the common shapes: "*/15" (every 15 min), "hourly", "daily",
    /// "weekly", "HH:MM" (daily), "*:00" (hourly), "*/2:00" (every 2 h), "sat 03:00" or "mon..fri 22:00" (a week: the longest
    /// gap, so an age is never judged too strictly). Null when unsure.
    /// </summary>
    public static TimeSpan? ScheduleInterval(string? schedule)
    {
        if (string.IsNullOrWhiteSpace(schedule)) return TimeSpan.FromMinutes(15);
        var s = schedule.Trim().ToLowerInvariant();
        switch (s)
        {
            case "minutely": return TimeSpan.FromMinutes(1);
            case "hourly": return TimeSpan.FromHours(1);
            case "daily": return TimeSpan.FromDays(1);
            case "weekly": return TimeSpan.FromDays(7);
            case "monthly": return TimeSpan.FromDays(31);
        }
        var m = MinuteStep().Match(s);
        if (m.Success) return TimeSpan.FromMinutes(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        m = HourStep().Match(s);
        if (m.Success) return TimeSpan.FromHours(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        if (HourlyAt().IsMatch(s)) return TimeSpan.FromHours(1);
        if (DailyAt().IsMatch(s)) return TimeSpan.FromDays(1);
        // Days of the week ("sat 03:00", "mon..fri 22:00"): the longest gap is at most a week.
        if (WeekdaysAt().IsMatch(s)) return TimeSpan.FromDays(7);
        return null;
    }

    internal static int? VmIdFromVolId(string volid)
    {
        var m = VolIdGuest().Match(volid);
        return m.Success && int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
    }

    /// <summary>The objects of a list answer; an answer that is not a list is an unexpected answer (Unknown), never an empty list.</summary>
    private static IEnumerable<JsonElement> Objects(JsonElement data)
        => data.ValueKind == JsonValueKind.Array
            ? data.EnumerateArray().Where(item => item.ValueKind == JsonValueKind.Object)
            : throw ProxmoxParsers.Unexpected("the Proxmox API", "a list in data", data);

    private static DateTimeOffset Epoch(long seconds) => DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));

    private static IReadOnlyList<string> Split(string? text)
        => string.IsNullOrWhiteSpace(text) ? [] : text.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static IReadOnlyList<int> Ids(string? text)
    {
        var list = new List<int>();
        foreach (var part in Split(text)) if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var id)) list.Add(id);
        return list;
    }

    public static double? Double(JsonElement obj, string name)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d)) return d;
        if (v.ValueKind == JsonValueKind.String && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && double.IsFinite(s)) return s;
        return null;
    }

    [GeneratedRegex(@"ERROR:\s+Backup of VM (\d+) failed", RegexOptions.CultureInvariant)]
    private static partial Regex FailedLine();

    [GeneratedRegex(@"INFO:\s+Finished Backup of VM (\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex FinishedLine();

    [GeneratedRegex(@"(?:vzdump-(?:qemu|lxc|openvz)-|backup/(?:vm|ct)/)(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex VolIdGuest();

    [GeneratedRegex(@"^\*/(\d{1,4})$", RegexOptions.CultureInvariant)]
    private static partial Regex MinuteStep();

    [GeneratedRegex(@"^\*/(\d{1,3}):\d{1,2}$", RegexOptions.CultureInvariant)]
    private static partial Regex HourStep();

    [GeneratedRegex(@"^\*:\d{1,2}$", RegexOptions.CultureInvariant)]
    private static partial Regex HourlyAt();

    [GeneratedRegex(@"^\d{1,2}:\d{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex DailyAt();

    [GeneratedRegex(@"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z.,]*\s+\d{1,2}:\d{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex WeekdaysAt();
}
