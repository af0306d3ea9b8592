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
        var text = await InventoryFileText.ReadAsync(_path, "the file", cancellationToken).ConfigureAwait(false);
        return TerraformOutputReader.Read(text, _path, _environment, _options, _isState);
    }
}
