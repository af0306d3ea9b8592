using System.Net;
using System.Net.Sockets;
using PveHealth.Checks;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class ProxmoxClientTests
{
    private const string Secret = "5ecret-7f3a9c0e-token-value";

    private static ProxmoxClient Client(string url, double timeoutSec = 5)
        => new(new Uri(url), "mon@pve!health", Secret, new ProxmoxTlsPolicy(), TimeSpan.FromSeconds(timeoutSec));

    [Fact]
    public async Task Sends_the_token_header_and_returns_data()
    {
        using var server = HostileServer.Scripted(_ => (200, "OK", """{"data":{"version":"8.3.2"}}""", 0));
        using var client = Client(server.Url);
        var data = await client.GetAsync("version", CancellationToken.None);
        Assert.Equal("8.3.2", data.GetProperty("version").GetString());
        Assert.Contains($"Authorization: PVEAPIToken=mon@pve!health={Secret}", server.Requests[0]);
        Assert.StartsWith("GET /api2/json/version HTTP/1.1", server.Requests[0]);
    }

    [Fact]
    public async Task Connections_are_reused_across_calls()
    {
        using var server = HostileServer.Scripted(_ => (200, "OK", """{"data":[]}""", 0));
        using var client = Client(server.Url);
        for (var i = 0; i < 5; i++) await client.GetAsync("cluster/resources?type=vm", CancellationToken.None);
        Assert.Equal(5, server.Requests.Count);
        Assert.Equal(5, client.RequestCount);
    }

    [Theory]
    [InlineData(401, "authentication failure", null, "authentication failed")]
    [InlineData(403, "Permission check failed (/vms/9901, VM.Audit)", """{"data":null,"message":"Permission check failed (/vms/9901, VM.Audit)\n"}""", "lacks VM.Audit on /vms/9901")]
    [InlineData(595, "No route to host", """{"data":null}""", "node pve2 unreachable")]
    [InlineData(500, "Internal Server Error", """{"data":null,"message":"QEMU guest agent is not running\n"}""", "guest agent is not running")]
    public async Task Error_answers_are_classified_and_never_hold_the_secret(int status, string reason, string? body, string wording)
    {
        using var server = HostileServer.Scripted(_ => (status, reason, body, 0));
        using var client = Client(server.Url);
        var ex = await Assert.ThrowsAsync<ProxmoxApiException>(() => client.PostAsync("nodes/pve2/qemu/102/agent/ping", CancellationToken.None));
        Assert.Contains(wording, ex.Message);
        Assert.DoesNotContain(Secret, ex.ToString());
        Assert.DoesNotContain(Secret, ex.Reason ?? string.Empty);
    }

    [Fact]
    public async Task A_silent_server_is_a_client_side_timeout_not_a_server_error()
    {
        using var server = HostileServer.Scripted(_ => (200, "OK", """{"data":[]}""", 30_000));
        using var client = Client(server.Url, timeoutSec: 0.5);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<ProxmoxApiException>(() => client.GetAsync("cluster/resources?type=vm", CancellationToken.None));
        Assert.Equal(ProxmoxFailure.Timeout, ex.Failure);
        Assert.Contains($"no answer from {server.Url} within 0.5 s", ex.Message);
        Assert.Null(ex.StatusCode);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Caller_cancellation_stays_a_cancellation()
    {
        using var server = HostileServer.Scripted(_ => (200, "OK", """{"data":[]}""", 30_000));
        using var client = Client(server.Url, timeoutSec: 20);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("version", cts.Token));
    }

    [Fact]
    public async Task A_closed_port_is_connection_refused()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        using var client = Client($"http://127.0.0.1:{port}");
        var ex = await Assert.ThrowsAsync<ProxmoxApiException>(() => client.GetAsync("version", CancellationToken.None));
        Assert.Equal(ProxmoxFailure.ConnectionRefused, ex.Failure);
        Assert.Contains("connection refused", ex.Message);
    }

    [Fact]
    public void A_missing_secret_file_is_a_setup_error_naming_the_file()
    {
        var ex = Assert.Throws<ProxmoxApiException>(() => ProxmoxClient.Create(new ProxmoxConfig
        {
            Url = "https://127.0.0.1:8006", TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = "/nonexistent/pve-token" },
        }, TimeSpan.FromSeconds(1)));
        Assert.Equal(ProxmoxFailure.Setup, ex.Failure);
        Assert.Contains("/nonexistent/pve-token", ex.Message);
        Assert.True(ex.IsCheckerTrouble);
    }

    [Fact]
    public async Task ApiStatus_for_many_guests_makes_one_resources_request()
    {
        var resources = """
            {"data":[{"id":"qemu/101","type":"qemu","vmid":101,"node":"pve1","name":"web-01","status":"running","template":0,"uptime":7200},
                     {"id":"qemu/103","type":"qemu","vmid":103,"node":"pve1","name":"db-01","status":"stopped","template":0},
                     {"id":"lxc/104","type":"lxc","vmid":104,"node":"pve2","name":"app-01","status":"unknown","template":0}]}
            """;
        var status = """{"data":[{"type":"cluster","name":"lab","quorate":1},{"type":"node","name":"pve1","online":1},{"type":"node","name":"pve2","online":0}]}""";
        using var server = HostileServer.Scripted(line => line.Contains("/cluster/resources") ? (200, "OK", resources, 50)
            : line.Contains("/cluster/status") ? (200, "OK", status, 0) : (501, "not implemented", """{"data":null}""", 0));
        var secretFile = Path.GetTempFileName();
        File.WriteAllText(secretFile, Secret + "\n");
        try
        {
            var env = new EnvironmentContext("lab", new EnvironmentConfig
            {
                Proxmox = new ProxmoxConfig { Url = server.Url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = secretFile } },
            }, new RunOptions { CheckTimeout = TimeSpan.FromSeconds(5) });
            var guests = new[]
            {
                new Guest("web-01", GuestKind.Vm) { VmId = 101, Environment = "lab" },
                new Guest("db-01", GuestKind.Vm) { Environment = "lab" },
                new Guest("app-01", GuestKind.Lxc) { VmId = 104, Environment = "lab" },
                new Guest("gone-01", GuestKind.Vm) { VmId = 199, Environment = "lab" },
            };
            var provider = CheckCatalog.GuestProviders.Single(p => p.Checks.Contains(ApiStatusCheck.Name));
            var units = guests.Select(g => provider.Create(g, env, [ApiStatusCheck.Name], out _)!).ToList();
            var results = new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromSeconds(5) }).Run(units, CancellationToken.None)
                .OfType<ResultEvent>().Select(e => e.Result).ToDictionary(r => r.Component);
            Assert.Equal(1, server.Requests.Count(r => r.Contains("/cluster/resources")));
            Assert.Equal(CheckStatus.Ok, results["web-01"].Status);
            Assert.Contains("up 2 h 0 min", results["web-01"].Detail);
            Assert.Equal(CheckStatus.Critical, results["db-01"].Status);
            Assert.Equal("stopped according to the Proxmox API (node pve1)", results["db-01"].Detail);
            Assert.Equal(CheckStatus.Critical, results["app-01"].Status);
            Assert.Contains("node pve2 is offline", results["app-01"].Detail);
            Assert.Equal(CheckStatus.Critical, results["gone-01"].Status);
            Assert.Contains("not in /cluster/resources", results["gone-01"].Detail);
            Assert.All(results.Values, r => Assert.DoesNotContain(Secret, r.Detail));
        }
        finally { File.Delete(secretFile); }
    }

    [Fact]
    public async Task Inventory_from_the_api_leaves_templates_out_and_reads_addresses()
    {
        using var server = HostileServer.Scripted(line => line switch
        {
            _ when line.Contains("/cluster/resources") => (200, "OK", """
                {"data":[{"id":"qemu/101","type":"qemu","vmid":101,"node":"pve1","name":"web-01","status":"running","template":0,"tags":"web;prod","pool":"prod"},
                         {"id":"lxc/104","type":"lxc","vmid":104,"node":"pve2","name":"app-01","status":"running","template":0,"pool":"prod"},
                         {"id":"lxc/105","type":"lxc","vmid":105,"node":"pve2","name":"off-01","status":"stopped","template":0,"pool":"prod"},
                         {"id":"qemu/9000","type":"qemu","vmid":9000,"node":"pve1","name":"tmpl","status":"stopped","template":1,"pool":"prod"},
                         {"id":"qemu/300","type":"qemu","vmid":300,"node":"pve1","name":"other","status":"running","template":0,"pool":"dev"}]}
                """, 0),
            _ when line.Contains("/qemu/101/agent/network-get-interfaces") => (200, "OK", """{"data":{"result":[{"name":"lo","ip-addresses":[{"ip-address":"127.0.0.1","ip-address-type":"ipv4"}]},{"name":"eth0","ip-addresses":[{"ip-address":"192.0.2.1","ip-address-type":"ipv4","prefix":24}]}]}}""", 0),
            _ when line.Contains("/lxc/104/interfaces") => (200, "OK", """{"data":[{"name":"lo","inet":"127.0.0.1/8"},{"name":"eth0","inet":"192.0.2.4/24"}]}""", 0),
            _ => (500, "unexpected", """{"data":null}""", 0),
        });
        var secretFile = Path.GetTempFileName();
        File.WriteAllText(secretFile, Secret);
        try
        {
            var source = new ProxmoxInventorySource("prod",
                new ProxmoxConfig { Url = server.Url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = secretFile } },
                new InventoryConfig { Source = "proxmox", Pool = "prod" }, TimeSpan.FromSeconds(5));
            var guests = await source.GetGuestsAsync(CancellationToken.None);
            Assert.Equal(["web-01", "app-01", "off-01"], guests.Select(g => g.Name));
            Assert.Equal("192.0.2.1", guests[0].Address);
            Assert.Equal(["web", "prod"], guests[0].Tags);
            Assert.Equal(GuestKind.Lxc, guests[1].Kind);
            Assert.Equal("192.0.2.4", guests[1].Address);
            Assert.Null(guests[2].Address);
            Assert.All(guests, g => Assert.Equal("prod", g.Environment));
            Assert.DoesNotContain(server.Requests, r => r.Contains("/lxc/105/"));
        }
        finally { File.Delete(secretFile); }
    }
}
