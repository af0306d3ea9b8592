using System.Text;
using PveHealth.Clients;
using PveHealth.Configuration;
using Xunit;

namespace PveHealth.Tests;

/// <summary>S3: a listing answer without end is stopped at the cap (the SDK reads a listing page whole).</summary>
[Collection("hostile-memory")]
public class HostileS3Tests
{
    [Fact]
    public async Task An_endless_listing_answer_stops_at_the_cap_with_bounded_memory()
    {
        using var server = new HostileServer(async (request, s, ct) =>
        {
            await s.WriteAsync(HostileServer.Head(200, "OK", "Content-Type: application/xml\r\nTransfer-Encoding: chunked\r\n"), ct);
            // One key name without end (parsing many small entries is slow, so the deadline would come first).
            var chunk = Encoding.ASCII.GetBytes(new string('k', 64 * 1024));
            var prefix = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n");
            var open = "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>"u8.ToArray();
            await s.WriteAsync(Encoding.ASCII.GetBytes($"{open.Length:x}\r\n"), ct);
            await s.WriteAsync(open, ct);
            await s.WriteAsync("\r\n"u8.ToArray(), ct);
            while (!ct.IsCancellationRequested)
            {
                await s.WriteAsync(prefix, ct);
                await s.WriteAsync(chunk, ct);
                await s.WriteAsync("\r\n"u8.ToArray(), ct);
            }
        });
        using var client = new MinioStorageClient(new MinioSettings { Endpoint = new Uri(server.Url), AccessKey = "hostile-access", SecretKey = "hostile-secret-key-123" });
        var (ex, allocated, elapsed) = await Measure.Run(() => Assert.ThrowsAsync<StorageException>(() => client.ListAsync("tfstate", "prod/", TimeSpan.FromSeconds(10), CancellationToken.None)));
        Assert.Equal(StorageFailure.TooLarge, ex.Kind);
        Assert.Contains("larger than 16 MiB", ex.Message);
        Assert.True(allocated < 300 * Measure.MiB, $"allocated {allocated / Measure.MiB} MiB");
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"took {elapsed}");
    }
}
