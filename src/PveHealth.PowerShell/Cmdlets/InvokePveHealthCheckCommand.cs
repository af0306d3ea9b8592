using PveHealth.Checks;
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
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string[]? Environment { get; set; }

    /// <summary>Check every configured environment.</summary>
    [Parameter(ParameterSetName = "All", Mandatory = true)]
    public SwitchParameter All { get; set; }

    /// <summary>Vm, Lxc, Monitoring, Minio, Cluster, or component names; wildcards allowed.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ComponentCompleter))]
    public string[]? Component { get; set; }

    /// <summary>Only these checks (names of the catalog, wildcards allowed: Ping, Ssh, "Api*").</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(CheckNameCompleter))]
    public string[]? Check { get; set; }

    /// <summary>Patterns to skip ("web-*", "web-01:Docker"); they add to the exclusions file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ExcludeCompleter))]
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
        var parameters = RunParameters();
        var options = RunPolicy.Options(config, parameters);
        var dryRun = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w2) && w2 is SwitchParameter { IsPresent: true };
        var request = new PlanRequest
        {
            Environments = Environment ?? [],
            All = All.IsPresent,
            Components = Component ?? [],
            Exclusions = exclusions,
            DryRun = dryRun,
            Options = options,
            TimeoutFromParameter = parameters.TimeoutSec is not null,
        };

        var planner = new HealthPlanner(config, InventorySourceFactory.ForRun);
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
        using var ownedPlan = plan; // the contexts and their clients are disposed when the run is over
        WriteVerbose($"Plan: {plan.Units.Count} check units in {string.Join(", ", plan.EnvironmentNames)}; {plan.Decided.Count} decided without running.");

        SelectChecks(plan);
        WarnUnmatched(plan);
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
            // The dry run notices a referenced secret, key, CA or inventory file that the run would miss (Test-PveHealthConfig's check).
            foreach (var finding in ConfigInspector.CheckReferences(config))
            {
                if (finding.Location.StartsWith("$.environments.", StringComparison.Ordinal)
                    && !plan.EnvironmentNames.Any(n => finding.Location.StartsWith($"$.environments.{n}.", StringComparison.OrdinalIgnoreCase))) continue;
                WriteWarning($"{finding.Location}: {finding.Message}");
            }
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
        else
        {
            var planned = plan.Units.Sum(u => u.Checks.Count);
            var text = $"What if: {planned} {(planned == 1 ? "check" : "checks")} planned in {string.Join(", ", plan.EnvironmentNames)}"
                + (plan.Decided.Count > 0 ? $", {plan.Decided.Count} decided without running" : string.Empty)
                + (plan.Deferred.Count > 0 ? $"; {plan.Deferred.Count} inventory {(plan.Deferred.Count == 1 ? "source" : "sources")} not read (they would contact a host)" : string.Empty) + ".";
            WriteInformation(new HostInformationMessage { Message = text, NoNewLine = false }, ["PSHOST", "PveHealthSummary"]);
        }
    }

    /// <summary>-Check: keeps only the checks whose names match; a pattern that names no check of the catalog is warned about.</summary>
    private void SelectChecks(HealthPlan plan)
    {
        if (Check is not { Length: > 0 }) return;
        var patterns = Check.Select(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase)).ToList();
        bool Wanted(string check) => patterns.Any(p => p.IsMatch(check));
        foreach (var (text, pattern) in Check.Zip(patterns))
        {
            if (!CheckCatalog.AllChecks.Any(pattern.IsMatch))
            {
                WriteWarning($"-Check '{text}' matches no check of this version ({string.Join(", ", CheckCatalog.AllChecks)}).");
            }
        }
        plan.Decided.RemoveAll(d => !Wanted(d.Check));
        for (var i = plan.Units.Count - 1; i >= 0; i--)
        {
            var unit = plan.Units[i];
            var kept = unit.Checks.Where(Wanted).ToList();
            if (kept.Count == 0) plan.Units.RemoveAt(i);
            else if (kept.Count < unit.Checks.Count) plan.Units[i] = unit.WithChecks(kept);
        }
    }

    /// <summary>A -Component or -Exclude pattern that matched nothing is almost always a typo: say so.</summary>
    private void WarnUnmatched(HealthPlan plan)
    {
        if (plan.Deferred.Count > 0) return; // an inventory was not read (dry run): its guests are unknown
        var where = string.Join(", ", plan.EnvironmentNames);
        foreach (var text in Component ?? [])
        {
            var pattern = WildcardPattern.Get(text, WildcardOptions.IgnoreCase);
            var matched = CheckCatalog.Groups.Any(pattern.IsMatch)
                || plan.Units.Any(u => pattern.IsMatch(u.Component) || pattern.IsMatch(u.Type))
                || plan.Decided.Any(d => pattern.IsMatch(d.Component) || pattern.IsMatch(d.Type));
            if (!matched) WriteWarning($"-Component '{text}' matches no group ({string.Join(", ", CheckCatalog.Groups)}) and no component of {where}.");
        }
        foreach (var text in Exclude ?? [])
        {
            var rule = ExclusionRule.Parse(text, "-Exclude", out _);
            if (rule is null) continue;
            var prefix = $"excluded by '{rule.Text}'";
            if (!plan.Decided.Any(d => d.Status == CheckStatus.Skipped && d.Detail.StartsWith(prefix, StringComparison.Ordinal)))
            {
                WriteWarning($"-Exclude '{text}' excluded nothing in {where}: no component or check of the plan matches it.");
            }
        }
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
                text = BoundedInput.ReadFileText(path, BoundedInput.ExclusionFileBytes, $"the exclusions file {path}");
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
