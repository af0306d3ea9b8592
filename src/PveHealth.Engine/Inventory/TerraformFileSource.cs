using PveHealth.Configuration;
using PveHealth.Model;

namespace PveHealth.Inventory;

/// <summary>A file holding `terraform output -json` text, or a Terraform state v4 file.</summary>
public sealed class TerraformFileSource : IInventorySource
{
    private readonly string _path;
    private readonly string _environment;
    private readonly InventoryConfig? _options;
    private readonly bool _isState;

    public TerraformFileSource(string path, string environment, InventoryConfig? options, bool isState)
    {
        _path = path;
        _environment = environment;
        _options = options;
        _isState = isState;
    }

    public string Description => $"{(_isState ? "terraform-state" : "terraform-output")}:{_path}";
    public bool IsLocal => true;

    public async Task<IReadOnlyList<Guest>> GetGuestsAsync(CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await BoundedInput.ReadFileTextAsync(_path, BoundedInput.InventoryBytes, _path, cancellationToken).ConfigureAwait(false);
        }
        catch (InputTooLargeException ex)
        {
            throw new InventoryException(ex.Message + ".") { Failure = EngineFailure.InventoryTooLarge };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InventoryException($"{_path}: cannot read the file: {ex.Message}") { Failure = EngineFailure.InventoryUnreadable };
        }
        return TerraformOutputReader.Read(text, _path, _environment, _options, _isState);
    }
}
