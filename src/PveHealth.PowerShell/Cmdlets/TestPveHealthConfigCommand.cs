using System.Management.Automation;
using PveHealth.Planning;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// Test-PveHealthConfig: validates a configuration file without contacting anything (schema and values, check names,
/// referenced files and secret variables, the exclusions file's patterns) and writes one ConfigFinding per problem.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "PveHealthConfig")]
[OutputType(typeof(ConfigFinding), typeof(bool))]
public sealed class TestPveHealthConfigCommand : PSCmdlet
{
    /// <summary>Configuration file; default $env:PVE_HEALTH_CONFIG, else /etc/pve-health/config.json. Files from Get-ChildItem bind by FullName.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    /// <summary>Writes only $true when the file has no Error finding, else $false (warnings do not count).</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        var path = CmdletConfiguration.ResolvePath(this, ConfigPath);
        var findings = ConfigInspector.Inspect(path, out _);
        var errors = findings.Count(f => f.Severity == ConfigFindingSeverity.Error);
        var warnings = findings.Count - errors;
        if (Quiet)
        {
            WriteObject(errors == 0);
            return;
        }
        foreach (var finding in findings) WriteObject(finding);
        var text = $"{path}: {errors} {(errors == 1 ? "error" : "errors")}, {warnings} {(warnings == 1 ? "warning" : "warnings")} (checked without contacting any host).";
        WriteInformation(new HostInformationMessage { Message = text, NoNewLine = false }, ["PSHOST", "PveHealthSummary"]);
    }
}
