using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using PveHealth.Clients.Proxmox;
using PveHealth.Execution;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// Hostile answers to the Proxmox client: every one ends in a precise error within its deadline, and what the client
/// allocates stays under a stated bound whatever the server sends (an unbounded read allocates gigabytes).
/// </summary>
[Collection("hostile-memory")]
public class HostileProxmoxAnswerTests
{
    private const string Secret = "h0stile-5ecret-token-value";

    private static ProxmoxClient Client(string url, double timeoutSec = 10)
        => new(new Uri(url), "mon@pve!health", Secret, new ProxmoxTlsPolicy(), TimeSpan.FromSeconds(timeoutSec));

    private static async Task<ProxmoxApiException> Fails(string url, string path = "cluster/status", double timeoutSec = 10)
    {
        using var client = Client(url, timeoutSec);
        return await Assert.ThrowsAsync<ProxmoxApiException>(() => client.GetAsync(path, CancellationToken.None));
    }

    [Fact]
    public async Task An_endless_chunked_body_stops_at_the_cap_with_bounded_memory()
    {
        using var server = new HostileServer(HostileServer.EndlessChunked);
        var (ex, allocated, elapsed) = await Measure.Run(() => Fails(server.Url));
        Assert.Equal(ProxmoxFailure.InvalidResponse, ex.Failure);
        Assert.Contains("larger than 32 MiB", ex.Message);
        Assert.True(allocated < 200 * Measure.MiB, $"allocated {allocated / Measure.MiB} MiB");
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"took {elapsed}");
    }

    [Fact]
    public async Task A_huge_content_length_is_refused_before_reading()
    {
        using var server = new HostileServer(async (_, s, ct) =>
        {
            await s.WriteAsync(HostileServer.Head(200, "OK", "Content-Type: application/json\r\nContent-Length: 10000000000\r\n"), ct);
            var chunk = new byte[64 * 1024];
            while (!ct.IsCancellationRequested) await s.WriteAsync(chunk, ct);
        });
        var (ex, allocated, elapsed) = await Measure.Run(() => Fails(server.Url));
        Assert.Equal(ProxmoxFailure.InvalidResponse, ex.Failure);
        Assert.Contains("larger than 32 MiB", ex.Message);
        Assert.True(allocated < 50 * Measure.MiB, $"allocated {allocated / Measure.MiB} MiB");
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed}");
    }

    /// <summary>256 MiB of zeros, gzipped to about a quarter of a MiB.</summary>
    internal static readonly Lazy<byte[]> GzipBomb = new(() =>
    {
        using var packed = new MemoryStream();
        using (var gz = new GZipStream(packed, CompressionLevel.Optimal, leaveOpen: true))
        {
            var zeros = new byte[1024 * 1024];
            for (var i = 0; i < 256; i++) gz.Write(zeros);
        }
        return packed.ToArray();
    });

    [Fact]
    public async Task A_gzip_bomb_is_bounded_after_decompression()
    {
        var bomb = GzipBomb.Value;
        using var server = new HostileServer(async (_, s, ct) =>
        {
            await s.WriteAsync(HostileServer.Head(200, "OK", $"Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {bomb.Length}\r\n"), ct);
            await s.WriteAsync(bomb, ct);
        });
        var (ex, allocated, elapsed) = await Measure.Run(() => Fails(server.Url));
        Assert.True(bomb.Length < 2 * Measure.MiB);
        Assert.Equal(ProxmoxFailure.InvalidResponse, ex.Failure);
        Assert.Contains("larger than 32 MiB", ex.Message);
        Assert.True(allocated < 200 * Measure.MiB, $"allocated {allocated / Measure.MiB} MiB");
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"took {elapsed}");
    }

    [Fact]
    public async Task A_hung_server_is_a_timeout_within_the_deadline()
    {
        using var server = new HostileServer(async (_, _, ct) => await Task.Delay(Timeout.Infinite, ct));
        var watch = Stopwatch.StartNew();
        var ex = await Fails(server.Url, timeoutSec: 1);
        Assert.Equal(ProxmoxFailure.Timeout, ex.Failure);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_slow_body_one_byte_a_second_is_a_timeout_within_the_deadline()
    {
        using var server = new HostileServer(async (_, s, ct) =>
        {
            await s.WriteAsync(HostileServer.Head(200, "OK", "Content-Type: application/json\r\nContent-Length: 100\r\n"), ct);
            for (var i = 0; i < 100; i++) { await s.WriteAsync("{"u8.ToArray(), ct); await Task.Delay(1000, ct); }
        });
        var watch = Stopwatch.StartNew();
        var ex = await Fails(server.Url, timeoutSec: 2);
        Assert.Equal(ProxmoxFailure.Timeout, ex.Failure);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_redirect_is_not_followed()
    {
        using var server = new HostileServer(async (_, s, ct) =>
            await s.WriteAsync(HostileServer.Head(302, "Found", "Location: http://127.0.0.2:1/steal\r\nContent-Length: 0\r\n"), ct));
        var ex = await Fails(server.Url);
        Assert.Equal(302, ex.StatusCode);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task A_lone_surrogate_in_an_answer_is_an_unexpected_answer_not_a_raw_InvalidOperationException()
    {
        using var server = new HostileServer(HostileServer.Json(200, """{"data":[{"type":"node","name":"pve\ud800","online":1}]}"""));
        var ex = await Fails(server.Url);
        Assert.Equal(ProxmoxFailure.InvalidResponse, ex.Failure);
        Assert.Contains("not valid UTF-16", ex.Message);
        Assert.Contains("$.data[0].name", ex.Message);
    }

    [Fact]
    public async Task Nesting_deeper_than_the_limit_is_an_unexpected_answer()
    {
        using var server = new HostileServer(HostileServer.Json(200, "{\"data\":" + new string('[', 5000) + new string(']', 5000) + "}"));
        var ex = await Fails(server.Url);
        Assert.Equal(ProxmoxFailure.InvalidResponse, ex.Failure);
        Assert.Contains("deeper than", ex.Message);
    }

    [Fact]
    public async Task A_duplicate_key_is_an_unexpected_answer()
    {
        using var server = new HostileServer(HostileServer.Json(200, """{"data":[{"type":"cluster","quorate":0,"quorate":1}]}"""));
        var ex = await Fails(server.Url);
        Assert.Equal(ProxmoxFailure.InvalidResponse, ex.Failure);
        Assert.Contains("$.data[0].quorate", ex.Message);
        Assert.Contains("appears twice", ex.Message);
    }
}
