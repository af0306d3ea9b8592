using PveHealth.Checks;
using PveHealth.Checks.NodeHealth;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>The NodeHealth units against a scripted Proxmox API (loopback only).</summary>
public class NodeHealthCheckTests : IDisposable
{
    private const string Secret = "5ecret-node-health-token";
    private readonly string _secretFile = Path.GetTempFileName();
    private readonly Dictionary<string, (int, string, string?, int)> _routes = new(StringComparer.Ordinal);
    private readonly HostileServer _server;

    public NodeHealthCheckTests()
    {
        File.WriteAllText(_secretFile, Secret + "\n");
        Route("/cluster/status", """{"data":[{"type":"cluster","name":"lab","quorate":1},{"type":"node","name":"pve1","online":1},{"type":"node","name":"pve2","online":1},{"type":"node","name":"pve3","online":0}]}""");
        _server = HostileServer.Scripted(line =>
        {
            var path = line.Split(' ')[1]["/api2/json".Length..];
            return _routes.TryGetValue(path, out var a) ? a : (501, "Method not implemented", """{"data":null}""", 0);
        });
    }

    public void Dispose()
    {
        _server.Dispose();
        File.Delete(_secretFile);
    }

    private void Route(string path, string body, int status = 200, string reason = "OK", int delayMs = 0) => _routes[path] = (status, reason, body, delayMs);

    private EnvironmentContext Env(NodeHealthConfig? settings = null) => new("lab", new EnvironmentConfig
    {
        Proxmox = new ProxmoxConfig { Url = _server.Url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = _secretFile } },
        NodeHealth = settings,
    }, new RunOptions { CheckTimeout = TimeSpan.FromSeconds(5) });

    internal static List<CheckResult> Run(params CheckUnit[] units)
        => new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromSeconds(5) }).Run(units, CancellationToken.None)
            .OfType<ResultEvent>().Select(e => e.Result).ToList();

    private int Requests(string part) => _server.Requests.Count(r => r.Contains(part, StringComparison.Ordinal));

    private static string Epoch(double days) => DateTimeOffset.UtcNow.AddDays(days).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void NodeCertificate_reports_each_node_and_file_with_its_expiry_and_asks_each_online_node_once()
    {
        Route("/nodes/pve1/certificates/info", $$"""
            {"data":[{"filename":"pve-root-ca.pem","subject":"/CN=Proxmox Virtual Environment","notbefore":1600000000,"notafter":{{Epoch(3000)}}},
                     {"filename":"pve-ssl.pem","subject":"/CN=pve1.lab","notafter":{{Epoch(20)}}},
                     {"filename":"pveproxy-ssl.pem","subject":"/CN=pve1.example","notafter":{{Epoch(5)}}}]}
            """);
        Route("/nodes/pve2/certificates/info", $$"""{"data":[{"filename":"pve-ssl.pem","subject":"/CN=pve2.lab","notafter":{{Epoch(-2)}}}]}""");
        var results = Run(new NodeCertificateCheck(Env())).ToDictionary(r => r.Component);
        Assert.Equal(["pve1/pve-root-ca.pem", "pve1/pve-ssl.pem", "pve1/pveproxy-ssl.pem", "pve2/pve-ssl.pem"], results.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(CheckStatus.Ok, results["pve1/pve-root-ca.pem"].Status);
        Assert.Equal(CheckStatus.Warning, results["pve1/pve-ssl.pem"].Status);
        var proxy = results["pve1/pveproxy-ssl.pem"];
        Assert.Equal((CheckStatus.Critical, "Certificate", "NodeCertificate"), (proxy.Status, proxy.Type, proxy.Check));
        Assert.Contains("expires in 4 days", proxy.Detail);
        Assert.Contains("pvenode acme cert renew", proxy.Detail);
        var expiry = Assert.Single(proxy.Measurements);
        Assert.Equal("pve_health_certificate_expiry_seconds", expiry.Name);
        Assert.InRange(expiry.Value - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 4.9 * 86400, 5 * 86400);
        Assert.Contains("EXPIRED", results["pve2/pve-ssl.pem"].Detail);
        Assert.Equal(1, Requests("/nodes/pve1/certificates/info"));
        Assert.Equal(1, Requests("/nodes/pve2/certificates/info"));
        Assert.Equal(0, Requests("/nodes/pve3/")); // offline: the Cluster group's Node result speaks for it
        Assert.All(results.Values, r => Assert.DoesNotContain(Secret, r.Detail));
    }

    [Fact]
    public void NodeCertificate_thresholds_come_from_the_environment()
    {
        Route("/nodes/pve1/certificates/info", $$"""{"data":[{"filename":"pve-ssl.pem","notafter":{{Epoch(20)}}}]}""");
        Route("/nodes/pve2/certificates/info", """{"data":[]}""");
        var results = Run(new NodeCertificateCheck(Env(new NodeHealthConfig { CertificateWarningDays = 10, CertificateCriticalDays = 2 }))).ToDictionary(r => r.Component);
        Assert.Equal(CheckStatus.Ok, results["pve1/pve-ssl.pem"].Status);
        Assert.Equal(CheckStatus.Unknown, results["pve2"].Status); // a node listing no certificate cannot be judged
    }

    [Fact]
    public void A_node_whose_answer_fails_gets_one_result_and_the_other_nodes_still_report()
    {
        Route("/nodes/pve1/certificates/info", """{"data":null,"message":"Permission check failed (/nodes/pve1, Sys.Audit)\n"}""", 403, "Permission check failed (/nodes/pve1, Sys.Audit)");
        Route("/nodes/pve2/certificates/info", $$"""{"data":[{"filename":"pve-ssl.pem","notafter":{{Epoch(300)}}}]}""");
        var results = Run(new NodeCertificateCheck(Env())).ToDictionary(r => r.Component);
        Assert.Equal(CheckStatus.Unknown, results["pve1"].Status);
        Assert.Contains("Sys.Audit", results["pve1"].Detail);
        Assert.Equal(CheckStatus.Ok, results["pve2/pve-ssl.pem"].Status);
    }

    /// <summary>
    /// A node or cluster answer of the wrong shape ({"data":5} where a list or an object belongs) is that node's Unknown
    /// "unexpected answer", never an Ok ("no pending updates", "no kernel package listed") nor "HA not configured".
    /// </summary>
    [Theory]
    [InlineData("updates", "/nodes/{n}/apt/update")]
    [InlineData("kernel", "/nodes/{n}/apt/versions")]
    [InlineData("kernel", "/nodes/{n}/status")]
    [InlineData("zfs", "/nodes/{n}/disks/zfs")]
    [InlineData("disks", "/nodes/{n}/disks/list")]
    [InlineData("certificates", "/nodes/{n}/certificates/info")]
    [InlineData("ha", "/cluster/ha/status/current")]
    public void An_answer_of_the_wrong_shape_is_Unknown_never_Ok(string unit, string route)
    {
        var state = Path.Combine(Path.GetTempPath(), "pvehealth-shape-" + Guid.NewGuid().ToString("N"));
        foreach (var n in new[] { "pve1", "pve2" })
        {
            Route($"/nodes/{n}/apt/update", """{"data":[]}""");
            Route($"/nodes/{n}/apt/versions", """{"data":[{"Package":"proxmox-kernel-6.8.12-4-pve-signed","Version":"6.8.12-4","CurrentState":"Installed"}]}""");
            Route($"/nodes/{n}/status", """{"data":{"current-kernel":{"release":"6.8.12-4-pve"}}}""");
            Route($"/nodes/{n}/disks/zfs", """{"data":[]}""");
            Route($"/nodes/{n}/disks/list", """{"data":[]}""");
            Route($"/nodes/{n}/certificates/info", $$"""{"data":[{"filename":"pve-ssl.pem","notafter":{{Epoch(300)}}}]}""");
        }
        Route("/cluster/ha/status/current", """{"data":[]}""");
        Route(route.Replace("{n}", "pve1", StringComparison.Ordinal), """{"data":5}""");
        var env = Env(new NodeHealthConfig { StateDirectory = state });
        CheckUnit check = unit switch
        {
            "updates" => new UpdatesCheck(env),
            "kernel" => new KernelCheck(env),
            "zfs" => new ZfsCheck(env),
            "disks" => new DisksCheck(env),
            "certificates" => new NodeCertificateCheck(env),
            _ => new HaCheck(env),
        };
        try
        {
            var results = Run(check);
            var bad = Assert.Single(results, r => r.Status == CheckStatus.Unknown);
            Assert.Contains("unexpected answer", bad.Detail, StringComparison.Ordinal);
            Assert.Contains("found a number", bad.Detail, StringComparison.Ordinal);
            Assert.DoesNotContain(results, r => r.Status == CheckStatus.Ok && r.Component.StartsWith("pve1", StringComparison.Ordinal));
            Assert.DoesNotContain(results, r => r.Status == CheckStatus.Skipped);
        }
        finally
        {
            if (Directory.Exists(state)) Directory.Delete(state, true);
        }
    }

    /// <summary>
    /// apt/versions that lists no kernel package (an empty list, or only other packages) cannot tell whether a reboot is
    /// pending: Unknown saying so, never Ok.
    /// </summary>
    [Theory]
    [InlineData("""{"data":[]}""")]
    [InlineData("""{"data":[{"Package":"proxmox-ve","Version":"8.3.0","CurrentState":"Installed"},{"Package":"pve-manager","Version":"8.3.2","CurrentState":"Installed"}]}""")]
    public void Kernel_without_a_kernel_package_in_apt_versions_is_Unknown(string versions)
    {
        foreach (var n in new[] { "pve1", "pve2" })
        {
            Route($"/nodes/{n}/status", """{"data":{"current-kernel":{"release":"6.8.12-4-pve"}}}""");
            Route($"/nodes/{n}/apt/versions", """{"data":[{"Package":"proxmox-kernel-6.8.12-4-pve-signed","Version":"6.8.12-4","CurrentState":"Installed"}]}""");
        }
        Route("/nodes/pve1/apt/versions", versions);
        var results = Run(new KernelCheck(Env())).ToDictionary(r => r.Component);
        Assert.Equal(CheckStatus.Unknown, results["pve1"].Status);
        Assert.Equal("running kernel 6.8.12-4-pve, but /nodes/pve1/apt/versions lists no installed pve-kernel/proxmox-kernel package, so a pending reboot cannot be judged", results["pve1"].Detail);
        Assert.Equal(CheckStatus.Ok, results["pve2"].Status);
    }

    /// <summary>
    /// apt/update needs Sys.Modify: a node the token may not ask has no row (never a false "up to date"), and one Skipped
    /// row names those nodes, whether all nodes or only some are denied.
    /// </summary>
    [Fact]
    public void Updates_without_Sys_Modify_gives_no_node_row_and_one_Skipped_row_naming_the_nodes()
    {
        const string denied = """{"data":null,"message":"Permission check failed (/nodes/pve1, Sys.Modify)\n"}""";
        Route("/nodes/pve1/apt/update", denied, 403, "Permission check failed (/nodes/pve1, Sys.Modify)");
        Route("/nodes/pve2/apt/update", """{"data":[{"Package":"pve-manager","Version":"8.3.3","OldVersion":"8.3.2"}]}""");
        var some = Run(new UpdatesCheck(Env()));
        Assert.Equal(["pve2", "updates"], some.Select(r => r.Component).Order(StringComparer.Ordinal));
        Assert.Equal(CheckStatus.Warning, some.Single(r => r.Component == "pve2").Status);
        var skipped = some.Single(r => r.Component == "updates");
        Assert.Equal(CheckStatus.Skipped, skipped.Status);
        Assert.Equal("not checked on pve1: /nodes/{node}/apt/update needs Sys.Modify, which this token does not have there (see the guide, Node health)", skipped.Detail);

        Route("/nodes/pve2/apt/update", denied, 403, "Permission check failed (/nodes/pve2, Sys.Modify)");
        var none = Assert.Single(Run(new UpdatesCheck(Env())));
        Assert.Equal((CheckStatus.Skipped, "updates"), (none.Status, none.Component));
        Assert.Equal("not checked: /nodes/{node}/apt/update needs Sys.Modify, which this token does not have (see the guide, Node health)", none.Detail);
    }

    [Fact]
    public void Without_the_node_list_the_check_is_skipped_not_failed_twice()
    {
        Route("/cluster/status", """{"data":null}""", 500, "Internal Server Error");
        var results = Run(new NodeCertificateCheck(Env()));
        var r = Assert.Single(results);
        Assert.Equal((CheckStatus.Skipped, "certificates"), (r.Status, r.Component));
        Assert.Contains("Quorum", r.Detail);
    }

    [Fact]
    public void The_provider_registers_the_group_and_needs_a_proxmox_section()
    {
        Assert.Contains(NodeHealthCheckProvider.GroupName, CheckCatalog.ServiceGroups);
        Assert.Contains(NodeCertificateCheck.Name, CheckCatalog.ChecksOf("NodeHealth"));
        var provider = CheckCatalog.ServiceProviders.Single(p => p.Group == "NodeHealth");
        Assert.Empty(provider.Create(new EnvironmentContext("x", new EnvironmentConfig(), new RunOptions())));
        Assert.NotEmpty(provider.Create(Env()));
    }
}
