namespace PveHealth.Model;

/// <summary>Kind of Proxmox guest.</summary>
public enum GuestKind
{
    /// <summary>A QEMU virtual machine.</summary>
    Vm,
    /// <summary>An LXC container.</summary>
    Lxc,
}

/// <summary>A guest as an inventory source describes it. Pipeline-friendly: Test-PveVm binds these by property name.</summary>
public sealed class Guest
{
    public Guest(string name, GuestKind kind)
    {
        Name = name;
        Kind = kind;
    }

    public string Name { get; }
    public GuestKind Kind { get; }
    /// <summary>Proxmox VMID, when the source knows it.</summary>
    public int? VmId { get; init; }
    /// <summary>Proxmox node the guest runs on, when known.</summary>
    public string? Node { get; init; }
    public string Environment { get; init; } = string.Empty;
    /// <summary>Address used for ping and SSH (IPv4, IPv6 or host name).</summary>
    public string? Address { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = Array.Empty<string>();
    /// <summary>Where the guest was found: "terraform-output:/path", "inventory:/path", "proxmox:https://...".</summary>
    public string Source { get; init; } = string.Empty;
    /// <summary>
    /// The configuration file the guest was read from (Get-PveInventory from a configuration), or null. Test-PveVm binds
    /// it by property name, so `Get-PveInventory -ConfigPath x | Test-PveVm` uses x's ssh and proxmox sections.
    /// </summary>
    public string? ConfigPath { get; init; }

    /// <summary>A copy of this guest that names the configuration file it came from.</summary>
    public Guest WithConfigPath(string? configPath) => new(Name, Kind)
    {
        VmId = VmId,
        Node = Node,
        Environment = Environment,
        Address = Address,
        Tags = Tags,
        Source = Source,
        ConfigPath = configPath,
    };

    public override string ToString() => Address is null ? Name : $"{Name} ({Address})";
}
