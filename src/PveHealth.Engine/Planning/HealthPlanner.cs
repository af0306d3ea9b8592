using PveHealth.Checks;
using PveHealth.Configuration;
using PveHealth.Exclusions;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Model;

namespace PveHealth.Planning;

/// <summary>What Invoke-PveHealthCheck asked for.</summary>
public sealed class PlanRequest
{
    /// <summary>Environment names (wildcards allowed); empty with <see cref="All"/> false means "the only one".</summary>
    public IReadOnlyList<string> Environments { get; init; } = [];
    public bool All { get; init; }
    /// <summary>Groups of the catalog (Vm, Lxc, Monitoring, Minio, Cluster, ...) or component names, wildcards allowed; empty means everything.</summary>
    public IReadOnlyList<string> Components { get; init; } = [];
    public ExclusionSet Exclusions { get; init; } = new();
    /// <summary>The dry run: sources that would contact a host are not read.</summary>
    public bool DryRun { get; init; }
    public RunOptions Options { get; init; } = new();
    /// <summary>True when the check timeout was given on the command line (-TimeoutSec): it then wins over an environment's timeoutSec.</summary>
    public bool TimeoutFromParameter { get; init; }
}

/// <summary>The checks a run will make, and what was decided without running anything.</summary>
public sealed class HealthPlan : IDisposable
{
    /// <summary>The environments' contexts the units share (clients, answers); disposed with the plan after the run.</summary>
    public List<EnvironmentContext> Contexts { get; } = new();

    /// <summary>Disposes the contexts and the clients they created.</summary>
    public void Dispose()
    {
        foreach (var context in Contexts) context.Dispose();
    }

    public List<CheckUnit> Units { get; } = new();
    /// <summary>Skipped (excluded, not applicable) and Unknown (inventory unreadable) results decided while planning.</summary>
    public List<CheckResult> Decided { get; } = new();
    /// <summary>Sources the dry run did not read, as "environment: description".</summary>
    public List<string> Deferred { get; } = new();
    public List<string> EnvironmentNames { get; } = new();

    private readonly HashSet<(string Environment, IGuestCheckProvider Provider)> _setupLooked = new();

    /// <summary>True the first time a provider's setup is looked at for an environment of this plan.</summary>
    internal bool FirstSetupLook(string environment, IGuestCheckProvider provider) => _setupLooked.Add((environment, provider));
}

/// <summary>
/// Turns the configuration and a request into check units: selects environments and components,
/// reads inventories, asks each registered provider for units, and applies exclusions
/// (an excluded check becomes Skipped with the rule and where it came from).
/// </summary>
public sealed class HealthPlanner
{
    public const string InventoryCheck = CheckCatalog.InventoryCheck;

    private readonly PveHealthConfig _config;
    private readonly Func<string, EnvironmentConfig, IEnvironmentScope, IInventorySource?> _inventoryFactory;

    public HealthPlanner(PveHealthConfig config, Func<string, EnvironmentConfig, IInventorySource?> inventoryFactory)
        : this(config, (name, env, _) => inventoryFactory(name, env))
    {
    }

    /// <summary>A planner whose inventory sources see the run's environment (<see cref="InventorySourceFactory.ForRun"/>).</summary>
    public HealthPlanner(PveHealthConfig config, Func<string, EnvironmentConfig, IEnvironmentScope, IInventorySource?> inventoryFactory)
    {
        _config = config;
        _inventoryFactory = inventoryFactory;
    }

    /// <summary>Resolves -Environment/-All to configured names; see <see cref="SelectEnvironments(PveHealthConfig, IReadOnlyList{string}, bool)"/>.</summary>
    public IReadOnlyList<string> SelectEnvironments(PlanRequest request) => SelectEnvironments(_config, request.Environments, request.All);

    /// <summary>
    /// The one rule every command uses to resolve -Environment: <paramref name="all"/> gives every configured environment;
    /// no names gives the only one; each name (wildcards allowed) must match at least one. Anything else throws an
    /// <see cref="EngineException"/> EnvironmentNotFound naming the choices, whose target is the name that matched nothing.
    /// </summary>
    public static IReadOnlyList<string> SelectEnvironments(PveHealthConfig config, IReadOnlyList<string> wanted, bool all)
    {
        var names = config.Environments.Keys.OrderBy(n => n, StringComparer.OrdinalIgnoreCase).ToList();
        if (all) return names;
        if (wanted.Count == 0)
        {
            if (names.Count == 1) return names;
            throw new EngineException(EngineFailure.EnvironmentNotFound,
                $"{config.SourcePath} defines {names.Count} environments ({string.Join(", ", names)}): choose with -Environment or use -All.", config.SourcePath);
        }
        var selected = new List<string>();
        foreach (var pattern in wanted)
        {
            var matches = names.Where(n => Wildcard.IsMatch(pattern, n)).ToList();
            if (matches.Count == 0)
            {
                throw new EngineException(EngineFailure.EnvironmentNotFound,
                    $"environment '{pattern}' is not in {config.SourcePath}; configured: {string.Join(", ", names)}.", pattern);
            }
            selected.AddRange(matches.Where(m => !selected.Contains(m, StringComparer.OrdinalIgnoreCase)));
        }
        return selected;
    }

    public async Task<HealthPlan> BuildAsync(PlanRequest request, CancellationToken cancellationToken)
    {
        var plan = new HealthPlan();
        foreach (var name in SelectEnvironments(request))
        {
            var envConfig = _config.Environments[name];
            var parameters = new RunParameters { TimeoutSec = request.TimeoutFromParameter ? request.Options.CheckTimeout.TotalSeconds : null };
            var timeout = RunPolicy.EnvironmentTimeout(envConfig, parameters);
            var context = RunPolicy.Context(name, envConfig, request.Options, parameters);
            plan.Contexts.Add(context);
            var exclusions = request.Exclusions;
            context.Excluded = (component, type, group, check) => exclusions.Find(component, type, group, check)?.Describe();
            plan.EnvironmentNames.Add(name);
            foreach (var expired in exclusions.Expired) plan.Decided.Add(ExpiredExclusion(name, expired));
            var first = plan.Units.Count;
            await PlanGuestsAsync(context, request, plan, cancellationToken).ConfigureAwait(false);
            foreach (var provider in CheckCatalog.ServiceProviders)
            {
                foreach (var unit in provider.Create(context))
                {
                    if (!Selected(request, unit.Component, unit.Type, provider.Group)) continue;
                    AddWithExclusions(plan, request.Exclusions, unit, provider.Group);
                }
            }
            // The environment's own timeoutSec applies to its units (an explicit -TimeoutSec wins over it).
            if (timeout is TimeSpan envTimeout)
            {
                for (var i = first; i < plan.Units.Count; i++) plan.Units[i].Timeout ??= envTimeout;
            }
        }
        return plan;
    }

    private async Task PlanGuestsAsync(EnvironmentContext context, PlanRequest request, HealthPlan plan, CancellationToken ct)
    {
        var env = context.Config;
        if (env.Inventory is null) return;
        var wantsGuests = request.Components.Count == 0 || request.Components.Any(c => !IsServiceGroup(c));
        // Service groups that report per declared guest (Backups) need the inventory even when no guest check runs.
        var groupsNeedGuests = CheckCatalog.ServiceProviders.OfType<IGuestListConsumer>().Any(p => Selected(request, p.Group, p.Group, p.Group));
        if (!wantsGuests && !groupsNeedGuests) return;
        IInventorySource? source;
        try
        {
            source = _inventoryFactory(context.Name, env, context);
        }
        catch (InventoryException ex)
        {
            plan.Decided.Add(new CheckResult(context.Name, "inventory", "Inventory", InventoryCheck, CheckStatus.Unknown, ex.Message, TimeSpan.Zero));
            return;
        }
        if (source is null) return;
        if (request.DryRun && !source.IsLocal)
        {
            plan.Deferred.Add($"{context.Name}: {source.Description}");
            return;
        }
        IReadOnlyList<Guest> guests;
        var started = System.Diagnostics.Stopwatch.StartNew();
        // Discovery is part of the run: it ends at the run deadline like the checks after it.
        using var runDeadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        runDeadline.CancelAfter(request.Options.RunRemaining);
        try
        {
            guests = await source.GetGuestsAsync(runDeadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            plan.Decided.Add(new CheckResult(context.Name, "inventory", "Inventory", InventoryCheck, CheckStatus.Unknown,
                $"{source.Description}: stopped: the run deadline of {request.Options.RunTimeout.TotalSeconds:0.###} s was reached while reading the inventory", started.Elapsed, source.Description));
            return;
        }
        catch (InventoryException ex)
        {
            plan.Decided.Add(new CheckResult(context.Name, "inventory", "Inventory", InventoryCheck, CheckStatus.Unknown, ex.Message, started.Elapsed, source.Description));
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Whatever a source throws stays with its environment: the other environments are still planned and run.
            plan.Decided.Add(new CheckResult(context.Name, "inventory", "Inventory", InventoryCheck, CheckStatus.Unknown,
                $"{source.Description}: internal error reading the inventory ({ex.GetType().Name}: {ex.Message})", started.Elapsed, source.Description));
            return;
        }
        context.Guests = guests;
        if (!wantsGuests) return;
        var wanted = (env.Checks is { Count: > 0 } configured ? configured : CheckCatalog.GuestChecks.ToList());
        // A configured check the catalog does not know never gets here: CheckCatalog.Validate rejects it when the file is loaded.
        foreach (var guest in guests)
        {
            var group = guest.Kind.ToString();
            if (!Selected(request, guest.Name, group, group)) continue;
            // Checks not listed explicitly: run what the environment is configured for, quietly.
            PlanGuest(plan, context, guest, wanted, request.Exclusions, reportUnconfigured: env.Checks is { Count: > 0 });
        }
    }

    /// <summary>
    /// The units of one guest for the <paramref name="wanted"/> checks, from every registered provider, with
    /// exclusions applied (excluded checks become Skipped). A check whose provider cannot run it (no ssh or
    /// proxmox section, not applicable) becomes Skipped with the reason when <paramref name="reportUnconfigured"/>,
    /// else it is left out. Used by the planner and by Test-PveVm.
    /// </summary>
    public static void PlanGuest(HealthPlan plan, EnvironmentContext context, Guest guest, IReadOnlyList<string> wanted, ExclusionSet exclusions, bool reportUnconfigured)
    {
        var group = guest.Kind.ToString();
        foreach (var provider in CheckCatalog.GuestProviders)
        {
            var mine = provider.Checks.Where(c => wanted.Contains(c, StringComparer.OrdinalIgnoreCase)).ToList();
            if (mine.Count == 0) continue;
            var unit = provider.Create(guest, context, mine, out var skipReason);
            if (unit is null)
            {
                if (!reportUnconfigured) continue;
                foreach (var check in mine)
                {
                    var rule = exclusions.Find(guest.Name, group, group, check);
                    plan.Decided.Add(rule is not null
                        ? Excluded(context.Name, guest.Name, group, check, guest.Address ?? string.Empty, rule, guest.Node)
                        : new CheckResult(context.Name, guest.Name, group, check, CheckStatus.Skipped, skipReason ?? "not applicable", TimeSpan.Zero, guest.Address) { Node = guest.Node ?? string.Empty });
                }
                continue;
            }
            // The guest's node travels with every result of the unit (the metrics' node label).
            unit.Node = guest.Node ?? string.Empty;
            var planned = plan.Units.Count;
            AddWithExclusions(plan, exclusions, unit, group);
            if (plan.Units.Count > planned && plan.FirstSetupLook(context.Name, provider))
            {
                foreach (var finding in provider.SetupFindings(context))
                {
                    var rule = exclusions.Find(finding.Component, finding.Type, finding.Type, finding.Check);
                    plan.Decided.Add(rule is null ? finding : Excluded(finding.Environment, finding.Component, finding.Type, finding.Check, finding.Target, rule));
                }
            }
        }
    }

    private static void AddWithExclusions(HealthPlan plan, ExclusionSet exclusions, CheckUnit unit, string group)
    {
        var run = new List<string>();
        foreach (var check in unit.Checks)
        {
            var rule = exclusions.Find(unit.Component, unit.Type, group, check);
            if (rule is null) run.Add(check);
            else plan.Decided.Add(Excluded(unit.Environment, unit.Component, unit.Type, check, unit.Target, rule, unit.Node));
        }
        if (run.Count == unit.Checks.Count) plan.Units.Add(unit);
        else if (run.Count > 0) plan.Units.Add(unit.WithChecks(run));
    }

    private static CheckResult Excluded(string env, string component, string type, string check, string target, ExclusionRule rule, string? node = null)
        => new(env, component, type, check, CheckStatus.Skipped, rule.Describe(), TimeSpan.Zero, target) { Node = node ?? string.Empty };

    /// <summary>
    /// A Warning per expired maintenance window (an exclusion whose until= has passed): the rule no longer excludes,
    /// and the row names its line so nobody keeps an exclusion that outlived its maintenance.
    /// </summary>
    public static CheckResult ExpiredExclusion(string env, ExclusionRule rule)
        => new(env, CheckCatalog.ExclusionComponent, CheckCatalog.ExclusionType, CheckCatalog.ExclusionCheck, CheckStatus.Warning,
            $"the maintenance window of '{rule.Text}' ({rule.Source}) ended {ExclusionRule.FormatTime(rule.Until!.Value)}{(rule.Reason is null ? "" : $" ({rule.Reason})")}; the rule no longer excludes: remove the line or move its until=",
            TimeSpan.Zero, rule.Source);

    private static bool IsServiceGroup(string pattern)
        => CheckCatalog.ServiceGroups.Any(g => Wildcard.IsMatch(pattern, g)) && !pattern.Contains('*') && !pattern.Contains('?');

    private static bool Selected(PlanRequest request, string component, string type, string group)
        => request.Components.Count == 0 || request.Components.Any(p =>
            Wildcard.IsMatch(p, component) || Wildcard.IsMatch(p, type) || Wildcard.IsMatch(p, group));
}
