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

    public override string ToString() => Address is null ? Name : $"{Name} ({Address})";
}
