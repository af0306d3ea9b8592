using System.Diagnostics;
using System.Text;
using PveHealth.Checks.Monitoring;
using PveHealth.Clients;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>Credentials never reach a Detail, whatever a server echoes; secret values with control characters are refused.</summary>
public class SecretLeakTests
{
    private static List<CheckResult> Run(CheckUnit unit)
        => new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromSeconds(5) }).Run([unit], CancellationToken.None)
            .OfType<ResultEvent>().Select(e => e.Result).ToList();

    [Fact]
    public void Prometheus_echoing_the_bearer_token_does_not_put_it_in_Detail()
    {
        const string token = "prom-bearer-7c1d0e5f-secret";
        using var server = new HostileServer(HostileServer.EchoHeaders);
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri(server.Url), BearerToken = token });
        var results = Run(new PrometheusCheck("lab", server.Url, () => client));
        Assert.Contains(server.Requests, r => r.Contains(token)); // it was sent, and echoed
        Assert.NotEmpty(results);
        Assert.All(results, r => Assert.DoesNotContain(token, r.Detail));
        Assert.Contains(results, r => r.Detail.Contains("***"));
    }

    [Fact]
    public void Grafana_echoing_Basic_credentials_does_not_put_them_or_their_base64_in_Detail()
    {
        const string password = "graf-pass-91b2c3d4";
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + password));
        using var server = new HostileServer(HostileServer.EchoHeaders);
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri(server.Url), Username = "admin", Password = password });
        var results = Run(new GrafanaCheck("lab", server.Url, () => client));
        Assert.Contains(server.Requests, r => r.Contains(basic));
        Assert.All(results, r => Assert.DoesNotContain(basic, r.Detail));
        Assert.All(results, r => Assert.DoesNotContain(password, r.Detail));
    }

    [Fact]
    public void Alertmanager_echoing_the_bearer_token_does_not_put_it_in_Detail()
    {
        const string token = "am-bearer-0a9b8c7d-secret";
        using var server = new HostileServer(HostileServer.EchoHeaders);
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri(server.Url), BearerToken = token });
        var results = Run(new AlertmanagerCheck("lab", server.Url, () => client));
        Assert.NotEmpty(results);
        Assert.All(results, r => Assert.DoesNotContain(token, r.Detail));
    }

    [Theory]
    [InlineData("line-one\nX-Injected: 1")]
    [InlineData("tok\ren")]
    [InlineData("tok\u0000en")]
    public void A_secret_with_a_line_break_or_control_character_is_refused_at_load(string content)
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, content);
        try
        {
            var ex = Assert.Throws<SecretUnavailableException>(() => SecretResolver.Resolve(new SecretReference { File = file }, "monitoring.prometheus.bearerToken"));
            Assert.Contains("control character", ex.Message);
            Assert.DoesNotContain("X-Injected", ex.Message);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void A_trailing_newline_is_still_fine()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "fine-token-value\n");
        try { Assert.Equal("fine-token-value", SecretResolver.Resolve(new SecretReference { File = file }, "x")); }
        finally { File.Delete(file); }
    }

    [Fact]
    public void A_secret_reference_to_dev_zero_stops_at_the_cap()
    {
        var watch = Stopwatch.StartNew();
        var ex = Assert.Throws<SecretUnavailableException>(() => SecretResolver.Resolve(new SecretReference { File = "/dev/zero" }, "proxmox.tokenSecret"));
        Assert.Contains("larger than 64 KiB", ex.Message);
        Assert.Contains("/dev/zero", ex.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void A_secret_file_passed_as_the_configuration_is_never_quoted()
    {
        const string secret = "s3cr3t-0123456789abcdef";
        var file = Path.GetTempFileName();
        File.WriteAllText(file, secret + "\n");
        try
        {
            var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(file, out _));
            Assert.DoesNotContain(secret, ex.Message);
            Assert.DoesNotContain("'s'", ex.Message);
            Assert.DoesNotContain("s3cr", ex.Message);
        }
        finally { File.Delete(file); }
    }

    [Theory]
    [InlineData("""{"db":{"sensitive":true,"type":"string","value":{"p@ssW0rd-value":"\ud800"}}}""", "p@ssW0rd-value")]
    [InlineData("""{"db":{"sensitive":true,"type":"string","value":{"hunter2-key":1,"hunter2-key":2}}}""", "hunter2-key")]
    [InlineData("""{"db":{"sensitive":true,"type":"string","value":tops3cret-unquoted}}""", "tops3cret")]
    public void A_sensitive_output_is_never_quoted_in_a_parser_message(string json, string secret)
    {
        var ex = Assert.Throws<InventoryException>(() => TerraformOutputReader.Read(json, "terraform-output:out.json", "prod", new InventoryConfig { Outputs = ["db"] }, isState: false));
        Assert.DoesNotContain(secret, ex.Message);
        Assert.DoesNotContain(secret[..4], ex.Message);
    }

    [Fact]
    public void Every_result_detail_is_scrubbed_of_registered_secrets()
    {
        SecretScrubber.Register("registered-credential-xyz");
        var r = new CheckResult("lab", "c", "t", "k", CheckStatus.Critical, "server said: registered-credential-xyz is wrong", TimeSpan.Zero);
        Assert.Equal("server said: *** is wrong", r.Detail);
    }
}
