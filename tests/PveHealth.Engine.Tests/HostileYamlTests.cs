using System.Diagnostics;
using System.Text;
using PveHealth.Execution;
using PveHealth.Inventory;
using Xunit;

namespace PveHealth.Tests;

/// <summary>YAML inventories: aliases refused, depth and size bounded — a clear InventoryInvalid, never a stack overflow.</summary>
public class HostileYamlTests
{
    private static InventoryException Fails(string yaml)
        => Assert.Throws<InventoryException>(() => InventoryFileReader.Read(yaml, "/etc/pve-health/inventory.yaml", "prod"));

    [Fact]
    public void A_self_referencing_alias_is_refused_with_the_line()
    {
        var ex = Fails("guests: &g\n  - name: web-01\n    tags: *g\n");
        Assert.Contains("/etc/pve-health/inventory.yaml: line 3", ex.Message);
        Assert.Contains("aliases", ex.Message);
        Assert.Equal("InventoryInvalid", ex.Failure.ToString());
    }

    [Fact]
    public void A_billion_laughs_document_is_refused_at_once()
    {
        var yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var c = 'b'; c <= 'i'; c++) yaml.Append($"{c}: &{c} [*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)},*{(char)(c - 1)}]\n");
        yaml.Append("guests: *i\n");
        var watch = Stopwatch.StartNew();
        var ex = Fails(yaml.ToString());
        Assert.Contains("aliases", ex.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Deeply_nested_flow_sequences_are_refused_not_a_stack_overflow()
    {
        var ex = Fails("guests: " + new string('[', 100_000) + new string(']', 100_000) + "\n");
        Assert.Contains("nested deeper than 64 levels", ex.Message);
        Assert.Contains("line 1", ex.Message);
    }

    [Fact]
    public void A_lone_surrogate_in_yaml_is_a_clear_error()
    {
        var ex = Fails("guests:\n  - name: \"web\\ud800\"\n");
        Assert.Contains("/etc/pve-health/inventory.yaml: ", ex.Message);
        Assert.Contains("line 2", ex.Message);
        Assert.Equal("InventoryInvalid", ex.Failure.ToString());
    }

    [Fact]
    public void An_ordinary_inventory_with_an_anchor_but_no_alias_still_reads()
    {
        var result = InventoryFileReader.Read("guests:\n  - &w\n    name: web-01\n    address: 192.0.2.1\n", "/x.yaml", "prod");
        Assert.Equal("web-01", Assert.Single(result.Guests).Name);
    }
}
