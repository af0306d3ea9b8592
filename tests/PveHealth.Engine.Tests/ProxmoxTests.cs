using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using PveHealth.Checks;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class ProxmoxParserTests
{
    private static JsonElement Data(string json) => JsonDocument.Parse(json).RootElement.GetProperty("data").Clone();

    [Fact]
    public void Resources_read_real_shapes_with_0_1_booleans_tags_missing_names_and_unknown_status()
    {
        var rows = ProxmoxParsers.ParseResources(Data("""
            {"data":[
              {"id":"qemu/101","type":"qemu","vmid":101,"node":"pve1","name":"web-01","status":"running","template":0,"tags":"web;prod","uptime":3600,"cpu":0.02,"maxmem":2147483648},
              {"id":"lxc/104","type":"lxc","vmid":"104","node":"pve2","status":"unknown","template":0},
              {"id":"qemu/9000","type":"qemu","vmid":9000,"node":"pve1","name":"tmpl","status":"stopped","template":1},
              {"id":"node/pve1","type":"node","node":"pve1","status":"online"},
              {"id":"storage/pve1/local","type":"storage","node":"pve1"}
            ]}
            """));
        Assert.Equal(3, rows.Count);
        var web = rows[0];
        Assert.Equal((101, "qemu", "pve1", "web-01", "running", false), (web.VmId, web.Type, web.Node, web.Name, web.Status, web.Template));
        Assert.Equal(["web", "prod"], web.Tags);
        Assert.Equal(3600, web.Uptime);
        var ct = rows[1];
        Assert.Equal(104, ct.VmId);
        Assert.True(ct.IsLxc);
        Assert.Equal(string.Empty, ct.Name);
        Assert.Equal("unknown", ct.Status);
        Assert.Empty(ct.Tags);
        Assert.True(rows[2].Template);
    }

    [Fact]
    public void Cluster_status_reads_quorum_and_nodes()
    {
        var s = ProxmoxParsers.ParseClusterStatus(Data("""
            {"data":[{"type":"cluster","id":"cluster","name":"lab","nodes":2,"quorate":1,"version":3},
                     {"type":"node","id":"node/pve1","name":"pve1","nodeid":1,"ip":"10.0.0.1","local":1,"online":1},
                     {"type":"node","id":"node/pve2","name":"pve2","nodeid":2,"ip":"10.0.0.2","local":0,"online":0}]}
            """));
        Assert.Equal("lab", s.Name);
        Assert.True(s.Quorate);
        Assert.True(s.Node("pve1")!.Online);
        Assert.False(s.Node("pve2")!.Online);
        var standalone = ProxmoxParsers.ParseClusterStatus(Data("""{"data":[{"type":"node","name":"pve","online":1}]}"""));
        Assert.Null(standalone.Quorate);
    }

    [Fact]
    public void Agent_interfaces_skip_loopback_and_link_local_and_accept_both_type_spellings()
    {
        var list = ProxmoxParsers.ParseAgentInterfaces(Data("""
            {"data":{"result":[
              {"name":"lo","ip-addresses":[{"ip-address":"127.0.0.1","ip-address-type":"ipv4","prefix":8},{"ip-address":"::1","ip-address-type":"ipv6","prefix":128}]},
              {"name":"eth0","ip-addresses":[{"ip-address":"fe80::1","ip-address-type":"ipv6","prefix":64},{"ip-address":"2001:db8::5","ip-address-type":"inet6","prefix":64},{"ip-address":"192.0.2.10","ip-address-type":"inet","prefix":24}]}]}}
            """));
        Assert.Equal(5, list.Count);
        Assert.Equal("192.0.2.10", ProxmoxParsers.PickAddress(list)!.ToString());
        Assert.Equal("2001:db8::5", ProxmoxParsers.PickAddress(list, "ipv6")!.ToString());
        Assert.Null(ProxmoxParsers.PickAddress(list, "ipv4", "10.0.0.0/8"));
        Assert.Equal("192.0.2.10", ProxmoxParsers.PickAddress(list, "any", "192.0.2.0/24")!.ToString());
    }

    [Fact]
    public void Lxc_interfaces_read_inet_with_prefix_new_style_lists_and_data_null()
    {
        var old = ProxmoxParsers.ParseLxcInterfaces(Data("""
            {"data":[{"name":"lo","inet":"127.0.0.1/8","inet6":"::1/128"},{"name":"eth0","hwaddr":"bc:24:11:00:00:68","inet":"192.0.2.4/24","inet6":"fe80::1/64"}]}
            """));
        Assert.Equal("192.0.2.4", ProxmoxParsers.PickAddress(old)!.ToString());
        Assert.Equal(24, old.First(a => a.Address.ToString() == "192.0.2.4").Prefix);
        var newer = ProxmoxParsers.ParseLxcInterfaces(Data("""
            {"data":[{"name":"eth0","ip-addresses":[{"ip-address":"198.51.100.7","ip-address-type":"inet","prefix":24}]}]}
            """));
        Assert.Equal("198.51.100.7", ProxmoxParsers.PickAddress(newer)!.ToString());
        Assert.Empty(ProxmoxParsers.ParseLxcInterfaces(Data("""{"data":null}""")));
        Assert.Null(ProxmoxParsers.PickAddress(ProxmoxParsers.ParseLxcInterfaces(Data("""{"data":null}"""))));
    }

    [Theory]
    [InlineData("AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89", true)]
    [InlineData("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", true)]
    [InlineData("AB:CD", false)]
    [InlineData("zz:cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", false)]
    public void Fingerprints_accept_hex_with_or_without_colons(string text, bool valid)
        => Assert.Equal(valid, ProxmoxClient.ParseFingerprint(text) is not null);
}

public class ProxmoxConfigTests
{
    private const string Pve = "\"proxmox\": {\"url\": \"https://pve:8006\", \"tokenId\": \"m@pve!h\", \"tokenSecret\": {\"env\": \"X\"}";

    [Theory]
    [InlineData("\"addressFamily\": \"ipv5\"", "$.environments.dr.inventory.addressFamily")]
    [InlineData("\"addressCidr\": \"10.0.0.0\"", "$.environments.dr.inventory.addressCidr")]
    [InlineData("\"concurrency\": 0", "$.environments.dr.inventory.concurrency")]
    public void Proxmox_inventory_keys_are_validated(string key, string path)
    {
        var json = "{\"environments\": {\"dr\": {\"inventory\": {\"source\": \"proxmox\", " + key + "}, " + Pve + "}}}}";
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "/c.json", out _));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void A_malformed_fingerprint_is_a_config_error()
    {
        var json = "{\"environments\": {\"dr\": {" + Pve + ", \"fingerprint\": \"AB:CD\"}}}}";
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "/c.json", out _));
        Assert.Contains("$.environments.dr.proxmox.fingerprint", ex.Message);
    }

    [Fact]
    public void The_factory_makes_a_remote_proxmox_source()
    {
        var json = "{\"environments\": {\"dr\": {\"inventory\": {\"source\": \"proxmox\"}, " + Pve + "}}}}";
        var config = ConfigLoader.Parse(json, "/c.json", out _);
        var source = InventorySourceFactory.Create("dr", config.Environments["dr"]);
        Assert.IsType<ProxmoxInventorySource>(source);
        Assert.False(source!.IsLocal);
        Assert.Equal("proxmox:https://pve:8006", source.Description);
    }
}

public class ProxmoxClassificationTests
{
    [Fact]
    public void Permission_reason_names_privilege_and_path()
    {
        var ex = ProxmoxApiException.FromStatus(403, "Permission check failed (/vms/101, VM.Audit)", null, "GET", "/nodes/pve1/qemu/101/status/current", "https://pve:8006", "mon@pve!health");
        Assert.Equal(ProxmoxFailure.Permission, ex.Failure);
        Assert.Contains("lacks VM.Audit on /vms/101", ex.Message);
        Assert.True(ex.IsCheckerTrouble);
    }

    [Theory]
    [InlineData(500, "QEMU guest agent is not running", null, ProxmoxFailure.AgentNotRunning, "not running")]
    [InlineData(500, "Internal Server Error", "No QEMU guest agent configured\n", ProxmoxFailure.AgentNotConfigured, "no QEMU guest agent configured")]
    [InlineData(500, "VM 103 is not running", null, ProxmoxFailure.VmNotRunning, "VM is not running")]
    [InlineData(500, "VM 103 qmp command 'guest-ping' failed - got timeout", null, ProxmoxFailure.AgentNotRunning, "got timeout")]
    [InlineData(595, "No route to host", null, ProxmoxFailure.NodeUnreachable, "node pve2 unreachable")]
    [InlineData(401, "authentication failure", null, ProxmoxFailure.Authentication, "authentication failed")]
    [InlineData(500, "Configuration file 'nodes/pve2/qemu-server/103.conf' does not exist", null, ProxmoxFailure.GuestNotFound, "does not exist on node pve2")]
    [InlineData(501, "Method 'GET /x' not implemented", null, ProxmoxFailure.Http, "HTTP 501")]
    public void Status_and_reason_map_to_distinct_failures(int status, string reason, string? message, ProxmoxFailure failure, string wording)
    {
        var ex = ProxmoxApiException.FromStatus(status, reason, message, "POST", "/nodes/pve2/qemu/103/agent/ping", "https://pve:8006", "mon@pve!health");
        Assert.Equal(failure, ex.Failure);
        Assert.Contains(wording, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }
}

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

public class ProxmoxClientTests
{
    private const string Secret = "5ecret-7f3a9c0e-token-value";

    private static ProxmoxClient Client(string url, double timeoutSec = 5)
        => new(new Uri(url), "mon@pve!health", Secret, new ProxmoxTlsPolicy(), TimeSpan.FromSeconds(timeoutSec));

    [Fact]
    public async Task Sends_the_token_header_and_returns_data()
    {
        using var server = new ScriptedServer(_ => (200, "OK", """{"data":{"version":"8.3.2"}}""", 0));
        using var client = Client(server.Url);
        var data = await client.GetAsync("version", CancellationToken.None);
        Assert.Equal("8.3.2", data.GetProperty("version").GetString());
        Assert.Contains($"Authorization: PVEAPIToken=mon@pve!health={Secret}", server.Requests[0]);
        Assert.StartsWith("GET /api2/json/version HTTP/1.1", server.Requests[0]);
    }

    [Fact]
    public async Task Connections_are_reused_across_calls()
    {
        using var server = new ScriptedServer(_ => (200, "OK", """{"data":[]}""", 0));
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
        using var server = new ScriptedServer(_ => (status, reason, body, 0));
        using var client = Client(server.Url);
        var ex = await Assert.ThrowsAsync<ProxmoxApiException>(() => client.PostAsync("nodes/pve2/qemu/102/agent/ping", CancellationToken.None));
        Assert.Contains(wording, ex.Message);
        Assert.DoesNotContain(Secret, ex.ToString());
        Assert.DoesNotContain(Secret, ex.Reason ?? string.Empty);
    }

    [Fact]
    public async Task A_silent_server_is_a_client_side_timeout_not_a_server_error()
    {
        using var server = new ScriptedServer(_ => (200, "OK", """{"data":[]}""", 30_000));
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
        using var server = new ScriptedServer(_ => (200, "OK", """{"data":[]}""", 30_000));
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
        using var server = new ScriptedServer(line => line.Contains("/cluster/resources") ? (200, "OK", resources, 50)
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
        using var server = new ScriptedServer(line => line switch
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
