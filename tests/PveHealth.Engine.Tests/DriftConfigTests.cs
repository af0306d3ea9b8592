using System.Text;
using System.Text.Json;
using PveHealth.Checks.Drift;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Inventory;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class DriftConfigTests
{
    private const string Proxmox = "\"proxmox\": { \"url\": \"https://127.0.0.1:8006\", \"tokenId\": \"a@pve!b\", \"tokenSecret\": { \"env\": \"X\" } }";

    private static PveHealthConfig Parse(string env) => ConfigLoader.Parse($"{{ \"environments\": {{ \"lab\": {{ {env} }} }} }}", "c.json", out _);

    [Fact]
    public void The_shipped_example_has_a_drift_section()
    {
        var config = ConfigLoader.Load(Path.Combine(InventoryFileReaderTests.FindRoot(), "examples/config.json"), out var warnings);
        Assert.Empty(warnings);
        var drift = config.Environments["prod"].Drift!;
        Assert.Equal(["tfstate/env:/*/prod.tfstate"], drift.StateObjects);
        Assert.Equal(["100-499"], drift.Unmanaged!.VmidRanges);
    }

    [Theory]
    [InlineData("\"drift\": { \"statePaths\": [\"/s\"] }", "$.environments.lab.proxmox")]
    [InlineData(Proxmox + ", \"drift\": {}", "$.environments.lab.drift.stateObjects")]
    [InlineData(Proxmox + ", \"drift\": { \"stateObjects\": [\"b/k\"] }", "$.environments.lab.drift.stateObjects")]
    [InlineData(Proxmox + ", \"drift\": { \"statePaths\": [\"/s\"], \"unmanaged\": { \"vmidRanges\": [\"200-100\"] } }", "$.environments.lab.drift.unmanaged.vmidRanges[0]")]
    [InlineData(Proxmox + ", \"drift\": { \"statePaths\": [\"/s\"], \"maxStateAgeHours\": 0 }", "$.environments.lab.drift.maxStateAgeHours")]
    public void A_drift_section_that_cannot_work_names_its_path(string env, string path)
    {
        var ex = Assert.Throws<ConfigException>(() => Parse(env));
        Assert.Equal(path, ex.JsonPath);
    }

    [Fact]
    public void Relative_state_paths_are_relative_to_the_configuration_file_and_unknown_keys_warn()
    {
        var dir = Path.Combine(Path.GetTempPath(), "drift-cfg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var file = Path.Combine(dir, "config.json");
            File.WriteAllText(file, $"{{ \"environments\": {{ \"lab\": {{ {Proxmox}, \"drift\": {{ \"statePaths\": [\"states/a.tfstate\"], \"pinnodes\": true, \"scope\": 1 }} }} }} }}");
            var config = ConfigLoader.Load(file, out var warnings);
            Assert.Equal(Path.Combine(dir, "states", "a.tfstate"), config.Environments["lab"].Drift!.StatePaths![0]);
            Assert.True(config.Environments["lab"].Drift!.PinNodes);
            Assert.Contains(warnings, w => w.Contains("$.environments.lab.drift.scope", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
