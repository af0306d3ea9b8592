using System.Text.Json;
using PveHealth.Checks.NodeHealth;
using PveHealth.Configuration;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class NodeHealthParserTests
{
    private static JsonElement Data(string json) => JsonDocument.Parse(json).RootElement.GetProperty("data").Clone();

    [Fact]
    public void Certificates_read_filename_subject_and_epoch_dates_also_as_strings()
    {
        var list = NodeHealthParsers.ParseCertificates(Data("""
            {"data":[{"filename":"pve-root-ca.pem","fingerprint":"AA:BB","subject":"/CN=Proxmox Virtual Environment","issuer":"/CN=Proxmox Virtual Environment","notbefore":1600000000,"notafter":1915360000,"san":[]},
                     {"filename":"pveproxy-ssl.pem","subject":"/CN=pve1.example","notbefore":"1700000000","notafter":"1764676800","san":["pve1.example"]},
                     {"filename":"broken.pem"},
                     {"subject":"no filename"}]}
            """));
        Assert.Equal(3, list.Count);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1915360000), list[0].NotAfter);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1764676800), list[1].NotAfter);
        Assert.Equal("/CN=pve1.example", list[1].Subject);
        Assert.Null(list[2].NotAfter);
    }

    [Theory]
    [InlineData(40, CheckStatus.Ok, "valid until")]
    [InlineData(20, CheckStatus.Warning, "expires in 20 days")]
    [InlineData(5, CheckStatus.Critical, "expires in 5 days")]
    [InlineData(-3, CheckStatus.Critical, "EXPIRED 3 days 0 h ago")]
    public void Certificate_verdict_uses_the_configured_thresholds(double days, CheckStatus expected, string text)
    {
        var now = new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
        var (status, detail) = CertificateVerdict.Evaluate(now.AddDays(days).AddMinutes(days > 0 ? 1 : -1), now, NodeHealthConfig.Default);
        Assert.Equal(expected, status);
        Assert.Contains(text, detail);
        // Thresholds are the configuration's: 20 days left is Ok when the Warning starts at 14 days.
        var custom = new NodeHealthConfig { CertificateWarningDays = 14, CertificateCriticalDays = 3 };
        Assert.Equal(CheckStatus.Ok, CertificateVerdict.Evaluate(now.AddDays(20), now, custom).Status);
        Assert.Equal(CheckStatus.Warning, CertificateVerdict.Evaluate(now.AddDays(5), now, custom).Status);
    }
}
