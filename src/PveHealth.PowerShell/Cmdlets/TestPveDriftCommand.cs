using System.Management.Automation;
using PveHealth.Checks.Drift;
using PveHealth.Configuration;
using PveHealth.Execution;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// Test-PveDrift: the Drift group alone: the guests the Terraform state declares against the Proxmox cluster
/// (missing, unmanaged, stopped, start at boot, attributes), one result per guest and per finding.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "PveDrift")]
[OutputType("PveHealth.Model.CheckResult")]
public sealed class TestPveDriftCommand : CheckCmdletBase
{
    /// <summary>Configuration file; default $env:PVE_HEALTH_CONFIG, else /etc/pve-health/config.json.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    /// <summary>Environments from the configuration (wildcards allowed); default the only one, or all.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Environment { get; set; }

    /// <summary>Terraform state files to compare instead of the configured ones (drift.statePaths, drift.stateObjects).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? StatePath { get; set; }

    protected override void EndProcessing()
    {
        var (contexts, options) = ServiceCmdletSupport.Load(this, ConfigPath, Environment, RunParameters());
        var provider = new DriftCheckProvider();
        var units = new List<CheckUnit>();
        var owned = new List<EnvironmentContext>(contexts);
        foreach (var context in contexts)
        {
            var env = context;
            if (StatePath is { Length: > 0 })
            {
                var paths = StatePath.Select(p => GetUnresolvedProviderPathFromPSPath(p)).ToList();
                var drift = context.Config.Drift ?? new DriftConfig();
                var config = new DriftConfig
                {
                    StatePaths = paths, MaxStateAgeHours = drift.MaxStateAgeHours, Unmanaged = drift.Unmanaged,
                    PinNodes = drift.PinNodes, ExpectRunning = drift.ExpectRunning,
                };
                var envConfig = new EnvironmentConfig
                {
                    Inventory = context.Config.Inventory, Proxmox = context.Config.Proxmox, Ssh = context.Config.Ssh, Checks = context.Config.Checks,
                    Monitoring = context.Config.Monitoring, Minio = context.Config.Minio, TimeoutSec = context.Config.TimeoutSec, Drift = config,
                };
                env = new EnvironmentContext(context.Name, envConfig, context.Options);
                owned.Add(env);
            }
            if (env.Config.Proxmox is null || env.Config.Drift is null)
            {
                WriteVerbose($"Environment {context.Name} has no {(env.Config.Proxmox is null ? "proxmox" : "drift")} section.");
                continue;
            }
            units.AddRange(provider.Create(env));
        }
        if (units.Count == 0)
        {
            WriteError(ErrorRecordFactory.Create(EngineFailure.NoDriftConfigured, "no environment selected has a \"drift\" and a \"proxmox\" section: add them (see Get-Help about_PveHealth, docs/HEALTH-CHECKS.md#drift-the-estate-as-declared), or pass -StatePath with an environment that has a proxmox section.", ConfigPath));
        }
        try
        {
            RunAndWrite(units, options);
        }
        finally
        {
            foreach (var context in owned) context.Dispose();
        }
        WriteSummary();
    }
}
