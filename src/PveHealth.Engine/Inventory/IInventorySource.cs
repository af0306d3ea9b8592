using PveHealth.Model;

namespace PveHealth.Inventory;

/// <summary>Where the guests of an environment come from.</summary>
public interface IInventorySource
{
    /// <summary>"terraform-output:/path", "inventory:/path", "proxmox:https://..." — also the Source of each guest.</summary>
    string Description { get; }

    /// <summary>True when reading the source contacts nothing (a local file): the dry run may read it.</summary>
    bool IsLocal { get; }

    /// <summary>Reads the guests. Throws <see cref="InventoryException"/> with an actionable message.</summary>
    Task<IReadOnlyList<Guest>> GetGuestsAsync(CancellationToken cancellationToken);
}

/// <summary>An inventory that cannot be read. The message names the source and, for JSON, the path that is wrong; it never holds a sensitive value.</summary>
public sealed class InventoryException : Exception
{
    public InventoryException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>Stable id for the PowerShell error record: InventoryInvalid, InventoryUnreadable, TerraformNotFound, TerraformFailed, TerraformTimeout.</summary>
    public string ErrorId { get; init; } = "InventoryInvalid";

    /// <summary>JSON path of the value that is wrong, when the error is about one.</summary>
    public string? JsonPath { get; init; }
}
