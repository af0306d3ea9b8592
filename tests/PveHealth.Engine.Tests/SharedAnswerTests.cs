using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PveHealth.Checks;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// Issue 12, the benchmark's fault: every guest's ApiStatus and GuestAgent wait for the environment's one shared
/// <c>/cluster/resources</c> answer. When the API itself does not answer, those guest rows could not look (Unknown, the
/// same words for every guest) and the API's failure is the one Critical row (Quorum); one answer slower than the
/// timeout is asked once more, so the guests checked after it get the true verdict instead of the cached failure.
/// </summary>
public class SharedAnswerTests
{
    private const string Secret = "5ecret-shared-answer-token";

    private const string Resources = """
        {"data":[{"id":"qemu/101","type":"qemu","vmid":101,"node":"pve1","name":"vm-101","status":"running","template":0,"uptime":60},
                 {"id":"qemu/102","type":"qemu","vmid":102,"node":"pve1","name":"vm-102","status":"running","template":0,"uptime":60},
                 {"id":"qemu/103","type":"qemu","vmid":103,"node":"pve1","name":"vm-103","status":"running","template":0,"uptime":60},
                 {"id":"qemu/104","type":"qemu","vmid":104,"node":"pve1","name":"vm-104","status":"running","template":0,"uptime":60},
                 {"id":"qemu/105","type":"qemu","vmid":105,"node":"pve1","name":"vm-105","status":"running","template":0,"uptime":60}]}
        """;

    private const string Status = """{"data":[{"type":"cluster","name":"lab","quorate":1},{"type":"node","name":"pve1","online":1}]}""";

    private static (List<CheckResult> Results, TimeSpan Elapsed) Run(string url, string secretFile, int throttle, bool withAgent, bool withQuorum)
    {
        var options = new RunOptions { CheckTimeout = TimeSpan.FromSeconds(2), ThrottleLimit = throttle, RunTimeout = TimeSpan.FromSeconds(30) };
        using var env = new EnvironmentContext("lab", new EnvironmentConfig
        {
            Proxmox = new ProxmoxConfig { Url = url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = secretFile } },
        }, options);
        var checks = withAgent ? new[] { ApiStatusCheck.Name, GuestAgentCheck.Name } : new[] { ApiStatusCheck.Name };
        var units = new List<CheckUnit>();
        foreach (var id in Enumerable.Range(101, 5))
        {
            var guest = new Guest($"vm-{id}", GuestKind.Vm) { VmId = id, Node = "pve1", Environment = "lab", Address = "127.0.0.1" };
            foreach (var provider in CheckCatalog.GuestProviders.Where(p => p.Checks.Any(c => checks.Contains(c))))
            {
                units.Add(provider.Create(guest, env, checks, out _)!);
            }
        }
        if (withQuorum) units.Add(new ClusterQuorumCheck(env));
        var clock = Stopwatch.StartNew();
        var results = new CheckRunner(options).Run(units, CancellationToken.None).OfType<ResultEvent>().Select(e => e.Result).ToList();
        return (results, clock.Elapsed);
    }

    private static string SecretFile()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, Secret);
        return path;
    }

    /// <summary>Every guest's ApiStatus and GuestAgent (5 VMs) is Unknown with the same <paramref name="detail"/>.</summary>
    private static void AssertEveryGuestRowCouldNotLook(List<CheckResult> results, string detail)
    {
        var guestRows = results.Where(r => r.Check is ApiStatusCheck.Name or GuestAgentCheck.Name).ToList();
        Assert.Equal(10, guestRows.Count);
        Assert.All(guestRows, r => Assert.Equal((CheckStatus.Unknown, detail), (r.Status, r.Detail)));
    }

    [Fact]
    public void When_the_API_does_not_answer_every_guest_row_that_reads_its_answer_is_Unknown_in_the_same_words_and_Quorum_is_the_one_Critical()
    {
        // Reads every request and never answers it (within the test).
        using var server = HostileServer.Scripted(_ => (200, "OK", """{"data":[]}""", 60_000));
        var secretFile = SecretFile();
        try
        {
            var (results, elapsed) = Run(server.Url, secretFile, throttle: 64, withAgent: true, withQuorum: true);

            AssertEveryGuestRowCouldNotLook(results, $"could not look: Proxmox API: no answer from {server.Url} within 1.8 s (GET /cluster/resources?type=vm; client-side timeout)");
            var quorum = Assert.Single(results, r => r.Check == ClusterCheckProvider.QuorumCheck);
            Assert.Equal(CheckStatus.Critical, quorum.Status);
            Assert.Equal($"Proxmox API: no answer from {server.Url} within 1.8 s (GET /cluster/status; client-side timeout)", quorum.Detail);
            Assert.Single(results, r => r.Status == CheckStatus.Critical);

            // Each shared answer is asked at most twice in a run, each attempt bounded by the timeout (2 s); the runner
            // holds the units back for the first one at most a quarter of the timeout (0.5 s), then each unit waits its own.
            lock (server.Requests)
            {
                Assert.InRange(server.Requests.Count(r => r.Contains("/cluster/resources")), 1, 2);
                Assert.InRange(server.Requests.Count(r => r.Contains("/cluster/status")), 1, 2);
            }
            Assert.True(elapsed < TimeSpan.FromSeconds(4.5), $"the run took {elapsed.TotalSeconds:0.0} s at a 2 s timeout");
        }
        finally { File.Delete(secretFile); }
    }

    [Fact]
    public void When_the_API_refuses_connections_the_guest_rows_could_not_look_and_Quorum_is_Critical()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now: connection refused
        var url = $"http://127.0.0.1:{port}";
        var secretFile = SecretFile();
        try
        {
            var (results, _) = Run(url, secretFile, throttle: 64, withAgent: true, withQuorum: true);

            AssertEveryGuestRowCouldNotLook(results, $"could not look: Proxmox API: connection refused by {url} (pveproxy not running, or wrong port?)");
            var quorum = Assert.Single(results, r => r.Check == ClusterCheckProvider.QuorumCheck);
            Assert.Equal(CheckStatus.Critical, quorum.Status);
        }
        finally { File.Delete(secretFile); }
    }

    [Fact]
    public void A_shared_answer_slower_than_the_timeout_once_is_asked_again_and_the_guests_after_it_get_the_true_verdict()
    {
        var resourcesAsked = 0;
        using var server = HostileServer.Scripted(line =>
        {
            if (line.Contains("/cluster/resources"))
            {
                // The first answer comes after the 2 s timeout (the lab's flood of SSH handshakes), the next at once.
                return Interlocked.Increment(ref resourcesAsked) == 1 ? (200, "OK", Resources, 5_000) : (200, "OK", Resources, 0);
            }
            return line.Contains("/cluster/status") ? (200, "OK", Status, 0) : (501, "not implemented", """{"data":null}""", 0);
        });
        var secretFile = SecretFile();
        try
        {
            // One unit at a time: at most one guest can be waiting on the slow first attempt when it fails.
            var (results, _) = Run(server.Url, secretFile, throttle: 1, withAgent: false, withQuorum: false);

            Assert.Equal(5, results.Count);
            Assert.DoesNotContain(results, r => r.Status == CheckStatus.Critical);
            var ok = results.Where(r => r.Status == CheckStatus.Ok).ToList();
            Assert.All(ok, r => Assert.StartsWith("running on node pve1", r.Detail));
            // The guest that waited on the failed attempt could not look (or, started late enough, saw the second one).
            var other = results.Except(ok).ToList();
            Assert.True(other.Count <= 1, string.Join("; ", other.Select(r => $"{r.Component} {r.Status} {r.Detail}")));
            Assert.All(other, r =>
            {
                Assert.Equal(CheckStatus.Unknown, r.Status);
                Assert.Equal($"could not look: Proxmox API: no answer from {server.Url} within 1.8 s (GET /cluster/resources?type=vm; client-side timeout)", r.Detail);
            });
            lock (server.Requests) Assert.Equal(2, server.Requests.Count(r => r.Contains("/cluster/resources")));
        }
        finally { File.Delete(secretFile); }
    }

    [Fact]
    public void A_guest_unit_the_runner_cuts_off_while_the_shared_answer_has_not_come_gives_the_same_could_not_look_words()
    {
        // The runner's deadline can fire before the unit's own on a loaded machine (CheckUnit.CutOffVerdict): the verdict
        // must be the one the unit's own wait gives, not "timed out after 2 s" Critical.
        using var server = HostileServer.Scripted(_ => (200, "OK", """{"data":[]}""", 60_000));
        var secretFile = SecretFile();
        try
        {
            using var env = new EnvironmentContext("lab", new EnvironmentConfig
            {
                Proxmox = new ProxmoxConfig { Url = server.Url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = secretFile } },
            }, new RunOptions { CheckTimeout = TimeSpan.FromSeconds(2) });
            var guest = new Guest("vm-101", GuestKind.Vm) { VmId = 101, Node = "pve1", Environment = "lab" };
            var words = $"could not look: Proxmox API: no answer from {server.Url} within 1.8 s (GET /cluster/resources?type=vm; client-side timeout)";
            foreach (var check in new[] { ApiStatusCheck.Name, GuestAgentCheck.Name })
            {
                var unit = CheckCatalog.GuestProviders.Single(p => p.Checks.Contains(check)).Create(guest, env, [check], out _)!;
                unit.Prepare();
                Assert.Equal((CheckStatus.Unknown, words), unit.CutOffVerdict(check, TimeSpan.FromSeconds(2)));
            }
        }
        finally { File.Delete(secretFile); }
    }

    /// <summary>A unit that reports whether the shared <c>/cluster/resources</c> answer had come when it was admitted.</summary>
    private sealed class AnswerProbe(EnvironmentContext env) : CheckUnit("lab", "probe", "Probe", string.Empty, ["Probe"])
    {
        public override Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
        {
            var answered = ProxmoxShared.For(env)!.Resources.Answered;
            reporter.Report("Probe", answered ? CheckStatus.Ok : CheckStatus.Critical, answered ? "the answer had come" : "admitted before the answer");
            return Task.CompletedTask;
        }
    }

    [Fact]
    public void No_unit_is_admitted_before_the_shared_answer_has_come_within_the_timeout()
    {
        // The answer takes 300 ms: a unit listed first (a ping of the flood) is admitted only after it has come (the runner
        // waits up to a quarter of the 4 s timeout), so the one answer every guest waits for does not compete with the
        // run's own pings and handshakes.
        using var server = HostileServer.Scripted(line => line.Contains("/cluster/resources") ? (200, "OK", Resources, 300) : (200, "OK", Status, 0));
        var secretFile = SecretFile();
        try
        {
            var options = new RunOptions { CheckTimeout = TimeSpan.FromSeconds(4) };
            using var env = new EnvironmentContext("lab", new EnvironmentConfig
            {
                Proxmox = new ProxmoxConfig { Url = server.Url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = secretFile } },
            }, options);
            var guest = new Guest("vm-101", GuestKind.Vm) { VmId = 101, Node = "pve1", Environment = "lab" };
            var units = new List<CheckUnit> { new AnswerProbe(env), CheckCatalog.GuestProviders.Single(p => p.Checks.Contains(ApiStatusCheck.Name)).Create(guest, env, [ApiStatusCheck.Name], out _)! };
            var results = new CheckRunner(options).Run(units, CancellationToken.None).OfType<ResultEvent>().Select(e => e.Result).ToList();
            Assert.Equal((CheckStatus.Ok, "the answer had come"), results.Where(r => r.Check == "Probe").Select(r => (r.Status, r.Detail)).Single());
            Assert.Equal(CheckStatus.Ok, results.Single(r => r.Check == ApiStatusCheck.Name).Status);
            lock (server.Requests) Assert.Single(server.Requests, r => r.Contains("/cluster/resources"));
        }
        finally { File.Delete(secretFile); }
    }

    /// <summary>
    /// One fault, one form, per guest request: a guest agent ping the API never answers is the same could-not-look row for
    /// every guest, worded with the unit's nominal limit (the deadline rule at its start: 1.8 s at -TimeoutSec 2), not what
    /// was left when each unit's request went out (1.7 s, 1.6 s on a loaded checker).
    /// </summary>
    [Fact]
    public void A_guest_request_the_API_never_answers_is_worded_the_same_for_every_guest()
    {
        using var server = HostileServer.Scripted(line => line.Contains("/agent/ping") ? (200, "OK", """{"data":{}}""", 60_000)
            : line.Contains("/cluster/resources") ? (200, "OK", Resources, 0) : (200, "OK", Status, 0));
        var secretFile = SecretFile();
        try
        {
            var (results, _) = Run(server.Url, secretFile, throttle: 64, withAgent: true, withQuorum: false);
            var agent = results.Where(r => r.Check == GuestAgentCheck.Name).OrderBy(r => r.Component).ToList();
            Assert.Equal(5, agent.Count);
            Assert.All(agent, r => Assert.Equal(
                (CheckStatus.Unknown, $"could not look: Proxmox API: no answer from {server.Url} within 1.8 s (POST /nodes/pve1/qemu/{r.Component[3..]}/agent/ping; client-side timeout)"),
                (r.Status, r.Detail)));
        }
        finally { File.Delete(secretFile); }
    }
}
