using PveHealth.Configuration;
using PveHealth.Inventory;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class TerraformOutputReaderTests
{
    private static List<Guest> Read(string json, InventoryConfig? options = null, bool isState = false)
        => TerraformOutputReader.Read(json, "out.json", "prod", options, isState);

    [Fact]
    public void Map_of_name_to_object_reads_every_field_and_strips_the_prefix()
    {
        var guests = Read("""
            {"vms": {"sensitive": false, "type": "map", "value": {
              "web-01": {"ip": "192.0.2.5/24", "vmid": 101, "node": "pve1", "tags": "web;frontend"},
              "db-01": {"ip": "192.0.2.6", "vmid": "pve2/qemu/102", "node": "pve2", "tags": ["db", "pg"], "type": "lxc"}}}}
            """);
        Assert.Equal(2, guests.Count);
        var web = guests.Single(g => g.Name == "web-01");
        Assert.Equal("192.0.2.5", web.Address);
        Assert.Equal(101, web.VmId);
        Assert.Equal("pve1", web.Node);
        Assert.Equal(GuestKind.Vm, web.Kind);
        Assert.Equal(["web", "frontend"], web.Tags);
        Assert.Equal("prod", web.Environment);
        Assert.Equal("out.json", web.Source);
        var db = guests.Single(g => g.Name == "db-01");
        Assert.Equal(102, db.VmId);
        Assert.Equal(GuestKind.Lxc, db.Kind);
        Assert.Equal(["db", "pg"], db.Tags);
    }

    [Fact]
    public void List_of_objects_and_container_outputs_default_to_Lxc()
    {
        var guests = Read("""{"containers": {"value": [{"hostname": "ct-01", "ipv4_address": "192.0.2.7", "vm_id": 201}]}}""");
        var g = Assert.Single(guests);
        Assert.Equal("ct-01", g.Name);
        Assert.Equal(GuestKind.Lxc, g.Kind);
        Assert.Equal(201, g.VmId);
    }

    [Fact]
    public void Map_of_name_to_address()
    {
        var guests = Read("""{"guest_ips": {"value": {"web-01": "192.0.2.5/24", "web-02": "192.0.2.6"}}}""");
        Assert.Equal(["192.0.2.5", "192.0.2.6"], guests.Select(g => g.Address));
        Assert.All(guests, g => Assert.Equal(GuestKind.Vm, g.Kind));
    }

    [Fact]
    public void Bpg_ipv4_addresses_skip_loopback_and_empty_interfaces()
    {
        var guests = Read("""{"vms": {"value": {"web-01": {"vm_id": 101, "ipv4_addresses": [["127.0.0.1"], [], ["192.0.2.5", "192.0.2.9"]]}, "new-01": {"vm_id": 102, "ipv4_addresses": []}}}}""");
        Assert.Equal("192.0.2.5", guests.Single(g => g.Name == "web-01").Address);
        Assert.Null(guests.Single(g => g.Name == "new-01").Address);
    }

    [Fact]
    public void Configured_output_names_and_field_names_are_used()
    {
        var options = new InventoryConfig
        {
            Outputs = ["machines"],
            DefaultKind = "Lxc",
            Fields = new FieldMapping { Name = ["label"], Address = ["mgmt"], VmId = ["pve_id"] },
        };
        var guests = Read("""{"machines": {"value": [{"label": "a", "mgmt": "192.0.2.1", "pve_id": 7}]}, "other": {"value": [{"name": "b", "ip": "192.0.2.2"}]}}""", options);
        var g = Assert.Single(guests);
        Assert.Equal(("a", "192.0.2.1", 7, GuestKind.Lxc), (g.Name, g.Address, g.VmId, g.Kind));
    }

    [Fact]
    public void An_output_that_is_not_a_guest_list_is_ignored_when_not_named()
    {
        var guests = Read("""{"region": {"value": "eu-1"}, "labels": {"value": {"team": "ops"}}, "vms": {"value": {"web-01": "192.0.2.5"}}}""");
        Assert.Equal("web-01", Assert.Single(guests).Name);
    }

    [Fact]
    public void A_missing_named_output_lists_the_outputs_present()
    {
        var ex = Assert.Throws<InventoryException>(() => Read("""{"vms": {"value": {}}}""", new InventoryConfig { Outputs = ["guests"] }));
        Assert.Contains("$.guests", ex.Message);
        Assert.Contains("outputs present: vms", ex.Message);
    }

    private const string Secret = "hunter2-very-secret";

    [Fact]
    public void Sensitive_outputs_are_skipped_unless_named_and_never_quoted()
    {
        var json = "{\"vms\": {\"sensitive\": true, \"value\": {\"web-01\": {\"ip\": \"192.0.2.5\", \"vmid\": \"" + Secret + "\"}}}}";
        var unnamed = Assert.Throws<InventoryException>(() => Read(json));
        Assert.DoesNotContain(Secret, unnamed.Message);
        Assert.Contains("no output shaped like a list of guests", unnamed.Message);
        var named = Assert.Throws<InventoryException>(() => Read(json, new InventoryConfig { Outputs = ["vms"] }));
        Assert.Contains("$.vms.value.web-01", named.Message);
        Assert.DoesNotContain(Secret, named.Message);
        foreach (var bad in new[] { $"{{\"vms\": {{\"sensitive\": true, \"value\": {{\"web-01\": {{\"ip\": {{\"x\": \"{Secret}\"}}}}}}}}}}", $"{{\"vms\": {{\"sensitive\": true, \"value\": [{{\"ip\": \"{Secret}\"}}]}}}}", $"{{\"vms\": {{\"sensitive\": true, \"value\": {{\"a\": {{\"ip\": \"{Secret}\", \"type\": \"{Secret}\"}}}}}}}}" })
        {
            var ex = Assert.Throws<InventoryException>(() => Read(bad, new InventoryConfig { Outputs = ["vms"] }));
            Assert.DoesNotContain(Secret, ex.ToString());
        }
    }

    [Fact]
    public void Bad_json_names_line_and_byte()
    {
        var ex = Assert.Throws<InventoryException>(() => Read("{\n  \"vms\": {\"value\": [}\n}"));
        Assert.StartsWith("out.json: invalid JSON at line 2, byte", ex.Message);
    }

    [Theory]
    [InlineData("""{"vms": {"value": {"web-01": {"ip": 5.5, "vmid": true}}}}""", "$.vms.value.web-01.vmid", "expected a string or a number")]
    [InlineData("""{"vms": {"value": [{"name": "a", "vmid": -3}]}}""", "$.vms.value[0]", "positive whole number")]
    [InlineData("""{"vms": {"value": [{"ip": "192.0.2.1"}]}}""", "$.vms.value[0]", "no name field")]
    [InlineData("""{"vms": {"value": {"a": {"name": "a", "tags": 3}}}}""", "$.vms.value.a.tags", "expected a list of tags")]
    [InlineData("""{"vms": {"value": {"a": {"name": "a", "type": "toaster"}}}}""", "$.vms.value.a", "kind must be")]
    [InlineData("""{"vms": {"value": {"a": 3}}}""", "$.vms.value.a", "expected an object or an address string")]
    public void Wrong_types_name_the_json_path(string json, string path, string expected)
    {
        var ex = Assert.Throws<InventoryException>(() => Read(json, new InventoryConfig { Outputs = ["vms"] }));
        Assert.Contains($"out.json: {path}: ", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Duplicate_names_across_outputs_are_an_error()
    {
        var ex = Assert.Throws<InventoryException>(() => Read("""{"vms": {"value": {"web-01": "192.0.2.5"}}, "more_vms": {"value": [{"name": "WEB-01", "ip": "192.0.2.6"}]}}"""));
        Assert.Contains("'WEB-01' appears twice", ex.Message);
    }

    [Fact]
    public void State_files_read_their_outputs_and_reject_other_versions()
    {
        var guests = Read("""{"version": 4, "terraform_version": "1.9.0", "serial": 3, "lineage": "x", "outputs": {"vms": {"value": {"web-01": "192.0.2.5"}, "type": "map"}}, "resources": []}""", isState: true);
        Assert.Single(guests);
        var ex = Assert.Throws<InventoryException>(() => Read("""{"version": 3, "outputs": {}}""", isState: true));
        Assert.Contains("$.version", ex.Message);
    }
}
