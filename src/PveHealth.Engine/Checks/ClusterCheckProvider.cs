using PveHealth.Clients.Proxmox;
using PveHealth.Execution;

namespace PveHealth.Checks;

/// <summary>
/// Cluster health for each environment with a proxmox section: <see cref="ClusterQuorumCheck"/> (Quorum, and Certificate
/// when verification is off) and <see cref="ClusterNodesCheck"/> (Node), both reading the one shared <c>/cluster/status</c>.
/// </summary>
internal sealed class ClusterCheckProvider : IServiceCheckProvider
{
    public const string QuorumCheck = "Quorum";
    public const string NodeCheck = "Node";
    public const string CertificateCheck = "Certificate";

    public string Group => "Cluster";

    public IReadOnlyList<string> Checks { get; } = [CertificateCheck, QuorumCheck, NodeCheck, TlsCertificate.Name];

    public IEnumerable<CheckUnit> Create(EnvironmentContext environment)
    {
        if (environment.Config.Proxmox is null) yield break;
        yield return new ClusterQuorumCheck(environment);
        yield return new ClusterNodesCheck(environment);
    }

    /// <summary>The environment's shared <c>/cluster/status</c> answer, awaited within the unit's budget.</summary>
    internal static Task<PveClusterStatus> StatusAsync(EnvironmentContext env, CheckReporter reporter, CancellationToken ct)
    {
        var shared = ProxmoxShared.For(env)!;
        return ProxmoxCheckHelpers.AwaitShared(shared.ClusterStatus, reporter, ct);
    }

    /// <summary>"2 of 3 nodes online (pve3 offline)".</summary>
    internal static string NodesText(PveClusterStatus status)
    {
        var online = status.Nodes.Count(n => n.Online);
        var offline = status.Nodes.Where(n => !n.Online).Select(n => n.Name).ToList();
        return $"{online} of {status.Nodes.Count} nodes online{(offline.Count > 0 ? $" ({string.Join(", ", offline)} offline)" : string.Empty)}";
    }
}
