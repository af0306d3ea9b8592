using PveHealth.Inventory;
using Xunit;

namespace PveHealth.Tests;

/// <summary>The engine's one rule for what a file given to Get-PveInventory -Path holds.</summary>
public class InventoryFileKindTests
{
    [Theory]
    [InlineData("inv.yaml", "guests: [not: json", InventoryFileKind.Inventory)]
    [InlineData("inv.yml", "{}", InventoryFileKind.Inventory)]
    [InlineData("inv.json", """{"guests": [{"name": "a"}]}""", InventoryFileKind.Inventory)]
    [InlineData("inv.json", """{"environments": {"prod": {"guests": []}}}""", InventoryFileKind.Inventory)]
    [InlineData("out.json", """{"guests": {"sensitive": false, "type": "dynamic", "value": []}}""", InventoryFileKind.Output)]
    [InlineData("any.json", """{"version": 4, "terraform_version": "1.9.0", "outputs": {}}""", InventoryFileKind.State)]
    [InlineData("out.json", """{"vms": {"value": {}}}""", InventoryFileKind.Output)]
    [InlineData("out.json", "[1, 2]", InventoryFileKind.Output)]
    [InlineData("broken.tfstate", "{\"version\": 4,", InventoryFileKind.State)]
    [InlineData("broken.json", "{\"version\": 4,", InventoryFileKind.Output)]
    [InlineData("deep.json", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", InventoryFileKind.Output)]
    [InlineData("bad.json", "{\"guests\": \"\ud800\"}", InventoryFileKind.Inventory)]
    public void A_file_is_recognised_by_its_name_and_content(string path, string text, InventoryFileKind expected)
        => Assert.Equal(expected, InventorySourceFactory.DetectFileKind(path, text));
}
