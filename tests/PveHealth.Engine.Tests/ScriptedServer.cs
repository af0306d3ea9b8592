using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PveHealth.Tests;

/// <summary>A scripted HTTP/1.1 server on 127.0.0.1 (the network rule: loopback only).</summary>
internal sealed class ScriptedServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<string, (int Status, string Reason, string? Body, int DelayMs)> _answer;
    public List<string> Requests { get; } = new();

    public ScriptedServer(Func<string, (int, string, string?, int)> answer)
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
                    var buffer = new byte[8192];
                    while (!_stop.IsCancellationRequested)
                    {
                        var head = new StringBuilder();
                        while (!head.ToString().Contains("\r\n\r\n"))
                        {
                            int n;
                            try { n = await stream.ReadAsync(buffer, _stop.Token); } catch { return; }
                            if (n == 0) return;
                            head.Append(Encoding.ASCII.GetString(buffer, 0, n));
                        }
                        var text = head.ToString();
                        lock (Requests) Requests.Add(text);
                        var first = text[..text.IndexOf('\r')];
                        var (status, reason, body, delay) = _answer(first);
                        try { if (delay > 0) await Task.Delay(delay, _stop.Token); } catch { return; }
                        var bytes = Encoding.UTF8.GetBytes(body ?? string.Empty);
                        var response = $"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length}\r\n\r\n";
                        try
                        {
                            await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
                            await stream.WriteAsync(bytes);
                        }
                        catch { return; }
                    }
                }
            });
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}
