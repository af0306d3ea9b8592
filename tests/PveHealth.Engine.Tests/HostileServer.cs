using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PveHealth.Tests;

/// <summary>
/// The one loopback HTTP/1.1 test server (the network rule: 127.0.0.1 only). Its answers are written by the test:
/// byte for byte (endless chunked bodies, lying Content-Length, gzip bombs, echoes of the request headers, silence,
/// one byte a second, redirects) with one request per connection, or scripted as status, reason, JSON body and delay
/// (<see cref="Scripted"/>) with keep-alive connections.
/// </summary>
internal sealed class HostileServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<string, Stream, CancellationToken, Task> _answer;
    private readonly bool _keepAlive;
    private int _connections;

    /// <summary>The request heads received, in order.</summary>
    public List<string> Requests { get; } = new();

    /// <summary>TCP connections accepted (a redirect target that is never followed sees zero).</summary>
    public int Connections => Volatile.Read(ref _connections);

    public HostileServer(Func<string, Stream, CancellationToken, Task> answer) : this(answer, keepAlive: false) { }

    private HostileServer(Func<string, Stream, CancellationToken, Task> answer, bool keepAlive)
    {
        _answer = answer;
        _keepAlive = keepAlive;
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    /// <summary>
    /// A server answering each request line (<c>GET /path HTTP/1.1</c>) with a status, reason, JSON body and a delay
    /// in milliseconds before the answer; connections are kept alive.
    /// </summary>
    public static HostileServer Scripted(Func<string, (int Status, string Reason, string? Body, int DelayMs)> answer)
        => new(async (head, s, ct) =>
        {
            var (status, reason, body, delay) = answer(head[..head.IndexOf('\r')]);
            if (delay > 0) await Task.Delay(delay, ct);
            var bytes = Encoding.UTF8.GetBytes(body ?? string.Empty);
            await s.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\n\r\n"), ct);
            await s.WriteAsync(bytes, ct);
        }, keepAlive: true);

    public string Url => $"http://127.0.0.1:{Port}";

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task LoopAsync()
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
                    var stream = client.GetStream();
                    var buffer = new byte[8192];
                    do
                    {
                        var head = new StringBuilder();
                        while (!head.ToString().Contains("\r\n\r\n"))
                        {
                            int n;
                            try { n = await stream.ReadAsync(buffer, _stop.Token); } catch { return; }
                            if (n == 0) return;
                            head.Append(Encoding.ASCII.GetString(buffer, 0, n));
                        }
                        lock (Requests) Requests.Add(head.ToString());
                        try { await _answer(head.ToString(), stream, _stop.Token); } catch { return; /* the client hung up */ }
                    }
                    while (_keepAlive && !_stop.IsCancellationRequested);
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

    /// <summary>An answer sent one byte a second: the status line and headers (<paramref name="inHeaders"/>) or the body.</summary>
    public static Func<string, Stream, CancellationToken, Task> OneByteASecond(bool inHeaders) => async (_, s, ct) =>
    {
        var body = Encoding.ASCII.GetBytes(new string(' ', 100));
        var head = Head(200, "OK", $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n");
        if (!inHeaders) await s.WriteAsync(head, ct);
        foreach (var b in inHeaders ? head.Concat(body) : body)
        {
            await s.WriteAsync(new[] { b }, ct);
            await Task.Delay(1000, ct);
        }
    };

    /// <summary>A redirect (<paramref name="status"/>: 301, 302, 307 …) to <paramref name="location"/>.</summary>
    public static Func<string, Stream, CancellationToken, Task> Redirect(int status, string location) => async (_, s, ct)
        => await s.WriteAsync(Head(status, status switch { 301 => "Moved Permanently", 302 => "Found", 307 => "Temporary Redirect", 308 => "Permanent Redirect", _ => "Redirect" },
            $"Location: {location}\r\nContent-Length: 0\r\n"), ct);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
