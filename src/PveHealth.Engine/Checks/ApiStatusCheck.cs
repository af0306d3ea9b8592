using PveHealth.Clients.Proxmox;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks;

/// <summary>
/// The guest's state according to the Proxmox API, from the environment's one shared
/// <c>/cluster/resources?type=vm</c> answer (one request for all guests). running is Ok; stopped is Critical;
/// unknown (the guest's node is offline) is explained by the node's state from <c>/cluster/status</c>; a guest missing
/// from the answer is looked up with <c>status/current</c> to tell "deleted" (Critical) from "the token may not see it"
/// (Unknown). When the API did not answer (timeout, refused, a 5xx of its own) the result is Unknown "could not look: ..."
/// in the same words for every guest (the API's failure is the environment's Quorum row); other API failures are
/// Critical with the API's reason, or Unknown when the trouble is the checker's own (missing secret, rejected token,
/// missing permission): <see cref="ProxmoxCheckHelpers.GuestFailure"/>.
/// </summary>
public sealed class ApiStatusCheck : CheckUnit
{
    public const string Name = "ApiStatus";

    private readonly Guest _guest;
    private readonly EnvironmentContext _env;

    public ApiStatusCheck(Guest guest, EnvironmentContext env)
        : base(guest.Environment, guest.Name, guest.Kind.ToString(), env.Config.Proxmox?.Url ?? string.Empty, [Name])
    {
        _guest = guest;
        _env = env;
    }

    /// <summary>Asks the environment's shared answer this unit waits for before the runner admits the units.</summary>
    public override Task? Prepare() => ProxmoxShared.For(_env)?.Resources.Prefetch();

    /// <summary>Cut off by the runner: the API did not answer in time (<see cref="ProxmoxCheckHelpers.CutOff"/>).</summary>
    internal override (CheckStatus Status, string Detail)? CutOffVerdict(string check, TimeSpan timeout)
        => ProxmoxCheckHelpers.CutOff(ProxmoxShared.For(_env)!, timeout, Volatile.Read(ref _asking));

    /// <summary>The per-guest status request in flight (its cut-off names it, in the words its own timeout gives).</summary>
    private ProxmoxCheckHelpers.GuestRequest? _asking;

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        var shared = ProxmoxShared.For(_env)!;
        try
        {
            var resources = await ProxmoxCheckHelpers.AwaitShared(shared.Resources, reporter, cancellationToken).ConfigureAwait(false);
            var row = ProxmoxShared.Find(resources, _guest);
            if (row is null)
            {
                await ReportMissingAsync(shared, reporter, cancellationToken).ConfigureAwait(false);
                return;
            }
            var kindNote = row.IsLxc != (_guest.Kind == GuestKind.Lxc) ? $"; the API lists it as {row.Type} {row.VmId}, the inventory as {_guest.Kind}" : string.Empty;
            switch (row.Status)
            {
                case "running":
                    reporter.Report(Name, CheckStatus.Ok,
                        $"running on node {row.Node}{(row.Uptime is > 0 ? $", up {ProxmoxShared.Uptime(row.Uptime.Value)}" : string.Empty)}{kindNote}{ProxmoxCheckHelpers.SkipVerifyNote(shared)}");
                    break;
                case "stopped":
                    reporter.Report(Name, CheckStatus.Critical, $"stopped according to the Proxmox API (node {row.Node}){kindNote}");
                    break;
                case "unknown":
                    await ReportUnknownAsync(shared, row, reporter, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    reporter.Report(Name, CheckStatus.Warning, $"{row.Status} according to the Proxmox API (node {row.Node}){kindNote}");
                    break;
            }
        }
        catch (ProxmoxApiException ex)
        {
            var (status, detail) = ProxmoxCheckHelpers.GuestFailure(ex);
            reporter.Report(Name, status, detail);
        }
    }

    private async Task ReportUnknownAsync(ProxmoxShared shared, PveResource row, CheckReporter reporter, CancellationToken ct)
    {
        PveClusterStatus status;
        try
        {
            status = await ProxmoxCheckHelpers.AwaitShared(shared.ClusterStatus, reporter, ct).ConfigureAwait(false);
        }
        catch (ProxmoxApiException ex)
        {
            reporter.Report(Name, CheckStatus.Critical, $"status unknown on node {row.Node}; the node's state could not be read either ({ex.Message})");
            return;
        }
        var node = status.Node(row.Node);
        if (node is { Online: false })
        {
            var quorum = status.Quorate switch { true => "the cluster is quorate", false => "the cluster has LOST quorum", null => "no cluster" };
            reporter.Report(Name, CheckStatus.Critical, $"status unknown: node {row.Node} is offline according to /cluster/status ({quorum})");
        }
        else if (node is null)
        {
            reporter.Report(Name, CheckStatus.Critical, $"status unknown: node {row.Node} is not in /cluster/status (removed from the cluster?)");
        }
        else
        {
            reporter.Report(Name, CheckStatus.Unknown, $"status unknown although node {row.Node} is online (pvestatd on {row.Node} not reporting?)");
        }
    }

    private async Task ReportMissingAsync(ProxmoxShared shared, CheckReporter reporter, CancellationToken ct)
    {
        var who = _guest.VmId is int id ? $"VMID {id}" : $"no guest named {_guest.Name}";
        if (_guest.VmId is int vmid && !string.IsNullOrEmpty(_guest.Node))
        {
            var type = _guest.Kind == GuestKind.Lxc ? "lxc" : "qemu";
            try
            {
                var path = $"nodes/{Uri.EscapeDataString(_guest.Node)}/{type}/{vmid}/status/current";
                Volatile.Write(ref _asking, new ProxmoxCheckHelpers.GuestRequest("GET", path));
                var data = await shared.RequireClient().GetAsync(path, ct, reporter.Remaining, Deadline.Stated(reporter.Timeout)).ConfigureAwait(false);
                var s = ProxmoxParsers.Str(data, "status") ?? "unknown";
                reporter.Report(Name, s == "running" ? CheckStatus.Warning : CheckStatus.Critical,
                    $"{s} according to status/current on node {_guest.Node}, but missing from /cluster/resources (cluster state out of sync?)");
            }
            catch (ProxmoxApiException ex) when (ex.Failure == ProxmoxFailure.Permission)
            {
                reporter.Report(Name, CheckStatus.Unknown, $"{who} is not visible to the API token: {ex.Message}");
            }
            catch (ProxmoxApiException ex) when (ex.Failure == ProxmoxFailure.GuestNotFound)
            {
                reporter.Report(Name, CheckStatus.Critical, $"{who} does not exist in the cluster (deleted or migrated away?): not in /cluster/resources, and node {_guest.Node} has no config for it");
            }
            return;
        }
        reporter.Report(Name, CheckStatus.Critical,
            $"{who} is not in /cluster/resources: deleted or renamed, or the API token lacks VM.Audit on {(_guest.VmId is int v ? $"/vms/{v}" : "the guest")}");
    }
}

/// <summary>Makes ApiStatus units; needs the environment's proxmox section.</summary>
internal sealed class ApiStatusCheckProvider : IGuestCheckProvider
{
    public IReadOnlyList<string> Checks { get; } = [ApiStatusCheck.Name];

    public CheckUnit? Create(Guest guest, EnvironmentContext environment, IReadOnlyList<string> wanted, out string? skipReason)
    {
        if (environment.Config.Proxmox is null)
        {
            skipReason = ProxmoxCheckHelpers.NotConfigured;
            return null;
        }
        skipReason = null;
        return new ApiStatusCheck(guest, environment);
    }
}
