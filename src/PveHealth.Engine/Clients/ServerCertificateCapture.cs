using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace PveHealth.Clients;

/// <summary>The server certificate one TLS handshake presented: its notAfter, subject, SHA-256 fingerprint, and whether the client trusted it.</summary>
public sealed record ServerCertificateInfo(DateTimeOffset NotAfter, string Subject, string Fingerprint, bool Trusted);

/// <summary>
/// Remembers the certificate of the last TLS handshake a client made, from inside the handler's own validation callback
/// (pinned, CA-verified, system store or not verified alike), so the TlsCertificate result costs no extra connection.
/// Thread-safe: handshakes of pooled connections may run at once; the last one wins (they present the same server).
/// </summary>
public sealed class ServerCertificateCapture
{
    /// <summary>Most of a subject kept (a hostile server may send a huge one).</summary>
    private const int MaxSubjectChars = 200;

    private volatile ServerCertificateInfo? _last;

    /// <summary>The certificate of the last handshake, or null when no handshake got as far as a certificate.</summary>
    public ServerCertificateInfo? Last => _last;

    /// <summary>Records <paramref name="certificate"/> and passes <paramref name="trusted"/> through (for use as a callback's return value).</summary>
    public bool Capture(X509Certificate? certificate, bool trusted)
    {
        if (certificate is null) return trusted;
        try
        {
            var owned = certificate as X509Certificate2;
            var cert = owned ?? new X509Certificate2(certificate);
            try
            {
                var subject = Model.CheckResult.OneLine(cert.Subject);
                if (subject.Length > MaxSubjectChars) subject = subject[..MaxSubjectChars] + "...";
                var fingerprint = string.Join(':', SHA256.HashData(cert.RawData).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
                _last = new ServerCertificateInfo(new DateTimeOffset(cert.NotAfter.ToUniversalTime(), TimeSpan.Zero), subject, fingerprint, trusted);
            }
            finally
            {
                if (owned is null) cert.Dispose();
            }
        }
        catch (CryptographicException)
        {
            // A certificate .NET cannot read: nothing to remember; the handshake's own verdict stands.
        }
        return trusted;
    }
}
