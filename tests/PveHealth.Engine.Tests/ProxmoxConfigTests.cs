using PveHealth.Configuration;
using PveHealth.Inventory;
using Xunit;

namespace PveHealth.Tests;

public class ProxmoxConfigTests
{
    private const string Pve = "\"proxmox\": {\"url\": \"https://pve:8006\", \"tokenId\": \"m@pve!h\", \"tokenSecret\": {\"env\": \"X\"}";

    [Theory]
    [InlineData("\"addressFamily\": \"ipv5\"", "$.environments.dr.inventory.addressFamily")]
    [InlineData("\"addressCidr\": \"10.0.0.0\"", "$.environments.dr.inventory.addressCidr")]
    [InlineData("\"concurrency\": 0", "$.environments.dr.inventory.concurrency")]
    public void Proxmox_inventory_keys_are_validated(string key, string path)
    {
        var json = "{\"environments\": {\"dr\": {\"inventory\": {\"source\": \"proxmox\", " + key + "}, " + Pve + "}}}}";
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "/c.json", out _));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void A_malformed_fingerprint_is_a_config_error()
    {
        var json = "{\"environments\": {\"dr\": {" + Pve + ", \"fingerprint\": \"AB:CD\"}}}}";
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "/c.json", out _));
        Assert.Contains("$.environments.dr.proxmox.fingerprint", ex.Message);
    }

    [Fact]
    public void The_factory_makes_a_remote_proxmox_source()
    {
        var json = "{\"environments\": {\"dr\": {\"inventory\": {\"source\": \"proxmox\"}, " + Pve + "}}}}";
        var config = ConfigLoader.Parse(json, "/c.json", out _);
        var source = InventorySourceFactory.Create("dr", config.Environments["dr"]);
        Assert.IsType<ProxmoxInventorySource>(source);
        Assert.False(source!.IsLocal);
        Assert.Equal("proxmox:https://pve:8006", source.Description);
    }
}
