using System.Diagnostics;
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

public class InventoryFileReaderTests
{
    [Fact]
    public void Yaml_and_json_examples_read_the_same_way()
    {
        var root = FindRoot();
        var yaml = InventoryFileReader.Read(File.ReadAllText(Path.Combine(root, "examples/inventory.yaml")), "inventory.yaml", "");
        Assert.Equal(["prod", "staging"], yaml.Groups);
        var web = yaml.Guests.Single(g => g.Name == "web-01");
        Assert.Equal((GuestKind.Vm, 101, "pve1", "127.0.0.11", "prod"), (web.Kind, web.VmId!.Value, web.Node!, web.Address!, web.Environment));
        Assert.Equal(["web", "frontend"], web.Tags);
        var cache = yaml.Guests.Single(g => g.Name == "cache-01");
        Assert.Equal((GuestKind.Lxc, "127.0.0.21"), (cache.Kind, cache.Address!));
        Assert.Equal(["cache", "redis"], cache.Tags);
        Assert.Equal("staging", yaml.Guests.Single(g => g.Name == "web-stg-01").Environment);
        Assert.Equal("inventory:inventory.yaml", web.Source);

        var json = InventoryFileReader.Read(File.ReadAllText(Path.Combine(root, "examples/inventory.json")), "inventory.json", "");
        Assert.Empty(json.Groups);
        Assert.Equal(3, json.Guests.Count);
        Assert.Equal(["db", "postgres"], json.Guests.Single(g => g.Name == "db-01").Tags);
    }

    [Fact]
    public void Yaml_errors_name_the_file_the_path_and_the_line()
    {
        const string yaml = "guests:\n  - name: a\n    address: 127.0.0.1\n  - name: b\n    vmid: [1]\n";
        var ex = Assert.Throws<InventoryException>(() => InventoryFileReader.Read(yaml, "/etc/inv.yaml", "prod"));
        Assert.Contains("/etc/inv.yaml: $.guests[1].vmid: ", ex.Message);
        Assert.Contains("(line 5)", ex.Message);
    }

    [Fact]
    public void Yaml_syntax_errors_name_the_line()
    {
        var ex = Assert.Throws<InventoryException>(() => InventoryFileReader.Read("guests:\n  - name: a\n   bad: [\n", "inv.yml", ""));
        Assert.StartsWith("inv.yml: invalid YAML at line", ex.Message);
    }

    [Fact]
    public void Unknown_keys_are_errors_with_their_path()
    {
        var ex = Assert.Throws<InventoryException>(() => InventoryFileReader.Read("guests:\n  - name: a\n    adress: 127.0.0.1\n", "inv.yaml", ""));
        Assert.Contains("$.guests[0].adress: unknown key", ex.Message);
        Assert.Contains("line 3", ex.Message);
        var top = Assert.Throws<InventoryException>(() => InventoryFileReader.Read("""{"hosts": []}""", "inv.json", ""));
        Assert.Contains("inv.json: $.hosts: unknown key", top.Message);
    }

    [Fact]
    public void Json_inventory_errors_name_line_or_path()
    {
        var syntax = Assert.Throws<InventoryException>(() => InventoryFileReader.Read("{\"guests\": [\n {\"name\": }]}", "inv.json", ""));
        Assert.StartsWith("inv.json: invalid JSON at line 2", syntax.Message);
        var type = Assert.Throws<InventoryException>(() => InventoryFileReader.Read("""{"guests": {"name": "a"}}""", "inv.json", ""));
        Assert.Contains("inv.json: $.guests: expected a list of guests", type.Message);
        var dup = Assert.Throws<InventoryException>(() => InventoryFileReader.Read("guests:\n- name: a\n- name: A\n", "inv.yaml", ""));
        Assert.Contains("'A' appears twice", dup.Message);
    }

    [Fact]
    public async Task The_file_source_returns_the_group_of_its_environment()
    {
        var path = Path.Combine(FindRoot(), "examples/inventory.yaml");
        var staging = await new InventoryFileSource(path, "staging").GetGuestsAsync(CancellationToken.None);
        Assert.Equal("web-stg-01", Assert.Single(staging).Name);
        var ex = await Assert.ThrowsAsync<InventoryException>(() => new InventoryFileSource(path, "qa").GetGuestsAsync(CancellationToken.None));
        Assert.Contains("groups: prod, staging", ex.Message);
        var missing = await Assert.ThrowsAsync<InventoryException>(() => new InventoryFileSource("/nonexistent/inv.yaml", "qa").GetGuestsAsync(CancellationToken.None));
        Assert.Equal(EngineFailure.InventoryUnreadable, missing.Failure);
    }

    internal static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PveHealth.psd1"))) return dir.FullName;
        }
        throw new InvalidOperationException("repository root not found");
    }
}

public class TerraformCommandSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pvehealth-tf-").FullName;
    private readonly string _fake = Path.Combine(InventoryFileReaderTests.FindRoot(), "tests/Support/fake-terraform/terraform");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A wrapper script setting the fake's environment (the test process's own environment is left alone).</summary>
    private string Wrapper(string env)
    {
        var path = Path.Combine(_dir, "tf-wrapper");
        File.WriteAllText(path, $"#!/usr/bin/env bash\n{env}\nexec '{_fake}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private TerraformCommandSource Source(string env, double timeoutSec = 30)
        => new(_dir, "prod", new InventoryConfig { Executable = Wrapper(env), TimeoutSec = timeoutSec });

    [Fact]
    public async Task Reads_the_output_of_terraform_output_json_in_the_directory()
    {
        var log = Path.Combine(_dir, "calls.log");
        var guests = await Source($"export FAKE_TERRAFORM_LOG='{log}'").GetGuestsAsync(CancellationToken.None);
        Assert.Equal(["web-01", "db-01", "cache-01"], guests.Select(g => g.Name));
        Assert.Equal(GuestKind.Lxc, guests.Single(g => g.Name == "cache-01").Kind);
        Assert.Equal($"{_dir}\toutput -json", File.ReadAllText(log).Trim());
    }

    [Fact]
    public async Task A_failing_terraform_reports_exit_code_and_stderr_but_no_output_value()
    {
        var ex = await Assert.ThrowsAsync<InventoryException>(() => Source("export FAKE_TERRAFORM_EXIT=3 FAKE_TERRAFORM_STDERR='Error: No state file was found!'").GetGuestsAsync(CancellationToken.None));
        Assert.Equal(EngineFailure.TerraformFailed, ex.Failure);
        Assert.Contains("exit code 3", ex.Message);
        Assert.Contains("No state file was found!", ex.Message);
    }

    [Fact]
    public async Task A_hanging_terraform_is_killed_after_the_timeout()
    {
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<InventoryException>(() => Source("export FAKE_TERRAFORM_SLEEP=30", timeoutSec: 0.5).GetGuestsAsync(CancellationToken.None));
        Assert.Equal(EngineFailure.TerraformTimeout, ex.Failure);
        Assert.Contains("did not finish within 0.5 s", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Output_values_never_appear_in_errors()
    {
        var output = Path.Combine(_dir, "bad.json");
        File.WriteAllText(output, """{"vms": {"sensitive": true, "value": [{"name": "a", "ip": {"pw": "S3cr3t-in-output"}}]}}""");
        var options = new InventoryConfig { Executable = Wrapper($"export FAKE_TERRAFORM_OUTPUT='{output}'"), Outputs = ["vms"] };
        var ex = await Assert.ThrowsAsync<InventoryException>(() => new TerraformCommandSource(_dir, "prod", options).GetGuestsAsync(CancellationToken.None));
        Assert.Equal(EngineFailure.InventoryInvalid, ex.Failure);
        Assert.DoesNotContain("S3cr3t-in-output", ex.ToString());
    }

    [Fact]
    public void A_missing_executable_is_TerraformNotFound()
    {
        var ex = Assert.Throws<InventoryException>(() => TerraformCommandSource.ResolveExecutable("/nonexistent/terraform"));
        Assert.Equal(EngineFailure.TerraformNotFound, ex.Failure);
    }

    [Fact]
    public void The_terraform_source_is_not_local_and_the_factory_makes_each_source()
    {
        Assert.False(InventorySourceFactory.Create("p", new EnvironmentConfig { Inventory = new() { Source = "terraform", Directory = "/x" } })!.IsLocal);
        Assert.True(InventorySourceFactory.Create("p", new EnvironmentConfig { Inventory = new() { Source = "file", Path = "/x.yaml" } })!.IsLocal);
        Assert.IsType<TerraformFileSource>(InventorySourceFactory.Create("p", new EnvironmentConfig { Inventory = new() { Source = "terraform-state", Path = "/x" } }));
    }

    [Fact]
    public void Stderr_summary_drops_colour_codes_and_box_drawing()
    {
        Assert.Equal("Error: Backend initialization required Run terraform init.", TerraformCommandSource.Summarize("\u001b[31m╷\n│ Error: Backend initialization required\n│\n│ Run terraform init.\n╵\n"));
    }
}
