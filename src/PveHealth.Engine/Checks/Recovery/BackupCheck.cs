using System.Globalization;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks.Recovery;

/// <summary>
/// Backups of the declared guests (the inventory's guests that exist in <c>/cluster/resources</c>; guests that no longer
/// exist or are not declared give no rows). Per guest (component = guest name, Type Vm/Lxc):
/// <list type="bullet">
/// <item><c>Coverage</c>: in an <em>enabled</em> job of <c>/cluster/backup</c> (all minus exclude, vmid, pool; node
/// restriction) Ok; in no job (<c>/cluster/backup-info/not-backed-up</c>) or only in disabled jobs Critical.</item>
/// <item><c>BackupAge</c>: the newest backup that did not fail verification, across every active storage with backup
/// content (one content listing per storage, shared storages once); older than <c>backups.warningHours</c> (26) Warning,
/// <c>criticalHours</c> (50) Critical, none Critical; a newest backup whose PBS verification failed Warning. When no
/// backup volume is visible at all while enabled jobs exist, Unknown naming the privilege (never a false "no backup").</item>
/// <item><c>BackupTask</c>: failed vzdump runs of the last <c>warningHours</c> (<c>/nodes/{n}/tasks?typefilter=vzdump&amp;since=</c>,
/// one listing per node; "WARNINGS: n" is a success; the log of a failed multi-guest run is read for each guest's
/// outcome): Critical naming the error line unless a newer backup of the guest exists (then Ok). Guests with no
/// failed run get no BackupTask row.</item>
/// </list>
/// </summary>
public sealed class BackupCheck : CheckUnit
{
    public const string CoverageCheck = "Coverage";
    public const string AgeCheck = "BackupAge";
    public const string TaskCheck = "BackupTask";
    public const string Group = "Backups";

    public const string PrivilegeHint = "the API token cannot see backup volumes: grant Datastore.Allocate, or Datastore.AllocateSpace on the backup storages plus VM.Backup on the guests (PVEAuditor sees none)";

    private readonly EnvironmentContext _env;

    public BackupCheck(EnvironmentContext env)
        : base(env.Name, "backups", Group, env.Config.Proxmox?.Url ?? string.Empty, [CoverageCheck, AgeCheck, TaskCheck])
    {
        _env = env;
        TakesRounds(Rounds, env.CheckTimeout, env.Options.RunTimeout);
    }

    /// <summary>Rounds of dependent requests: the cluster listings; each node's storages and tasks; each storage's content; failed runs' logs.</summary>
    internal const int Rounds = 4;

    /// <summary>The clock (tests set it).</summary>
    internal Func<DateTimeOffset> Now { get; init; } = () => DateTimeOffset.UtcNow;

    public override string Describe(string check) => $"{check} of every declared guest's backups ({Target})";

    public override async Task RunAsync(CheckReporter reporter, CancellationToken ct)
    {
        if (_env.Guests is not { } guests)
        {
            foreach (var c in Checks) reporter.Report(c, CheckStatus.Skipped, "no guest list: the environment has no inventory, or it could not be read (see Discover)", TimeSpan.Zero);
            return;
        }
        // Every declared guest gets its Coverage and BackupAge rows, also when a listing is not answered or the unit is cut off.
        foreach (var c in new[] { CoverageCheck, AgeCheck }.Where(Runs)) RecoveryShared.ExpectGuestRows(_env, reporter, guests, Group, c);
        var shared = RecoveryShared.For(_env);
        var now = Now();
        var warnHours = _env.Config.Backups?.WarningHours ?? BackupCheckConfig.DefaultWarningHours;
        var critHours = _env.Config.Backups?.CriticalHours ?? BackupCheckConfig.DefaultCriticalHours;

        IReadOnlyList<PveResource> resources;
        PveClusterStatus status;
        IReadOnlyList<PveBackupJob> jobs;
        IReadOnlyList<PveNotBackedUp> notBacked;
        try
        {
            var resourcesTask = ProxmoxCheckHelpers.AwaitShared(shared.Proxmox.Resources, reporter, ct);
            var statusTask = shared.ClusterStatusAsync(reporter, ct);
            var jobsTask = shared.GetAsync("cluster/backup", reporter, ct);
            var notTask = shared.GetAsync("cluster/backup-info/not-backed-up", reporter, ct);
            resources = await resourcesTask.ConfigureAwait(false);
            status = await statusTask.ConfigureAwait(false);
            jobs = RecoveryParsers.ParseBackupJobs(await jobsTask.ConfigureAwait(false));
            notBacked = RecoveryParsers.ParseNotBackedUp(await notTask.ConfigureAwait(false));
        }
        catch (ProxmoxApiException ex)
        {
            // The same verdict on every declared guest's row (one series per guest), else once for the check.
            var (failed, detail) = ProxmoxCheckHelpers.GuestFailure(ex);
            foreach (var c in Checks)
            {
                if (reporter.ReportExpected(c, failed, detail) == 0) reporter.Report(c, failed, detail);
            }
            return;
        }

        // The declared guests that exist, with their Proxmox row; the others give no rows.
        var declared = new List<(Guest Guest, PveResource Row)>();
        var find = ProxmoxShared.Finder(resources);
        foreach (var g in guests)
        {
            if (find(g) is { Template: false } row) declared.Add((g, row));
            else foreach (var c in Checks) reporter.NoResult(g.Name, c);
        }
        var online = status.Nodes.Where(n => n.Online).Select(n => n.Name).ToList();
        // vzdump runs of the window: one listing per node, asked now so they load while the storages are read.
        var since = now - TimeSpan.FromHours(warnHours);
        var taskLists = online.Select(n => (Node: n, Task: shared.GetAsync(
            $"nodes/{Uri.EscapeDataString(n)}/tasks?typefilter=vzdump&since={since.ToUnixTimeSeconds()}&limit=1000", reporter, ct))).ToList();

        // Coverage.
        var enabledJobs = jobs.Where(j => j.Enabled).ToList();
        var notBackedIds = notBacked.Select(n => n.VmId).ToHashSet();
        var covered = new Dictionary<int, PveBackupJob?>();
        foreach (var (g, row) in declared)
        {
            var enabled = enabledJobs.FirstOrDefault(j => Covers(j, row));
            covered[row.VmId] = enabled;
            if (!Runs(CoverageCheck)) continue;
            if (notBackedIds.Contains(row.VmId))
            {
                Report(reporter, g, CoverageCheck, CheckStatus.Critical, $"VMID {row.VmId} is in no backup job (/cluster/backup-info/not-backed-up): add it to a job or exclude it");
            }
            else if (enabled is not null)
            {
                Report(reporter, g, CoverageCheck, CheckStatus.Ok, $"in backup job {enabled.Id} (schedule {enabled.Schedule ?? "?"}, storage {enabled.Storage ?? "?"})");
            }
            else if (jobs.Where(j => !j.Enabled && Covers(j, row)).Select(j => j.Id).ToList() is { Count: > 0 } disabled)
            {
                Report(reporter, g, CoverageCheck, CheckStatus.Critical, $"only in disabled backup job{(disabled.Count > 1 ? "s" : string.Empty)} {string.Join(", ", disabled)}: enable it or add VMID {row.VmId} to an enabled job");
            }
            else
            {
                // Proxmox counts it as covered (pool or node rules this check does not model): trust it.
                Report(reporter, g, CoverageCheck, CheckStatus.Ok, "covered by a backup job (according to /cluster/backup-info/not-backed-up)");
            }
        }

        // Backup volumes: one listing per active storage with backup content (a shared storage once).
        var storageLists = online.Select(n => (Node: n, Task: shared.StoragesAsync(n, reporter, ct))).ToList();
        var backupStorages = new List<PveStorage>();
        var problems = new List<string>();
        var unread = 0; // backup storages (or a node's storage list) that could not be read: a backup may be there
        foreach (var (node, task) in storageLists)
        {
            try
            {
                foreach (var s in (await task.ConfigureAwait(false)).Where(s => s.Enabled && s.HasContent("backup")))
                {
                    if (!s.Active) { problems.Add($"{node}/{s.Storage} inactive"); continue; }
                    if (s.Shared && backupStorages.Any(b => b.Shared && b.Storage == s.Storage)) continue;
                    backupStorages.Add(s);
                }
            }
            catch (ProxmoxApiException ex)
            {
                problems.Add($"storages of {node} unreadable ({ex.Message})");
                unread++;
            }
        }
        var contentTasks = backupStorages.Select(s => (Storage: s, Task: shared.GetAsync(
            $"nodes/{Uri.EscapeDataString(s.Node)}/storage/{Uri.EscapeDataString(s.Storage)}/content?content=backup", reporter, ct))).ToList();
        var volumes = new List<PveBackupVolume>();
        var readable = 0;
        foreach (var (s, task) in contentTasks)
        {
            try
            {
                volumes.AddRange(RecoveryParsers.ParseBackupContent(s.Storage, await task.ConfigureAwait(false)));
                readable++;
            }
            catch (ProxmoxApiException ex)
            {
                problems.Add($"{s.Node}/{s.Storage} content unreadable ({ex.Message})");
                unread++;
            }
        }
        var byGuest = volumes.GroupBy(v => v.VmId).ToDictionary(g => g.Key, g => g.OrderByDescending(v => v.Created).ToList());

        // The vzdump runs; logs only for failed multi-guest runs.
        var tasks = new List<PveTask>();
        foreach (var (node, task) in taskLists)
        {
            try { tasks.AddRange(RecoveryParsers.ParseTasks(node, await task.ConfigureAwait(false)).Where(t => t.Type == "vzdump")); }
            catch (ProxmoxApiException ex) { problems.Add($"tasks of {node} unreadable ({ex.Message})"); }
        }
        var failures = new Dictionary<int, (PveTask Task, string Line)>();
        var failedMulti = tasks.Where(t => !t.Succeeded && !t.Running && !int.TryParse(t.Id, NumberStyles.None, CultureInfo.InvariantCulture, out _)).ToList();
        var logTasks = failedMulti.Select(t => (Task: t, Log: shared.GetAsync(
            $"nodes/{Uri.EscapeDataString(t.Node)}/tasks/{Uri.EscapeDataString(t.Upid)}/log?limit=0", reporter, ct))).ToList();
        foreach (var t in tasks.Where(t => !t.Succeeded && !t.Running && int.TryParse(t.Id, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            var id = int.Parse(t.Id, CultureInfo.InvariantCulture);
            if (!failures.TryGetValue(id, out var known) || known.Task.Start < t.Start) failures[id] = (t, t.Status ?? "failed");
        }
        foreach (var (t, log) in logTasks)
        {
            IReadOnlyList<PveBackupOutcome> outcomes;
            try { outcomes = RecoveryParsers.ParseVzdumpLog(await log.ConfigureAwait(false)); }
            catch (ProxmoxApiException ex)
            {
                reporter.Report(TaskCheck, CheckStatus.Critical, $"vzdump run on {t.Node} at {Time(t.Start)} failed ({t.Status}); its log could not be read: {ex.Message}");
                continue;
            }
            foreach (var o in outcomes.Where(o => o.Failed))
            {
                if (!failures.TryGetValue(o.VmId, out var known) || known.Task.Start < t.Start) failures[o.VmId] = (t, o.Line);
            }
        }
        var tasksSucceeded = tasks.Any(t => t.Succeeded);

        var problemText = problems.Count > 0 ? $"; not read: {string.Join("; ", problems)}" : string.Empty;
        var invisible = volumes.Count == 0 && enabledJobs.Count > 0 && readable > 0;
        foreach (var (g, row) in declared)
        {
            var list = byGuest.GetValueOrDefault(row.VmId) ?? [];
            if (Runs(AgeCheck)) ReportAge(reporter, g, row, covered[row.VmId], list, now, warnHours, critHours, invisible, readable, unread > 0, enabledJobs.Count, tasksSucceeded, problemText);
            if (Runs(TaskCheck) && failures.TryGetValue(row.VmId, out var failure))
            {
                var newer = list.FirstOrDefault(v => v.Created > failure.Task.Start);
                if (newer is not null)
                {
                    Report(reporter, g, TaskCheck, CheckStatus.Ok, $"the vzdump run on {failure.Task.Node} at {Time(failure.Task.Start)} failed for VMID {row.VmId}, but a newer backup exists ({newer.VolId})");
                }
                else
                {
                    Report(reporter, g, TaskCheck, CheckStatus.Critical, $"vzdump on {failure.Task.Node} at {Time(failure.Task.Start)} failed for VMID {row.VmId}: {failure.Line}");
                }
            }
        }
        if (declared.Count == 0)
        {
            reporter.Report(CoverageCheck, CheckStatus.Ok, $"none of the {guests.Count} declared guests exists in /cluster/resources: no backup to check");
        }
    }

    private void ReportAge(CheckReporter reporter, Guest g, PveResource row, PveBackupJob? job, List<PveBackupVolume> list, DateTimeOffset now,
        double warnHours, double critHours, bool invisible, int readable, bool incomplete, int enabledJobs, bool tasksSucceeded, string problemText)
    {
        // A storage that could not be read may hold a newer backup: a finding from the storages that were read is not
        // asserted (no false page); the row says it could not look, and what was seen.
        // withProblems: the detail names what was not read (problemText) whatever the verdict.
        void Age(CheckStatus status, string detail, IReadOnlyList<Measurement>? measurements = null, bool withProblems = false)
        {
            if (incomplete && status is CheckStatus.Critical or CheckStatus.Warning)
            {
                Report(reporter, g, AgeCheck, CheckStatus.Unknown, $"could not look at every backup storage: {detail}{problemText}", measurements);
                return;
            }
            Report(reporter, g, AgeCheck, status, withProblems ? detail + problemText : detail, measurements);
        }

        if (job is null && list.Count == 0)
        {
            Report(reporter, g, AgeCheck, CheckStatus.Skipped, "not in an enabled backup job (see Coverage) and no backup found");
            return;
        }
        if (list.Count == 0)
        {
            if (invisible)
            {
                Report(reporter, g, AgeCheck, CheckStatus.Unknown,
                    $"no backup volume is visible in {readable} backup storage{(readable == 1 ? string.Empty : "s")} although {enabledJobs} enabled backup job{(enabledJobs == 1 ? string.Empty : "s")} exist{(enabledJobs == 1 ? "s" : string.Empty)}{(tasksSucceeded ? " and vzdump runs succeeded" : string.Empty)}: {PrivilegeHint}");
            }
            else if (readable == 0)
            {
                Report(reporter, g, AgeCheck, CheckStatus.Unknown, $"no backup storage could be read{problemText}");
            }
            else
            {
                Age(CheckStatus.Critical, $"no backup of VMID {row.VmId} found in the backup storages{(job is not null ? $" (job {job.Id} stores to {job.Storage ?? "?"})" : string.Empty)}", withProblems: true);
            }
            return;
        }
        var newest = list[0];
        var good = list.FirstOrDefault(v => !string.Equals(v.Verification, "failed", StringComparison.OrdinalIgnoreCase));
        var measurements = new List<Measurement>();
        if (good is not null)
        {
            measurements.Add(new Measurement("pve_health_backup_last_timestamp_seconds", good.Created.ToUnixTimeSeconds(),
                "Unix time of the guest's newest backup that did not fail verification (Backups group).", ("guest", g.Name), ("vmid", row.VmId.ToString(CultureInfo.InvariantCulture))));
        }
        if (good is null)
        {
            Age(CheckStatus.Critical, $"every backup of VMID {row.VmId} failed verification (newest {newest.VolId}, {RecoveryShared.Age(now - newest.Created)} ago)", measurements);
            return;
        }
        var age = now - good.Created;
        var where = $"{good.VolId}{(good.Size is long size ? $", {RecoveryShared.Bytes(size)}" : string.Empty)}";
        var statusOut = age.TotalHours > critHours ? CheckStatus.Critical : age.TotalHours > warnHours ? CheckStatus.Warning : CheckStatus.Ok;
        var limit = statusOut == CheckStatus.Critical ? critHours : warnHours;
        var text = statusOut == CheckStatus.Ok
            ? $"last good backup {RecoveryShared.Age(age)} ago ({where})"
            : $"last good backup {RecoveryShared.Age(age)} ago, older than {limit.ToString("0.#", CultureInfo.InvariantCulture)} h ({where})";
        if (!ReferenceEquals(newest, good))
        {
            text = $"newest backup {newest.VolId} failed verification; " + text;
            if (statusOut == CheckStatus.Ok) statusOut = CheckStatus.Warning;
        }
        Age(statusOut, text, measurements);
    }

    /// <summary>Whether a job covers the guest: all minus exclude, listed VMIDs, or its pool; a node restriction limits it.</summary>
    internal static bool Covers(PveBackupJob job, PveResource row)
    {
        if (job.Node is { Length: > 0 } node && !string.Equals(node, row.Node, StringComparison.OrdinalIgnoreCase)) return false;
        if (job.Pool is { Length: > 0 } pool) return string.Equals(pool, row.Pool, StringComparison.Ordinal);
        if (job.VmIds.Count > 0) return job.VmIds.Contains(row.VmId);
        return job.All && !job.Exclude.Contains(row.VmId);
    }

    private void Report(CheckReporter reporter, Guest g, string check, CheckStatus status, string detail, IReadOnlyList<Measurement>? measurements = null)
    {
        var type = g.Kind.ToString();
        if (_env.Excluded?.Invoke(g.Name, type, Group, check) is { } excluded)
        {
            reporter.Report(new CheckResult(Environment, g.Name, type, check, CheckStatus.Skipped, excluded, TimeSpan.Zero, Target));
            return;
        }
        reporter.Report(new CheckResult(Environment, g.Name, type, check, status, detail, reporter.Elapsed, Target) { Measurements = measurements ?? [] });
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);
}

/// <summary>The Backups group: for each environment with a proxmox section; it reads the inventory's guests.</summary>
internal sealed class BackupCheckProvider : IGuestListConsumer
{
    public string Group => BackupCheck.Group;

    public IReadOnlyList<string> Checks { get; } = [BackupCheck.CoverageCheck, BackupCheck.AgeCheck, BackupCheck.TaskCheck];

    public IEnumerable<CheckUnit> Create(EnvironmentContext environment)
    {
        if (environment.Config.Proxmox is null || environment.Config.Inventory is null) yield break;
        yield return new BackupCheck(environment);
    }
}
