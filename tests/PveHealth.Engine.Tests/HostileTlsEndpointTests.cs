using System.Diagnostics;
using PveHealth.Checks;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// Wrongly-certified Proxmox endpoints with verification on (self-signed without a CA file, a name the certificate does
/// not hold, expired under a trusted CA): never Ok, a detail naming the TLS problem, within -TimeoutSec + 1 s.
/// </summary>
public sealed class HostileTlsEndpointTests
{
    private const string Body = """{"data":[{"type":"cluster","name":"lab","quorate":1},{"type":"node","name":"pve1","online":1}]}""";

    /// <summary>A certificate out of its validity period under the configured CA says so, with the date (not "not signed by the CA").</summary>
    [Theory]
    [InlineData(-2, -60, "it expired on {0:yyyy-MM-dd HH:mm:ss} UTC")]
    [InlineData(30, 2, "it is not valid before {1:yyyy-MM-dd HH:mm:ss} UTC")]
    public void A_certificate_outside_its_validity_under_the_CA_names_the_date(int lifeDays, int validFromDays, string wording)
    {
        using var server = new LoopbackTlsServer(TimeSpan.FromDays(lifeDays), Body, TimeSpan.FromDays(validFromDays));
        var quorum = RunQuorum(server.Url.TrimEnd('/'), server.CaFile);
        Assert.Equal(CheckStatus.Critical, quorum.Status);
        var expected = string.Format(System.Globalization.CultureInfo.InvariantCulture, wording, server.NotAfter.UtcDateTime, server.NotBefore.UtcDateTime);
        Assert.StartsWith($"Proxmox API: TLS failure: the certificate of {server.Url.TrimEnd('/')} is not trusted ({expected}; SHA-256 fingerprint {server.Fingerprint})", quorum.Detail);
        Assert.DoesNotContain("not signed by the CA", quorum.Detail);
    }

    private static CheckResult RunQuorum(string url, string? caFile)
    {
        var secret = Path.GetTempFileName();
        File.WriteAllText(secret, "s3cret-token\n");
        try
        {
            using var env = new EnvironmentContext("lab", new EnvironmentConfig
            {
                Proxmox = new ProxmoxConfig { Url = url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = secret }, CaFile = caFile },
            }, new RunOptions { CheckTimeout = TimeSpan.FromSeconds(3) });
            return new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromSeconds(3) }).Run([new ClusterQuorumCheck(env)], CancellationToken.None)
                .OfType<ResultEvent>().Select(e => e.Result).Single(r => r.Check == ClusterCheckProvider.QuorumCheck);
        }
        finally { File.Delete(secret); }
    }

    [Theory]
    [InlineData("self-signed", 30, false, "127.0.0.1")]
    [InlineData("wrong-name", 30, true, "localhost")]
    [InlineData("expired", -2, true, "127.0.0.1")]
    public void A_wrongly_certified_API_is_never_Ok_and_names_the_certificate_within_the_timeout(string kind, int lifeDays, bool withCa, string host)
    {
        using var server = new LoopbackTlsServer(TimeSpan.FromDays(lifeDays), Body);
        var secret = Path.GetTempFileName();
        File.WriteAllText(secret, "s3cret-token\n");
        try
        {
            var url = server.Url.TrimEnd('/').Replace("127.0.0.1", host);
            using var env = new EnvironmentContext("lab", new EnvironmentConfig
            {
                Proxmox = new ProxmoxConfig { Url = url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = secret }, CaFile = withCa ? server.CaFile : null },
            }, new RunOptions { CheckTimeout = TimeSpan.FromSeconds(3) });
            var watch = Stopwatch.StartNew();
            var results = new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromSeconds(3) }).Run([new ClusterQuorumCheck(env)], CancellationToken.None)
                .OfType<ResultEvent>().Select(e => e.Result).ToList();
            watch.Stop();
            var quorum = results.Single(r => r.Check == ClusterCheckProvider.QuorumCheck);
            Assert.True(quorum.Status == CheckStatus.Critical, $"{kind}: {quorum.Status} {quorum.Detail}");
            Assert.StartsWith($"Proxmox API: TLS failure: the certificate of {url} is not trusted (", quorum.Detail);
            Assert.DoesNotContain("s3cret-token", quorum.Detail);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"{kind}: {watch.Elapsed.TotalSeconds:0.0} s");
        }
        finally { File.Delete(secret); }
    }
}
