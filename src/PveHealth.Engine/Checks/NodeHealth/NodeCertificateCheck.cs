using System.Text.Json;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks.NodeHealth;

/// <summary>
/// <c>NodeCertificate</c>: <c>GET /nodes/{n}/certificates/info</c> once per online node (any authenticated user may
/// read it); one result per node and file (component <c>pve1/pveproxy-ssl.pem</c>, Type Certificate) with the days
/// until <c>notafter</c>, judged by <see cref="CertificateVerdict"/>. Each result carries the notAfter as the measurement <c>pve_health_certificate_expiry_seconds</c>.
/// </summary>
public sealed class NodeCertificateCheck : NodeHealthUnit
{
    public const string Name = "NodeCertificate";

    public NodeCertificateCheck(EnvironmentContext env) : base(env, "certificates", "Certificate", Name) { }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        if (await OnlineNodesAsync(reporter, cancellationToken).ConfigureAwait(false) is not { } nodes) return;
        var answers = await PerNodeAsync(nodes, n => $"nodes/{n}/certificates/info", JsonValueKind.Array, reporter, cancellationToken).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        foreach (var answer in answers)
        {
            if (answer.Error is not null)
            {
                ReportNodeFailure(reporter, answer, "the certificates");
                continue;
            }
            var certificates = NodeHealthParsers.ParseCertificates(answer.Data);
            if (certificates.Count == 0)
            {
                reporter.Report(Result(reporter, answer.Node, CheckStatus.Unknown, $"/nodes/{answer.Node}/certificates/info lists no certificate"));
                continue;
            }
            foreach (var cert in certificates)
            {
                var component = $"{answer.Node}/{cert.Filename}";
                var subject = string.IsNullOrWhiteSpace(cert.Subject) ? string.Empty : $" ({cert.Subject})";
                if (cert.NotAfter is not { } notAfter)
                {
                    reporter.Report(Result(reporter, component, CheckStatus.Unknown, $"{cert.Filename}{subject}: the API gives no notafter date"));
                    continue;
                }
                var (status, text) = CertificateVerdict.Evaluate(notAfter, now, Settings);
                var hint = status == CheckStatus.Ok ? string.Empty : $": {RenewHint(cert.Filename)}";
                reporter.Report(Result(reporter, component, status, $"{cert.Filename}{subject} {text}{hint}", notAfter));
            }
        }
    }

    private static string RenewHint(string file) => file switch
    {
        "pveproxy-ssl.pem" => "renew the custom/ACME certificate (pvenode acme cert renew, or upload a new one)",
        "pve-ssl.pem" => "renew the node certificate (pvecm updatecerts --force, then systemctl restart pveproxy)",
        "pve-root-ca.pem" => "the cluster CA is expiring: plan its renewal (pvecm updatecerts; see the Proxmox certificate documentation)",
        _ => "renew the certificate",
    };
}
