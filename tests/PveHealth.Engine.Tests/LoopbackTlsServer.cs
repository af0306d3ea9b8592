using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace PveHealth.Tests;

/// <summary>
/// A TLS server on 127.0.0.1 with a self-signed certificate (CN=lab-endpoint, SAN 127.0.0.1) of a chosen remaining life,
/// answering every request with one JSON body (Connection: close); it counts connections and records the last
/// request's Authorization header.
/// </summary>
internal sealed class LoopbackTlsServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly string _body;
    private int _connections;

    /// <param name="life">Time from now to the certificate's notAfter (negative: expired).</param>
    /// <param name="body">The JSON answer to every request.</param>
    /// <param name="validFrom">Time from now to its notBefore (positive: not yet valid); 60 days ago when null.</param>
    public LoopbackTlsServer(TimeSpan life, string body = """{"database":"ok","version":"11.0.0"}""", TimeSpan? validFrom = null)
    {
        _body = body;
        using var key = RSA.Create(2048);
        var req = new CertificateRequest("CN=lab-endpoint", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        // Whole seconds: the certificate's notAfter has no fraction.
        NotAfter = DateTimeOffset.FromUnixTimeSeconds((DateTimeOffset.UtcNow + life).ToUnixTimeSeconds());
        NotBefore = DateTimeOffset.FromUnixTimeSeconds((DateTimeOffset.UtcNow + (validFrom ?? TimeSpan.FromDays(-60))).ToUnixTimeSeconds());
        using var created = req.CreateSelfSigned(NotBefore, NotAfter);
        Certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
        CaFile = Path.Combine(Path.GetTempPath(), $"pvehealth-tls-{Guid.NewGuid():N}.pem");
        File.WriteAllText(CaFile, created.ExportCertificatePem());
        Fingerprint = string.Join(':', SHA256.HashData(created.RawData).Select(b => b.ToString("X2")));
        _listener.Start();
        _ = ServeAsync();
    }

    public X509Certificate2 Certificate { get; }
    public DateTimeOffset NotAfter { get; }
    public DateTimeOffset NotBefore { get; }
    public string CaFile { get; }
    public string Fingerprint { get; }
    public int Connections => Volatile.Read(ref _connections);
    public string LastAuthorization { get; private set; } = string.Empty;
    public string Url => $"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); } catch { return; }
            Interlocked.Increment(ref _connections);
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        using var ssl = new SslStream(client.GetStream());
                        await ssl.AuthenticateAsServerAsync(Certificate);
                        var buffer = new byte[8192];
                        var read = await ssl.ReadAsync(buffer);
                        var auth = Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n").FirstOrDefault(l => l.StartsWith("Authorization:", StringComparison.OrdinalIgnoreCase));
                        LastAuthorization = auth?["Authorization:".Length..].Trim() ?? string.Empty;
                        await ssl.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {_body.Length}\r\nConnection: close\r\n\r\n{_body}"));
                    }
                    catch (Exception) { /* the client rejected the certificate */ }
                }
            });
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        Certificate.Dispose();
        File.Delete(CaFile);
    }
}
