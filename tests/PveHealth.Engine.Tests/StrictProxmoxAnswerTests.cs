using System.Text.Json;
using PveHealth.Checks;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>Answers of the wrong shape never become Ok: the checks report Unknown "unexpected answer from …".</summary>
public class StrictProxmoxAnswerTests
{
    private const string Secret = "5trict-5ecret-token-value";

    private static async Task<List<CheckResult>> RunClusterAndAgent(string statusBody, string pingBody)
    {
        var resources = """{"data":[{"id":"qemu/101","type":"qemu","vmid":101,"node":"pve1","name":"web-01","status":"running","template":0}]}""";
        using var server = new HostileServer((request, s, ct) =>
            request.Contains("/cluster/status") ? HostileServer.Json(200, statusBody)(request, s, ct)
            : request.Contains("/cluster/resources") ? HostileServer.Json(200, resources)(request, s, ct)
            : request.Contains("/agent/ping") ? HostileServer.Json(200, pingBody)(request, s, ct)
            : HostileServer.Json(501, """{"data":null}""")(request, s, ct));
        var secretFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(secretFile, Secret);
        try
        {
            var env = new EnvironmentContext("lab", new EnvironmentConfig
            {
                Proxmox = new ProxmoxConfig { Url = server.Url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = secretFile } },
            }, new RunOptions { CheckTimeout = TimeSpan.FromSeconds(5) });
            var units = new List<CheckUnit> { new ClusterQuorumCheck(env), new ClusterNodesCheck(env) };
            var agent = CheckCatalog.GuestProviders.Single(p => p.Checks.Contains(GuestAgentCheck.Name));
            units.Add(agent.Create(new Guest("web-01", GuestKind.Vm) { VmId = 101, Environment = "lab" }, env, [GuestAgentCheck.Name], out _)!);
            return new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromSeconds(5) }).Run(units, CancellationToken.None)
                .OfType<ResultEvent>().Select(e => e.Result).ToList();
        }
        finally { File.Delete(secretFile); }
    }

    private const string GoodStatus = """{"data":[{"type":"cluster","name":"lab","quorate":1},{"type":"node","name":"pve1","online":1}]}""";
    private const string GoodPing = """{"data":{"result":{}}}""";

    [Fact]
    public async Task The_good_answers_are_Ok()
    {
        var results = await RunClusterAndAgent(GoodStatus, GoodPing);
        Assert.Equal(CheckStatus.Ok, results.Single(r => r.Check == "Quorum").Status);
        Assert.Equal(CheckStatus.Ok, results.Single(r => r.Check == "Node").Status);
        Assert.Equal(CheckStatus.Ok, results.Single(r => r.Check == GuestAgentCheck.Name).Status);
    }

    [Theory]
    [InlineData("""{"data":5}""", "expected a list")]
    [InlineData("""{"data":null}""", "expected a list")]
    [InlineData("""{"data":[5]}""", "data[0] to be an object")]
    [InlineData("""{"data":[]}""", "at least one node entry")]
    [InlineData("""{"data":[{"type":"cluster","name":"lab","quorate":"yes"},{"type":"node","name":"pve1","online":1}]}""", "data[0].quorate to be 0 or 1")]
    [InlineData("""{"data":[{"type":"node","name":"pve1","online":"up"}]}""", "data[0].online to be 0 or 1")]
    [InlineData("""{"data":[{"type":"node","name":5,"online":1}]}""", "data[0].name to be a node name")]
    [InlineData("""{"data":[{"type":7,"name":"pve1","online":1}]}""", "data[0].type to be a string")]
    public async Task Cluster_status_of_the_wrong_shape_is_Unknown_never_Ok(string body, string expected)
    {
        var results = await RunClusterAndAgent(body, GoodPing);
        var quorum = results.Single(r => r.Check == "Quorum");
        Assert.Equal(CheckStatus.Unknown, quorum.Status);
        Assert.Contains("unexpected answer from /cluster/status", quorum.Detail);
        Assert.Contains(expected, quorum.Detail);
        Assert.DoesNotContain(results, r => r.Check == "Node" && r.Status == CheckStatus.Ok);
    }

    [Theory]
    [InlineData("""{"data":{"result":5}}""")]
    [InlineData("""{"data":{"result":null}}""")]
    [InlineData("""{"data":5}""")]
    [InlineData("""{"data":null}""")]
    [InlineData("""{"data":{}}""")]
    public async Task An_agent_answer_of_the_wrong_shape_is_Unknown_never_Ok(string body)
    {
        var results = await RunClusterAndAgent(GoodStatus, body);
        var agent = results.Single(r => r.Check == GuestAgentCheck.Name);
        Assert.Equal(CheckStatus.Unknown, agent.Status);
        Assert.Contains("unexpected answer from agent/ping", agent.Detail);
    }

    [Fact]
    public void Resources_of_the_wrong_shape_are_refused()
    {
        using var five = JsonDocument.Parse("5");
        var ex = Assert.Throws<ProxmoxApiException>(() => ProxmoxParsers.ParseResources(five.RootElement));
        Assert.Contains("unexpected answer from /cluster/resources", ex.Message);
        using var wrongStatus = JsonDocument.Parse("""[{"id":"qemu/1","type":"qemu","vmid":1,"status":1}]""");
        Assert.Throws<ProxmoxApiException>(() => ProxmoxParsers.ParseResources(wrongStatus.RootElement));
    }
}
