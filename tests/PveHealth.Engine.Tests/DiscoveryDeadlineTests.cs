using System.Diagnostics;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Model;
using PveHealth.Planning;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// Issue 12 item 4: discovery from the Proxmox API is part of the run. Each of its requests is bounded by the check
/// timeout (-TimeoutSec), a hanging API costs the run one timeout (not discovery's own 10 s and then the checks'), and a
/// rejected token is paid for once: the server is asked once, whatever the number of checks after discovery.
/// </summary>
public class DiscoveryDeadlineTests
{
    private const string Secret = "5ecret-discovery-deadline-token";

    private static async Task<(List<CheckResult> Results, TimeSpan Elapsed)> RunAsync(string url, double timeoutSec, string secretFile)
    {
        var json = "{\"environments\": {\"prod\": {"
            + "\"inventory\": {\"source\": \"proxmox\"},"
            + "\"proxmox\": {\"url\": \"" + url + "\", \"tokenId\": \"mon@pve!health\", \"tokenSecret\": {\"file\": \"" + secretFile + "\"}}}}}";
        var config = ConfigLoader.Parse(json, "/etc/pve-health/config.json", out _);
        var clock = Stopwatch.StartNew();
        // As Invoke-PveHealthCheck does: the options (and so the run deadline) are made before the inventory is read.
        var options = RunPolicy.Options(config, new RunParameters { TimeoutSec = timeoutSec });
        var planner = new HealthPlanner(config, InventorySourceFactory.ForRun);
        using var plan = await planner.BuildAsync(new PlanRequest { All = true, Options = options, TimeoutFromParameter = true }, CancellationToken.None);
        var results = plan.Decided.ToList();
        results.AddRange(new CheckRunner(options).Run(plan.Units, CancellationToken.None).OfType<ResultEvent>().Select(e => e.Result));
        return (results, clock.Elapsed);
    }

    private static string SecretFile()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, Secret);
        return path;
    }

    [Fact]
    public async Task A_hanging_API_costs_the_run_one_timeout_and_every_result_says_it_did_not_answer()
    {
        // Accepts, reads the request, never answers.
        using var server = new HostileServer(async (_, _, ct) => await Task.Delay(Timeout.Infinite, ct));
        var secretFile = SecretFile();
        try
        {
            var (results, elapsed) = await RunAsync(server.Url, 3, secretFile);

            var inventory = Assert.Single(results, r => r.Check == HealthPlanner.InventoryCheck);
            Assert.Equal(CheckStatus.Unknown, inventory.Status);
            Assert.Equal($"proxmox:{server.Url}: cannot list guests: no answer from {server.Url} within 2.8 s (GET /cluster/resources?type=vm; client-side timeout)", inventory.Detail);
            // The checks after discovery are told at once, in the words of the request that was not answered.
            var quorum = Assert.Single(results, r => r.Check == "Quorum");
            Assert.Equal(CheckStatus.Critical, quorum.Status);
            Assert.Contains($"no answer from {server.Url} within 2.8 s (GET /cluster/resources?type=vm; client-side timeout) while the inventory was read; not asked again in this run", quorum.Detail);
            Assert.DoesNotContain(results, r => r.Status == CheckStatus.Ok);

            // One timeout for discovery and the checks together (before the fix: discovery's own 10 s, then the checks' 3 s).
            Assert.True(elapsed < TimeSpan.FromSeconds(5.5), $"the run took {elapsed.TotalSeconds:0.0} s at -TimeoutSec 3");
            lock (server.Requests) Assert.Single(server.Requests);
        }
        finally { File.Delete(secretFile); }
    }

    [Fact]
    public async Task A_rejected_token_is_asked_once_per_run_and_every_result_gives_the_same_answer()
    {
        // Proxmox answers a wrong token with 401 after a deliberate delay (about 3 s; 1 s here).
        using var server = HostileServer.Scripted(_ => (401, "authentication failure", null, 1000));
        var secretFile = SecretFile();
        try
        {
            var (results, _) = await RunAsync(server.Url, 5, secretFile);

            var inventory = Assert.Single(results, r => r.Check == HealthPlanner.InventoryCheck);
            Assert.Equal(CheckStatus.Unknown, inventory.Status);
            var answer = $"authentication failed: {server.Url} rejected API token mon@pve!health (401 authentication failure); check the token id, its secret and that the token exists and has not expired";
            Assert.Equal($"proxmox:{server.Url}: cannot list guests: {answer}", inventory.Detail);
            var quorum = Assert.Single(results, r => r.Check == "Quorum");
            Assert.Equal(CheckStatus.Unknown, quorum.Status);
            Assert.Contains(answer, quorum.Detail);
            Assert.DoesNotContain(results, r => r.Status == CheckStatus.Ok);
            Assert.DoesNotContain(results, r => r.Detail.Contains(Secret, StringComparison.Ordinal));
            // The delay is paid once: one request reached the server in the whole run.
            lock (server.Requests) Assert.Single(server.Requests);
        }
        finally { File.Delete(secretFile); }
    }

    [Fact]
    public async Task Discovery_counts_against_the_run_deadline()
    {
        using var server = new HostileServer(async (_, _, ct) => await Task.Delay(Timeout.Infinite, ct));
        var secretFile = SecretFile();
        try
        {
            var json = "{\"defaults\": {\"runTimeoutSec\": 1}, \"environments\": {\"prod\": {"
                + "\"inventory\": {\"source\": \"proxmox\"},"
                + "\"proxmox\": {\"url\": \"" + server.Url + "\", \"tokenId\": \"mon@pve!health\", \"tokenSecret\": {\"file\": \"" + secretFile + "\"}}}}}";
            var config = ConfigLoader.Parse(json, "/etc/pve-health/config.json", out _);
            // -TimeoutSec 4 is longer than the run deadline (runTimeoutSec is never shorter than one check timeout: 4 s).
            var options = RunPolicy.Options(config, new RunParameters { TimeoutSec = 4 }) with { RunTimeout = TimeSpan.FromSeconds(1) };
            var planner = new HealthPlanner(config, InventorySourceFactory.ForRun);
            using var plan = await planner.BuildAsync(new PlanRequest { All = true, Options = options, TimeoutFromParameter = true }, CancellationToken.None);
            var inventory = Assert.Single(plan.Decided, r => r.Check == HealthPlanner.InventoryCheck);
            Assert.Equal(CheckStatus.Unknown, inventory.Status);
            Assert.Equal($"proxmox:{server.Url}: stopped: the run deadline of 1 s was reached while reading the inventory", inventory.Detail);
            // The checks after it have nothing of the run left: none answers Ok, and they say the run deadline was reached.
            var results = new CheckRunner(options).Run(plan.Units, CancellationToken.None).OfType<ResultEvent>().Select(e => e.Result).ToList();
            Assert.NotEmpty(results);
            Assert.DoesNotContain(results, r => r.Status == CheckStatus.Ok);
            Assert.Contains(results, r => r.Status == CheckStatus.Unknown && r.Detail.Contains("the run deadline of 1 s was reached", StringComparison.Ordinal));
        }
        finally { File.Delete(secretFile); }
    }
}
