using PveHealth.Checks;
using PveHealth.Configuration;
using Xunit;

namespace PveHealth.Tests;

public class PingConfigTests
{
    private static PveHealthConfig Parse(string json) => ConfigLoader.Parse(json, "/etc/pve-health/config.json", out _);

    [Fact]
    public void Environment_ping_keys_win_over_defaults_ping()
    {
        var c = Parse("""{ "defaults": { "ping": { "count": 3, "criticalLossPercent": 80 } }, "environments": { "a": { "ping": { "count": 7 } }, "b": {} } }""");
        Assert.Equal((7, 80.0), (c.Environments["a"].Ping!.Count, c.Environments["a"].Ping!.CriticalLossPercent));
        Assert.Equal(3, c.Environments["b"].Ping!.Count);
        var s = PingSettings.From(c.Environments["a"].Ping);
        Assert.Equal(PingConfig.DefaultWarningLossPercent, s.WarningLossPercent);
    }

    [Theory]
    [InlineData("""{ "count": 0 }""", "$.environments.a.ping.count")]
    [InlineData("""{ "count": 21 }""", "$.environments.a.ping.count")]
    [InlineData("""{ "intervalMs": -1 }""", "$.environments.a.ping.intervalMs")]
    [InlineData("""{ "warningLossPercent": 0 }""", "$.environments.a.ping.warningLossPercent")]
    [InlineData("""{ "criticalLossPercent": 101 }""", "$.environments.a.ping.criticalLossPercent")]
    [InlineData("""{ "warningLossPercent": 90, "criticalLossPercent": 50 }""", "$.environments.a.ping.warningLossPercent")]
    [InlineData("""{ "warningRttMs": 500, "criticalRttMs": 100 }""", "$.environments.a.ping.warningRttMs")]
    public void Bad_ping_settings_name_their_key(string ping, string key)
    {
        var ex = Assert.Throws<ConfigException>(() => Parse($$"""{ "environments": { "a": { "ping": {{ping}} } } }"""));
        Assert.Contains(key, ex.Message);
    }
}
