using PveHealth.Checks.Monitoring;
using PveHealth.Clients;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class AlertmanagerAndGrafanaTests
{
    [Fact]
    public void Clustered_and_ready_is_Ok_with_peers_disabled_is_Skipped_settling_is_Warning()
    {
        var ready = AlertmanagerCluster.Parse("""{"cluster":{"name":"a","peers":[{"address":"127.0.0.1:9094","name":"a"},{"address":"127.0.0.1:9096","name":"b"}],"status":"ready"}}""");
        Assert.Equal((CheckStatus.Ok, "cluster ready, 2 peers: 127.0.0.1:9094, 127.0.0.1:9096"), AlertmanagerCheck.Evaluate(ready));
        var disabled = AlertmanagerCluster.Parse("""{"cluster":{"status":"disabled"}}""");
        Assert.False(disabled.Enabled);
        Assert.Equal(CheckStatus.Skipped, AlertmanagerCheck.Evaluate(disabled).Status);
        Assert.Equal(CheckStatus.Warning, AlertmanagerCheck.Evaluate(AlertmanagerCluster.Parse("""{"cluster":{"status":"settling","peers":[]}}""")).Status);
    }

    [Fact]
    public void Grafana_200_ok_is_Ok_and_503_failing_is_Critical_both_with_the_version()
    {
        var ok = GrafanaCheck.Evaluate(new HttpAnswer(new Uri("http://127.0.0.1:3000/api/health"), 200, "OK", """{"commit":"x","database":"ok","version":"10.4.2"}"""));
        Assert.Equal((CheckStatus.Ok, "database ok, version 10.4.2"), ok);
        var failing = GrafanaCheck.Evaluate(new HttpAnswer(new Uri("http://127.0.0.1:3000/api/health"), 503, "Service Unavailable", """{"commit":"x","database":"failing","version":"10.4.2"}"""));
        Assert.Equal((CheckStatus.Critical, "HTTP 503: database failing, version 10.4.2"), failing);
        var html = GrafanaCheck.Evaluate(new HttpAnswer(new Uri("http://127.0.0.1:3000/api/health"), 502, "Bad Gateway", "<html>proxy</html>"));
        Assert.Equal(CheckStatus.Critical, html.Status);
        Assert.Contains("HTTP 502 Bad Gateway", html.Detail);
    }

    [Fact]
    public void Urls_keep_a_path_prefix()
    {
        Assert.Equal("https://h/prometheus/-/ready", HttpEndpointClient.Combine(new Uri("https://h/prometheus"), "/-/ready").ToString());
        Assert.Equal("http://h:9090/api/v1/targets?state=active", HttpEndpointClient.Combine(new Uri("http://h:9090"), "/api/v1/targets?state=active").ToString());
    }
}
