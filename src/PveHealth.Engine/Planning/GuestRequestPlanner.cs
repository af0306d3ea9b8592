using PveHealth.Configuration;
using PveHealth.Exclusions;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Model;

namespace PveHealth.Planning;

/// <summary>
/// One guest as Test-PveVm was given it: a Guest from Get-PveInventory, a CSV row, or a bare name. Null means "not
/// given"; the planner fills what it can from the configuration and its inventory.
/// </summary>
public sealed record GuestRequest
{
    public required string Name { get; init; }
    public string? Address { get; init; }
    public GuestKind? Kind { get; init; }
    public int? VmId { get; init; }
    public string? Node { get; init; }
    /// <summary>The environment the guest belongs to; null or empty: the configuration's only environment.</summary>
    public string? Environment { get; init; }
    /// <summary>The resolved configuration file whose sections apply, or null for none.</summary>
    public string? ConfigPath { get; init; }
    public string Source { get; init; } = "pipeline";
}

/// <summary>What <see cref="GuestRequestPlanner"/> decided: the plan, and what the command reports besides results.</summary>
public sealed class GuestRequestPlan
{
    public required HealthPlan Plan { get; init; }
    public required RunOptions Options { get; init; }
    /// <summary>Guests left out (an environment the configuration does not have, or several to choose from).</summary>
    public List<EngineException> Errors { get; } = new();
    /// <summary>A name not found in the inventory, an inventory that could not be read.</summary>
    public List<string> Warnings { get; } = new();
    /// <summary>What was looked up where (verbose).</summary>
    public List<string> Notes { get; } = new();
}

/// <summary>
/// The engine's rule for guests given one by one (Test-PveVm), so that every way of giving them composes the same:
/// <list type="bullet">
/// <item>a guest carries its configuration (Get-PveInventory sets ConfigPath) and its environment;</item>
/// <item>an environment that is not given is the configuration's only one (the rule Invoke-PveHealthCheck uses);
/// a name the configuration does not have is an EnvironmentNotFound error for that guest;</item>
/// <item>a guest without an address (or VMID) is looked up by name in its environment's inventory (read once).</item>
/// </list>
/// Parameters given on the command line override the environment's ssh/proxmox sections (<see cref="RunPolicy.MergeGuestParameters"/>).
/// </summary>
public static class GuestRequestPlanner
{
    public static async Task<GuestRequestPlan> BuildAsync(
        IReadOnlyList<GuestRequest> requests,
        Func<string, PveHealthConfig> loadConfig,
        RunParameters parameters,
        GuestParameters guestParameters,
        IReadOnlyList<string> wanted,
        Func<string, EnvironmentConfig, IEnvironmentScope, IInventorySource?> inventoryFactory,
        CancellationToken cancellationToken)
    {
        var configs = new Dictionary<string, PveHealthConfig>(StringComparer.Ordinal);
        var resolved = new List<(GuestRequest Request, PveHealthConfig? Config, string Environment)>();
        var errors = new List<EngineException>();
        foreach (var request in requests)
        {
            PveHealthConfig? config = null;
            if (request.ConfigPath is { Length: > 0 } path && !configs.TryGetValue(path, out config))
            {
                config = loadConfig(path);
                configs[path] = config;
            }
            var given = request.Environment ?? string.Empty;
            if (config is null)
            {
                resolved.Add((request, null, given));
                continue;
            }
            try
            {
                // The one rule for -Environment: none given means the only one; a name must be configured.
                var names = HealthPlanner.SelectEnvironments(config, given.Length == 0 ? [] : [given], all: false);
                if (names.Count != 1)
                {
                    throw new EngineException(EngineFailure.EnvironmentNotFound,
                        $"guest {request.Name}: environment '{given}' matches {names.Count} environments of {config.SourcePath} ({string.Join(", ", names)}): name one.", given);
                }
                resolved.Add((request, config, names[0]));
            }
            catch (EngineException ex)
            {
                errors.Add(ex.Failure == EngineFailure.EnvironmentNotFound && !ex.Message.StartsWith("guest ", StringComparison.Ordinal)
                    ? new EngineException(ex.Failure, $"guest {request.Name}: {ex.Message}", ex.Target)
                    : ex);
            }
        }

        var firstConfig = resolved.Select(r => r.Config).FirstOrDefault(c => c is not null);
        var options = RunPolicy.Options(firstConfig, parameters, resolved.Where(r => r.Config is not null).Select(r => r.Environment));
        var plan = new HealthPlan();
        var result = new GuestRequestPlan { Plan = plan, Options = options };
        result.Errors.AddRange(errors);
        var contexts = new Dictionary<(string, string), EnvironmentContext>();
        var inventories = new Dictionary<(string, string), IReadOnlyList<Guest>?>();
        foreach (var (request, config, environment) in resolved)
        {
            var key = (config?.SourcePath ?? string.Empty, environment);
            var fromFile = config?.Environments[environment];
            if (!contexts.TryGetValue(key, out var context))
            {
                var envConfig = RunPolicy.MergeGuestParameters(fromFile, guestParameters, out var note);
                if (note is not null) result.Notes.Add($"Environment '{environment}': {note}.");
                context = new EnvironmentContext(environment, envConfig, options);
                contexts[key] = context;
                plan.Contexts.Add(context);
                if (!plan.EnvironmentNames.Contains(environment, StringComparer.OrdinalIgnoreCase)) plan.EnvironmentNames.Add(environment);
            }
            Guest? known = null;
            if ((request.Address is null || request.VmId is null) && fromFile?.Inventory is not null)
            {
                if (!inventories.TryGetValue(key, out var guests))
                {
                    guests = await ReadInventoryAsync(environment, fromFile, context, inventoryFactory, result, cancellationToken).ConfigureAwait(false);
                    inventories[key] = guests;
                }
                known = guests?.FirstOrDefault(g => string.Equals(g.Name, request.Name, StringComparison.OrdinalIgnoreCase));
                if (known is null && guests is not null && request.Address is null)
                {
                    result.Warnings.Add($"guest {request.Name} is not in the inventory of environment {environment}; give -Address (or an Address column).");
                }
                else if (known is not null)
                {
                    result.Notes.Add($"guest {request.Name}: address, VMID and node from {known.Source}.");
                }
            }
            var guest = new Guest(request.Name, request.Kind ?? known?.Kind ?? GuestKind.Vm)
            {
                Address = request.Address ?? known?.Address,
                VmId = request.VmId ?? known?.VmId,
                Node = request.Node ?? known?.Node,
                Environment = environment,
                Tags = known?.Tags ?? Array.Empty<string>(),
                Source = request.Source,
                ConfigPath = config?.SourcePath,
            };
            // The planner's own per-guest step: a check this guest cannot run is Skipped with the reason.
            HealthPlanner.PlanGuest(plan, context, guest, wanted, new ExclusionSet(), reportUnconfigured: true);
        }
        return result;
    }

    private static async Task<IReadOnlyList<Guest>?> ReadInventoryAsync(string environment, EnvironmentConfig config, EnvironmentContext context,
        Func<string, EnvironmentConfig, IEnvironmentScope, IInventorySource?> inventoryFactory, GuestRequestPlan result, CancellationToken ct)
    {
        IInventorySource? source = null;
        // The lookup is part of the run: it ends at the run deadline like the checks after it.
        using var runDeadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        runDeadline.CancelAfter(context.Options.RunRemaining);
        try
        {
            source = inventoryFactory(environment, config, context);
            if (source is null) return null;
            result.Notes.Add($"Environment {environment}: looking guests up in {source.Description}.");
            return await source.GetGuestsAsync(runDeadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            result.Warnings.Add($"environment {environment}: the inventory could not be read to look guests up: the run deadline of {context.Options.RunTimeout.TotalSeconds:0.###} s was reached.");
            return null;
        }
        catch (InventoryException ex)
        {
            result.Warnings.Add($"environment {environment}: the inventory could not be read to look guests up: {ex.Message}");
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            result.Warnings.Add($"environment {environment}: internal error reading the inventory {source?.Description} ({ex.GetType().Name}: {ex.Message}).");
            return null;
        }
    }
}
