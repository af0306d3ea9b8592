using System.Diagnostics;
using PveHealth.Checks;
using PveHealth.Checks.Minio;
using PveHealth.Checks.Monitoring;
using PveHealth.Clients;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// Slow and redirecting endpoints, for every HTTP client the module has (the Proxmox API client; the endpoint client of
/// Prometheus, Grafana, Alertmanager and MinIO health; the S3 client of the MinIO checks and the minio-state inventory):
/// a redirect is never followed (its target, a second loopback listener, sees no connection) and is a non-Ok result
/// naming the redirect; an answer sent one byte a second ends at the deadline as a timeout, never Ok.
/// </summary>
public sealed class HostileEndpointTests : IDisposable
{
    private const string Secret = "h0stile-endpoint-s3cret";
    private readonly string _secretFile = Path.GetTempFileName();

    public HostileEndpointTests() => File.WriteAllText(_secretFile, Secret + "\n");

    public void Dispose() => File.Delete(_secretFile);

    /// <summary>What one client made of an endpoint: the results (or the inventory error) and the wall time.</summary>
    private sealed record Outcome(IReadOnlyList<(CheckStatus Status, string Detail)> Results, TimeSpan Elapsed);

    public static TheoryData<string> ClientKinds => ["proxmox", "prometheus", "grafana", "alertmanager", "minio-health", "minio-s3", "minio-state-inventory"];

    private Outcome Run(string kind, string url, int timeoutSec)
    {
        var options = new RunOptions { CheckTimeout = TimeSpan.FromSeconds(timeoutSec) };
        var watch = Stopwatch.StartNew();
        if (kind == "minio-state-inventory")
        {
            var source = new MinioStateSource("lab", Minio(url), new InventoryConfig { Source = "minio-state", StateObject = "tfstate/prod.tfstate", TimeoutSec = timeoutSec });
            try
            {
                var guests = source.GetGuestsAsync(CancellationToken.None).GetAwaiter().GetResult();
                return new([(CheckStatus.Ok, $"{guests.Count} guests")], watch.Elapsed);
            }
            catch (InventoryException ex)
            {
                return new([(CheckStatus.Unknown, ex.Message)], watch.Elapsed);
            }
        }
        using var env = new EnvironmentContext("lab", new EnvironmentConfig
        {
            Proxmox = new ProxmoxConfig { Url = url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = _secretFile } },
        }, options);
        using var http = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri(url), BearerToken = Secret });
        using var s3 = kind == "minio-s3" ? new MinioStorageClient(MinioSettings.FromConfig(Minio(url), "minio")) : null;
        CheckUnit unit = kind switch
        {
            "proxmox" => new ClusterQuorumCheck(env),
            "prometheus" => new PrometheusCheck("lab", url, () => http),
            "grafana" => new GrafanaCheck("lab", url, () => http),
            "alertmanager" => new AlertmanagerCheck("lab", url, () => http),
            "minio-health" => new MinioHealthCheck("lab", url, () => http),
            "minio-s3" => new MinioStorageCheck("lab", url, () => s3!, MinioCheckOptions.FromConfig(Minio(url))),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var results = new CheckRunner(options).Run([unit], CancellationToken.None).OfType<ResultEvent>()
            .Select(e => (e.Result.Status, e.Result.Detail)).ToList();
        return new(results, watch.Elapsed);
    }

    private MinioConfig Minio(string url) => new()
    {
        Endpoint = url,
        AccessKey = new SecretReference { File = _secretFile },
        SecretKey = new SecretReference { File = _secretFile },
        StateObjects = ["tfstate/prod.tfstate"],
    };

    /// <summary>The results that say something (Skipped "not checked: …" follow-ups of a first failure are fine).</summary>
    private static List<(CheckStatus Status, string Detail)> Findings(Outcome outcome)
        => outcome.Results.Where(r => r.Status != CheckStatus.Skipped).ToList();

    [Theory]
    [MemberData(nameof(ClientKinds))]
    public void A_redirect_to_another_listener_is_never_followed_and_is_a_finding_naming_it(string kind)
    {
        foreach (var status in new[] { 301, 302, 307 })
        {
            using var target = new HostileServer(HostileServer.Json(200, "{}"));
            var location = status == 302 ? $"http://localhost:{target.Port}/elsewhere" : $"{target.Url}/elsewhere";
            using var server = new HostileServer(HostileServer.Redirect(status, location));
            var outcome = Run(kind, server.Url, timeoutSec: 5);
            Assert.Equal(0, target.Connections);
            var findings = Findings(outcome);
            Assert.NotEmpty(findings);
            Assert.All(findings, r =>
            {
                Assert.True(r.Status is CheckStatus.Critical or CheckStatus.Unknown, $"{kind} {status}: {r.Status} {r.Detail}");
                Assert.Contains($"redirect ({status}) to {location}, not followed", r.Detail);
                Assert.DoesNotContain(Secret, r.Detail);
            });
        }
    }

    [Theory]
    [MemberData(nameof(ClientKinds))]
    public void A_redirect_to_a_non_loopback_address_is_never_followed(string kind)
    {
        // Guard first: the same client does not follow a redirect to a loopback listener, so the non-loopback
        // address below is only ever named, never contacted (the network rule: loopback only).
        using var target = new HostileServer(HostileServer.Json(200, "{}"));
        using (var probe = new HostileServer(HostileServer.Redirect(302, $"{target.Url}/guard")))
        {
            Run(kind, probe.Url, timeoutSec: 5);
        }
        Assert.Equal(0, target.Connections);

        const string location = "http://169.254.169.254/latest/meta-data/";
        using var server = new HostileServer(HostileServer.Redirect(307, location));
        var findings = Findings(Run(kind, server.Url, timeoutSec: 5));
        Assert.NotEmpty(findings);
        Assert.All(findings, r =>
        {
            Assert.True(r.Status is CheckStatus.Critical or CheckStatus.Unknown, $"{kind}: {r.Status} {r.Detail}");
            Assert.Contains("redirect (307) to http://169.254.169.254:80/latest/meta-data/, not followed", r.Detail);
        });
    }

    [Theory]
    [MemberData(nameof(ClientKinds))]
    public void An_answer_of_one_byte_a_second_ends_at_the_deadline_as_a_timeout(string kind)
    {
        foreach (var inHeaders in new[] { true, false })
        {
            using var server = new HostileServer(HostileServer.OneByteASecond(inHeaders));
            var outcome = Run(kind, server.Url, timeoutSec: 2);
            var findings = Findings(outcome);
            Assert.NotEmpty(findings);
            Assert.All(findings, r =>
            {
                Assert.True(r.Status is CheckStatus.Critical or CheckStatus.Unknown, $"{kind} headers={inHeaders}: {r.Status} {r.Detail}");
                Assert.Matches(@"no answer from \S+ within [0-9.]+ s", r.Detail);
            });
            Assert.True(outcome.Elapsed < TimeSpan.FromSeconds(3), $"{kind} headers={inHeaders}: {outcome.Elapsed.TotalSeconds:0.0} s");
        }
    }
}
