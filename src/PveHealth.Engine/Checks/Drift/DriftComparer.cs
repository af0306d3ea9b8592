using System.Globalization;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Inventory;
using PveHealth.Model;

namespace PveHealth.Checks.Drift;

/// <summary>A cluster guest as the comparison sees it: its <c>/cluster/resources</c> row and, when read, its config.</summary>
public sealed class ActualGuest
{
    public required PveResource Resource { get; init; }
    /// <summary><c>onboot</c> from <c>/nodes/{node}/{type}/{vmid}/config</c>; null when not read.</summary>
    public bool? OnBoot { get; init; }
    /// <summary><c>agent</c> (enabled) from the config; null when not read or a container.</summary>
    public bool? Agent { get; init; }
    /// <summary>Why the config could not be read (then OnBoot and Agent are not compared).</summary>
    public string? ConfigError { get; init; }
}

/// <summary>What a finding counts as in <c>pve_health_drift_guests{kind}</c>.</summary>
public enum DriftKind
{
    None,
    Missing,
    Unmanaged,
    Stopped,
    Attributes,
}

/// <summary>One result of the comparison.</summary>
public sealed record DriftFinding(string Component, GuestKind GuestKind, string Check, CheckStatus Status, string Detail, DriftKind Kind, int? VmId);

/// <summary>How to compare (from <see cref="DriftConfig"/>).</summary>
public sealed class DriftOptions
{
    public bool PinNodes { get; init; }
    public bool ExpectRunning { get; init; }
    public DriftScopeConfig? Scope { get; init; }
    /// <summary>False when some state could not be read: guests it declares would look unmanaged, so none is reported.</summary>
    public bool ReportUnmanaged { get; init; } = true;

    public static DriftOptions FromConfig(DriftConfig? c) => new() { PinNodes = c?.PinNodes ?? false, ExpectRunning = c?.ExpectRunning ?? false, Scope = c?.Unmanaged };
}

/// <summary>
/// Compares what the Terraform state declares with what the cluster has, one result per guest and per finding:
/// <list type="bullet">
/// <item><c>Declared</c>: every declared guest. Critical when absent from the cluster (matched by VMID; by name when the
/// state has no VMID); else Ok with where it runs (a node move is information, not drift, unless nodes are pinned) and
/// how many differences its other results list. Dashboards count the declared estate from these rows.</item>
/// <item><c>Unmanaged</c> (Warning): in the cluster, in scope, not a template, declared by no state.</item>
/// <item><c>PowerState</c>: declared to run but not running (Critical); declared stopped by configuration but running (Warning).</item>
/// <item><c>OnBoot</c> (Warning): start at boot differs.</item>
/// <item><c>Attributes</c> (Warning): name, tags, pool, template or agent differ (and the node when pinned), naming both values.</item>
/// <item>A VMID declared by more than one resource: one <c>Declared</c> Warning naming every declaration (Critical when
/// absent from the cluster); that guest is not compared further and is not unmanaged.</item>
/// </list>
/// </summary>
public static class DriftComparer
{
    public const string DeclaredCheck = "Declared";
    public const string UnmanagedCheck = "Unmanaged";
    public const string PowerStateCheck = "PowerState";
    public const string OnBootCheck = "OnBoot";
    public const string AttributesCheck = "Attributes";

    public static IReadOnlyList<string> GuestChecks { get; } = [DeclaredCheck, UnmanagedCheck, PowerStateCheck, OnBootCheck, AttributesCheck];

    public static List<DriftFinding> Compare(IReadOnlyList<DeclaredGuest> declared, IReadOnlyList<ActualGuest> actual, DriftOptions options)
    {
        var findings = new List<DriftFinding>();
        var matched = new HashSet<string>(StringComparer.Ordinal); // resource ids ("qemu/101") some declaration claims
        var byId = new Dictionary<int, List<ActualGuest>>();
        foreach (var a in actual)
        {
            if (!byId.TryGetValue(a.Resource.VmId, out var list)) byId[a.Resource.VmId] = list = [];
            list.Add(a);
        }

        // A VMID declared by more than one resource (in one state or across states): one finding for the VMID naming
        // every declaration, and no comparison (which declaration would be right is exactly what is unclear).
        var twice = declared.Where(d => d.VmId is not null).GroupBy(d => d.VmId!.Value).Where(g => g.Count() > 1)
            .ToDictionary(g => g.Key, g => g.OrderBy(d => d.State, StringComparer.Ordinal).ThenBy(d => d.Address, StringComparer.Ordinal).ToList());
        foreach (var (id, list) in twice.OrderBy(p => p.Key))
        {
            var first = list[0];
            var all = string.Join("; ", list.Select(d => $"{d.Address} in {d.State}{(d.Name is { Length: > 0 } n ? $" (name {n})" : string.Empty)}"));
            var a = Match(first, byId, actual);
            if (a is not null) matched.Add(a.Resource.Id);
            findings.Add(a is null
                ? new(first.DisplayName, first.Kind, DeclaredCheck, CheckStatus.Critical,
                    $"declared but absent from the cluster: no VMID {id} in /cluster/resources; VMID {id} is declared {list.Count} times: {all}", DriftKind.Missing, id)
                : new(a.Resource.Name.Length > 0 ? a.Resource.Name : first.DisplayName, a.Resource.IsLxc ? GuestKind.Lxc : GuestKind.Vm, DeclaredCheck, CheckStatus.Warning,
                    $"VMID {id} is declared {list.Count} times: {all}; present as {a.Resource.Name} ({a.Resource.Status} on node {a.Resource.Node}); not compared: two resources managing one guest undo each other on every apply (keep one: terraform state rm the other)", DriftKind.Attributes, id));
        }

        foreach (var d in declared.Where(d => d.VmId is not int id || !twice.ContainsKey(id))
                     .OrderBy(d => d.DisplayName, StringComparer.OrdinalIgnoreCase).ThenBy(d => d.Address, StringComparer.Ordinal))
        {
            var a = Match(d, byId, actual);
            var component = d.DisplayName;
            var where = $"{d.Address} in {d.State}";
            if (d.NotUnderstood.Count > 0 || (d.VmId is null && a is not null))
            {
                // A declaration read only in part (or matched by name alone) would pass as "matches": Unknown, not compared.
                if (a is not null) matched.Add(a.Resource.Id);
                var why = d.NotUnderstood.Count > 0
                    ? $"not understood: {string.Join("; ", d.NotUnderstood)}"
                    : $"the state has no VMID; {a!.Resource.Name} (VMID {a.Resource.VmId}) has its name, but a name alone does not prove it is this guest";
                findings.Add(new(component, d.Kind, DeclaredCheck, CheckStatus.Unknown, $"declared by {where}: {why}; not compared", DriftKind.None, a?.Resource.VmId ?? d.VmId));
                continue;
            }
            if (a is null)
            {
                var how = d.VmId is int id
                    ? $"no VMID {id} in /cluster/resources"
                    : $"no guest named {d.Name} in /cluster/resources (the state has no VMID)";
                findings.Add(new(component, d.Kind, DeclaredCheck, CheckStatus.Critical,
                    $"declared by {where} but absent from the cluster: {how} (deleted by hand, or the token lacks VM.Audit on it)", DriftKind.Missing, d.VmId));
                continue;
            }
            var r = a.Resource;
            matched.Add(r.Id);
            var own = new List<DriftFinding>();
            var notes = new List<string>();

            // Power state.
            var (wantRun, source) = RunIntent(d, options);
            if (r.Status == "unknown")
            {
                notes.Add($"power state not compared: node {r.Node} is offline (status unknown)");
            }
            else if (wantRun == true && r.Status != "running" && r.Template != true)
            {
                own.Add(new(component, d.Kind, PowerStateCheck, CheckStatus.Critical,
                    $"declared to run ({source}) but {r.Status} on node {r.Node}", DriftKind.Stopped, r.VmId));
            }
            else if (wantRun == false && !d.StartedObserved && r.Status == "running")
            {
                own.Add(new(component, d.Kind, PowerStateCheck, CheckStatus.Warning,
                    $"declared stopped ({source}) but running on node {r.Node}", DriftKind.Attributes, r.VmId));
            }
            else if (wantRun == false && d.StartedObserved)
            {
                notes.Add($"{r.Status}; the state's {d.StartedAttribute} = false is the provider's last observation (written back on refresh), not intent, so a stopped guest is not a finding (set drift.expectRunning to require it)");
            }
            else if (wantRun is null && d.Template != true)
            {
                notes.Add($"{r.Status}; the state records no power intent ({ProviderName(d)} {d.ResourceType})");
            }

            // Start at boot.
            if (d.OnBoot is bool wantBoot)
            {
                if (a.OnBoot is bool isBoot)
                {
                    if (wantBoot != isBoot)
                    {
                        own.Add(new(component, d.Kind, OnBootCheck, CheckStatus.Warning,
                            $"start at boot differs: state {d.OnBootAttribute} = {OnOff(wantBoot)}, cluster onboot = {OnOff(isBoot)}", DriftKind.Attributes, r.VmId));
                    }
                }
                else
                {
                    notes.Add($"start at boot not compared: {a.ConfigError ?? "config not read"}");
                }
            }

            // Attributes.
            var diffs = new List<string>();
            if (d.Name is { Length: > 0 } name && d.VmId is not null && r.Name.Length > 0 && !string.Equals(name, r.Name, StringComparison.OrdinalIgnoreCase))
            {
                diffs.Add($"name: state '{name}', cluster '{r.Name}'");
            }
            if (d.Tags is { } tags)
            {
                var want = TerraformDeclarations.Normalize(tags);
                var have = TerraformDeclarations.Normalize(r.Tags);
                if (!want.SequenceEqual(have, StringComparer.Ordinal)) diffs.Add($"tags: state '{Join(want)}', cluster '{Join(have)}'");
            }
            if (d.Pool is { } pool && !string.Equals(pool, r.Pool ?? string.Empty, StringComparison.Ordinal))
            {
                diffs.Add($"pool: state '{Show(pool)}', cluster '{Show(r.Pool ?? string.Empty)}'");
            }
            if (d.Template is bool tpl && tpl != r.Template) diffs.Add($"template: state {Yes(tpl)}, cluster {Yes(r.Template)}");
            if (d.Kind == GuestKind.Vm && d.Agent is bool agent)
            {
                if (a.Agent is bool isAgent)
                {
                    if (agent != isAgent) diffs.Add($"agent: state {(agent ? "enabled" : "disabled")}, cluster {(isAgent ? "enabled" : "disabled")}");
                }
                else
                {
                    notes.Add($"agent not compared: {a.ConfigError ?? "config not read"}");
                }
            }
            if ((d.Kind == GuestKind.Lxc) != r.IsLxc) diffs.Add($"kind: state {(d.Kind == GuestKind.Lxc ? "lxc" : "qemu")}, cluster {r.Type}");
            var nodeDiffers = d.Node is { Length: > 0 } node && r.Node.Length > 0 && !string.Equals(node, r.Node, StringComparison.OrdinalIgnoreCase);
            if (nodeDiffers && options.PinNodes) diffs.Add($"node: state '{d.Node}', cluster '{r.Node}' (drift.pinNodes)");
            if (diffs.Count > 0)
            {
                own.Add(new(component, d.Kind, AttributesCheck, CheckStatus.Warning, string.Join("; ", diffs), DriftKind.Attributes, r.VmId));
            }

            var nodeText = nodeDiffers && !options.PinNodes
                ? $"on node {r.Node} (the state says {d.Node}: a migration or HA move, not drift)"
                : $"on node {r.Node}";
            var tainted = d.Tainted ? "; tainted in the state (replaced on the next apply)" : string.Empty;
            var summary = own.Count == 0
                ? $"matches the state: VMID {r.VmId} {r.Status} {nodeText}"
                : $"present: VMID {r.VmId} {r.Status} {nodeText}; {own.Count} difference{(own.Count == 1 ? string.Empty : "s")}: {string.Join(", ", own.Select(f => f.Check))}";
            var noteText = notes.Count > 0 ? "; " + string.Join("; ", notes) : string.Empty;
            findings.Add(new(component, d.Kind, DeclaredCheck, CheckStatus.Ok, $"{summary}{tainted}{noteText} (declared by {where})", DriftKind.None, r.VmId));
            findings.AddRange(own);
        }

        if (options.ReportUnmanaged)
        {
            foreach (var a in actual.OrderBy(a => a.Resource.VmId))
            {
                var r = a.Resource;
                if (r.Template || matched.Contains(r.Id)) continue;
                if (InScope(r, options.Scope) is not { } why) continue;
                findings.Add(new(r.Name.Length > 0 ? r.Name : $"vmid-{r.VmId.ToString(CultureInfo.InvariantCulture)}", r.IsLxc ? GuestKind.Lxc : GuestKind.Vm,
                    UnmanagedCheck, CheckStatus.Warning,
                    $"in the cluster (VMID {r.VmId}, {r.Status} on node {r.Node}) but declared in no Terraform state; {why}", DriftKind.Unmanaged, r.VmId));
            }
        }
        return findings;
    }

    /// <summary>The declared guest's cluster row: by VMID (and kind when two share it), else by a unique name.</summary>
    private static ActualGuest? Match(DeclaredGuest d, Dictionary<int, List<ActualGuest>> byId, IReadOnlyList<ActualGuest> actual)
    {
        if (d.VmId is int id)
        {
            if (!byId.TryGetValue(id, out var list)) return null;
            return list.FirstOrDefault(a => a.Resource.IsLxc == (d.Kind == GuestKind.Lxc)) ?? list[0];
        }
        var byName = actual.Where(a => !a.Resource.Template && string.Equals(a.Resource.Name, d.Name, StringComparison.OrdinalIgnoreCase)).ToList();
        return byName.Count == 1 ? byName[0] : null;
    }

    private static (bool? Run, string Source) RunIntent(DeclaredGuest d, DriftOptions options)
    {
        if (d.Template == true) return (null, "template");
        if (d.Started == true) return (true, $"{d.StartedAttribute} = {(d.StartedAttribute is "started" or "start" ? "true" : "running")} in the state");
        if (options.ExpectRunning) return (true, "drift.expectRunning");
        if (d.Started == false) return (false, $"{d.StartedAttribute} = {(d.StartedAttribute is "started" or "start" ? "false" : "stopped")} in the state");
        return (null, string.Empty);
    }

    /// <summary>Why a cluster guest must be declared ("every guest is in scope", "in pool prod"), or null when it is outside the scope.</summary>
    internal static string? InScope(PveResource r, DriftScopeConfig? scope)
    {
        if (scope is null || scope.IsEmpty) return "every guest is in scope (narrow it with drift.unmanaged pools, tags or vmidRanges)";
        if (scope.Pools is { } pools && r.Pool is { Length: > 0 } pool && pools.Contains(pool, StringComparer.Ordinal)) return $"in scope by pool {pool}";
        if (scope.Tags is { } tags)
        {
            var tag = r.Tags.FirstOrDefault(t => tags.Contains(t, StringComparer.OrdinalIgnoreCase));
            if (tag is not null) return $"in scope by tag {tag}";
        }
        if (scope.VmidRanges is { } ranges)
        {
            foreach (var text in ranges)
            {
                if (DriftScopeConfig.ParseRange(text) is { } range && r.VmId >= range.From && r.VmId <= range.To) return $"in scope by VMID range {text}";
            }
        }
        return null;
    }

    private static string ProviderName(DeclaredGuest d) => d.Provider == TerraformProvider.Bpg ? "bpg" : "Telmate";
    private static string OnOff(bool b) => b ? "on" : "off";
    private static string Yes(bool b) => b ? "yes" : "no";
    private static string Join(IReadOnlyList<string> tags) => string.Join(';', tags);
    private static string Show(string pool) => pool.Length == 0 ? "(none)" : pool;
}
