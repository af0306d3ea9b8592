using PveHealth.Clients.Proxmox;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks;

/// <summary>
/// Cluster health from <c>/cluster/status</c> (shared with ApiStatus, so one request per run): a <c>Quorum</c> result
/// for the cluster (Type Cluster) and one <c>Node</c> result per node (Type Node, online Ok, offline Critical), so guests
/// whose state is unknown are explained by their node. With <c>skipCertificateCheck</c> it also reports a Warning
/// <c>Certificate</c> result on every run: turning verification off is never silent. For an https API the cluster unit
/// also reports <see cref="TlsCertificate"/> (component <c>proxmox-api</c>, Type <c>Proxmox</c>) from the handshake the
/// shared client made for <c>/cluster/status</c>.
/// </summary>
public sealed class ClusterCheck : CheckUnit
{
    public const string QuorumCheck = "Quorum";
    public const string NodeCheck = "Node";
    public const string CertificateCheck = "Certificate";

    /// <summary>Component and Type of the API's TlsCertificate row.</summary>
    public const string ApiComponent = "proxmox-api";
    public const string ApiType = "Proxmox";

    private readonly EnvironmentContext _env;

    /// <summary>
    /// The quorum unit (component "cluster") or, with <paramref name="nodes"/>, the unit reporting one Node result per
    /// node (component "nodes" in the plan; its results carry each node's name). Both read the one shared answer.
    /// </summary>
    public ClusterCheck(EnvironmentContext env, bool nodes)
        : base(env.Name, nodes ? "nodes" : "cluster", nodes ? "Node" : "Cluster", env.Config.Proxmox?.Url ?? string.Empty,
            nodes ? [NodeCheck] : TlsCertificate.With(env.Config.Proxmox?.SkipCertificateCheck == true ? [CertificateCheck, QuorumCheck] : [QuorumCheck], env.Config.Proxmox?.Url))
    {
        _env = env;
    }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        try
        {
            await RunChecksAsync(reporter, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (Runs(TlsCertificate.Name) && !cancellationToken.IsCancellationRequested)
            {
                reporter.Report(TlsCertificate.Result(Environment, ApiComponent, ApiType, Target, ProxmoxShared.For(_env)?.Client?.ServerCertificate.Last,
                    _env.Config.NodeHealth, reporter.Elapsed, DateTimeOffset.UtcNow));
            }
        }
    }

    private async Task RunChecksAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        if (Runs(CertificateCheck))
        {
            reporter.Report(CertificateCheck, CheckStatus.Warning,
                $"TLS certificate verification is OFF for {Target} (proxmox.skipCertificateCheck): anyone on the path can read the API token; pin proxmox.fingerprint or set proxmox.caFile instead", TimeSpan.Zero);
        }
        var shared = ProxmoxShared.For(_env)!;
        PveClusterStatus status;
        try
        {
            status = await ProxmoxCheckHelpers.AwaitShared(shared.ClusterStatusAsync(cancellationToken), shared, reporter, cancellationToken).ConfigureAwait(false);
        }
        catch (ProxmoxApiException ex)
        {
            var s = ProxmoxCheckHelpers.StatusOf(ex);
            if (Runs(QuorumCheck)) reporter.Report(QuorumCheck, s, $"Proxmox API: {ex.Message}");
            if (Runs(NodeCheck)) reporter.Report(NodeCheck, CheckStatus.Skipped, "skipped: /cluster/status could not be read (see the cluster's Quorum result)", TimeSpan.Zero);
            return;
        }
        var online = status.Nodes.Count(n => n.Online);
        var offline = status.Nodes.Where(n => !n.Online).Select(n => n.Name).ToList();
        var nodesText = $"{online} of {status.Nodes.Count} nodes online{(offline.Count > 0 ? $" ({string.Join(", ", offline)} offline)" : string.Empty)}";
        if (Runs(QuorumCheck))
        {
            switch (status.Quorate)
            {
                case true:
                    reporter.Report(QuorumCheck, CheckStatus.Ok, $"cluster {status.Name} is quorate; {nodesText}");
                    break;
                case false:
                    reporter.Report(QuorumCheck, CheckStatus.Critical, $"cluster {status.Name} has NO quorum (guests cannot be started or changed); {nodesText}");
                    break;
                default:
                    reporter.Report(QuorumCheck, CheckStatus.Ok, $"standalone node (no cluster); {nodesText}");
                    break;
            }
        }
        if (Runs(NodeCheck))
        {
            foreach (var node in status.Nodes)
            {
                reporter.Report(new CheckResult(Environment, node.Name, "Node", NodeCheck,
                    node.Online ? CheckStatus.Ok : CheckStatus.Critical,
                    node.Online ? $"online{(node.Ip is null ? string.Empty : $" ({node.Ip})")}" : "offline according to /cluster/status: its guests' state is unknown",
                    reporter.Elapsed, Target));
            }
            if (status.Nodes.Count == 0) reporter.Report(NodeCheck, CheckStatus.Unknown, "/cluster/status lists no nodes");
        }
    }
}

/// <summary>Cluster health for each environment with a proxmox section.</summary>
internal sealed class ClusterCheckProvider : IServiceCheckProvider
{
    public string Group => "Cluster";

    public IReadOnlyList<string> Checks { get; } = [ClusterCheck.CertificateCheck, ClusterCheck.QuorumCheck, ClusterCheck.NodeCheck, TlsCertificate.Name];

    public IEnumerable<CheckUnit> Create(EnvironmentContext environment)
    {
        if (environment.Config.Proxmox is null) yield break;
        yield return new ClusterCheck(environment, nodes: false);
        yield return new ClusterCheck(environment, nodes: true);
    }
}
