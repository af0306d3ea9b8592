using PveHealth.Clients.Proxmox;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks;

/// <summary>
/// The QEMU guest agent of a VM: <c>POST /nodes/{node}/qemu/{vmid}/agent/ping</c>. The guest's node and VMID come
/// from the environment's shared <c>/cluster/resources</c> answer (by VMID, else by name), so guests from an inventory
/// without them are still checked and a migrated VM is asked on its current node.
/// Outcomes: the agent answers → Ok; agent not running → Critical; VM not running → Critical "VM is not running";
/// <b>no agent configured → Skipped</b> (a deliberate choice: a VM without <c>agent: 1</c> has no agent to be down, and
/// enabling it is a provisioning decision, not an outage; the Detail says how to enable it); LXC containers → Skipped,
/// "not applicable to LXC containers" (containers have no QEMU agent), never a failure.
/// </summary>
public sealed class GuestAgentCheck : CheckUnit
{
    public const string Name = "GuestAgent";

    private readonly Guest _guest;
    private readonly EnvironmentContext _env;

    public GuestAgentCheck(Guest guest, EnvironmentContext env)
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

    /// <summary>The agent ping in flight (its cut-off names it, in the words its own timeout gives).</summary>
    private ProxmoxCheckHelpers.GuestRequest? _asking;

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        var shared = ProxmoxShared.For(_env)!;
        try
        {
            var client = shared.RequireClient();
            var resources = await ProxmoxCheckHelpers.AwaitShared(shared.Resources, reporter, cancellationToken).ConfigureAwait(false);
            var row = ProxmoxShared.Find(resources, _guest);
            string node;
            int vmid;
            if (row is not null)
            {
                if (row.IsLxc)
                {
                    reporter.Report(Name, CheckStatus.Skipped, "not applicable to LXC containers (the API lists it as lxc)");
                    return;
                }
                if (row.Status == "stopped")
                {
                    reporter.Report(Name, CheckStatus.Critical, $"VM is not running (stopped on node {row.Node}), so its guest agent cannot answer");
                    return;
                }
                (node, vmid) = (row.Node, row.VmId);
            }
            else if (_guest.VmId is int id && !string.IsNullOrEmpty(_guest.Node))
            {
                (node, vmid) = (_guest.Node, id);
            }
            else
            {
                reporter.Report(Name, CheckStatus.Skipped, $"cannot ask the guest agent: {(_guest.VmId is int v ? $"VMID {v}" : $"no guest named {_guest.Name}")} is not in /cluster/resources and the inventory gives no node");
                return;
            }
            var path = $"nodes/{Uri.EscapeDataString(node)}/qemu/{vmid}/agent/ping";
            Volatile.Write(ref _asking, new ProxmoxCheckHelpers.GuestRequest("POST", path));
            var answer = await client.PostAsync(path, cancellationToken, reporter.Remaining, Deadline.Stated(reporter.Timeout)).ConfigureAwait(false);
            ProxmoxParsers.RequireAgentPing(answer);
            reporter.Report(Name, CheckStatus.Ok, $"QEMU guest agent answered (node {node}, VMID {vmid})");
        }
        catch (ProxmoxApiException ex)
        {
            switch (ex.Failure)
            {
                case ProxmoxFailure.AgentNotConfigured:
                    reporter.Report(Name, CheckStatus.Skipped, "no QEMU guest agent configured for this VM (enable it: Options > QEMU Guest Agent, agent: 1)");
                    break;
                case ProxmoxFailure.AgentNotRunning:
                case ProxmoxFailure.VmNotRunning:
                    reporter.Report(Name, CheckStatus.Critical, ex.Message);
                    break;
                default:
                    var (status, detail) = ProxmoxCheckHelpers.GuestFailure(ex);
                    reporter.Report(Name, status, detail);
                    break;
            }
        }
    }
}

/// <summary>Makes GuestAgent units: QEMU guests only, with a proxmox section.</summary>
internal sealed class GuestAgentCheckProvider : IGuestCheckProvider
{
    public IReadOnlyList<string> Checks { get; } = [GuestAgentCheck.Name];

    public CheckUnit? Create(Guest guest, EnvironmentContext environment, IReadOnlyList<string> wanted, out string? skipReason)
    {
        if (guest.Kind == GuestKind.Lxc)
        {
            skipReason = "not applicable to LXC containers";
            return null;
        }
        if (environment.Config.Proxmox is null)
        {
            skipReason = ProxmoxCheckHelpers.NotConfigured;
            return null;
        }
        skipReason = null;
        return new GuestAgentCheck(guest, environment);
    }
}
