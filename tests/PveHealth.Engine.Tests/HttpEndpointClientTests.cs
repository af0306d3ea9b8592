using System.Net;
using System.Net.Sockets;
using System.Text;
using PveHealth.Clients;
using Xunit;

namespace PveHealth.Tests;

/// <summary>HttpEndpointClient against a small HTTPS server on 127.0.0.1 with a self-signed certificate.</summary>
public sealed class HttpEndpointClientTests : IDisposable
{
    private readonly LoopbackTlsServer _server = new(TimeSpan.FromDays(1), """{"database":"ok","version":"10.4.2"}""");

    private Uri Url => new(_server.Url);

    [Fact]
    public async Task A_self_signed_certificate_is_rejected_by_default_with_an_actionable_message()
    {
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = Url });
        var ex = await Assert.ThrowsAsync<EndpointUnreachableException>(() => client.GetAsync("/api/health", TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.StartsWith($"TLS handshake with 127.0.0.1:{Url.Port} failed", ex.Message);
        Assert.Contains("caFile", ex.Message);
    }

    [Fact]
    public async Task The_CA_file_makes_the_certificate_trusted()
    {
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = Url, CaFile = _server.CaFile });
        var answer = await client.GetAsync("/api/health", TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(200, answer.StatusCode);
        Assert.False(client.SkipsCertificateCheck);
    }

    [Fact]
    public async Task Skipping_the_check_works_and_is_visible()
    {
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = Url, SkipCertificateCheck = true });
        var answer = await client.GetAsync("/api/health", TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal(200, answer.StatusCode);
        Assert.True(client.SkipsCertificateCheck);
    }

    [Fact]
    public async Task Basic_auth_and_bearer_token_are_sent_as_headers()
    {
        using (var basic = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = Url, SkipCertificateCheck = true, Username = "monitor", Password = "pw-1" }))
        {
            await basic.GetAsync("/-/ready", TimeSpan.FromSeconds(5), CancellationToken.None);
            Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("monitor:pw-1")), _server.LastAuthorization);
        }
        using var bearer = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = Url, SkipCertificateCheck = true, BearerToken = "tok-2" });
        await bearer.GetAsync("/-/ready", TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal("Bearer tok-2", _server.LastAuthorization);
    }

    [Fact]
    public async Task A_closed_port_is_connection_refused()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri($"http://127.0.0.1:{port}/") });
        var ex = await Assert.ThrowsAsync<EndpointUnreachableException>(() => client.GetAsync("/-/ready", TimeSpan.FromSeconds(5), CancellationToken.None));
        // Confirmed before it is reported (Confirmation: one more attempt after 0.5 s inside the budget).
        Assert.Equal($"connection refused by 127.0.0.1:{port}; the same on a second attempt 0.5 s later", ex.Message);
    }

    public void Dispose()
    {
        _server.Dispose();
    }
}
