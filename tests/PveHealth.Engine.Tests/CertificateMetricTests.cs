using PveHealth.Checks.NodeHealth;
using PveHealth.Metrics;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class CertificateMetricTests
{
    [Fact]
    public void Certificate_results_export_their_expiry_as_unix_time_and_others_do_not()
    {
        var expires = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
        var text = PrometheusTextWriter.Render(
        [
            new CheckResult("lab", "pve1/pveproxy-ssl.pem", "Certificate", "NodeCertificate", CheckStatus.Critical, "expires", TimeSpan.Zero)
            {
                Measurements = [CertificateVerdict.ExpiryMeasurement("pve1/pveproxy-ssl.pem", "Certificate", "NodeCertificate", expires)],
            },
            new CheckResult("lab", "web-01", "Vm", "Ping", CheckStatus.Ok, "ok", TimeSpan.Zero),
        ]);
        Assert.Contains("# TYPE pve_health_certificate_expiry_seconds gauge\n", text);
        Assert.Contains($"pve_health_certificate_expiry_seconds{{environment=\"lab\",component=\"pve1/pveproxy-ssl.pem\",type=\"Certificate\",check=\"NodeCertificate\"}} {expires.ToUnixTimeSeconds()}\n", text);
        Assert.DoesNotContain("pve_health_certificate_expiry_seconds{environment=\"lab\",component=\"web-01\"", text);
        Assert.DoesNotContain("pve_health_certificate_expiry_seconds", PrometheusTextWriter.Render([new CheckResult("lab", "web-01", "Vm", "Ping", CheckStatus.Ok, "ok", TimeSpan.Zero)]));
    }
}
