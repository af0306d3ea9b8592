using System.Text.Json;
using PveHealth.Configuration;

namespace PveHealth.Inventory;

/// <summary>What a file given to Get-PveInventory -Path holds, recognised by its content.</summary>
public enum InventoryFileKind
{
    /// <summary>An inventory file: .yaml/.yml, or JSON whose top level has "guests" or "environments" (not outputs).</summary>
    Inventory,
    /// <summary>A Terraform state v4 file ("version" and "terraform_version"; a broken .tfstate too).</summary>
    State,
    /// <summary><c>terraform output -json</c> text (anything else: the reader says what is wrong with it).</summary>
    Output,
}

/// <summary>Makes the inventory source an environment's configuration names.</summary>
public static class InventorySourceFactory
{
    public static IInventorySource? Create(string environment, EnvironmentConfig config) => ForRun(environment, config, null);

    /// <summary>
    /// The source for a run's environment <paramref name="scope"/>: the <c>proxmox</c> source then uses the environment's
    /// shared client and <c>/cluster/resources</c> answer (when the run's proxmox section is the inventory's), and no
    /// request of it waits longer than the run's check timeout (-TimeoutSec), whatever <c>inventory.timeoutSec</c> says.
    /// </summary>
    public static IInventorySource? ForRun(string environment, EnvironmentConfig config, IEnvironmentScope? scope)
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
            "proxmox" when config.Proxmox is not null && scope is not null => ProxmoxInRun(environment, config, inv, scope),
            "proxmox" when config.Proxmox is not null => new ProxmoxInventorySource(environment, config.Proxmox, inv,
                TimeSpan.FromSeconds(inv.TimeoutSec ?? config.Proxmox.TimeoutSec ?? 10)),
            _ => throw new InventoryException($"inventory source '{inv.Source}' of environment {environment} is not available in this version of PveHealth."),
        };
    }

    private static ProxmoxInventorySource ProxmoxInRun(string environment, EnvironmentConfig config, InventoryConfig inv, IEnvironmentScope scope)
    {
        var configured = inv.TimeoutSec ?? config.Proxmox!.TimeoutSec;
        var timeout = configured is double t && TimeSpan.FromSeconds(t) < scope.CheckTimeout ? TimeSpan.FromSeconds(t) : scope.CheckTimeout;
        return ReferenceEquals(scope.Config.Proxmox, config.Proxmox) && Clients.Proxmox.ProxmoxShared.For(scope) is { } shared
            ? new ProxmoxInventorySource(environment, config.Proxmox!, inv, timeout, shared)
            : new ProxmoxInventorySource(environment, config.Proxmox!, inv, timeout);
    }

    /// <summary>
    /// Recognises what an inventory file holds from its name and content, the one rule for every command that reads a
    /// file of unknown kind (Get-PveInventory -Path). Never throws: JSON that does not parse is left to the reader of
    /// its likely kind, which reports where it is broken.
    /// </summary>
    public static InventoryFileKind DetectFileKind(string path, string text)
    {
        if (InventoryFileReader.IsYaml(path)) return InventoryFileKind.Inventory;
        try
        {
            using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return InventoryFileKind.Output;
            if (root.TryGetProperty("version", out _) && root.TryGetProperty("terraform_version", out _)) return InventoryFileKind.State;
            var guests = root.TryGetProperty("guests", out var g) ? g : default;
            var environments = root.TryGetProperty("environments", out var e) ? e : default;
            // Terraform outputs are {"name": {"value": ...}}; an inventory file's guests/environments are not.
            bool IsOutput(JsonElement v) => v.ValueKind == JsonValueKind.Object && v.TryGetProperty("value", out _);
            if ((guests.ValueKind != JsonValueKind.Undefined && !IsOutput(guests)) || (environments.ValueKind != JsonValueKind.Undefined && !IsOutput(environments)))
            {
                return InventoryFileKind.Inventory;
            }
            return InventoryFileKind.Output;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            // Broken JSON, too deep, invalid UTF-16: the reader of the likely kind reports what is wrong and where.
            return path.EndsWith(".tfstate", StringComparison.OrdinalIgnoreCase) ? InventoryFileKind.State : InventoryFileKind.Output;
        }
    }
}
