using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Model;
using PveHealth.Planning;
using Xunit;

namespace PveHealth.Tests;

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
