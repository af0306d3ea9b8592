using System.Management.Automation;
using PveHealth.Configuration;
using PveHealth.Inventory;
using PveHealth.Model;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// New-PveHealthConfig: writes a commented starting configuration (one environment with inventory, proxmox and ssh
/// sections whose secrets are file references), optionally seeded from a `terraform output -json` file. The text is
/// loaded back before it is written, so the file always parses; Test-PveHealthConfig then says what is still missing.
/// </summary>
[Cmdlet(VerbsCommon.New, "PveHealthConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(FileInfo))]
public sealed class NewPveHealthConfigCommand : PSCmdlet
{
    /// <summary>The file to write (for example /etc/pve-health/config.json).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = string.Empty;

    /// <summary>Name of the environment; default prod.</summary>
    [Parameter]
    [ValidatePattern(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    public string Environment { get; set; } = "prod";

    /// <summary>A file of `terraform output -json`: the inventory reads it, and its guests are named in a comment.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TerraformOutputPath { get; set; }

    /// <summary>Proxmox API URL (https://host:8006); default a placeholder.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ProxmoxUrl { get; set; }

    /// <summary>API token id USER@REALM!TOKENID; default monitor@pve!health.</summary>
    [Parameter]
    [ValidatePattern(@"^[^@!\s]+@[^@!\s]+![^@!\s]+$")]
    public string? TokenId { get; set; }

    /// <summary>Folder the token secret, SSH key and known_hosts files are referenced in; default /etc/pve-health.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string SecretFolder { get; set; } = "/etc/pve-health";

    /// <summary>Overwrite an existing file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void EndProcessing()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (ProxmoxUrl is not null && ServiceCmdletSupport.HttpUrl(ProxmoxUrl) is null)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.InvalidUrl, $"-ProxmoxUrl: expected an absolute http(s) URL such as https://pve1.example.net:8006; found '{ProxmoxUrl}'.", ProxmoxUrl));
        }
        string? tfPath = null;
        IReadOnlyList<Guest> guests = [];
        if (TerraformOutputPath is not null)
        {
            tfPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(TerraformOutputPath);
            try
            {
                var text = InventoryFileText.Read(tfPath, "the file");
                guests = TerraformOutputReader.Read(text, tfPath, Environment, new InventoryConfig(), isState: false);
            }
            catch (EngineException ex)
            {
                ThrowTerminatingError(ErrorRecordFactory.From(ex, tfPath));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.InventoryUnreadable, $"{tfPath}: {ex.Message}", tfPath, ex));
            }
            WriteVerbose($"{tfPath}: {guests.Count} guests.");
        }
        var content = ConfigTemplate.Create(new ConfigTemplateRequest
        {
            Environment = Environment,
            ProxmoxUrl = ProxmoxUrl,
            TokenId = TokenId,
            TerraformOutputPath = tfPath,
            SeededGuests = guests,
            SecretFolder = SecretFolder,
        });
        // The written file always loads: parse it as the run would before writing it.
        ConfigLoader.Parse(content, path, out _);
        if (File.Exists(path) && !Force)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.ConfigFileExists, $"{path} exists; use -Force to overwrite it, or another -Path.", path));
        }
        if (!ShouldProcess(path, "Write a starting PveHealth configuration")) return;
        try
        {
            var folder = System.IO.Path.GetDirectoryName(path);
            if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
            {
                ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.ConfigWriteFailed, $"{path}: the folder {folder} does not exist.", path));
            }
            File.WriteAllText(path, content);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.ConfigWriteFailed, $"{path}: cannot write the configuration: {ex.Message}", path, ex));
        }
        WriteObject(new FileInfo(path));
    }
}
