using System.Management.Automation;
using PveHealth.Model;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// Pipeline input of the cmdlets that consume results (Export-PveHealthMetrics, ConvertTo-PveHealthReport):
/// a live <see cref="CheckResult"/> is taken as it is; anything else is read by property name
/// (<see cref="CheckResultReader"/>), so results deserialized by Import-Clixml, Receive-Job or a remote session,
/// and rows from Import-Csv or ConvertFrom-Json, are accepted.
/// </summary>
internal static class ResultInput
{
    /// <summary>The result, or null with an error record that names the problem (id <c>InvalidCheckResult</c>).</summary>
    public static CheckResult? Read(object? input, out ErrorRecord? error)
    {
        error = null;
        var pso = input as PSObject;
        var baseObject = pso?.BaseObject ?? input;
        if (baseObject is CheckResult live) return live;
        if (baseObject is null) return null;
        pso ??= PSObject.AsPSObject(baseObject);
        if (CheckResultReader.TryRead(name => Value(pso, name), out var result, out var problem)) return result;
        error = new ErrorRecord(
            new ArgumentException($"Not a usable check result: {problem}."),
            "InvalidCheckResult", ErrorCategory.InvalidData, input)
        {
            ErrorDetails = new ErrorDetails($"Not a usable check result: {problem}."),
        };
        return null;
    }

    private static object? Value(PSObject o, string name)
    {
        PSPropertyInfo? property;
        try { property = o.Properties[name]; }
        catch (Exception e) when (e is GetValueException or ExtendedTypeSystemException) { return null; }
        object? value;
        try { value = property?.Value; }
        catch (Exception e) when (e is GetValueException or ExtendedTypeSystemException) { return null; }
        if (value is not PSObject inner) return value;
        if (inner.BaseObject is not PSCustomObject)
        {
            // A deserialized enum arrives as its number with the name as ToString(): the name is what counts.
            return name == nameof(CheckResult.Status) ? inner.ToString() : inner.BaseObject;
        }
        // A property bag: a deserialized DateTimeOffset or TimeSpan, or a ConvertFrom-Json object.
        return name switch
        {
            nameof(CheckResult.Timestamp) => Unwrap(inner.Properties["UtcDateTime"]?.Value),
            nameof(CheckResult.Duration) => Unwrap(inner.Properties["TotalSeconds"]?.Value),
            _ => inner.ToString(),
        };
    }

    private static object? Unwrap(object? value) => value is PSObject p ? p.BaseObject : value;
}
