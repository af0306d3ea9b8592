using System.Text.RegularExpressions;
using PveHealth.Checks;
using PveHealth.Configuration;
using PveHealth.Exclusions;
using PveHealth.Execution;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>The catalog is the one list of checks: every other list (validation, exclusions, docs) follows it.</summary>
public class CheckCatalogTests
{
    private const string FullEnvironment = """
        { "environments": { "lab": {
            "inventory": { "source": "file", "path": "/inventory.yaml" },
            "proxmox": { "url": "https://127.0.0.1:8006", "tokenId": "a@pve!b", "tokenSecret": { "env": "X" }, "skipCertificateCheck": true },
            "ssh": { "keyFile": "/k", "knownHostsFile": "/kh" },
            "monitoring": { "prometheus": { "url": "http://127.0.0.1:9090" }, "alertmanager": { "url": "http://127.0.0.1:9093" }, "grafana": { "url": "http://127.0.0.1:3000" } },
            "minio": { "endpoint": "http://127.0.0.1:9000", "accessKey": { "env": "A" }, "secretKey": { "env": "S" }, "buckets": ["b"], "stateObjects": ["b/k"] },
            "drift": { "stateObjects": ["b/env:/*/k"] } } } }
        """;

    private static EnvironmentContext Lab()
    {
        var config = ConfigLoader.Parse(FullEnvironment, "lab.json", out _);
        return new EnvironmentContext("lab", config.Environments["lab"], new RunOptions());
    }

    [Fact]
    public void Every_check_a_unit_declares_is_registered_by_its_provider()
    {
        var env = Lab();
        foreach (var provider in CheckCatalog.ServiceProviders)
        {
            var units = provider.Create(env).ToList();
            Assert.NotEmpty(units);
            Assert.All(units.SelectMany(u => u.Checks), c => Assert.Contains(c, provider.Checks));
        }
        foreach (var kind in Enum.GetValues<GuestKind>())
        {
            foreach (var provider in CheckCatalog.GuestProviders)
            {
                var unit = provider.Create(new Guest("g", kind) { Address = "127.0.0.1" }, env, provider.Checks, out _);
                if (unit is not null) Assert.All(unit.Checks, c => Assert.Contains(c, provider.Checks));
            }
        }
    }

    [Fact]
    public void Every_catalog_check_is_a_valid_exclusion_and_others_are_not()
    {
        Assert.Contains("Discover", CheckCatalog.AllChecks);
        foreach (var check in CheckCatalog.AllChecks)
        {
            Assert.NotNull(ExclusionRule.Parse($"x:{check}", "test", out var error));
            Assert.Null(error);
        }
        Assert.Null(ExclusionRule.Parse("x:Telnet", "test", out var unknown));
        Assert.Contains("unknown check 'Telnet'", unknown);
    }

    [Fact]
    public void The_configurations_checks_are_the_catalogs_guest_checks()
    {
        foreach (var check in CheckCatalog.GuestChecks)
        {
            CheckCatalog.Validate(ConfigLoader.Parse("{\"environments\": {\"prod\": {\"checks\": [\"" + check.ToLowerInvariant() + "\"]}}}", "c.json", out _));
        }
        var config = ConfigLoader.Parse("""{"environments": {"prod": {"checks": ["Ping", "Telnet"]}}}""", "c.json", out _);
        var ex = Assert.Throws<ConfigException>(() => CheckCatalog.Validate(config));
        Assert.Equal("$.environments.prod.checks[1]", ex.JsonPath);
        Assert.Equal($"c.json: $.environments.prod.checks[1]: expected one of {string.Join(", ", CheckCatalog.GuestChecks)}; found 'Telnet'.", ex.Message);
    }

    [Fact]
    public void Groups_are_the_guest_kinds_then_the_service_providers_groups()
    {
        // The first groups in registration order; groups added later (NodeHealth, ...) follow, each once.
        Assert.Equal(["Vm", "Lxc", "Monitoring", "Minio", "Cluster"], CheckCatalog.Groups.Take(5));
        Assert.Equal(CheckCatalog.ServiceProviders.Select(p => p.Group).Distinct(), CheckCatalog.Groups.Skip(2));
        Assert.Contains("NodeHealth", CheckCatalog.Groups);
        Assert.Contains("Storage", CheckCatalog.Groups);
        Assert.Contains("Drift", CheckCatalog.Groups);
        Assert.Equal(["Ready", "Targets", "Peers", "Health", "TlsCertificate"], CheckCatalog.ChecksOf("monitoring"));
    }

    /// <summary>The guide's table "What this version checks" lists exactly the catalog's checks, each under its group.</summary>
    [Fact]
    public void The_guides_check_table_equals_the_catalog()
    {
        var guide = File.ReadAllLines(Path.Combine(InventoryFileReaderTests.FindRoot(), "docs/HEALTH-CHECKS.md"));
        var start = Array.FindIndex(guide, l => l.StartsWith("## What this version checks", StringComparison.Ordinal));
        Assert.True(start >= 0, "docs/HEALTH-CHECKS.md has no section 'What this version checks'");
        var documented = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in guide.Skip(start + 1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            var groupCell = cells[1];
            // "guest (`Vm`, `Lxc`)" and "guest" are the guest checks; "inventory" is the planner's own; `Group` a service group.
            var group = groupCell.StartsWith("guest", StringComparison.Ordinal) ? "guest"
                : groupCell.StartsWith("inventory", StringComparison.Ordinal) ? "inventory"
                : groupCell.StartsWith("exclusions", StringComparison.Ordinal) ? "exclusions"
                : groupCell.Trim('`');
            if (cells[2].StartsWith("sources", StringComparison.Ordinal)) continue; // the inventory sources row names no check
            var names = cells[2].Split('(')[0];
            foreach (Match m in Regex.Matches(names, "`([A-Za-z]+)`")) documented.Add($"{group}:{m.Groups[1].Value}");
        }
        var catalog = new SortedSet<string>(StringComparer.Ordinal) { $"inventory:{CheckCatalog.InventoryCheck}", $"exclusions:{CheckCatalog.ExclusionCheck}" };
        foreach (var check in CheckCatalog.GuestChecks) catalog.Add($"guest:{check}");
        foreach (var provider in CheckCatalog.ServiceProviders)
        {
            foreach (var check in provider.Checks) catalog.Add($"{provider.Group}:{check}");
        }
        Assert.Equal(catalog, documented);
    }
}
