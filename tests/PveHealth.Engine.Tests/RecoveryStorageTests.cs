using System.Text.Json;
using PveHealth.Checks.Recovery;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Metrics;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>The Storage group: the parser on real-shaped answers, the verdicts, the thresholds and the exported gauges.</summary>
public class RecoveryStorageTests
{
    // Shaped like GET /nodes/pve1/storage of PVE 8: 0/1 booleans, used_fraction only when total > 0, a storage restricted
    // to other nodes (enabled 0), an unreachable NFS (active 0, sizes 0).
    private const string StorageJson = """
        [
          {"storage":"local","type":"dir","content":"iso,vztmpl,backup","enabled":1,"active":1,"shared":0,"total":107374182400,"used":44023414784,"avail":63350767616,"used_fraction":0.41},
          {"storage":"local-lvm","type":"lvmthin","content":"images,rootdir","enabled":1,"active":1,"shared":0,"total":214748364800,"used":199715979264,"avail":15032385536,"used_fraction":0.93},
          {"storage":"nfs-archive","type":"nfs","content":"backup,iso","enabled":1,"active":0,"shared":1,"total":0,"used":0,"avail":0},
          {"storage":"other-node-zfs","type":"zfspool","content":"images","enabled":0,"active":0,"shared":0,"total":0,"used":0,"avail":0},
          {"storage":"half","type":"dir","content":"images","active":1,"shared":0,"total":"1000","used":"850","avail":"150"},
          {"type":"dir"}
        ]
        """;

    internal static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    private static StorageCheck Unit(string? storageSection = null)
    {
        var config = ConfigLoader.Parse($$"""
            { "environments": { "lab": {
                "proxmox": { "url": "https://127.0.0.1:8006", "tokenId": "a@pve!b", "tokenSecret": { "env": "X" } }
                {{(storageSection is null ? "" : ", \"storage\": " + storageSection)}} } } }
            """, "c.json", out _);
        return new StorageCheck(new EnvironmentContext("lab", config.Environments["lab"], new RunOptions()));
    }

    [Fact]
    public void Parses_the_storage_list_with_its_quirks()
    {
        var list = RecoveryParsers.ParseStorages("pve1", Json(StorageJson));
        Assert.Equal(["local", "local-lvm", "nfs-archive", "other-node-zfs", "half"], list.Select(s => s.Storage));
        var lvm = list[1];
        Assert.True(lvm.Active);
        Assert.False(lvm.Shared);
        Assert.Equal(0.93, lvm.UsedFraction);
        Assert.Equal("pve1", lvm.Node);
        Assert.True(list[0].HasContent("backup"));
        Assert.Null(list[2].UsedFraction);
        Assert.True(list[2].Shared);
        Assert.False(list[3].Enabled);
        Assert.True(list[4].Enabled); // absent = enabled
        Assert.Equal(1000, list[4].Total);
        // Not a list: an unexpected answer (Unknown), never "no storages".
        Assert.Throws<ProxmoxApiException>(() => RecoveryParsers.ParseStorages("pve1", Json("null")));
        Assert.Throws<ProxmoxApiException>(() => RecoveryParsers.ParseStorages("pve1", Json("{\"storage\":\"x\"}")));
    }

    [Fact]
    public void Verdicts_inactive_Critical_over_90_Critical_over_80_Warning_else_Ok_with_gauges()
    {
        var unit = Unit();
        var list = RecoveryParsers.ParseStorages("pve1", Json(StorageJson));
        var results = list.Where(s => s.Enabled).Select(s => unit.Evaluate(s, 0.8, 0.9, TimeSpan.Zero)).ToList();
        Assert.Equal(["pve1/local", "pve1/local-lvm", "pve1/nfs-archive", "pve1/half"], results.Select(r => r.Component));
        Assert.All(results, r => Assert.Equal(("Storage", "Usage"), (r.Type, r.Check)));
        Assert.Equal([CheckStatus.Ok, CheckStatus.Critical, CheckStatus.Critical, CheckStatus.Warning], results.Select(r => r.Status));
        Assert.Equal("93 % used, over 90 % (186 GiB of 200 GiB, 14 GiB free); lvmthin", results[1].Detail);
        Assert.Equal("nfs storage nfs-archive is inactive or unreachable on node pve1 (active: 0); it is shared: check its server and the network path from this node", results[2].Detail);
        Assert.Equal("85 % used, over 80 % (850 B of 1000 B, 150 B free); dir", results[3].Detail);
        Assert.Equal("41 % used (41 GiB of 100 GiB, 59 GiB free); dir", results[0].Detail);
        // Computed from used/total when used_fraction is absent; an inactive storage only says it is inactive.
        Assert.Equal(0.85, results[3].Measurements.Single(m => m.Name == "pve_health_storage_used_ratio").Value);
        Assert.Equal(["pve_health_storage_active"], results[2].Measurements.Select(m => m.Name));
        Assert.Equal(0, results[2].Measurements[0].Value);
    }

    [Fact]
    public void Thresholds_come_from_the_storage_section()
    {
        var config = ConfigLoader.Parse("""{"environments":{"lab":{"storage":{"warningPercent":50,"criticalPercent":95}}}}""", "c.json", out var warnings);
        Assert.Empty(warnings);
        Assert.Equal(50, config.Environments["lab"].Storage!.WarningPercent);
        Assert.Equal(95, config.Environments["lab"].Storage!.CriticalPercent);
    }

    [Theory]
    [InlineData("""{"warningPercent":0}""", "$.environments.lab.storage.warningPercent", "expected a percentage above 0 and at most 100; found 0.")]
    [InlineData("""{"criticalPercent":101}""", "$.environments.lab.storage.criticalPercent", "expected a percentage above 0 and at most 100; found 101.")]
    [InlineData("""{"warningPercent":95}""", "$.environments.lab.storage.warningPercent", "expected at most criticalPercent (90); found 95.")]
    [InlineData("""{"warningPercent":"80"}""", "$.environments.lab.storage.warningPercent", null)]
    public void Bad_thresholds_stop_the_run_naming_the_path(string section, string path, string? message)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("{\"environments\":{\"lab\":{\"storage\":" + section + "}}}", "c.json", out _));
        Assert.Equal(path, ex.JsonPath);
        if (message is not null) Assert.EndsWith(message, ex.Message);
    }

    [Fact]
    public void Measurements_become_their_own_gauge_families_after_the_fixed_ones()
    {
        var unit = Unit();
        var list = RecoveryParsers.ParseStorages("pve1", Json(StorageJson));
        var results = list.Where(s => s.Enabled).Select(s => unit.Evaluate(s, 0.8, 0.9, TimeSpan.Zero)).ToList();
        var text = PrometheusTextWriter.Render(results);
        Assert.Contains("# HELP pve_health_storage_used_ratio Used fraction of the storage on the node (0..1), as Proxmox reports it.\n# TYPE pve_health_storage_used_ratio gauge\n", text);
        Assert.Contains("pve_health_storage_used_ratio{environment=\"lab\",node=\"pve1\",storage=\"local-lvm\"} 0.93\n", text);
        Assert.Contains("pve_health_storage_active{environment=\"lab\",node=\"pve1\",storage=\"nfs-archive\"} 0\n", text);
        Assert.Contains("pve_health_storage_size_bytes{environment=\"lab\",node=\"pve1\",storage=\"local-lvm\"} 214748364800\n", text);
        Assert.DoesNotContain("storage=\"nfs-archive\"} 0\npve_health_storage_used_ratio", text);
        var families = text.Split('\n').Where(l => l.StartsWith("# HELP ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToList();
        Assert.Equal(PrometheusTextWriter.FixedFamilies.Concat(["pve_health_storage_active", "pve_health_storage_size_bytes", "pve_health_storage_used_bytes", "pve_health_storage_used_ratio"]), families);
    }

    [Fact]
    public void A_measurement_cannot_reuse_a_fixed_family_or_an_invalid_name()
    {
        var r = new CheckResult("e", "c", "T", "X", CheckStatus.Ok, "d", TimeSpan.Zero)
        {
            Measurements = [new Measurement("pve_health_checks", 1, "h"), new Measurement("Bad-Name", 1, "h"), new Measurement("pve_health_x", 1, "h", ("__bad", "v")), new Measurement("pve_health_y", 2, "h", ("node", "a\"b"))],
        };
        var text = PrometheusTextWriter.Render([r]);
        Assert.Equal(7, text.Split('\n').Count(l => l.StartsWith("# HELP ", StringComparison.Ordinal)));
        Assert.Contains("pve_health_y{environment=\"e\",node=\"a\\\"b\"} 2\n", text);
    }
}
