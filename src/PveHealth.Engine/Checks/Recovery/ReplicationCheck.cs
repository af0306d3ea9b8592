using System.Globalization;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks.Recovery;

/// <summary>
/// Replication: one <c>GET /nodes/{node}/replication</c> per online node (the jobs whose guest is on that node); one
/// <c>Sync</c> result per job (Type Replication, component = job id "vmid-n"): target offline (<c>next_sync</c> 0) Critical,
/// failing (<c>fail_count</c> &gt; 0 or <c>error</c>) Critical with the error, last sync older than
/// <c>replication.maxScheduleMultiple</c> (3) intervals of its schedule Warning, disabled Skipped, else Ok.
/// </summary>
public sealed class ReplicationCheck : CheckUnit
{
    public const string SyncCheck = "Sync";
    public const string ResultType = "Replication";

    private readonly EnvironmentContext _env;

    public ReplicationCheck(EnvironmentContext env)
        : base(env.Name, "replication", ResultType, env.Config.Proxmox?.Url ?? string.Empty, [SyncCheck])
    {
        _env = env;
    }

    internal Func<DateTimeOffset> Now { get; init; } = () => DateTimeOffset.UtcNow;

    public override string Describe(string check) => $"{check} of every replication job (GET /nodes/{{node}}/replication on {Target})";

    public override async Task RunAsync(CheckReporter reporter, CancellationToken ct)
    {
        var shared = RecoveryShared.For(_env);
        PveClusterStatus status;
        try { status = await shared.ClusterStatusAsync(reporter, ct).ConfigureAwait(false); }
        catch (ProxmoxApiException ex)
        {
            reporter.Report(SyncCheck, ProxmoxCheckHelpers.StatusOf(ex), $"Proxmox API: {ex.Message}");
            return;
        }
        IReadOnlyList<PveResource> resources = [];
        try { resources = await ProxmoxCheckHelpers.AwaitShared(shared.Proxmox.Resources, reporter, ct).ConfigureAwait(false); }
        catch (ProxmoxApiException) { /* names are a nicety */ }
        var multiple = _env.Config.Replication?.MaxScheduleMultiple ?? ReplicationCheckConfig.DefaultMaxScheduleMultiple;
        var online = status.Nodes.Where(n => n.Online).Select(n => n.Name).ToList();
        var fetches = online.Select(n => (Node: n, Task: shared.GetAsync($"nodes/{Uri.EscapeDataString(n)}/replication", reporter, ct))).ToList();
        var jobs = 0;
        foreach (var (node, task) in fetches)
        {
            IReadOnlyList<PveReplicationJob> list;
            try { list = RecoveryParsers.ParseReplication(await task.ConfigureAwait(false)); }
            catch (ProxmoxApiException ex)
            {
                reporter.Report(new CheckResult(Environment, node, ResultType, SyncCheck, ProxmoxCheckHelpers.StatusOf(ex),
                    $"replication jobs of node {node} could not be listed: {ex.Message}", reporter.Elapsed, Target));
                continue;
            }
            foreach (var job in list.OrderBy(j => j.Id, StringComparer.Ordinal))
            {
                jobs++;
                var name = resources.FirstOrDefault(r => r.VmId == job.Guest)?.Name;
                reporter.Report(Evaluate(job, node, name, multiple, Now(), reporter.Elapsed));
            }
        }
        if (jobs == 0) reporter.Report(SyncCheck, CheckStatus.Ok, online.Count == 0 ? "no online node to list replication jobs on" : "no replication jobs");
    }

    internal CheckResult Evaluate(PveReplicationJob job, string node, string? guestName, double multiple, DateTimeOffset now, TimeSpan elapsed)
    {
        var who = $"{(guestName is { Length: > 0 } ? $"{guestName} (VMID {job.Guest})" : $"VMID {job.Guest}")} {node} → {job.Target}";
        var since = job.LastSync is { } ls ? $"last sync {RecoveryShared.Age(now - ls)} ago" : "never synced";
        var measurements = new List<Measurement>();
        if (job.LastSync is { } last)
        {
            measurements.Add(new Measurement("pve_health_replication_last_sync_timestamp_seconds", last.ToUnixTimeSeconds(),
                "Unix time of the replication job's last successful sync (Replication group).", ("job", job.Id), ("target", job.Target)));
        }
        CheckResult R(CheckStatus s, string d) => new(Environment, job.Id, ResultType, SyncCheck, s, d, elapsed, Target) { Measurements = measurements };
        if (job.Disabled) return R(CheckStatus.Skipped, $"{who}: replication job disabled");
        if (job.NextSync == 0)
        {
            return R(CheckStatus.Critical, $"{who}: target {job.Target} offline (next_sync 0 after {job.FailCount} failures); {since}{(job.Error is { Length: > 0 } e ? $"; last error: {e}" : string.Empty)}");
        }
        if (job.FailCount > 0 || !string.IsNullOrWhiteSpace(job.Error))
        {
            return R(CheckStatus.Critical, $"{who}: failing ({job.FailCount} failure{(job.FailCount == 1 ? string.Empty : "s")} in a row); {since}; last error: {job.Error ?? "(none given)"}");
        }
        var interval = RecoveryParsers.ScheduleInterval(job.Schedule);
        if (job.LastSync is null)
        {
            return R(CheckStatus.Warning, $"{who}: never synced (schedule {job.Schedule})");
        }
        if (interval is { } iv && now - job.LastSync.Value > iv * multiple)
        {
            return R(CheckStatus.Warning, $"{who}: {since}, more than {multiple.ToString("0.#", CultureInfo.InvariantCulture)} × its schedule ({job.Schedule})");
        }
        return R(CheckStatus.Ok, $"{who}: {since} (schedule {job.Schedule}{(interval is null ? ", interval not understood: age not judged" : string.Empty)})");
    }
}

/// <summary>The Replication group: for each environment with a proxmox section.</summary>
internal sealed class ReplicationCheckProvider : IServiceCheckProvider
{
    public string Group => "Replication";

    public IReadOnlyList<string> Checks { get; } = [ReplicationCheck.SyncCheck];

    public IEnumerable<CheckUnit> Create(EnvironmentContext environment)
    {
        if (environment.Config.Proxmox is null) yield break;
        yield return new ReplicationCheck(environment);
    }
}
