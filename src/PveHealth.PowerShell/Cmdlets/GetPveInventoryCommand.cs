using System.Management.Automation;
using PveHealth.Configuration;
using PveHealth.Inventory;
using PveHealth.Model;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>Get-PveInventory: guests from Terraform output, a state file, an inventory file or the configuration.</summary>
[Cmdlet(VerbsCommon.Get, "PveInventory", DefaultParameterSetName = "Config")]
[OutputType("PveHealth.Model.Guest")]
public sealed class GetPveInventoryCommand : PSCmdlet
{
    private readonly System.Text.StringBuilder _pipelineText = new();

    /// <summary>Environments from the configuration file (wildcards allowed); default all.</summary>
    [Parameter(ParameterSetName = "Config", Position = 0)]
    [Parameter(ParameterSetName = "Path")]
    [Parameter(ParameterSetName = "Text")]
    [SupportsWildcards]
    public string[]? Environment { get; set; }

    /// <summary>Configuration file; default $env:PVE_HEALTH_CONFIG, else /etc/pve-health/config.json.</summary>
    [Parameter(ParameterSetName = "Config")]
    public string? ConfigPath { get; set; }

    /// <summary>A file of `terraform output -json` text or a Terraform state v4 file.</summary>
    [Parameter(ParameterSetName = "Path", Mandatory = true)]
    public string? Path { get; set; }

    /// <summary>`terraform output -json` text from the pipeline (terraform output -json | Get-PveInventory).</summary>
    [Parameter(ParameterSetName = "Text", Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string? InputObject { get; set; }

    /// <summary>Outputs to read; default every non-sensitive output shaped like a guest list.</summary>
    [Parameter(ParameterSetName = "Path")]
    [Parameter(ParameterSetName = "Text")]
    public string[]? OutputName { get; set; }

    /// <summary>Kind of guests whose entry does not say.</summary>
    [Parameter(ParameterSetName = "Path")]
    [Parameter(ParameterSetName = "Text")]
    [ValidateSet("Vm", "Lxc")]
    public string? DefaultKind { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Text") _pipelineText.AppendLine(InputObject);
    }

    protected override void EndProcessing()
    {
        var environment = Environment is { Length: > 0 } ? Environment[0] : string.Empty;
        var options = new InventoryConfig { Outputs = OutputName?.ToList(), DefaultKind = DefaultKind };
        try
        {
            switch (ParameterSetName)
            {
                case "Text":
                    Write(TerraformOutputReader.Read(_pipelineText.ToString(), "pipeline", environment, options, isState: false));
                    break;
                case "Path":
                    var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path!);
                    var text = File.ReadAllText(path);
                    var isState = text.Contains("\"lineage\"", StringComparison.Ordinal) && text.Contains("\"terraform_version\"", StringComparison.Ordinal);
                    Write(TerraformOutputReader.Read(text, path, environment, options, isState));
                    break;
                default:
                    FromConfig();
                    break;
            }
        }
        catch (InventoryException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, "InventoryInvalid", ErrorCategory.InvalidData, Path) { ErrorDetails = new ErrorDetails(ex.Message) });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new ErrorRecord(ex, "InventoryUnreadable", ErrorCategory.ReadError, Path) { ErrorDetails = new ErrorDetails($"{Path}: {ex.Message}") });
        }
    }

    private void FromConfig()
    {
        var configPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(ConfigLoader.ResolvePath(ConfigPath));
        PveHealthConfig config;
        try
        {
            config = ConfigLoader.Load(configPath, out var warnings);
            foreach (var w in warnings) WriteWarning(w);
        }
        catch (ConfigException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, "ConfigInvalid", ErrorCategory.InvalidData, configPath) { ErrorDetails = new ErrorDetails(ex.Message) });
            return;
        }
        var names = config.Environments.Keys.OrderBy(n => n, StringComparer.OrdinalIgnoreCase)
            .Where(n => Environment is not { Length: > 0 } || Environment.Any(p => Exclusions.Wildcard.IsMatch(p, n))).ToList();
        if (names.Count == 0)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("no environment matched"), "EnvironmentNotFound", ErrorCategory.ObjectNotFound, Environment)
            { ErrorDetails = new ErrorDetails($"no environment of {configPath} matches {string.Join(", ", Environment ?? [])}; configured: {string.Join(", ", config.Environments.Keys)}.") });
        }
        foreach (var name in names)
        {
            var source = InventorySourceFactory.Create(name, config.Environments[name]);
            if (source is null)
            {
                WriteVerbose($"Environment {name} has no inventory section.");
                continue;
            }
            try
            {
                Write(source.GetGuestsAsync(CancellationToken.None).GetAwaiter().GetResult());
            }
            catch (InventoryException ex)
            {
                WriteError(new ErrorRecord(ex, "InventoryInvalid", ErrorCategory.InvalidData, name) { ErrorDetails = new ErrorDetails(ex.Message) });
            }
        }
    }

    private void Write(IEnumerable<Guest> guests)
    {
        foreach (var guest in guests) WriteObject(guest);
    }
}
