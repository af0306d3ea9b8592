using System.Globalization;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks.Recovery;

/// <summary>
/// Storage: one <c>GET /nodes/{node}/storage</c> per online node; one <c>Usage</c> result per node and storage
/// (Type Storage, component <c>node/storage</c>): inactive or unreachable Critical, used space over
/// <c>storage.warningPercent</c>/<c>criticalPercent</c> (80/90 %) Warning/Critical, else Ok. Each active storage also
/// exports <c>pve_health_storage_used_ratio</c>, <c>_size_bytes</c>, <c>_used_bytes</c> and every listed one
/// <c>pve_health_storage_active</c>, so Prometheus can forecast "full within 7 days". A storage with <c>enabled: 0</c>
/// on a node is restricted to other nodes there and gives no result.
/// </summary>
public sealed class StorageCheck : CheckUnit
{
    public const string UsageCheck = "Usage";
    public const string ResultType = "Storage";

    private readonly EnvironmentContext _env;

    public StorageCheck(EnvironmentContext env)
        : base(env.Name, "storage", ResultType, env.Config.Proxmox?.Url ?? string.Empty, [UsageCheck])
    {
        _env = env;
    }

    public override string Describe(string check) => $"{check} of every node's storages (GET /nodes/{{node}}/storage on {Target})";

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        var shared = RecoveryShared.For(_env);
        var warn = (_env.Config.Storage?.WarningPercent ?? StorageCheckConfig.DefaultWarningPercent) / 100.0;
        var crit = (_env.Config.Storage?.CriticalPercent ?? StorageCheckConfig.DefaultCriticalPercent) / 100.0;
        PveClusterStatus status;
        try
        {
            status = await shared.ClusterStatusAsync(reporter, cancellationToken).ConfigureAwait(false);
        }
        catch (ProxmoxApiException ex)
        {
            reporter.Report(UsageCheck, ProxmoxCheckHelpers.StatusOf(ex), $"Proxmox API: {ex.Message}");
            return;
        }
        var nodes = status.Nodes.Where(n => n.Online).Select(n => n.Name).ToList();
        var fetches = nodes.Select(n => (Node: n, Task: shared.StoragesAsync(n, reporter, cancellationToken))).ToList();
        var any = false;
        foreach (var (node, task) in fetches)
        {
            IReadOnlyList<PveStorage> storages;
            try
            {
                storages = await task.ConfigureAwait(false);
            }
            catch (ProxmoxApiException ex)
            {
                any = true;
                reporter.Report(new CheckResult(Environment, node, ResultType, UsageCheck, ProxmoxCheckHelpers.StatusOf(ex),
                    $"storages of node {node} could not be listed: {ex.Message}", reporter.Elapsed, Target));
                continue;
            }
            foreach (var s in storages.Where(s => s.Enabled).OrderBy(s => s.Storage, StringComparer.Ordinal))
            {
                any = true;
                reporter.Report(Evaluate(s, warn, crit, reporter.Elapsed));
            }
        }
        if (!any)
        {
            reporter.Report(UsageCheck, nodes.Count == 0 ? CheckStatus.Unknown : CheckStatus.Ok,
                nodes.Count == 0 ? "no online node to list storages on (see the Cluster group)" : $"no enabled storage on {string.Join(", ", nodes)}");
        }
    }

    /// <summary>The verdict for one storage of one node.</summary>
    internal CheckResult Evaluate(PveStorage s, double warn, double crit, TimeSpan elapsed)
    {
        var component = $"{s.Node}/{s.Storage}";
        var labels = new[] { ("node", s.Node), ("storage", s.Storage) };
        var active = new Measurement("pve_health_storage_active", s.Active ? 1 : 0, "1 when the storage is active on the node, 0 when inactive or unreachable.", labels);
        if (!s.Active)
        {
            return new CheckResult(Environment, component, ResultType, UsageCheck, CheckStatus.Critical,
                $"{s.Type} storage {s.Storage} is inactive or unreachable on node {s.Node} (active: 0){(s.Shared ? "; it is shared: check its server and the network path from this node" : string.Empty)}",
                elapsed, Target) { Measurements = [active] };
        }
        var fraction = s.UsedFraction ?? (s.Total is > 0 && s.Used is long u ? (double)u / s.Total.Value : null);
        if (fraction is not double f)
        {
            return new CheckResult(Environment, component, ResultType, UsageCheck, CheckStatus.Ok,
                $"{s.Type} storage active; no size reported (total 0)", elapsed, Target) { Measurements = [active] };
        }
        var pct = (f * 100).ToString("0.#", CultureInfo.InvariantCulture);
        var sizes = $"{RecoveryShared.Bytes(s.Used)} of {RecoveryShared.Bytes(s.Total)}, {RecoveryShared.Bytes(s.Avail)} free";
        var (statusOut, limit) = f > crit ? (CheckStatus.Critical, crit) : f > warn ? (CheckStatus.Warning, warn) : (CheckStatus.Ok, warn);
        var limitText = (limit * 100).ToString("0.#", CultureInfo.InvariantCulture);
        var detail = statusOut == CheckStatus.Ok
            ? $"{pct} % used ({sizes}); {s.Type}{(s.Shared ? ", shared" : string.Empty)}"
            : $"{pct} % used, over {limitText} % ({sizes}); {s.Type}{(s.Shared ? ", shared" : string.Empty)}";
        var measurements = new List<Measurement>
        {
            active,
            new("pve_health_storage_used_ratio", f, "Used fraction of the storage on the node (0..1), as Proxmox reports it.", labels),
        };
        if (s.Total is long total) measurements.Add(new Measurement("pve_health_storage_size_bytes", total, "Size of the storage on the node, in bytes.", labels));
        if (s.Used is long used) measurements.Add(new Measurement("pve_health_storage_used_bytes", used, "Used space of the storage on the node, in bytes.", labels));
        return new CheckResult(Environment, component, ResultType, UsageCheck, statusOut, detail, elapsed, Target) { Measurements = measurements };
    }
}

/// <summary>The Storage group: for each environment with a proxmox section.</summary>
internal sealed class StorageCheckProvider : IServiceCheckProvider
{
    public string Group => "Storage";

    public IReadOnlyList<string> Checks { get; } = [StorageCheck.UsageCheck];

    public IEnumerable<CheckUnit> Create(EnvironmentContext environment)
    {
        if (environment.Config.Proxmox is null) yield break;
        yield return new StorageCheck(environment);
    }
}
