using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using PveHealth.Checks;
using PveHealth.Checks.Monitoring;
using PveHealth.Clients;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Metrics;
using PveHealth.Model;
using PveHealth.Planning;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// A loopback HTTP/1.1 server whose answers are written by the test byte for byte: endless chunked bodies, lying
/// Content-Length, gzip bombs, echoes of the request headers, silence. One request per connection.
/// </summary>
internal sealed class HostileServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<string, Stream, CancellationToken, Task> _answer;
    public List<string> Requests { get; } = new();

    public HostileServer(Func<string, Stream, CancellationToken, Task> answer)
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
                    var head = new StringBuilder();
                    var buffer = new byte[8192];
                    while (!head.ToString().Contains("\r\n\r\n"))
                    {
                        int n;
                        try { n = await stream.ReadAsync(buffer, _stop.Token); } catch { return; }
                        if (n == 0) return;
                        head.Append(Encoding.ASCII.GetString(buffer, 0, n));
                    }
                    lock (Requests) Requests.Add(head.ToString());
                    try { await _answer(head.ToString(), stream, _stop.Token); } catch { /* the client hung up */ }
                }
            });
        }
    }

    public static byte[] Head(int status, string reason, string headers = "Content-Type: application/json\r\n")
        => Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {reason}\r\n{headers}Connection: close\r\n\r\n");

    /// <summary>Answers a JSON body with the right Content-Length.</summary>
    public static Func<string, Stream, CancellationToken, Task> Json(int status, string body) => async (_, s, ct) =>
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        await s.WriteAsync(Head(status, status == 200 ? "OK" : "Error", $"Content-Type: application/json\r\nContent-Length: {bytes.Length}\r\n"), ct);
        await s.WriteAsync(bytes, ct);
    };

    /// <summary>A chunked body that never ends: <c>{"data":"xxxx…</c> at loopback speed.</summary>
    public static async Task EndlessChunked(string request, Stream s, CancellationToken ct)
    {
        await s.WriteAsync(Head(200, "OK", "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"), ct);
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'x');
        var prefix = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n");
        await s.WriteAsync(Encoding.ASCII.GetBytes("b\r\n{\"data\":\"xx\r\n"), ct);
        while (!ct.IsCancellationRequested)
        {
            await s.WriteAsync(prefix, ct);
            await s.WriteAsync(chunk, ct);
            await s.WriteAsync("\r\n"u8.ToArray(), ct);
        }
    }

    /// <summary>The request's header lines, echoed in an error body (what some proxies and servers do).</summary>
    public static async Task EchoHeaders(string request, Stream s, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes("bad request; you sent:\n" + request);
        await s.WriteAsync(Head(500, "Internal Server Error", $"Content-Type: text/plain\r\nContent-Length: {body.Length}\r\n"), ct);
        await s.WriteAsync(body, ct);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}

/// <summary>Measures what a piece of code allocates (tests in this collection run alone, so the count is theirs).</summary>
internal static class Measure
{
    public static async Task<(T Value, long AllocatedBytes, TimeSpan Elapsed)> Run<T>(Func<Task<T>> action)
    {
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        var value = await action();
        watch.Stop();
        return (value, GC.GetTotalAllocatedBytes(precise: true) - before, watch.Elapsed);
    }

    public const long MiB = 1024 * 1024;
}

[CollectionDefinition("hostile-memory", DisableParallelization = true)]
public class HostileMemoryCollection;

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
            var units = new List<CheckUnit> { new ClusterCheck(env, nodes: false), new ClusterCheck(env, nodes: true) };
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

/// <summary>Credentials never reach a Detail, whatever a server echoes; secret values with control characters are refused.</summary>
public class SecretLeakTests
{
    private static List<CheckResult> Run(CheckUnit unit)
        => new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromSeconds(5) }).Run([unit], CancellationToken.None)
            .OfType<ResultEvent>().Select(e => e.Result).ToList();

    [Fact]
    public void Prometheus_echoing_the_bearer_token_does_not_put_it_in_Detail()
    {
        const string token = "prom-bearer-7c1d0e5f-secret";
        using var server = new HostileServer(HostileServer.EchoHeaders);
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri(server.Url), BearerToken = token });
        var results = Run(new PrometheusCheck("lab", server.Url, () => client));
        Assert.Contains(server.Requests, r => r.Contains(token)); // it was sent, and echoed
        Assert.NotEmpty(results);
        Assert.All(results, r => Assert.DoesNotContain(token, r.Detail));
        Assert.Contains(results, r => r.Detail.Contains("***"));
    }

    [Fact]
    public void Grafana_echoing_Basic_credentials_does_not_put_them_or_their_base64_in_Detail()
    {
        const string password = "graf-pass-91b2c3d4";
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + password));
        using var server = new HostileServer(HostileServer.EchoHeaders);
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri(server.Url), Username = "admin", Password = password });
        var results = Run(new GrafanaCheck("lab", server.Url, () => client));
        Assert.Contains(server.Requests, r => r.Contains(basic));
        Assert.All(results, r => Assert.DoesNotContain(basic, r.Detail));
        Assert.All(results, r => Assert.DoesNotContain(password, r.Detail));
    }

    [Fact]
    public void Alertmanager_echoing_the_bearer_token_does_not_put_it_in_Detail()
    {
        const string token = "am-bearer-0a9b8c7d-secret";
        using var server = new HostileServer(HostileServer.EchoHeaders);
        using var client = new HttpEndpointClient(new HttpEndpointSettings { BaseUrl = new Uri(server.Url), BearerToken = token });
        var results = Run(new AlertmanagerCheck("lab", server.Url, () => client));
        Assert.NotEmpty(results);
        Assert.All(results, r => Assert.DoesNotContain(token, r.Detail));
    }

    [Theory]
    [InlineData("line-one\nX-Injected: 1")]
    [InlineData("tok\ren")]
    [InlineData("tok\u0000en")]
    public void A_secret_with_a_line_break_or_control_character_is_refused_at_load(string content)
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, content);
        try
        {
            var ex = Assert.Throws<SecretUnavailableException>(() => SecretResolver.Resolve(new SecretReference { File = file }, "monitoring.prometheus.bearerToken"));
            Assert.Contains("control character", ex.Message);
            Assert.DoesNotContain("X-Injected", ex.Message);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void A_trailing_newline_is_still_fine()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "fine-token-value\n");
        try { Assert.Equal("fine-token-value", SecretResolver.Resolve(new SecretReference { File = file }, "x")); }
        finally { File.Delete(file); }
    }

    [Fact]
    public void A_secret_reference_to_dev_zero_stops_at_the_cap()
    {
        var watch = Stopwatch.StartNew();
        var ex = Assert.Throws<SecretUnavailableException>(() => SecretResolver.Resolve(new SecretReference { File = "/dev/zero" }, "proxmox.tokenSecret"));
        Assert.Contains("larger than 64 KiB", ex.Message);
        Assert.Contains("/dev/zero", ex.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void A_secret_file_passed_as_the_configuration_is_never_quoted()
    {
        const string secret = "s3cr3t-0123456789abcdef";
        var file = Path.GetTempFileName();
        File.WriteAllText(file, secret + "\n");
        try
        {
            var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load(file, out _));
            Assert.DoesNotContain(secret, ex.Message);
            Assert.DoesNotContain("'s'", ex.Message);
            Assert.DoesNotContain("s3cr", ex.Message);
        }
        finally { File.Delete(file); }
    }

    [Theory]
    [InlineData("""{"db":{"sensitive":true,"type":"string","value":{"p@ssW0rd-value":"\ud800"}}}""", "p@ssW0rd-value")]
    [InlineData("""{"db":{"sensitive":true,"type":"string","value":{"hunter2-key":1,"hunter2-key":2}}}""", "hunter2-key")]
    [InlineData("""{"db":{"sensitive":true,"type":"string","value":tops3cret-unquoted}}""", "tops3cret")]
    public void A_sensitive_output_is_never_quoted_in_a_parser_message(string json, string secret)
    {
        var ex = Assert.Throws<InventoryException>(() => TerraformOutputReader.Read(json, "terraform-output:out.json", "prod", new InventoryConfig { Outputs = ["db"] }, isState: false));
        Assert.DoesNotContain(secret, ex.Message);
        Assert.DoesNotContain(secret[..4], ex.Message);
    }

    [Fact]
    public void Every_result_detail_is_scrubbed_of_registered_secrets()
    {
        SecretScrubber.Register("registered-credential-xyz");
        var r = new CheckResult("lab", "c", "t", "k", CheckStatus.Critical, "server said: registered-credential-xyz is wrong", TimeSpan.Zero);
        Assert.Equal("server said: *** is wrong", r.Detail);
    }
}

/// <summary>YAML inventories: aliases refused, depth and size bounded — a clear InventoryInvalid, never a stack overflow.</summary>
public class HostileYamlTests
{
    private static InventoryException Fails(string yaml)
        => Assert.Throws<InventoryException>(() => InventoryFileReader.Read(yaml, "/etc/pve-health/inventory.yaml", "prod"));

    [Fact]
    public void A_self_referencing_alias_is_refused_with_the_line()
    {
        var ex = Fails("guests: &g\n  - name: web-01\n    tags: *g\n");
        Assert.Contains("/etc/pve-health/inventory.yaml: line 3", ex.Message);
        Assert.Contains("aliases", ex.Message);
        Assert.Equal("InventoryInvalid", ex.Failure.ToString());
    }

    [Fact]
    public void A_billion_laughs_document_is_refused_at_once()
    {
        var yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var c = 'b'; c <= 'i'; c++) yaml.Append($"{c}: &{c} [*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)}]\n");
        yaml.Append("guests: *i\n");
        var watch = Stopwatch.StartNew();
        var ex = Fails(yaml.ToString());
        Assert.Contains("aliases", ex.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Deeply_nested_flow_sequences_are_refused_not_a_stack_overflow()
    {
        var ex = Fails("guests: " + new string('[', 100_000) + new string(']', 100_000) + "\n");
        Assert.Contains("nested deeper than 64 levels", ex.Message);
        Assert.Contains("line 1", ex.Message);
    }

    [Fact]
    public void A_lone_surrogate_in_yaml_is_a_clear_error()
    {
        var ex = Fails("guests:\n  - name: \"web\\ud800\"\n");
        Assert.Contains("/etc/pve-health/inventory.yaml: ", ex.Message);
        Assert.Contains("line 2", ex.Message);
        Assert.Equal("InventoryInvalid", ex.Failure.ToString());
    }

    [Fact]
    public void An_ordinary_inventory_with_an_anchor_but_no_alias_still_reads()
    {
        var result = InventoryFileReader.Read("guests:\n  - &w\n    name: web-01\n    address: 192.0.2.1\n", "/x.yaml", "prod");
        Assert.Equal("web-01", Assert.Single(result.Guests).Name);
    }
}

/// <summary>JSON inputs of the inventory: lone surrogates, depth, duplicate keys, oversize files and output.</summary>
[Collection("hostile-memory")]
public class HostileInventoryTests
{
    [Fact]
    public void A_lone_surrogate_in_terraform_output_is_an_InventoryInvalid_naming_the_output()
    {
        var json = """{"vms":{"sensitive":false,"type":["map","string"],"value":{"web-01":"192.0.2.1","db\ud800":"192.0.2.2"}}}""";
        var ex = Assert.Throws<InventoryException>(() => TerraformOutputReader.Read(json, "terraform-output:out.json", "prod", null, isState: false));
        Assert.Contains("terraform-output:out.json: $.vms: ", ex.Message);
        Assert.Contains("UTF-16", ex.Message);
        Assert.Equal("InventoryInvalid", ex.Failure.ToString());
    }

    [Fact]
    public async Task One_environment_with_a_lone_surrogate_does_not_stop_the_others()
    {
        var dir = Directory.CreateTempSubdirectory("pvehealth-hostile-");
        try
        {
            var bad = Path.Combine(dir.FullName, "bad.json");
            var good = Path.Combine(dir.FullName, "good.json");
            await File.WriteAllTextAsync(bad, """{"vms":{"sensitive":false,"type":"dynamic","value":{"web\ud800":"127.0.0.1"}}}""");
            await File.WriteAllTextAsync(good, """{"vms":{"sensitive":false,"type":"dynamic","value":{"web-01":"127.0.0.1"}}}""");
            var json = "{\"environments\": {"
                + "\"bad\": {\"inventory\": {\"source\": \"terraform-output\", \"path\": \"" + bad + "\"}, \"checks\": [\"Ping\"]},"
                + "\"good\": {\"inventory\": {\"source\": \"terraform-output\", \"path\": \"" + good + "\"}, \"checks\": [\"Ping\"]}}}";
            var config = ConfigLoader.Parse(json, "/etc/pve-health/config.json", out _);
            var planner = new HealthPlanner(config, InventorySourceFactory.Create);
            var plan = await planner.BuildAsync(new PlanRequest { All = true, Options = new RunOptions { CheckTimeout = TimeSpan.FromSeconds(2) } }, CancellationToken.None);
            var inventory = Assert.Single(plan.Decided, r => r.Environment == "bad");
            Assert.Equal(CheckStatus.Unknown, inventory.Status);
            Assert.Contains("UTF-16", inventory.Detail);
            Assert.Contains(plan.Units, u => u.Environment == "good" && u.Component == "web-01");
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void Json_nested_deeper_than_the_limit_is_refused()
    {
        var json = "{\"vms\":{\"value\":" + new string('[', 1000) + new string(']', 1000) + "}}";
        var ex = Assert.Throws<InventoryException>(() => TerraformOutputReader.Read(json, "out.json", "prod", null, isState: false));
        Assert.Contains("deeper than", ex.Message);
    }

    [Fact]
    public void A_duplicate_key_in_an_inventory_file_is_refused_with_its_path()
    {
        var ex = Assert.Throws<InventoryException>(() => InventoryFileReader.Read("""{"guests":[{"name":"a","address":"192.0.2.1","address":"192.0.2.9"}]}""", "/inv.json", "prod"));
        Assert.Contains("/inv.json: $.guests[0].address: the key appears twice", ex.Message);
    }

    [Fact]
    public async Task An_inventory_file_that_is_dev_zero_stops_at_the_cap()
    {
        var source = new InventoryFileSource("/dev/zero", "prod");
        var (ex, allocated, elapsed) = await Measure.Run(() => Assert.ThrowsAsync<InventoryException>(() => source.GetGuestsAsync(CancellationToken.None)));
        Assert.Contains("larger than 64 MiB", ex.Message);
        Assert.Equal("InventoryTooLarge", ex.Failure.ToString());
        Assert.True(allocated < 400 * Measure.MiB, $"allocated {allocated / Measure.MiB} MiB");
        Assert.True(elapsed < TimeSpan.FromSeconds(10), $"took {elapsed}");
    }

    [Fact]
    public async Task A_terraform_that_prints_without_end_is_stopped_at_the_cap()
    {
        var dir = Directory.CreateTempSubdirectory("pvehealth-tf-");
        try
        {
            var exe = Path.Combine(dir.FullName, "terraform");
            await File.WriteAllTextAsync(exe, "#!/bin/sh\nexec cat /dev/zero\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(exe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var source = new TerraformCommandSource(dir.FullName, "prod", new InventoryConfig { Source = "terraform", Directory = dir.FullName, Executable = exe, TimeoutSec = 20 });
            var (ex, allocated, elapsed) = await Measure.Run(() => Assert.ThrowsAsync<InventoryException>(() => source.GetGuestsAsync(CancellationToken.None)));
            Assert.Contains("larger than 64 MiB", ex.Message);
            Assert.Equal("InventoryTooLarge", ex.Failure.ToString());
            Assert.True(allocated < 400 * Measure.MiB, $"allocated {allocated / Measure.MiB} MiB");
            Assert.True(elapsed < TimeSpan.FromSeconds(15), $"took {elapsed}");
        }
        finally { dir.Delete(recursive: true); }
    }
}

/// <summary>Configuration: duplicate keys (ignoring case), numeric ranges, oversize files: PveHealth errors with the JSON path.</summary>
public class HostileConfigTests
{
    private static ConfigException Fails(string json) => Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "/etc/pve-health/config.json", out _));

    [Fact]
    public void Environments_differing_only_in_case_are_a_configuration_error()
    {
        var ex = Fails("""{"environments": {"prod": {}, "PROD": {}}}""");
        Assert.Contains("$.environments.PROD", ex.Message);
        Assert.Contains("appears twice", ex.Message);
    }

    [Fact]
    public void A_second_environments_key_is_a_configuration_error_not_silently_dropped()
    {
        var ex = Fails("""{"environments": {"prod": {}}, "environments": {"lab": {}}}""");
        Assert.Equal("$.environments", ex.JsonPath);
    }

    [Theory]
    [InlineData("""{"defaults": {"timeoutSec": 1e300}, "environments": {"prod": {}}}""", "$.defaults.timeoutSec")]
    [InlineData("""{"environments": {"prod": {"timeoutSec": 1e300}}}""", "$.environments.prod.timeoutSec")]
    [InlineData("""{"defaults": {"runTimeoutSec": 9e99}, "environments": {"prod": {}}}""", "$.defaults.runTimeoutSec")]
    [InlineData("""{"environments": {"prod": {"minio": {"endpoint": "http://127.0.0.1:9000", "accessKey": {"env": "A"}, "secretKey": {"env": "B"}, "maxStateAgeHours": 1e308}}}}""", "$.environments.prod.minio.maxStateAgeHours")]
    [InlineData("""{"defaults": {"throttleLimit": 2000000000}, "environments": {"prod": {}}}""", "$.defaults.throttleLimit")]
    public void Huge_numbers_are_range_errors_naming_the_path(string json, string path)
    {
        var ex = Fails(json);
        Assert.Equal(path, ex.JsonPath);
        Assert.Contains("at most", ex.Message);
    }

    [Fact]
    public void A_configuration_file_that_is_dev_zero_stops_at_the_cap()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/dev/zero", out _));
        Assert.Contains("larger than 4 MiB", ex.Message);
    }
}

/// <summary>Export: temporary files of killed writes are cleaned by the next export; a live writer's file is kept.</summary>
public class StaleExportTempFileTests
{
    [Fact]
    public void Stale_temporary_files_are_removed_by_the_next_write()
    {
        var dir = Directory.CreateTempSubdirectory("pvehealth-export-");
        try
        {
            var target = Path.Combine(dir.FullName, "pve_health.prom");
            // A writer that was killed: a process id that is not running (beyond pid_max).
            var dead = Path.Combine(dir.FullName, $".pve_health.prom.{int.MaxValue - 1}.{Guid.NewGuid():N}.tmp");
            File.WriteAllText(dead, new string('x', 1000));
            // An old one of a live id (ids are reused): stale by age.
            var old = Path.Combine(dir.FullName, $".pve_health.prom.1.{Guid.NewGuid():N}.tmp");
            File.WriteAllText(old, "x");
            File.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-2));
            // A live writer's file (this process, just now) and a file that is not ours stay.
            var live = Path.Combine(dir.FullName, $".pve_health.prom.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            File.WriteAllText(live, "x");
            var other = Path.Combine(dir.FullName, ".other.tmp");
            File.WriteAllText(other, "x");

            AtomicFileWriter.Write(target, "up 1\n");

            Assert.False(File.Exists(dead));
            Assert.False(File.Exists(old));
            Assert.True(File.Exists(live));
            Assert.True(File.Exists(other));
            Assert.Equal("up 1\n", File.ReadAllText(target));
        }
        finally { dir.Delete(recursive: true); }
    }
}

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
