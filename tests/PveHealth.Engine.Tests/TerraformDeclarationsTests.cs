using System.Text;
using PveHealth.Inventory;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>The declared side of drift: realistic states of both Proxmox providers (Fixtures/Drift).</summary>
public class TerraformDeclarationsTests
{
    internal static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "Drift", name));

    private static DeclaredGuest Get(DeclaredState s, string name) => Assert.Single(s.Guests, g => g.Name == name);

    [Fact]
    public void Bpg_vms_and_containers_with_count_for_each_modules_tainted_and_deposed()
    {
        var s = TerraformDeclarations.Parse(Fixture("bpg.tfstate"), "bpg.tfstate");
        Assert.Equal(31, s.Serial);
        Assert.Equal(new[] { "app-01", "web-01", "web-02" }, s.Guests.Select(g => g.Name!).Order().ToArray());
        Assert.Empty(s.Problems);
        // data source, haresource, vm2 (another schema) and the deposed container are not declarations
        Assert.Equal(4, s.Ignored);

        var web = Get(s, "web-01");
        Assert.Equal("proxmox_virtual_environment_vm.web[0]", web.Address);
        Assert.Equal((TerraformProvider.Bpg, GuestKind.Vm, 101, "pve1"), (web.Provider, web.Kind, web.VmId, web.Node));
        Assert.Equal(["prod", "web"], web.Tags);
        Assert.Equal("prod", web.Pool);
        Assert.True(web.Started);
        Assert.True(web.StartedObserved, "bpg writes the observed power state back on refresh");
        Assert.Equal("started", web.StartedAttribute);
        Assert.True(web.OnBoot);
        Assert.False(web.Template);
        Assert.True(web.Agent);
        Assert.False(web.Tainted);

        var web2 = Get(s, "web-02");
        Assert.True(web2.Tainted);
        Assert.False(web2.Started);
        Assert.False(web2.Agent); // an empty agent block is the provider default: disabled
        Assert.Equal(string.Empty, web2.Pool);

        var app = Get(s, "app-01");
        Assert.Equal("module.apps.proxmox_virtual_environment_container.app[\"app-01\"]", app.Address);
        Assert.Equal((GuestKind.Lxc, 104), (app.Kind, app.VmId));
        Assert.False(app.OnBoot);
        Assert.Equal("start_on_boot", app.OnBootAttribute);
        Assert.Null(app.Agent);
        Assert.Equal(string.Empty, app.Pool);
    }

    [Fact]
    public void Telmate_v2_names_oncreate_is_not_a_power_state_and_an_unapplied_vmid_is_a_problem()
    {
        var s = TerraformDeclarations.Parse(Fixture("telmate-v2.tfstate"), "v2");
        var db = Get(s, "db-01");
        Assert.Equal((TerraformProvider.Telmate, GuestKind.Vm, 103, "pve1"), (db.Provider, db.Kind, db.VmId, db.Node));
        Assert.Null(db.Started); // oncreate is create-only: it says nothing about now
        Assert.True(db.OnBoot);
        Assert.Equal("onboot", db.OnBootAttribute);
        Assert.True(db.Agent);
        Assert.Equal(["db", "prod"], db.Tags);
        Assert.Equal("prod", db.Pool);

        var cache = Get(s, "cache-01");
        Assert.Equal((GuestKind.Lxc, 105), (cache.Kind, cache.VmId));
        Assert.True(cache.Started);
        Assert.False(cache.StartedObserved, "proxmox_lxc start is configuration, not refreshed");
        Assert.Equal("start", cache.StartedAttribute);
        Assert.Empty(cache.Tags!);
        Assert.False(cache.Template);

        var problem = Assert.Single(s.Problems);
        Assert.Equal("proxmox_vm_qemu.pending: neither a VMID nor a name could be read", problem);
        Assert.Equal(1, s.Ignored); // null_resource
    }

    [Fact]
    public void Telmate_v3_power_state_vm_state_start_at_node_boot_current_node_and_lxc_guest()
    {
        var s = TerraformDeclarations.Parse(Fixture("telmate-v3.tfstate"), "v3");
        var ci1 = Get(s, "ci-01");
        Assert.Equal("module.ci.proxmox_vm_qemu.runner[\"ci-01\"]", ci1.Address);
        Assert.True(ci1.Started);
        Assert.Equal("power_state", ci1.StartedAttribute);
        Assert.True(ci1.OnBoot, "start_at_node_boot (v3.0.2+) wins over onboot");
        Assert.Equal("start_at_node_boot", ci1.OnBootAttribute);
        Assert.False(ci1.Agent);

        var ci2 = Get(s, "ci-02");
        Assert.False(ci2.Started);
        Assert.Equal("vm_state", ci2.StartedAttribute);
        Assert.Equal("pve2", ci2.Node); // current_node is where it runs; target_node is the wish
        Assert.Equal(["ci", "spare"], ci2.Tags);

        var dns = Get(s, "dns-01");
        Assert.Equal((GuestKind.Lxc, 108, "proxmox_lxc_guest"), (dns.Kind, dns.VmId, dns.ResourceType));
        Assert.Equal(["dns"], dns.Tags);
    }

    [Theory]
    [InlineData("", "the state is empty")]
    [InlineData("{\"version\": 4, \"resources\": [", "invalid JSON at line 1")]
    [InlineData("[1,2]", "$: expected a Terraform state")]
    [InlineData("{\"version\": 3, \"resources\": []}", "$.version: expected a Terraform state of version 4")]
    [InlineData("{\"version\": 4, \"resources\": {}}", "$.resources: expected an array")]
    public void A_document_that_is_not_a_state_v4_is_an_InventoryException(string text, string expected)
    {
        var ex = Assert.Throws<InventoryException>(() => TerraformDeclarations.Parse(Encoding.UTF8.GetBytes(text), "s3://x"));
        Assert.Contains(expected, ex.Message);
        Assert.StartsWith("s3://x: ", ex.Message);
    }

    [Fact]
    public void Unknown_shapes_are_problems_never_exceptions()
    {
        const string text = """
        {"version": 4, "resources": [
          42,
          {"mode": "managed", "type": "proxmox_vm_qemu", "name": "a", "instances": {"x": 1}},
          {"mode": "managed", "type": "proxmox_vm_qemu", "name": "b", "instances": [7, {"attributes_flat": {"vmid": "101"}}]},
          {"mode": "managed", "type": "proxmox_vm_qemu", "name": "c", "instances": [{"attributes": {"vmid": "x", "name": ["no"], "tags": {"a": 1}, "agent": [], "onboot": "maybe"}}]},
          {"mode": "managed", "type": "proxmox_virtual_environment_vm", "name": "d", "instances": [{"attributes": {"vm_id": 120, "name": 5, "tags": [1, 2], "started": "yes", "agent": {"enabled": true}}}]}
        ]}
        """;
        var s = TerraformDeclarations.Parse(Encoding.UTF8.GetBytes(text), "odd");
        Assert.Equal(
        [
            "$.resources[0]: expected an object, found a number",
            "proxmox_vm_qemu.a: no instances array",
            "proxmox_vm_qemu.b instance 0: expected an object",
            "proxmox_vm_qemu.b: no attributes object (attributes_flat of a pre-0.12 state is not read)",
            "proxmox_vm_qemu.c: neither a VMID nor a name could be read",
        ], s.Problems);
        var d = Assert.Single(s.Guests);
        Assert.Equal(120, d.VmId);
        Assert.Equal("5", d.Name); // a number where a string belongs is read as its text
        Assert.Null(d.Tags);        // a list of non-strings is not a tag list: not compared
        Assert.Null(d.Started);
        Assert.Null(d.Agent);       // an object where a block list belongs: not compared
        // ... and the guest is not compared at all (its Declared result is Unknown naming these):
        Assert.Equal(["started: expected a boolean, found a string", "tags: expected a list of strings, found an array",
            "agent: expected a block list with enabled a boolean, found an object"], d.NotUnderstood);
    }

    [Fact]
    public void Nesting_beyond_the_bound_is_an_InventoryException_not_a_stack_overflow()
    {
        var deep = "{\"version\":4,\"resources\":[{\"type\":\"proxmox_vm_qemu\",\"instances\":[{\"attributes\":{\"x\":" + new string('[', 10_000) + new string(']', 10_000) + "}}]}]}";
        var ex = Assert.Throws<InventoryException>(() => TerraformDeclarations.Parse(Encoding.UTF8.GetBytes(deep), "deep"));
        Assert.Contains("invalid JSON", ex.Message);
    }

    [Fact]
    public void Problems_are_bounded()
    {
        var many = string.Join(",", Enumerable.Range(0, 500).Select(_ => "1"));
        var s = TerraformDeclarations.Parse(Encoding.UTF8.GetBytes($"{{\"version\":4,\"resources\":[{many}]}}"), "many");
        Assert.Equal(TerraformDeclarations.MaxProblems + 1, s.Problems.Count);
        Assert.Equal($"... and {500 - TerraformDeclarations.MaxProblems} more", s.Problems[^1]);
    }

    [Fact]
    public void A_state_without_resources_declares_nothing()
    {
        var s = TerraformDeclarations.Parse(Encoding.UTF8.GetBytes("{\"version\":4,\"serial\":1,\"lineage\":\"x\",\"resources\":[]}"), "empty");
        Assert.Empty(s.Guests);
        Assert.Empty(s.Problems);
    }
}
