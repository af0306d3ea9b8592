namespace PveHealth.Inventory;

/// <summary>
/// Reads a local inventory-bearing file (an inventory file, `terraform output -json` text or a state file) under the
/// inventory size cap, turning a file that is too large or unreadable into the <see cref="InventoryException"/> every
/// file source reports.
/// </summary>
public static class InventoryFileText
{
    /// <param name="path">The file to read.</param>
    /// <param name="what">How the error names the file, e.g. "the file" or "the inventory file".</param>
    /// <param name="cancellationToken">Ends the read.</param>
    public static Task<string> ReadAsync(string path, string what, CancellationToken cancellationToken)
        => Task.Run(() => Read(path, what), cancellationToken);

    /// <inheritdoc cref="ReadAsync"/>
    public static string Read(string path, string what)
    {
        try
        {
            return BoundedInput.ReadFileText(path, BoundedInput.InventoryBytes, path);
        }
        catch (InvalidTextException ex)
        {
            throw new InventoryException(ex.Message + ".") { Failure = EngineFailure.InventoryInvalid };
        }
        catch (InputTooLargeException ex)
        {
            throw new InventoryException(ex.Message + ".") { Failure = EngineFailure.InventoryTooLarge };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InventoryException($"{path}: cannot read {what}: {ex.Message}") { Failure = EngineFailure.InventoryUnreadable };
        }
    }
}
