using PveHealth.Configuration;
using Xunit;

namespace PveHealth.Tests;

public class ConfigLoaderTests
{
    private static PveHealthConfig Parse(string json, out IReadOnlyList<string> warnings) => ConfigLoader.Parse(json, "/etc/pve-health/config.json", out warnings);

    private static ConfigException Fails(string json) => Assert.Throws<ConfigException>(() => Parse(json, out _));

    [Fact]
    public void The_shipped_example_loads_without_warnings()
    {
        var path = Path.Combine(InventoryFileReaderTests.FindRoot(), "examples/config.json");
        var config = ConfigLoader.Load(path, out var warnings);
        Assert.Empty(warnings);
        Assert.Equal(["dr", "prod", "staging"], config.Environments.Keys.Order());
        var dr = config.Environments["dr"].Inventory!;
        Assert.Equal(("proxmox", "ipv4", "10.20.0.0/16", "dr"), (dr.Source, dr.AddressFamily, dr.AddressCidr, dr.EnvironmentTag));
        var prod = config.Environments["prod"];
        Assert.Equal("terraform", prod.Inventory!.Source);
        Assert.Equal(["vm_id", "vmid"], prod.Inventory.Fields!.VmId);
        Assert.Equal("PVE_HEALTH_SSH_PASSPHRASE", prod.Ssh!.Passphrase!.Env);
        Assert.Equal(168, prod.Minio!.MaxStateAgeHours);
        Assert.Equal(15, prod.TimeoutSec);
        Assert.Equal(64, config.Defaults.ThrottleLimit);
        Assert.Equal(path, config.SourcePath);
    }

    [Fact]
    public void Malformed_json_names_the_file_and_the_line()
    {
        var ex = Fails("{\n  \"environments\": {\n    \"prod\": { \"timeoutSec\": }\n  }\n}");
        Assert.StartsWith("/etc/pve-health/config.json: $.environments.prod.timeoutSec: ", ex.Message);
        Assert.Contains("line 3", ex.Message);
        Assert.Equal("/etc/pve-health/config.json", ex.FilePath);
    }

    [Theory]
    [InlineData("""{"environments": {"prod": {"timeoutSec": "ten"}}}""", "$.environments.prod.timeoutSec", "expected a number")]
    [InlineData("""{"defaults": {"throttleLimit": 2.5}, "environments": {"prod": {}}}""", "$.defaults.throttleLimit", "expected a whole number")]
    [InlineData("""{"environments": {"prod": {"checks": "Ping"}}}""", "$.environments.prod.checks", "expected an array")]
    [InlineData("""{"environments": {"prod": {"ssh": []}}}""", "$.environments.prod.ssh", "expected an object")]
    [InlineData("""{"environments": {"prod": {"proxmox": {"skipCertificateCheck": "yes"}}}}""", "$.environments.prod.proxmox.skipCertificateCheck", "expected true or false")]
    public void Wrong_types_name_the_json_path_and_the_expected_type(string json, string path, string expected)
    {
        var ex = Fails(json);
        Assert.Equal(path, ex.JsonPath);
        Assert.Contains($": {path}: {expected}", ex.Message);
    }

    [Theory]
    [InlineData("""{"environments": {}}""", "$.environments", "at least one environment")]
    [InlineData("""{"environments": {"prod": {"inventory": {"source": "ansible"}}}}""", "$.environments.prod.inventory.source", "expected one of terraform-output, terraform, terraform-state, file")]
    [InlineData("""{"environments": {"prod": {"inventory": {"source": "file"}}}}""", "$.environments.prod.inventory.path", "needs a \"path\"")]
    [InlineData("""{"environments": {"prod": {"inventory": {"source": "terraform"}}}}""", "$.environments.prod.inventory.directory", "needs the \"directory\"")]
    [InlineData("""{"environments": {"prod": {"proxmox": {"url": "pve:8006", "tokenId": "a@pve!b", "tokenSecret": {"env": "X"}}}}}""", "$.environments.prod.proxmox.url", "absolute http(s) URL")]
    public void Invalid_values_name_the_path(string json, string path, string expected)
    {
        var ex = Fails(json);
        Assert.Equal(path, ex.JsonPath);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Unknown_keys_are_warnings_with_their_path()
    {
        var config = Parse("""{"environments": {"prod": {"inventry": {}, "ssh": {"user": "x", "identity": "y"}}}, "colour": true}""", out var warnings);
        Assert.Single(config.Environments);
        Assert.Equal(3, warnings.Count);
        Assert.Contains(warnings, w => w.StartsWith("/etc/pve-health/config.json: unknown key '$.colour'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'$.environments.prod.inventry'") && w.Contains("inventory"));
        Assert.Contains(warnings, w => w.Contains("'$.environments.prod.ssh.identity'") && w.Contains("keyFile"));
    }

    [Theory]
    [InlineData("""{"file": "/a", "env": "B"}""")]
    [InlineData("""{}""")]
    [InlineData("""{"file": " "}""")]
    public void Secret_references_need_exactly_one_of_file_or_env(string secret)
    {
        var ex = Fails("""{"environments": {"prod": {"minio": {"endpoint": "http://127.0.0.1:9000", "accessKey": {"env": "A"}, "secretKey": """ + secret + "}}}}");
        Assert.Equal("$.environments.prod.minio.secretKey", ex.JsonPath);
        Assert.Contains("exactly one of \"file\" or \"env\"", ex.Message);
    }

    [Fact]
    public void A_secret_written_inline_is_refused()
    {
        var ex = Fails("""{"environments": {"prod": {"proxmox": {"url": "https://127.0.0.1:8006", "tokenId": "a@pve!b", "tokenSecret": "plain-secret-value"}}}}""");
        Assert.Equal("$.environments.prod.proxmox.tokenSecret", ex.JsonPath);
        Assert.DoesNotContain("plain-secret-value", ex.Message);
    }

    [Fact]
    public void Valid_secret_references_load()
    {
        var config = Parse("""{"environments": {"prod": {"proxmox": {"url": "https://127.0.0.1:8006", "tokenId": "a@pve!b", "tokenSecret": {"file": "/etc/pve-health/token"}}}}}""", out var warnings);
        Assert.Empty(warnings);
        Assert.Equal("/etc/pve-health/token", config.Environments["PROD"].Proxmox!.TokenSecret!.File);
    }

    [Fact]
    public void Relative_inventory_paths_are_relative_to_the_configuration_file()
    {
        var dir = Directory.CreateTempSubdirectory("pvehealth-cfg-").FullName;
        try
        {
            var path = Path.Combine(dir, "config.json");
            File.WriteAllText(path, """{"environments": {"a": {"inventory": {"source": "file", "path": "inv/guests.yaml"}}, "b": {"inventory": {"source": "terraform", "directory": "../tf"}}, "c": {"inventory": {"source": "file", "path": "/abs/x.yaml"}}}}""");
            var config = ConfigLoader.Load(path, out _);
            Assert.Equal(Path.Combine(dir, "inv/guests.yaml"), config.Environments["a"].Inventory!.Path);
            Assert.Equal(Path.GetFullPath(Path.Combine(dir, "../tf")), config.Environments["b"].Inventory!.Directory);
            Assert.Equal("/abs/x.yaml", config.Environments["c"].Inventory!.Path);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_missing_file_says_how_to_point_at_one()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/nonexistent/pve-health.json", out _));
        Assert.StartsWith("/nonexistent/pve-health.json: configuration file not found", ex.Message);
        Assert.Contains("PVE_HEALTH_CONFIG", ex.Message);
    }

    [Fact]
    public void The_path_comes_from_the_parameter_then_PVE_HEALTH_CONFIG_then_the_default()
    {
        var saved = Environment.GetEnvironmentVariable(ConfigLoader.PathVariable);
        try
        {
            Environment.SetEnvironmentVariable(ConfigLoader.PathVariable, "/from/env.json");
            Assert.Equal("/explicit.json", ConfigLoader.ResolvePath("/explicit.json"));
            Assert.Equal("/from/env.json", ConfigLoader.ResolvePath(null));
            Environment.SetEnvironmentVariable(ConfigLoader.PathVariable, null);
            Assert.Equal("/etc/pve-health/config.json", ConfigLoader.ResolvePath(null));
            Assert.Equal("/etc/pve-health/config.json", ConfigLoader.ResolvePath(" "));
        }
        finally
        {
            Environment.SetEnvironmentVariable(ConfigLoader.PathVariable, saved);
        }
    }
}
