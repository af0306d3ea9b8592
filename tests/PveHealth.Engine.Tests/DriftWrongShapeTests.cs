using System.Text;
using PveHealth.Checks.Drift;
using PveHealth.Clients.Proxmox;
using PveHealth.Inventory;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// A declaration of a wrong shape (an attribute of another type, no VMID, an unknown schema version) is an Unknown
/// Declared result naming the resource address and the attribute, never "matches the state" — even when the cluster
/// has a guest that fits.
/// </summary>
public class DriftWrongShapeTests
{
    private static readonly ActualGuest Web = new()
    {
        Resource = new PveResource { Id = "qemu/101", VmId = 101, Type = "qemu", Node = "pve1", Name = "web-01", Status = "running", Tags = [] },
        OnBoot = true, Agent = true,
    };

    private static DriftFinding Declared(string type, string attributes, int schemaVersion = 0)
    {
        var state = "{\"version\": 4, \"serial\": 1, \"resources\": [{\"mode\": \"managed\", \"type\": \"" + type
            + "\", \"name\": \"web\", \"instances\": [{\"schema_version\": " + schemaVersion + ", \"attributes\": {" + attributes + "}}]}]}";
        var declared = TerraformDeclarations.Parse(Encoding.UTF8.GetBytes(state), "s.tfstate");
        return Assert.Single(DriftComparer.Compare(declared.Guests, [Web], new DriftOptions()), f => f.Check == DriftComparer.DeclaredCheck);
    }

    [Theory]
    [InlineData("proxmox_virtual_environment_vm", "\"vm_id\": 101, \"name\": \"web-01\", \"started\": \"yes\"", 0, "started: expected a boolean, found a string")]
    [InlineData("proxmox_virtual_environment_vm", "\"vm_id\": 101, \"name\": \"web-01\", \"on_boot\": {}", 0, "on_boot: expected a boolean, found an object")]
    [InlineData("proxmox_virtual_environment_vm", "\"vm_id\": 101, \"name\": \"web-01\", \"tags\": [1, 2]", 0, "tags: expected a list of strings, found an array")]
    [InlineData("proxmox_virtual_environment_vm", "\"vm_id\": 101, \"name\": \"web-01\", \"agent\": {\"enabled\": true}", 0, "agent: expected a block list with enabled a boolean, found an object")]
    [InlineData("proxmox_virtual_environment_vm", "\"vm_id\": \"abc\", \"name\": \"web-01\"", 0, "vm_id: expected a VMID (a whole number 100..999999999), found a string")]
    [InlineData("proxmox_virtual_environment_vm", "\"vm_id\": 101.5, \"id\": \"101\", \"name\": \"web-01\"", 0, "vm_id: expected a VMID (a whole number 100..999999999), found a number")]
    [InlineData("proxmox_virtual_environment_vm", "\"vm_id\": null, \"name\": \"web-01\"", 0, "the state has no VMID; web-01 (VMID 101) has its name, but a name alone does not prove it is this guest")]
    [InlineData("proxmox_virtual_environment_vm", "\"vm_id\": 101, \"name\": \"web-01\"", 3, "schema_version 3 is not the known 0 (attributes may have other names or meanings)")]
    [InlineData("proxmox_vm_qemu", "\"vmid\": 101, \"name\": \"web-01\", \"power_state\": \"paused\"", 0, "power_state: expected running or stopped, found a string")]
    [InlineData("proxmox_vm_qemu", "\"vmid\": 101, \"name\": \"web-01\", \"target_node\": [\"pve1\"]", 0, "target_node: expected a string, found an array")]
    public void A_wrong_shape_is_Unknown_naming_the_address_and_the_attribute_never_Ok(string type, string attributes, int schemaVersion, string why)
    {
        var f = Declared(type, attributes, schemaVersion);
        Assert.Equal(CheckStatus.Unknown, f.Status);
        Assert.Equal($"declared by {type}.web in s.tfstate: {(why.StartsWith("the state", StringComparison.Ordinal) ? why : "not understood: " + why)}; not compared", f.Detail);
    }

    [Theory]
    [InlineData("proxmox_virtual_environment_vm", "\"vm_id\": \"101\", \"name\": \"web-01\", \"started\": true, \"on_boot\": 1, \"tags\": [], \"agent\": [{\"enabled\": true}]")]
    [InlineData("proxmox_vm_qemu", "\"vmid\": 101, \"name\": \"web-01\", \"power_state\": \"running\", \"onboot\": \"1\", \"tags\": \"\", \"agent\": 1, \"pool\": null")]
    public void Numbers_as_strings_and_nulls_of_the_right_meaning_still_compare(string type, string attributes)
    {
        var f = Declared(type, attributes);
        Assert.Equal(CheckStatus.Ok, f.Status);
        Assert.StartsWith("matches the state: VMID 101 running on node pve1", f.Detail);
    }
}

/// <summary>A state path that never ends (a device, a pipe) stops at the state cap: one Unknown, bounded memory.</summary>
[Collection("hostile-memory")]
public class DriftStateFileBoundTests
{
    [Fact]
    public async Task A_state_path_of_dev_zero_is_Unknown_at_the_cap_not_an_unbounded_read()
    {
        using var env = new PveHealth.Execution.EnvironmentContext("lab", new PveHealth.Configuration.EnvironmentConfig(), new PveHealth.Execution.RunOptions());
        var check = new DriftCheck(env, new PveHealth.Configuration.DriftConfig { StatePaths = ["/dev/zero"] });
        var (results, allocated, _) = await Measure.Run(() => Task.FromResult(
            new PveHealth.Execution.CheckRunner(new PveHealth.Execution.RunOptions { CheckTimeout = TimeSpan.FromSeconds(20) }).Run([check], CancellationToken.None)
                .OfType<PveHealth.Execution.ResultEvent>().Select(e => e.Result).ToList()));
        var state = Assert.Single(results);
        Assert.Equal((CheckStatus.Unknown, DriftCheck.DeclarationsCheck), (state.Status, state.Check));
        Assert.StartsWith("the state file /dev/zero is larger than 64 MiB (the cap for it); nothing of it was used", state.Detail);
        Assert.True(allocated < 400 * Measure.MiB, $"allocated {allocated / Measure.MiB} MiB");
    }
}
