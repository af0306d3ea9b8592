using System.Globalization;

namespace PveHealth.Model;

/// <summary>
/// Rebuilds a <see cref="CheckResult"/> from property values read by name: what arrives when results come back
/// deserialized (Import-Clixml, Receive-Job, a remote session) or from Import-Csv / ConvertFrom-Json.
/// </summary>
/// <remarks>
/// The caller hands plain values (string, number, <see cref="TimeSpan"/>, <see cref="DateTime"/>,
/// <see cref="DateTimeOffset"/>); PowerShell wrappers are unwrapped by the cmdlet layer. Rules, chosen so that
/// a malformed record can never become a false Ok:
/// <list type="bullet">
/// <item>Component and Check are required; Status must be a status <em>name</em> (Ok, Warning, Critical, Unknown,
/// Skipped, any case). A number is refused: numbering is not a contract across versions, names are.</item>
/// <item>Duration: <c>Duration</c> when it is a TimeSpan (exact), else <c>DurationSeconds</c> (a number or invariant
/// text), else <c>Duration</c> as invariant TimeSpan text or seconds; absent is zero; negative, NaN or infinite is refused.</item>
/// <item>Timestamp: <c>TimestampUtc</c> (ISO 8601) first, else <c>Timestamp</c> (a DateTimeOffset, a DateTime,
/// or ISO 8601 text); absent or unreadable is refused (the metrics' last-run time comes from it).</item>
/// </list>
/// </remarks>
public static class CheckResultReader
{
    /// <summary>Reads one result; on failure <paramref name="problem"/> says what was wrong, in one line.</summary>
    public static bool TryRead(Func<string, object?> property, out CheckResult? result, out string problem)
    {
        ArgumentNullException.ThrowIfNull(property);
        result = null;
        var component = Text(property(nameof(CheckResult.Component)));
        var check = Text(property(nameof(CheckResult.Check)));
        if (component.Length == 0 || check.Length == 0)
        {
            problem = "not a check result: Component and Check are required";
            return false;
        }
        var statusText = Text(property(nameof(CheckResult.Status)));
        if (!TryParseStatus(statusText, out var status))
        {
            problem = statusText.Length == 0
                ? $"{component} {check}: no Status"
                : $"{component} {check}: Status '{Clip(statusText)}' is not a status name (Ok, Warning, Critical, Unknown, Skipped)";
            return false;
        }
        if (!TryReadDuration(property, out var duration))
        {
            problem = $"{component} {check}: the duration is not a non-negative number of seconds";
            return false;
        }
        if (!TryReadTimestamp(property, out var timestamp))
        {
            problem = $"{component} {check}: no readable timestamp (TimestampUtc or Timestamp)";
            return false;
        }
        // Source as recorded, else the remoting PSComputerName (Receive-Job, Invoke-Command), else not known: never
        // this machine, which did not run the check.
        var source = Text(property(nameof(CheckResult.Source)));
        if (source.Length == 0) source = Text(property("PSComputerName"));
        result = new CheckResult(
            Text(property(nameof(CheckResult.Environment))), component, Text(property(nameof(CheckResult.Type))), check,
            status, Text(property(nameof(CheckResult.Detail))), duration, Text(property(nameof(CheckResult.Target))), timestamp)
        {
            Source = source,
        };
        problem = string.Empty;
        return true;
    }

    /// <summary>A status name, case-insensitive; numbers and unknown names are refused.</summary>
    public static bool TryParseStatus(string? text, out CheckStatus status)
    {
        status = CheckStatus.Unknown;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        foreach (var name in Enum.GetNames<CheckStatus>())
        {
            if (string.Equals(name, t, StringComparison.OrdinalIgnoreCase))
            {
                status = Enum.Parse<CheckStatus>(name);
                return true;
            }
        }
        return false;
    }

    private static bool TryReadDuration(Func<string, object?> property, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        // An exact TimeSpan (live or deserialized) beats the rounded DurationSeconds.
        if (property(nameof(CheckResult.Duration)) is TimeSpan exact)
        {
            duration = exact;
            return exact >= TimeSpan.Zero;
        }
        var seconds = property(nameof(CheckResult.DurationSeconds));
        if (seconds is not null && !(seconds is string s0 && s0.Length == 0))
        {
            return TrySeconds(seconds, out duration);
        }
        var value = property(nameof(CheckResult.Duration));
        switch (value)
        {
            case null:
                return true;
            case TimeSpan ts:
                duration = ts;
                return ts >= TimeSpan.Zero;
            case string s when s.Length == 0:
                return true;
            case string s when s.Contains(':', StringComparison.Ordinal):
                return TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out duration) && duration >= TimeSpan.Zero;
            default:
                return TrySeconds(value, out duration);
        }
    }

    private static bool TrySeconds(object value, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        double d;
        if (value is string s)
        {
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d)) return false;
        }
        else if (value is IConvertible c && value is not bool && value is not DateTime)
        {
            try { d = c.ToDouble(CultureInfo.InvariantCulture); }
            catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException) { return false; }
        }
        else
        {
            return false;
        }
        if (double.IsNaN(d) || double.IsInfinity(d) || d < 0 || d > TimeSpan.MaxValue.TotalSeconds / 2) return false;
        duration = TimeSpan.FromSeconds(d);
        return true;
    }

    private static bool TryReadTimestamp(Func<string, object?> property, out DateTimeOffset timestamp)
    {
        if (TryTimestamp(property(nameof(CheckResult.TimestampUtc)), out timestamp)) return true;
        return TryTimestamp(property(nameof(CheckResult.Timestamp)), out timestamp);
    }

    private static bool TryTimestamp(object? value, out DateTimeOffset timestamp)
    {
        timestamp = default;
        switch (value)
        {
            case DateTimeOffset dto:
                timestamp = dto;
                return true;
            case DateTime dt:
                // Unspecified kind (a deserialized UtcDateTime loses nothing else): taken as UTC.
                timestamp = new DateTimeOffset(dt.Kind == DateTimeKind.Local ? dt.ToUniversalTime() : DateTime.SpecifyKind(dt, DateTimeKind.Utc));
                return true;
            case string s when s.Length > 0:
                // ISO 8601 only: a culture-dependent date ("11/30/2026 06:36:38") is ambiguous and refused.
                string[] formats = ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF"];
                return DateTimeOffset.TryParseExact(s.Trim(), formats, CultureInfo.InvariantCulture,
                    DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out timestamp);
            default:
                return false;
        }
    }

    private static string Text(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
