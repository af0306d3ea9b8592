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
public sealed class InventoryException : EngineException
{
    /// <summary>An inventory failure; <see cref="EngineException.Failure"/> is InventoryInvalid unless set (InventoryUnreadable, TerraformNotFound, TerraformFailed, TerraformTimeout).</summary>
    public InventoryException(string message, Exception? inner = null) : base(EngineFailure.InventoryInvalid, message, null, inner) { }

    /// <summary>JSON path of the value that is wrong, when the error is about one.</summary>
    public string? JsonPath { get; init; }
}
