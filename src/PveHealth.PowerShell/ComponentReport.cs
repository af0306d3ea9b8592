using PveHealth.Model;

namespace PveHealth.PowerShell;

/// <summary>
/// One component (guest or service) with one property per guest check, what -ByComponent writes: the row
/// <c>Component | Status | Ping | Ssh | Docker | ApiStatus | GuestAgent | Other</c>. A check that was not
/// planned for the component is null. Results holds the component's CheckResult objects.
/// </summary>
public sealed class ComponentReport
{
    /// <summary>Type name added when the run covered several environments (the view with an Environment column).</summary>
    public const string EnvironmentTypeName = "PveHealth.PowerShell.ComponentReport#Environment";

    private readonly List<CheckResult> _results = new();

    public ComponentReport(string environment, string component, string type)
    {
        Environment = environment;
        Component = component;
        Type = type;
    }

    public string Environment { get; }
    public string Component { get; }
    public string Type { get; }
    /// <summary>The worst status of the component's checks (severity order).</summary>
    // Computed, not stored: a field of an engine value type would make PowerShell load the engine while it
    // reflects over this assembly at import, before the module's load context is in place.
    public CheckStatus Status => _results.Count == 0 ? CheckStatus.Skipped : _results.Max(r => r.Status);
    public CheckStatus? Ping => Of("Ping");
    public CheckStatus? Ssh => Of("Ssh");
    public CheckStatus? Docker => Of("Docker");
    public CheckStatus? ApiStatus => Of("ApiStatus");
    public CheckStatus? GuestAgent => Of("GuestAgent");
    /// <summary>Checks other than the five guest checks, as "Check Status" pairs (services, cluster, drift...).</summary>
    public string Other => string.Join(", ", _results.Where(r => !GuestColumns.Contains(r.Check, StringComparer.OrdinalIgnoreCase)).Select(r => $"{r.Check} {r.Status}"));
    /// <summary>The details of the checks that did not pass, worst first ("Ssh: no SSH answer ...").</summary>
    public string Detail => string.Join("; ", _results.Where(r => r.Status >= CheckStatus.Warning).OrderByDescending(r => r.Status).Select(r => $"{r.Check}: {r.Detail}"));
    public CheckResult[] Results => _results.ToArray();

    private static readonly string[] GuestColumns = ["Ping", "Ssh", "Docker", "ApiStatus", "GuestAgent"];

    internal void Add(CheckResult result)
    {
        _results.Add(result);
    }

    private CheckStatus? Of(string check)
    {
        CheckStatus? worst = null;
        foreach (var r in _results)
        {
            if (string.Equals(r.Check, check, StringComparison.OrdinalIgnoreCase) && (worst is null || r.Status > worst)) worst = r.Status;
        }
        return worst;
    }

    public override string ToString() => $"{Component}: {Status}";
}
