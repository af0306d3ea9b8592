using System.Management.Automation;
using System.Text.Json;
using PveHealth.Configuration;
using PveHealth.Exclusions;
using PveHealth.Inventory;
using PveHealth.Model;
using PveHealth.Planning;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// Get-PveInventory: guests from the configuration's inventory sources, an inventory or Terraform file (-Path),
/// `terraform output -json` text from the pipeline, or by running terraform/tofu in a folder (-TerraformDirectory).
/// Errors carry stable ids: InventoryInvalid, InventoryUnreadable, TerraformNotFound, TerraformFailed,
/// TerraformTimeout, ConfigInvalid, EnvironmentNotFound.
/// </summary>
[Cmdlet(VerbsCommon.Get, "PveInventory", DefaultParameterSetName = "Config")]
[OutputType("PveHealth.Model.Guest")]
public sealed class GetPveInventoryCommand : PSCmdlet
{
    private readonly System.Text.StringBuilder _pipelineText = new();
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>
    /// Environments from the configuration file (wildcards allowed); default all. With -Path, -TerraformDirectory or
    /// pipeline text: the environment the guests belong to (the first name), and for an inventory file grouped per
    /// environment, the groups to return (wildcards allowed).
    /// </summary>
    [Parameter(ParameterSetName = "Config", Position = 0)]
    [Parameter(ParameterSetName = "Path")]
    [Parameter(ParameterSetName = "Text")]
    [Parameter(ParameterSetName = "Terraform")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Environment { get; set; }

    /// <summary>Configuration file; default $env:PVE_HEALTH_CONFIG, else /etc/pve-health/config.json.</summary>
    [Parameter(ParameterSetName = "Config")]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    /// <summary>
    /// A file, recognised by its content: .yaml/.yml files and JSON files whose top level has "guests" or
    /// "environments" are inventory files (see examples/inventory.yaml); JSON with "version" and
    /// "terraform_version" is a Terraform state v4 file (its outputs are read); any other JSON is the text of
    /// `terraform output -json`.
    /// </summary>
    [Parameter(ParameterSetName = "Path", Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>`terraform output -json` text from the pipeline (terraform output -json | Get-PveInventory).</summary>
    [Parameter(ParameterSetName = "Text", Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string? InputObject { get; set; }

    /// <summary>Runs `terraform output -json` in this Terraform working directory (terraform, else tofu).</summary>
    [Parameter(ParameterSetName = "Terraform", Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string? TerraformDirectory { get; set; }

    /// <summary>The program to run for -TerraformDirectory, a path or a name on PATH; default terraform, else tofu.</summary>
    [Parameter(ParameterSetName = "Terraform")]
    [ValidateNotNullOrEmpty]
    public string? TerraformExecutable { get; set; }

    /// <summary>Seconds terraform may take before it is stopped (its whole process tree); default 60.</summary>
    [Parameter(ParameterSetName = "Terraform")]
    [ValidateRange(0.1, 3600)]
    public double TimeoutSec { get; set; } = 60;

    /// <summary>Outputs to read; default every non-sensitive output shaped like a guest list. A sensitive output is read only when named here, and its values are never printed.</summary>
    [Parameter(ParameterSetName = "Path")]
    [Parameter(ParameterSetName = "Text")]
    [Parameter(ParameterSetName = "Terraform")]
    [ValidateNotNullOrEmpty]
    public string[]? OutputName { get; set; }

    /// <summary>Kind of guests whose entry does not say (Terraform outputs); default Vm, or Lxc for outputs named like containers.</summary>
    [Parameter(ParameterSetName = "Path")]
    [Parameter(ParameterSetName = "Text")]
    [Parameter(ParameterSetName = "Terraform")]
    [ValidateSet("Vm", "Lxc")]
    public string? DefaultKind { get; set; }

    /// <summary>Only guests of this kind.</summary>
    [Parameter]
    [ValidateSet("Vm", "Lxc")]
    public string? Kind { get; set; }

    /// <summary>Only guests whose name matches one of these patterns (wildcards allowed).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    protected override void StopProcessing() => _cancel.Cancel();

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Text") _pipelineText.AppendLine(InputObject);
    }

    protected override void EndProcessing()
    {
        var label = Environment is { Length: > 0 } && !Wildcard.HasWildcard(Environment[0]) ? Environment[0] : string.Empty;
        var options = new InventoryConfig { Outputs = OutputName?.ToList(), DefaultKind = DefaultKind };
        object? target = Path ?? TerraformDirectory ?? (object?)"pipeline";
        try
        {
            switch (ParameterSetName)
            {
                case "Text":
                    Write(TerraformOutputReader.Read(_pipelineText.ToString(), "pipeline", label, options, isState: false));
                    break;
                case "Path":
                    var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path!);
                    target = path;
                    FromFile(path, label, options);
                    break;
                case "Terraform":
                    var dir = SessionState.Path.GetUnresolvedProviderPathFromPSPath(TerraformDirectory!);
                    target = dir;
                    options.Executable = TerraformExecutable;
                    options.TimeoutSec = TimeoutSec;
                    WriteVerbose($"Running terraform output -json in {dir} (timeout {TimeoutSec} s).");
                    Write(new TerraformCommandSource(dir, label, options).GetGuestsAsync(_cancel.Token).GetAwaiter().GetResult());
                    break;
                default:
                    FromConfig();
                    break;
            }
        }
        catch (EngineException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.From(ex, target));
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            // Ctrl+C: the pipeline is stopping.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.InventoryUnreadable, $"{target}: {ex.Message}", target, ex));
        }
    }

    private void FromFile(string path, string label, InventoryConfig options)
    {
        var text = InventoryFileText.Read(path, "the file");
        switch (InventorySourceFactory.DetectFileKind(path, text))
        {
            case InventoryFileKind.Inventory:
                WriteVerbose($"{path}: reading as an inventory file.");
                var result = InventoryFileReader.Read(text, path, label);
                var guests = result.Guests.AsEnumerable();
                if (result.Groups.Count > 0 && Environment is { Length: > 0 })
                {
                    guests = guests.Where(g => Environment.Any(p => Wildcard.IsMatch(p, g.Environment)));
                }
                Write(guests);
                break;
            case InventoryFileKind.State:
                WriteVerbose($"{path}: reading the outputs of a Terraform state file.");
                Write(TerraformOutputReader.Read(text, path, label, options, isState: true));
                break;
            default:
                WriteVerbose($"{path}: reading as terraform output -json text.");
                Write(TerraformOutputReader.Read(text, path, label, options, isState: false));
                break;
        }
    }

    private void FromConfig()
    {
        var config = CmdletConfiguration.Load(this, ConfigPath);
        // Default: every environment. EnvironmentNotFound (a name that matches none) comes from the planner's one rule.
        var names = HealthPlanner.SelectEnvironments(config, Environment ?? [], all: Environment is not { Length: > 0 });
        foreach (var name in names)
        {
            try
            {
                var source = InventorySourceFactory.Create(name, config.Environments[name]);
                if (source is null)
                {
                    WriteVerbose($"Environment {name} has no inventory section.");
                    continue;
                }
                WriteVerbose($"Environment {name}: reading {source.Description}.");
                // The guests carry the file they came from: `Get-PveInventory -ConfigPath x | Test-PveVm` uses x.
                Write(source.GetGuestsAsync(_cancel.Token).GetAwaiter().GetResult().Select(g => g.WithConfigPath(config.SourcePath)));
                if (source is ProxmoxInventorySource api)
                {
                    foreach (var note in api.Notes) WriteVerbose($"Environment {name}: {note}.");
                }
            }
            catch (InventoryException ex)
            {
                WriteError(ErrorRecordFactory.From(ex, name));
            }
        }
    }

    private void Write(IEnumerable<Guest> guests)
    {
        foreach (var guest in guests)
        {
            if (Kind is not null && !string.Equals(guest.Kind.ToString(), Kind, StringComparison.OrdinalIgnoreCase)) continue;
            if (Name is { Length: > 0 } && !Name.Any(p => Wildcard.IsMatch(p, guest.Name))) continue;
            WriteObject(guest);
        }
    }
}
