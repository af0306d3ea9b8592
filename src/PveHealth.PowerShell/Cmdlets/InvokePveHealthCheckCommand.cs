using System.Management.Automation;
using PveHealth.Configuration;
using PveHealth.Exclusions;
using PveHealth.Execution;
using PveHealth.Planning;
using PveHealth.Inventory;
using PveHealth.Model;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>Invoke-PveHealthCheck: the whole run, from the configuration file.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "PveHealthCheck", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Environment")]
[OutputType("PveHealth.Model.CheckResult")]
public sealed class InvokePveHealthCheckCommand : CheckCmdletBase
{
    /// <summary>Environments to check (names from the configuration, wildcards allowed).</summary>
    [Parameter(ParameterSetName = "Environment", Position = 0)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Environment { get; set; }

    /// <summary>Check every configured environment.</summary>
    [Parameter(ParameterSetName = "All", Mandatory = true)]
    public SwitchParameter All { get; set; }

    /// <summary>Vm, Lxc, Monitoring, Minio, Cluster, or component names; wildcards allowed.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Component { get; set; }

    /// <summary>Patterns to skip ("web-*", "web-01:Docker"); they add to the exclusions file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Exclude { get; set; }

    /// <summary>Exclusions file; default the configuration's defaults.exclusionPath, else /etc/pve-health/exclusions.conf.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ExclusionPath { get; set; }

    /// <summary>Configuration file; default $env:PVE_HEALTH_CONFIG, else /etc/pve-health/config.json.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    protected override void EndProcessing()
    {
        var config = CmdletConfiguration.Load(this, ConfigPath);

        var exclusions = LoadExclusions(config);
        var options = new RunOptions
        {
            CheckTimeout = TimeSpan.FromSeconds(MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec)) ? TimeoutSec : config.Defaults.TimeoutSec),
            ThrottleLimit = MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)) ? ThrottleLimit : config.Defaults.ThrottleLimit,
            RunTimeout = TimeSpan.FromSeconds(config.Defaults.RunTimeoutSec),
        };
        var dryRun = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w2) && w2 is SwitchParameter { IsPresent: true };
        var request = new PlanRequest
        {
            Environments = Environment ?? [],
            All = All.IsPresent,
            Components = Component ?? [],
            Exclusions = exclusions,
            DryRun = dryRun,
            Options = options,
            TimeoutFromParameter = MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec)),
        };

        var planner = new HealthPlanner(config, InventorySourceFactory.Create);
        HealthPlan plan;
        try
        {
            plan = planner.BuildAsync(request, Cancellation).GetAwaiter().GetResult();
        }
        catch (EngineException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.From(ex));
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        WriteVerbose($"Plan: {plan.Units.Count} check units in {string.Join(", ", plan.EnvironmentNames)}; {plan.Decided.Count} decided without running.");

        foreach (var warning in plan.Warnings) WriteWarning(warning);
        foreach (var name in plan.EnvironmentNames)
        {
            if (config.Environments[name].Proxmox is { SkipCertificateCheck: true } pve)
            {
                WriteWarning($"environment {name}: TLS certificate verification of the Proxmox API {pve.Url} is OFF (proxmox.skipCertificateCheck); pin proxmox.fingerprint or set proxmox.caFile.");
            }
        }
        ShowEnvironment = plan.EnvironmentNames.Count > 1;
        foreach (var decided in plan.Decided) WriteResult(decided);
        if (dryRun)
        {
            // The dry run lists the exclusions in force (expired ones are Warning rows above).
            foreach (var rule in exclusions.Active)
            {
                ShouldProcess($"'{rule.Text}' ({rule.Source}{(rule.Window.Length == 0 ? "" : "; " + rule.Window)})", "Apply exclusion");
            }
        }
        foreach (var deferred in plan.Deferred)
        {
            ShouldProcess(deferred, "Discover guests");
        }

        var toRun = new List<CheckUnit>(plan.Units.Count);
        foreach (var unit in plan.Units)
        {
            var approved = unit.Checks.Where(check => ShouldProcess($"{unit.Environment}/{unit.Describe(check)}", check)).ToList();
            if (approved.Count == unit.Checks.Count) toRun.Add(unit);
            else if (approved.Count > 0) toRun.Add(unit.WithChecks(approved));
        }
        RunAndWrite(toRun, options);
        if (!dryRun) WriteSummary();
    }

    private ExclusionSet LoadExclusions(PveHealthConfig config)
    {
        var explicitPath = ExclusionPath ?? config.Defaults.ExclusionPath;
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(explicitPath ?? ExclusionSet.DefaultPath);
        ExclusionSet set;
        if (File.Exists(path))
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.ExclusionFileUnreadable, $"{path}: cannot read the exclusions file: {ex.Message}", path, ex));
                return new ExclusionSet();
            }
            set = ExclusionSet.ParseFile(path, text, out var errors);
            foreach (var error in errors)
            {
                WriteError(ErrorRecordFactory.Create(EngineFailure.ExclusionLineInvalid, error + "; the line is ignored.", path));
            }
            WriteVerbose($"{set.Rules.Count} exclusion rules from {path}.");
        }
        else
        {
            if (explicitPath is not null)
            {
                ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.ExclusionFileNotFound, $"{path}: exclusions file not found.", path));
            }
            WriteVerbose($"No exclusions file at {path}.");
            set = new ExclusionSet();
        }
        foreach (var text in Exclude ?? [])
        {
            var rule = ExclusionRule.Parse(text, "-Exclude", out var error);
            if (rule is null)
            {
                ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.ExcludeInvalid, $"-Exclude: {error}.", text));
            }
            else set.Add(rule);
        }
        return set;
    }
}
