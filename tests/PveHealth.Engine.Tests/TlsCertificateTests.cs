using System.Net;
using System.Net.Sockets;
using PveHealth.Checks;
using PveHealth.Checks.Minio;
using PveHealth.Checks.Monitoring;
using PveHealth.Clients;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// TlsCertificate: the certificate of the handshake an endpoint's client already makes, judged like node certificates.
/// A loopback HTTPS server (<see cref="LoopbackTlsServer"/>) with a certificate of a chosen remaining life counts the connections it accepts.
/// </summary>
public sealed class TlsCertificateTests
{
    private static List<CheckResult> Run(params CheckUnit[] units)
        => new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromSeconds(10) }).Run(units, CancellationToken.None)
            .OfType<ResultEvent>().Select(e => e.Result).ToList();

    [Fact]
    public void A_CA_verified_endpoint_expiring_in_20_days_is_a_Warning_from_the_one_handshake_the_check_made()
    {
        using var server = new LoopbackTlsServer(TimeSpan.FromDays(20));
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri(server.Url), CaFile = server.CaFile });
        var results = Run(new GrafanaCheck("lab", server.Url, () => client));
        Assert.Equal(CheckStatus.Ok, results.Single(r => r.Check == GrafanaCheck.Health).Status);
        var tls = results.Single(r => r.Check == TlsCertificate.Name);
        Assert.Equal(CheckStatus.Warning, tls.Status);
        Assert.Equal(("grafana", "Grafana"), (tls.Component, tls.Type));
        Assert.StartsWith($"127.0.0.1:{new Uri(server.Url).Port} presents CN=lab-endpoint (SHA-256 {server.Fingerprint}): expires in 19 days", tls.Detail);
        Assert.EndsWith("(Warning under 30 days)", tls.Detail);
        var m = Assert.Single(tls.Measurements);
        Assert.Equal("pve_health_certificate_expiry_seconds", m.Name);
        Assert.Equal(server.NotAfter.ToUnixTimeSeconds(), m.Value);
        Assert.Equal(1, server.Connections); // the Health request's handshake, no extra connection
    }

    [Fact]
    public void Thresholds_come_from_nodeHealth_and_an_unverified_endpoint_is_judged_alike()
    {
        using var server = new LoopbackTlsServer(TimeSpan.FromDays(20));
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri(server.Url), SkipCertificateCheck = true });
        var unit = new GrafanaCheck("lab", server.Url, () => client) { CertificateThresholds = new NodeHealthConfig { CertificateWarningDays = 60, CertificateCriticalDays = 21 } };
        var tls = Run(unit).Single(r => r.Check == TlsCertificate.Name);
        Assert.Equal(CheckStatus.Critical, tls.Status);
        Assert.EndsWith("(Critical under 21 days)", tls.Detail);
    }

    [Fact]
    public void An_untrusted_certificate_is_still_judged_and_says_it_was_not_trusted()
    {
        using var server = new LoopbackTlsServer(TimeSpan.FromDays(3));
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri(server.Url) }); // system store: self-signed is rejected
        var results = Run(new PrometheusCheck("lab", server.Url, () => client));
        Assert.Equal(CheckStatus.Critical, results.Single(r => r.Check == PrometheusCheck.Ready).Status);
        var tls = results.Single(r => r.Check == TlsCertificate.Name);
        Assert.Equal(CheckStatus.Critical, tls.Status);
        Assert.Contains("expires in 2 days 23 h", tls.Detail);
        Assert.EndsWith("; this certificate was NOT trusted (see the endpoint's other results)", tls.Detail);
    }

    [Fact]
    public void An_expired_certificate_is_Critical()
    {
        using var server = new LoopbackTlsServer(TimeSpan.FromDays(-2));
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri(server.Url), SkipCertificateCheck = true });
        var tls = Run(new MinioHealthCheck("lab", server.Url, () => client)).Single(r => r.Check == TlsCertificate.Name);
        Assert.Equal(CheckStatus.Critical, tls.Status);
        Assert.Contains(": EXPIRED 2 days", tls.Detail);
    }

    [Fact]
    public void No_handshake_is_Skipped_and_a_plain_http_endpoint_has_no_TlsCertificate_check()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri($"https://127.0.0.1:{port}/") });
        var tls = Run(new GrafanaCheck("lab", $"https://127.0.0.1:{port}/", () => client)).Single(r => r.Check == TlsCertificate.Name);
        Assert.Equal(CheckStatus.Skipped, tls.Status);
        Assert.Equal($"not checked: no TLS handshake with 127.0.0.1:{port} completed in this run (see its other results)", tls.Detail);
        Assert.Empty(tls.Measurements);

        Assert.DoesNotContain(TlsCertificate.Name, new GrafanaCheck("lab", $"http://127.0.0.1:{port}/", () => client).Checks);
        var env = new EnvironmentContext("lab", new EnvironmentConfig { Proxmox = new ProxmoxConfig { Url = $"http://127.0.0.1:{port}" } }, new RunOptions());
        Assert.DoesNotContain(TlsCertificate.Name, new ClusterQuorumCheck(env).Checks);
    }

    [Fact]
    public void The_Proxmox_API_certificate_is_reported_by_the_cluster_unit_from_the_pinned_handshake()
    {
        using var server = new LoopbackTlsServer(TimeSpan.FromDays(5), """{"data":[{"type":"cluster","name":"lab","quorate":1},{"type":"node","name":"pve1","online":1}]}""");
        var secret = Path.GetTempFileName();
        File.WriteAllText(secret, "s3cret-token\n");
        try
        {
            var env = new EnvironmentContext("lab", new EnvironmentConfig
            {
                Proxmox = new ProxmoxConfig { Url = server.Url.TrimEnd('/'), TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = secret }, Fingerprint = server.Fingerprint },
            }, new RunOptions { CheckTimeout = TimeSpan.FromSeconds(10) });
            var results = Run(new ClusterQuorumCheck(env));
            Assert.Equal(CheckStatus.Ok, results.Single(r => r.Check == ClusterCheckProvider.QuorumCheck).Status);
            var tls = results.Single(r => r.Check == TlsCertificate.Name);
            Assert.Equal(("proxmox-api", "Proxmox", CheckStatus.Critical), (tls.Component, tls.Type, tls.Status));
            Assert.Contains("expires in 4 days 23 h", tls.Detail);
            Assert.DoesNotContain("NOT trusted", tls.Detail);
            Assert.Equal(server.NotAfter.ToUnixTimeSeconds(), Assert.Single(tls.Measurements).Value);
            Assert.Equal(1, server.Connections);
            env.Dispose();
        }
        finally { File.Delete(secret); }
    }
}
