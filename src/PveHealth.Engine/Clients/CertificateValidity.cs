using System.Globalization;
using System.Security.Cryptography.X509Certificates;

namespace PveHealth.Clients;

/// <summary>
/// Words a certificate rejected for its validity period (chain status NotTimeValid): "it expired on … UTC" or "it is not
/// valid before … UTC", instead of a bare chain status that reads like a signing problem.
/// </summary>
public static class CertificateValidity
{
    /// <summary>
    /// "it expired on 2026-12-01 07:30:00 UTC" or "it is not valid before … UTC" when <paramref name="chainStatus"/> holds
    /// NotTimeValid; null when the validity period is not among the problems.
    /// </summary>
    public static string? Describe(X509Certificate2 certificate, IEnumerable<X509ChainStatus> chainStatus, DateTime utcNow)
    {
        if (!chainStatus.Any(s => s.Status == X509ChainStatusFlags.NotTimeValid)) return null;
        var notBefore = certificate.NotBefore.ToUniversalTime();
        var notAfter = certificate.NotAfter.ToUniversalTime();
        return notAfter < utcNow ? $"it expired on {Utc(notAfter)}"
            : notBefore > utcNow ? $"it is not valid before {Utc(notBefore)}"
            : $"it is outside its validity period ({Utc(notBefore)} to {Utc(notAfter)})"; // an issuer's period, seen from this certificate
    }

    /// <summary>The chain problems other than the validity period, comma-separated ("" when none).</summary>
    public static string OtherProblems(IEnumerable<X509ChainStatus> chainStatus)
        => string.Join(", ", chainStatus.Select(s => s.Status).Where(s => s != X509ChainStatusFlags.NotTimeValid).Distinct());

    private static string Utc(DateTime t) => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";
}
