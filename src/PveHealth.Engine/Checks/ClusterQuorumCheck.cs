using PveHealth.Clients.Proxmox;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks;

/// <summary>
/// The cluster's <c>Quorum</c> result (component "cluster", Type Cluster) from <c>/cluster/status</c>, the answer shared
/// with ApiStatus and <see cref="ClusterNodesCheck"/> (one request per run). With <c>skipCertificateCheck</c> it also
/// reports a Warning <c>Certificate</c> result on every run: turning verification off is never silent. For an https API
/// it also reports <see cref="TlsCertificate"/> (component <c>proxmox-api</c>, Type <c>Proxmox</c>) from the handshake the
/// shared client made for <c>/cluster/status</c>.
/// </summary>
public sealed class ClusterQuorumCheck : CheckUnit
{
    /// <summary>Component and Type of the API's TlsCertificate row.</summary>
    public const string ApiComponent = "proxmox-api";
    public const string ApiType = "Proxmox";

    private readonly EnvironmentContext _env;

    public ClusterQuorumCheck(EnvironmentContext env)
        : base(env.Name, "cluster", "Cluster", env.Config.Proxmox?.Url ?? string.Empty,
            TlsCertificate.With(env.Config.Proxmox?.SkipCertificateCheck == true ? [ClusterCheckProvider.CertificateCheck, ClusterCheckProvider.QuorumCheck] : [ClusterCheckProvider.QuorumCheck], env.Config.Proxmox?.Url))
    {
        _env = env;
    }

    /// <summary>Asks the environment's shared answer this unit waits for before the runner admits the units.</summary>
    public override void Prepare() => ProxmoxShared.For(_env)?.ClusterStatus.Prefetch();

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
        if (Runs(ClusterCheckProvider.CertificateCheck))
        {
            reporter.Report(ClusterCheckProvider.CertificateCheck, CheckStatus.Warning,
                $"TLS certificate verification is OFF for {Target} (proxmox.skipCertificateCheck): anyone on the path can read the API token; pin proxmox.fingerprint or set proxmox.caFile instead", TimeSpan.Zero);
        }
        // Read even when Quorum itself is excluded: the TlsCertificate row comes from this request's handshake.
        PveClusterStatus status;
        try
        {
            status = await ClusterCheckProvider.StatusAsync(_env, reporter, cancellationToken).ConfigureAwait(false);
        }
        catch (ProxmoxApiException ex)
        {
            if (Runs(ClusterCheckProvider.QuorumCheck)) reporter.Report(ClusterCheckProvider.QuorumCheck, ProxmoxCheckHelpers.StatusOf(ex), $"Proxmox API: {ex.Message}");
            return;
        }
        if (!Runs(ClusterCheckProvider.QuorumCheck)) return;
        var nodesText = ClusterCheckProvider.NodesText(status);
        switch (status.Quorate)
        {
            case true:
                reporter.Report(ClusterCheckProvider.QuorumCheck, CheckStatus.Ok, $"cluster {status.Name} is quorate; {nodesText}");
                break;
            case false:
                reporter.Report(ClusterCheckProvider.QuorumCheck, CheckStatus.Critical, $"cluster {status.Name} has NO quorum (guests cannot be started or changed); {nodesText}");
                break;
            default:
                reporter.Report(ClusterCheckProvider.QuorumCheck, CheckStatus.Ok, $"standalone node (no cluster); {nodesText}");
                break;
        }
    }
}
