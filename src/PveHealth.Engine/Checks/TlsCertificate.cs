using PveHealth.Checks.NodeHealth;
using PveHealth.Clients;
using PveHealth.Configuration;
using PveHealth.Model;

namespace PveHealth.Checks;

/// <summary>
/// <c>TlsCertificate</c>: the expiry of the certificate an HTTPS endpoint presented in the TLS handshake the unit's
/// client already made (Proxmox API, Prometheus, Alertmanager, Grafana, MinIO; captured by
/// <see cref="ServerCertificateCapture"/> in the handler's validation callback, so no extra connection), judged by
/// <see cref="CertificateVerdict"/> with the environment's <c>nodeHealth</c> thresholds and exported as
/// <c>pve_health_certificate_expiry_seconds</c>. The unit that talks to the endpoint reports it, after its own
/// requests; a plain-HTTP endpoint has no such check (<see cref="AppliesTo"/>).
/// </summary>
public static class TlsCertificate
{
    public const string Name = "TlsCertificate";

    /// <summary>True when <paramref name="url"/> is an https URL (only those get a TlsCertificate row).</summary>
    public static bool AppliesTo(string? url)
        => Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme == Uri.UriSchemeHttps;

    /// <summary><paramref name="checks"/> plus TlsCertificate when <paramref name="url"/> is https.</summary>
    public static IReadOnlyList<string> With(IReadOnlyList<string> checks, string? url)
        => AppliesTo(url) ? [.. checks, Name] : checks;

    /// <summary>
    /// The row for one endpoint: Skipped when no handshake reached a certificate (the endpoint's other rows say why),
    /// else the verdict on the captured notAfter, naming the subject and fingerprint; a certificate the client rejected
    /// is still judged (its expiry is a fact) and the detail says it was not trusted.
    /// </summary>
    public static CheckResult Result(string environment, string component, string type, string target, ServerCertificateInfo? seen,
        NodeHealthConfig? thresholds, TimeSpan elapsed, DateTimeOffset now)
    {
        var where = Uri.TryCreate(target, UriKind.Absolute, out var u) ? $"{u.Host}:{u.Port}" : target;
        if (seen is null)
        {
            return new CheckResult(environment, component, type, Name, CheckStatus.Skipped,
                $"not checked: no TLS handshake with {where} completed in this run (see its other results)", elapsed, target);
        }
        var (status, text) = CertificateVerdict.Evaluate(seen.NotAfter, now, thresholds ?? NodeHealthConfig.Default);
        var trust = seen.Trusted ? string.Empty : "; this certificate was NOT trusted (see the endpoint's other results)";
        return new CheckResult(environment, component, type, Name, status,
            $"{where} presents {(seen.Subject.Length > 0 ? seen.Subject : "a certificate without subject")} (SHA-256 {seen.Fingerprint}): {text}{trust}", elapsed, target)
        {
            Measurements = [CertificateVerdict.ExpiryMeasurement(component, type, Name, seen.NotAfter)],
        };
    }
}
