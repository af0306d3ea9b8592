using PveHealth.Inventory;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

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
