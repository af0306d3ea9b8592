using PveHealth.Configuration;

namespace PveHealth.Inventory;

/// <summary>Makes the inventory source an environment's configuration names.</summary>
public static class InventorySourceFactory
{
    public static IInventorySource? Create(string environment, EnvironmentConfig config)
    {
        var inv = config.Inventory;
        if (inv?.Source is null) return null;
        return inv.Source.ToLowerInvariant() switch
        {
            "terraform-output" => new TerraformFileSource(inv.Path!, environment, inv, isState: false),
            "terraform-state" => new TerraformFileSource(inv.Path!, environment, inv, isState: true),
            "terraform" => new TerraformCommandSource(inv.Directory!, environment, inv),
            "file" => new InventoryFileSource(inv.Path!, environment),
            "minio-state" => new MinioStateSource(environment, config.Minio!, inv),
            "proxmox" when config.Proxmox is not null => new ProxmoxInventorySource(environment, config.Proxmox, inv,
                TimeSpan.FromSeconds(inv.TimeoutSec ?? config.Proxmox.TimeoutSec ?? 10)),
            _ => throw new InventoryException($"inventory source '{inv.Source}' of environment {environment} is not available in this version of PveHealth."),
        };
    }
}
