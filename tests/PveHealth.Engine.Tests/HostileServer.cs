using System.Net;
using System.Net.Sockets;
using System.Text;
using PveHealth.Execution;

namespace PveHealth.Tests;

/// <summary>
/// A loopback HTTP/1.1 server whose answers are written by the test byte for byte: endless chunked bodies, lying
/// Content-Length, gzip bombs, echoes of the request headers, silence. One request per connection.
/// </summary>
internal sealed class HostileServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<string, Stream, CancellationToken, Task> _answer;
    public List<string> Requests { get; } = new();

    public HostileServer(Func<string, Stream, CancellationToken, Task> answer)
    {
        _answer = answer;
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); } catch { return; }
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    var stream = client.GetStream();
                    var head = new StringBuilder();
                    var buffer = new byte[8192];
                    while (!head.ToString().Contains("\r\n\r\n"))
                    {
                        int n;
                        try { n = await stream.ReadAsync(buffer, _stop.Token); } catch { return; }
                        if (n == 0) return;
                        head.Append(Encoding.ASCII.GetString(buffer, 0, n));
                    }
                    lock (Requests) Requests.Add(head.ToString());
                    try { await _answer(head.ToString(), stream, _stop.Token); } catch { /* the client hung up */ }
                }
            });
        }
    }

    public static byte[] Head(int status, string reason, string headers = "Content-Type: application/json\r\n")
        => Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {reason}\r\n{headers}Connection: close\r\n\r\n");

    /// <summary>Answers a JSON body with the right Content-Length.</summary>
    public static Func<string, Stream, CancellationToken, Task> Json(int status, string body) => async (_, s, ct) =>
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        await s.WriteAsync(Head(status, status == 200 ? "OK" : "Error", $"Content-Type: application/json\r\nContent-Length: {bytes.Length}\r\n"), ct);
        await s.WriteAsync(bytes, ct);
    };

    /// <summary>A chunked body that never ends: <c>{"data":"xxxx…</c> at loopback speed.</summary>
    public static async Task EndlessChunked(string request, Stream s, CancellationToken ct)
    {
        await s.WriteAsync(Head(200, "OK", "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"), ct);
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'x');
        var prefix = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n");
        await s.WriteAsync(Encoding.ASCII.GetBytes("b\r\n{\"data\":\"xx\r\n"), ct);
        while (!ct.IsCancellationRequested)
        {
            await s.WriteAsync(prefix, ct);
            await s.WriteAsync(chunk, ct);
            await s.WriteAsync("\r\n"u8.ToArray(), ct);
        }
    }

    /// <summary>The request's header lines, echoed in an error body (what some proxies and servers do).</summary>
    public static async Task EchoHeaders(string request, Stream s, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes("bad request; you sent:\n" + request);
        await s.WriteAsync(Head(500, "Internal Server Error", $"Content-Type: text/plain\r\nContent-Length: {body.Length}\r\n"), ct);
        await s.WriteAsync(body, ct);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
