using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using PveHealth.Clients;
using Xunit;

namespace PveHealth.Tests;

/// <summary>HttpEndpointClient against a small HTTPS server on 127.0.0.1 with a self-signed certificate.</summary>
public sealed class HttpEndpointClientTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _cert;
    private readonly string _caFile;
    private readonly CancellationTokenSource _stop = new();
    private string _lastAuthorization = string.Empty;

    public HttpEndpointClientTests()
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var created = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        _cert = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
        _caFile = Path.Combine(Path.GetTempPath(), $"pvehealth-ca-{Guid.NewGuid():N}.pem");
        File.WriteAllText(_caFile, created.ExportCertificatePem());
        _listener.Start();
        _ = ServeAsync();
    }

    private Uri Url => new($"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); } catch { return; }
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        using var ssl = new SslStream(client.GetStream());
                        await ssl.AuthenticateAsServerAsync(_cert);
                        var buffer = new byte[8192];
                        var read = await ssl.ReadAsync(buffer);
                        var request = Encoding.ASCII.GetString(buffer, 0, read);
                        var auth = request.Split("\r\n").FirstOrDefault(l => l.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase));
                        _lastAuthorization = auth?["Authorization:".Length..].Trim() ?? string.Empty;
                        var body = "{\"database\":\"ok\",\"version\":\"10.4.2\"}";
                        await ssl.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}"));
                    }
                    catch (Exception) { /* the client rejected the certificate */ }
                }
            });
        }
    }

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
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = Url, CaFile = _caFile });
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
            Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("monitor:pw-1")), _lastAuthorization);
        }
        using var bearer = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = Url, SkipCertificateCheck = true, BearerToken = "tok-2" });
        await bearer.GetAsync("/-/ready", TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.Equal("Bearer tok-2", _lastAuthorization);
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
        Assert.Equal($"connection refused by 127.0.0.1:{port}", ex.Message);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _cert.Dispose();
        File.Delete(_caFile);
    }
}
