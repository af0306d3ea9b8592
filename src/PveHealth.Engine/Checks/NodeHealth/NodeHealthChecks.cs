using System.Globalization;
using System.Text.Json;
using PveHealth.Clients.Proxmox;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks.NodeHealth;

/// <summary>
/// <c>Zfs</c>: <c>GET /nodes/{n}/disks/zfs</c> once per online node; one row per pool (component <c>node/pool</c>, Type
/// ZfsPool): ONLINE Ok, anything else Critical. An unhealthy pool's detail (<c>/disks/zfs/{name}</c>, asked only for it)
/// names the failing vdevs with their read/write/checksum error counts.
/// </summary>
public sealed class ZfsCheck : NodeHealthUnit
{
    public const string Name = "Zfs";

    public ZfsCheck(EnvironmentContext env) : base(env, "zfs", "ZfsPool", Name) { }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        if (await OnlineNodesAsync(reporter, cancellationToken).ConfigureAwait(false) is not { } nodes) return;
        var answers = await PerNodeAsync(nodes, n => $"nodes/{n}/disks/zfs", JsonValueKind.Array, reporter, cancellationToken).ConfigureAwait(false);
        foreach (var answer in answers)
        {
            if (answer.Error is not null) { ReportNodeFailure(reporter, answer, "the ZFS pools"); continue; }
            foreach (var pool in NodeHealthParsers.ParseZfsPools(answer.Data))
            {
                var component = $"{answer.Node}/{pool.Name}";
                if (string.Equals(pool.Health, "ONLINE", StringComparison.OrdinalIgnoreCase))
                {
                    var used = pool.Size is > 0 && pool.Alloc is long a ? Inv($", {100.0 * a / pool.Size.Value:0}% allocated") : string.Empty;
                    reporter.Report(Result(reporter, component, CheckStatus.Ok, $"pool {pool.Name} ONLINE{used}{(pool.Frag is long f ? Inv($", fragmentation {f}%") : string.Empty)}"));
                    continue;
                }
                var text = $"pool {pool.Name} {(pool.Health.Length == 0 ? "health not reported" : pool.Health)}";
                try
                {
                    var detail = NodeHealthParsers.ParseZfsDetail(await GetAsync($"nodes/{Uri.EscapeDataString(answer.Node)}/disks/zfs/{Uri.EscapeDataString(pool.Name)}", JsonValueKind.Object, reporter, cancellationToken).ConfigureAwait(false));
                    if (detail is not null)
                    {
                        var failing = NodeHealthParsers.FailingVdevs(detail);
                        if (failing.Count > 0)
                        {
                            text += ": " + string.Join("; ", failing.Take(5).Select(v => Inv($"vdev {v.Name} {v.State} (read {v.Read ?? 0}, write {v.Write ?? 0}, cksum {v.Cksum ?? 0}){(string.IsNullOrWhiteSpace(v.Message) ? string.Empty : " " + v.Message)}")));
                        }
                        if (!string.IsNullOrWhiteSpace(detail.Action)) text += $"; action: {detail.Action}";
                    }
                }
                catch (ProxmoxApiException ex)
                {
                    text += $" (detail unavailable: {ex.Message})";
                }
                reporter.Report(Result(reporter, component, CheckStatus.Critical, text));
            }
        }
    }
}

/// <summary>
/// <c>Disks</c>: <c>GET /nodes/{n}/disks/list</c> once per online node; one row per disk (component <c>node/sdX</c>, Type
/// Disk). SMART health not PASSED/OK Critical; UNKNOWN (smartctl cannot read the device: RAID controllers, virtual disks)
/// Skipped, never a page; <c>wearout</c> (SSD life remaining) under <c>nodeHealth.ssdLifeWarningPercent</c> Warning.
/// </summary>
public sealed class DisksCheck : NodeHealthUnit
{
    public const string Name = "Disks";

    public DisksCheck(EnvironmentContext env) : base(env, "disks", "Disk", Name) { }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        if (await OnlineNodesAsync(reporter, cancellationToken).ConfigureAwait(false) is not { } nodes) return;
        var answers = await PerNodeAsync(nodes, n => $"nodes/{n}/disks/list", JsonValueKind.Array, reporter, cancellationToken).ConfigureAwait(false);
        var threshold = Settings.SsdLifeWarningPercent;
        foreach (var answer in answers)
        {
            if (answer.Error is not null) { ReportNodeFailure(reporter, answer, "the disks"); continue; }
            foreach (var disk in NodeHealthParsers.ParseDisks(answer.Data))
            {
                var dev = disk.DevPath.StartsWith("/dev/", StringComparison.Ordinal) ? disk.DevPath[5..] : disk.DevPath;
                var component = $"{answer.Node}/{dev}";
                var what = $"{disk.DevPath} {disk.Model} (serial {disk.Serial})".Replace("  ", " ", StringComparison.Ordinal);
                var health = (disk.Health ?? string.Empty).Trim();
                var life = disk.WearoutRemaining is int w ? Inv($", {w}% life remaining") : string.Empty;
                if (health.Length > 0 && !health.Equals("PASSED", StringComparison.OrdinalIgnoreCase) && !health.Equals("OK", StringComparison.OrdinalIgnoreCase)
                    && !health.Equals("UNKNOWN", StringComparison.OrdinalIgnoreCase))
                {
                    reporter.Report(Result(reporter, component, CheckStatus.Critical, $"{what}: SMART health {health}{life}: replace the disk"));
                }
                else if (disk.WearoutRemaining is int left && left < threshold)
                {
                    reporter.Report(Result(reporter, component, CheckStatus.Warning, Inv($"{what}: only {left}% SSD life remaining (Warning under {threshold:0.##}%); SMART health {(health.Length == 0 ? "not reported" : health)}")));
                }
                else if (health.Length == 0 || health.Equals("UNKNOWN", StringComparison.OrdinalIgnoreCase))
                {
                    reporter.Report(Result(reporter, component, CheckStatus.Skipped, $"{what}: SMART health not available ({(health.Length == 0 ? "not reported" : health)}: smartctl cannot read this device){life}"));
                }
                else
                {
                    reporter.Report(Result(reporter, component, CheckStatus.Ok, $"{what}: SMART {health}{life}"));
                }
            }
        }
    }
}

/// <summary>
/// <c>Kernel</c>: per online node, <c>/nodes/{n}/status</c> (running kernel) and <c>/nodes/{n}/apt/versions</c> (installed
/// kernel packages); running older than the newest installed Warning naming both (a reboot is pending). Type Node.
/// </summary>
public sealed class KernelCheck : NodeHealthUnit
{
    public const string Name = "Kernel";

    public KernelCheck(EnvironmentContext env) : base(env, "kernel", "Node", Name) { }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        if (await OnlineNodesAsync(reporter, cancellationToken).ConfigureAwait(false) is not { } nodes) return;
        var status = PerNodeAsync(nodes, n => $"nodes/{n}/status", JsonValueKind.Object, reporter, cancellationToken);
        var versions = PerNodeAsync(nodes, n => $"nodes/{n}/apt/versions", JsonValueKind.Array, reporter, cancellationToken);
        var s = await status.ConfigureAwait(false);
        var v = await versions.ConfigureAwait(false);
        for (var i = 0; i < nodes.Count; i++)
        {
            if (s[i].Error is not null) { ReportNodeFailure(reporter, s[i], "the status (running kernel)"); continue; }
            if (v[i].Error is not null) { ReportNodeFailure(reporter, v[i], "the installed package versions"); continue; }
            var running = NodeHealthParsers.ParseRunningKernel(s[i].Data);
            var packages = NodeHealthParsers.ParseAptVersions(v[i].Data);
            running ??= packages.FirstOrDefault(p => p.RunningKernel is { Length: > 0 })?.RunningKernel;
            var newest = NodeHealthParsers.NewestInstalledKernel(packages);
            var node = nodes[i];
            if (running is null) { reporter.Report(Result(reporter, node, CheckStatus.Unknown, "the node status gives no running kernel (current-kernel.release)")); continue; }
            if (newest is null)
            {
                reporter.Report(Result(reporter, node, CheckStatus.Unknown, $"running kernel {running}, but /nodes/{node}/apt/versions lists no installed pve-kernel/proxmox-kernel package, so a pending reboot cannot be judged"));
                continue;
            }
            if (NodeHealthParsers.CompareKernel(running, newest) < 0)
            {
                reporter.Report(Result(reporter, node, CheckStatus.Warning, $"running kernel {running} is older than the newest installed {newest}: reboot the node to run it (migrate its guests first)"));
            }
            else
            {
                reporter.Report(Result(reporter, node, CheckStatus.Ok, $"running the newest installed kernel {running}"));
            }
        }
    }
}

/// <summary>
/// <c>Updates</c>: <c>GET /nodes/{n}/apt/update</c> per online node (needs Sys.Modify). A 403 gives no row at all (the
/// token cannot see it; never a false "up to date"). Pending packages Warning naming a few; none Ok. Type Node.
/// </summary>
public sealed class UpdatesCheck : NodeHealthUnit
{
    public const string Name = "Updates";

    public UpdatesCheck(EnvironmentContext env) : base(env, "updates", "Node", Name) { }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        if (await OnlineNodesAsync(reporter, cancellationToken).ConfigureAwait(false) is not { } nodes) return;
        var answers = await PerNodeAsync(nodes, n => $"nodes/{n}/apt/update", JsonValueKind.Array, reporter, cancellationToken).ConfigureAwait(false);
        var denied = new List<string>();
        foreach (var answer in answers)
        {
            if (answer.Error is { Failure: ProxmoxFailure.Permission }) { denied.Add(answer.Node); continue; }
            if (answer.Error is not null) { ReportNodeFailure(reporter, answer, "the pending updates"); continue; }
            var pending = NodeHealthParsers.ParseAptUpdates(answer.Data);
            reporter.Report(pending.Count == 0
                ? Result(reporter, answer.Node, CheckStatus.Ok, "no pending package updates (as of the node's last apt update)")
                : Result(reporter, answer.Node, CheckStatus.Warning, Inv($"{pending.Count} package update(s) pending: {string.Join(", ", pending.Take(8))}{(pending.Count > 8 ? ", ..." : string.Empty)}")));
        }
        if (denied.Count == answers.Count)
        {
            // No row for any node: the token lacks Sys.Modify. The unit still answers for itself, as Skipped (not exported).
            reporter.Report(Check, CheckStatus.Skipped, "not checked: /nodes/{node}/apt/update needs Sys.Modify, which this token does not have (see the guide, Node health)", TimeSpan.Zero);
        }
        else if (denied.Count > 0)
        {
            // No row for the nodes the token may not ask (never a false "up to date"); one Skipped row names them.
            reporter.Report(Check, CheckStatus.Skipped, $"not checked on {string.Join(", ", denied)}: /nodes/{{node}}/apt/update needs Sys.Modify, which this token does not have there (see the guide, Node health)", TimeSpan.Zero);
        }
    }
}

/// <summary>
/// <c>Ceph</c>: <c>GET /cluster/ceph/status</c>, only where Ceph is installed (the API's "binary not installed" or
/// "not initialized" answer gives no row). HEALTH_OK Ok, HEALTH_WARN Warning, HEALTH_ERR Critical, the health check codes
/// and summaries in the detail. Component ceph, Type Ceph.
/// </summary>
public sealed class CephCheck : NodeHealthUnit
{
    public const string Name = "Ceph";

    public CephCheck(EnvironmentContext env) : base(env, "ceph", "Ceph", Name) { }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        JsonElement data;
        try
        {
            data = await GetAsync("cluster/ceph/status", JsonValueKind.Object, reporter, cancellationToken).ConfigureAwait(false);
        }
        catch (ProxmoxApiException ex) when (ex.StatusCode == 500 && (ex.Message.Contains("binary not installed", StringComparison.OrdinalIgnoreCase)
            || ex.Message.Contains("not initialized", StringComparison.OrdinalIgnoreCase) || ex.Message.Contains("not installed", StringComparison.OrdinalIgnoreCase)))
        {
            reporter.Report(Check, CheckStatus.Skipped, "Ceph is not installed on this cluster", TimeSpan.Zero);
            return;
        }
        catch (ProxmoxApiException ex)
        {
            reporter.Report(Check, ProxmoxCheckHelpers.StatusOf(ex), $"cannot read /cluster/ceph/status: {ex.Message}");
            return;
        }
        var health = NodeHealthParsers.ParseCephStatus(data);
        var checks = health.Checks.Count == 0 ? string.Empty : ": " + string.Join("; ", health.Checks.Select(c => $"{c.Code} {c.Summary}".Trim()));
        switch (health.Status)
        {
            case "HEALTH_OK": reporter.Report(Check, CheckStatus.Ok, "HEALTH_OK" + checks); break;
            case "HEALTH_WARN": reporter.Report(Check, CheckStatus.Warning, "HEALTH_WARN" + checks); break;
            case "HEALTH_ERR": reporter.Report(Check, CheckStatus.Critical, "HEALTH_ERR" + checks); break;
            default: reporter.Report(Check, CheckStatus.Unknown, $"unexpected Ceph health '{health.Status ?? "(none)"}'" + checks); break;
        }
    }
}

/// <summary>
/// <c>Ha</c>: <c>GET /cluster/ha/status/current</c>; one row per HA service (component = sid, Type HaService): error,
/// fence or recovery Critical; freeze or migrate Warning only when the previous run saw the same state (remembered in
/// <c>&lt;stateDirectory&gt;/ha-&lt;environment&gt;.json</c>), else Ok naming it; other states Ok. No services (HA not
/// configured) gives no row. A quorum entry that contradicts /cluster/status is a Warning row (component ha-quorum).
/// </summary>
public sealed class HaCheck : NodeHealthUnit
{
    public const string Name = "Ha";

    public HaCheck(EnvironmentContext env) : base(env, "ha", "HaService", Name) { }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        JsonElement data;
        try
        {
            data = await GetAsync("cluster/ha/status/current", JsonValueKind.Array, reporter, cancellationToken).ConfigureAwait(false);
        }
        catch (ProxmoxApiException ex)
        {
            reporter.Report(Check, ProxmoxCheckHelpers.StatusOf(ex), $"cannot read /cluster/ha/status/current: {ex.Message}");
            return;
        }
        var ha = NodeHealthParsers.ParseHaStatus(data);
        if (ha.Services.Count == 0)
        {
            reporter.Report(Check, CheckStatus.Skipped, "no HA services configured", TimeSpan.Zero);
            return;
        }
        var statePath = Path.Combine(Settings.StateDirectory ?? Configuration.NodeHealthConfig.DefaultStateDirectory, $"ha-{SafeName(Environment)}.json");
        var previous = HaMemory.Load(statePath);
        var now = new Dictionary<string, string>(StringComparer.Ordinal);
        string? memoryNote = null;
        foreach (var svc in ha.Services)
        {
            var state = (svc.CrmState ?? svc.State ?? string.Empty).ToLowerInvariant();
            var where = svc.Node is null ? string.Empty : $" on {svc.Node}";
            var request = svc.RequestState is { Length: > 0 } r ? $", requested {r}" : string.Empty;
            switch (state)
            {
                case "error":
                case "fence":
                case "recovery":
                    reporter.Report(Result(reporter, svc.Sid, CheckStatus.Critical, $"HA service {svc.Sid}{where} is in {state}{request}: {Advice(state)}"));
                    break;
                case "freeze":
                case "migrate":
                    now[svc.Sid] = state;
                    if (previous.TryGetValue(svc.Sid, out var before) && before == state)
                    {
                        reporter.Report(Result(reporter, svc.Sid, CheckStatus.Warning, $"HA service {svc.Sid}{where} is still in {state} since the previous run{request}"));
                    }
                    else
                    {
                        reporter.Report(Result(reporter, svc.Sid, CheckStatus.Ok, $"HA service {svc.Sid}{where} is in {state}{request} (a Warning if it still is at the next run)"));
                    }
                    break;
                default:
                    reporter.Report(Result(reporter, svc.Sid, CheckStatus.Ok, $"HA service {svc.Sid}{where} is {(state.Length == 0 ? "in an unreported state" : state)}{request}"));
                    break;
            }
        }
        memoryNote = HaMemory.Save(statePath, now);
        if (memoryNote is not null)
        {
            reporter.Report(Result(reporter, "ha-state", CheckStatus.Warning, memoryNote));
        }
        var shared = ProxmoxShared.For(Env)!;
        if (ha.Quorate is bool haQuorate)
        {
            try
            {
                var cluster = await ProxmoxCheckHelpers.AwaitShared(shared.ClusterStatus, reporter, cancellationToken).ConfigureAwait(false);
                if (cluster.Quorate is bool q && q != haQuorate)
                {
                    reporter.Report(Result(reporter, "ha-quorum", CheckStatus.Warning, $"the HA manager's quorum entry says {(haQuorate ? "quorate" : "NOT quorate")} ({ha.QuorumStatus}) while /cluster/status says {(q ? "quorate" : "not quorate")}"));
                }
            }
            catch (ProxmoxApiException)
            {
                // The Cluster group reports /cluster/status itself.
            }
        }
    }

    private static string Advice(string state) => state switch
    {
        "error" => "the HA manager gave up on it; fix the cause, then ha-manager set <sid> --state disabled and back to started",
        "fence" => "its node is being fenced (lost quorum or watchdog); check the node",
        _ => "it is being recovered to another node after its node failed",
    };

    private static string SafeName(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}

/// <summary>The small state file of HaCheck: sid → freeze/migrate seen at the last run. Bounded (64 KiB read).</summary>
internal static class HaMemory
{
    public static Dictionary<string, string> Load(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > 65536) return new(StringComparer.Ordinal);
            var map = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path));
            return map is null ? new(StringComparer.Ordinal) : new(map, StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return new(StringComparer.Ordinal);
        }
    }

    /// <summary>Writes the map atomically; returns a note when it cannot (the freeze/migrate memory is then lost).</summary>
    public static string? Save(string path, Dictionary<string, string> map)
    {
        try
        {
            var dir = Path.GetDirectoryName(path)!;
            Directory.CreateDirectory(dir);
            var tmp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
            File.WriteAllText(tmp, JsonSerializer.Serialize(map));
            File.Move(tmp, path, overwrite: true);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Create(CultureInfo.InvariantCulture, $"cannot remember HA states across runs in {path} ({ex.Message}): set nodeHealth.stateDirectory to a writable folder; freeze/migrate can then not turn Warning");
        }
    }
}
