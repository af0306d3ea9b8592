using PveHealth.Configuration;
using Xunit;

namespace PveHealth.Tests;

public class NodeHealthConfigTests
{
    private static PveHealthConfig Parse(string nodeHealth) => ConfigLoader.Parse("""
        {"environments":{"prod":{"proxmox":{"url":"https://pve:8006","tokenId":"mon@pve!health","tokenSecret":{"env":"X"}},"nodeHealth":
        """ + nodeHealth + "}}}", "/etc/pve-health/config.json", out _);

    [Fact]
    public void Defaults_apply_when_keys_are_absent()
    {
        var c = Parse("{}").Environments["prod"].NodeHealth!;
        Assert.Equal((30d, 7d, 10d, true), (c.CertificateWarningDays, c.CertificateCriticalDays, c.SsdLifeWarningPercent, c.CheckUpdates));
        Assert.Null(c.StateDirectory);
    }

    [Theory]
    [InlineData("""{"certificateCriticalDays":-1}""", "$.environments.prod.nodeHealth.certificateCriticalDays")]
    [InlineData("""{"certificateWarningDays":5,"certificateCriticalDays":7}""", "$.environments.prod.nodeHealth.certificateWarningDays")]
    [InlineData("""{"ssdLifeWarningPercent":150}""", "$.environments.prod.nodeHealth.ssdLifeWarningPercent")]
    [InlineData("""{"stateDirectory":" "}""", "$.environments.prod.nodeHealth.stateDirectory")]
    public void Bad_values_are_config_errors_naming_the_key(string nodeHealth, string jsonPath)
    {
        var ex = Assert.Throws<ConfigException>(() => Parse(nodeHealth));
        Assert.Equal(jsonPath, ex.JsonPath);
    }

    [Fact]
    public void An_unknown_key_is_reported()
    {
        ConfigLoader.Parse("""
            {"environments":{"prod":{"proxmox":{"url":"https://pve:8006","tokenId":"mon@pve!health","tokenSecret":{"env":"X"}},"nodeHealth":{"certWarnDays":3}}}}
            """, "/etc/pve-health/config.json", out var warnings);
        Assert.Contains(warnings, w => w.Contains("$.environments.prod.nodeHealth.certWarnDays", StringComparison.Ordinal));
    }
}
