using System.Globalization;
using PveHealth.Configuration;
using PveHealth.Model;

namespace PveHealth.Checks.NodeHealth;

/// <summary>
/// The one rule for a certificate's expiry, shared by NodeCertificate and TlsCertificate: expired or under
/// <c>certificateCriticalDays</c> Critical, under <c>certificateWarningDays</c> Warning, else Ok.
/// </summary>
public static class CertificateVerdict
{
    public static (CheckStatus Status, string Text) Evaluate(DateTimeOffset notAfter, DateTimeOffset now, NodeHealthConfig settings)
    {
        var left = notAfter - now;
        var when = notAfter.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        if (left <= TimeSpan.Zero)
        {
            return (CheckStatus.Critical, $"EXPIRED {Span(-left)} ago (notAfter {when})");
        }
        if (left.TotalDays < settings.CertificateCriticalDays)
        {
            return (CheckStatus.Critical, $"expires in {Span(left)}, on {when} (Critical under {Days(settings.CertificateCriticalDays)} days)");
        }
        if (left.TotalDays < settings.CertificateWarningDays)
        {
            return (CheckStatus.Warning, $"expires in {Span(left)}, on {when} (Warning under {Days(settings.CertificateWarningDays)} days)");
        }
        return (CheckStatus.Ok, $"valid until {when} ({Span(left)} left)");
    }

    /// <summary>The metric of a certificate's notAfter (Unix time, like blackbox_exporter's probe_ssl_earliest_cert_expiry).</summary>
    public const string ExpiryMetric = "pve_health_certificate_expiry_seconds";

    /// <summary>
    /// <c>pve_health_certificate_expiry_seconds{environment,component,type,check}</c>: the notAfter as Unix time, so a
    /// Prometheus rule (CertificateExpiresSoon) compares it with time() between runs.
    /// </summary>
    public static Measurement ExpiryMeasurement(string component, string type, string check, DateTimeOffset notAfter)
        => new(ExpiryMetric, notAfter.ToUnixTimeSeconds(),
            "Unix time at which the certificate expires (notAfter), per node certificate file and HTTPS endpoint; alert on it minus time().",
            ("component", component), ("type", type), ("check", check));

    /// <summary>"4 days 23 h", "1 day 3 h", "40 min" (whole units, never rounded up past a threshold).</summary>
    public static string Span(TimeSpan t)
    {
        if (t.TotalDays >= 100) return $"{(int)t.TotalDays} days";
        if (t.TotalDays >= 2) return $"{(int)t.TotalDays} days {t.Hours} h";
        if (t.TotalDays >= 1) return $"1 day {t.Hours} h";
        if (t.TotalHours >= 1) return $"{(int)t.TotalHours} h {t.Minutes} min";
        return $"{Math.Max(0, (int)t.TotalMinutes)} min";
    }

    private static string Days(double d) => d.ToString("0.##", CultureInfo.InvariantCulture);
}
