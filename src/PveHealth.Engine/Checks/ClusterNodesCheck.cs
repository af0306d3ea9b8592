using PveHealth.Clients.Proxmox;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks;

/// <summary>
/// One <c>Node</c> result per node of <c>/cluster/status</c> (component "nodes" in the plan, Type Node; each result
/// carries the node's name): online Ok, offline Critical, so guests whose state is unknown are explained by their node.
/// Reads the answer shared with <see cref="ClusterQuorumCheck"/>.
/// </summary>
public sealed class ClusterNodesCheck : CheckUnit
{
    private readonly EnvironmentContext _env;

    public ClusterNodesCheck(EnvironmentContext env)
        : base(env.Name, "nodes", "Node", env.Config.Proxmox?.Url ?? string.Empty, [ClusterCheckProvider.NodeCheck])
    {
        _env = env;
    }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        PveClusterStatus status;
        try
        {
            status = await ClusterCheckProvider.StatusAsync(_env, reporter, cancellationToken).ConfigureAwait(false);
        }
        catch (ProxmoxApiException)
        {
            reporter.Report(ClusterCheckProvider.NodeCheck, CheckStatus.Skipped, "skipped: /cluster/status could not be read (see the cluster's Quorum result)", TimeSpan.Zero);
            return;
        }
        foreach (var node in status.Nodes)
        {
            reporter.Report(new CheckResult(Environment, node.Name, "Node", ClusterCheckProvider.NodeCheck,
                node.Online ? CheckStatus.Ok : CheckStatus.Critical,
                node.Online ? $"online{(node.Ip is null ? string.Empty : $" ({node.Ip})")}" : "offline according to /cluster/status: its guests' state is unknown",
                reporter.Elapsed, Target));
        }
        if (status.Nodes.Count == 0) reporter.Report(ClusterCheckProvider.NodeCheck, CheckStatus.Unknown, "/cluster/status lists no nodes");
    }
}
