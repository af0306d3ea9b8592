using System.Globalization;
using System.Text.RegularExpressions;
using PveHealth.Checks;

namespace PveHealth.Exclusions;

/// <summary>
/// One exclusion: a wildcard pattern matched against a component's name, its type or its group
/// (Vm, Lxc, or a service group of the catalog), optionally qualified by a check ("web-01:Docker").
/// </summary>
public sealed class ExclusionRule
{
    private readonly Regex _pattern;
    private readonly Regex? _check;

    public ExclusionRule(string pattern, string? check, string source, DateTimeOffset? until = null, string? reason = null)
    {
        Pattern = pattern;
        Check = string.IsNullOrWhiteSpace(check) ? null : check;
        Source = source;
        Until = until;
        Reason = string.IsNullOrWhiteSpace(reason) ? null : reason;
        _pattern = Wildcard.ToRegex(pattern);
        _check = Check is null ? null : Wildcard.ToRegex(Check);
    }

    public string Pattern { get; }
    public string? Check { get; }
    /// <summary>"path:line" for a file rule, "-Exclude" for a parameter.</summary>
    public string Source { get; }

    /// <summary>End of the maintenance window (<c>until=2026-12-24T18:00Z</c>): from then on the rule no longer excludes.</summary>
    public DateTimeOffset? Until { get; }
    /// <summary>Why the rule exists (<c>reason=kernel upgrade</c>), shown with the Skipped results.</summary>
    public string? Reason { get; }

    public string Text => Check is null ? Pattern : $"{Pattern}:{Check}";

    /// <summary>True while the rule excludes: it has no end, or its end is after <paramref name="now"/>.</summary>
    public bool IsActiveAt(DateTimeOffset now) => Until is not { } until || now < until;

    /// <summary>"until 2026-12-24 18:00 UTC, kernel upgrade" (empty for a rule without either).</summary>
    public string Window => string.Join(", ", new[] { Until is { } u ? "until " + FormatTime(u) : null, Reason }.Where(x => x is not null));

    /// <summary>The Skipped result's detail: "excluded by 'db-*:Docker' (/etc/pve-health/exclusions.conf:14; until 2026-12-24 18:00 UTC, kernel upgrade)".</summary>
    public string Describe() => Window.Length == 0 ? $"excluded by '{Text}' ({Source})" : $"excluded by '{Text}' ({Source}; {Window})";

    public static string FormatTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public bool Matches(string component, string type, string group, string check)
        => (_pattern.IsMatch(component) || _pattern.IsMatch(type) || _pattern.IsMatch(group))
           && (_check is null || _check.IsMatch(check));

    /// <summary>
    /// Parses "pattern" or "pattern:Check", optionally followed by a maintenance window: <c>until=2026-12-24T18:00Z</c>
    /// (ISO 8601 with Z or an offset) and <c>reason=text to the end of the line</c>. Returns null and an error for a
    /// malformed rule.
    /// </summary>
    public static ExclusionRule? Parse(string text, string source, out string? error)
    {
        error = null;
        var t = text.Trim();
        if (t.Length == 0)
        {
            error = "empty rule";
            return null;
        }
        DateTimeOffset? until = null;
        string? reason = null;
        var firstSpace = t.IndexOfAny([' ', '\t']);
        if (firstSpace > 0)
        {
            var rest = t[firstSpace..].Trim();
            var head = t[..firstSpace];
            while (rest.Length > 0)
            {
                if (rest.StartsWith("reason=", StringComparison.OrdinalIgnoreCase))
                {
                    reason = rest["reason=".Length..].Trim().Trim('"').Trim();
                    if (reason.Length == 0)
                    {
                        error = $"'{t}': reason= needs a text (reason=kernel upgrade)";
                        return null;
                    }
                    break;
                }
                var end = rest.IndexOfAny([' ', '\t']);
                var token = end < 0 ? rest : rest[..end];
                rest = end < 0 ? string.Empty : rest[end..].Trim();
                if (token.StartsWith("until=", StringComparison.OrdinalIgnoreCase))
                {
                    var value = token["until=".Length..];
                    if (!TryParseUntil(value, out var u))
                    {
                        error = $"'{t}': until= expects an ISO 8601 time with Z or an offset, for example until=2026-12-24T18:00Z; found '{value}'";
                        return null;
                    }
                    until = u;
                    continue;
                }
                error = $"'{t}' contains spaces; write one pattern per line, optionally followed by :Check, until=<time> and reason=<text>";
                return null;
            }
            t = head;
        }
        var colon = t.LastIndexOf(':');
        string pattern = t, check = string.Empty;
        if (colon >= 0)
        {
            pattern = t[..colon].Trim();
            check = t[(colon + 1)..].Trim();
            if (pattern.Length == 0 || check.Length == 0)
            {
                error = $"'{t}' must be 'pattern' or 'pattern:Check' (for example web-01:Docker)";
                return null;
            }
        }
        if (pattern.Any(char.IsWhiteSpace) || check.Any(char.IsWhiteSpace))
        {
            error = $"'{t}' contains spaces; write one pattern per line, optionally followed by :Check";
            return null;
        }
        if (check.Length > 0 && !Wildcard.HasWildcard(check) && !KnownChecks.Contains(check, StringComparer.OrdinalIgnoreCase))
        {
            error = $"unknown check '{check}' in '{t}'; known checks: {string.Join(", ", KnownChecks)}";
            return null;
        }
        return new ExclusionRule(pattern, check.Length == 0 ? null : check, source, until, reason);
    }

    private static bool TryParseUntil(string value, out DateTimeOffset until)
    {
        until = default;
        // A time needs its zone: "18:00" alone would mean a different instant on every host.
        var hasTime = value.Contains('T', StringComparison.OrdinalIgnoreCase);
        var hasZone = value.EndsWith('Z') || value.EndsWith('z') || Regex.IsMatch(value, @"[+-]\d\d:?\d\d$");
        if (hasTime && !hasZone) return false;
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out until);
    }

    /// <summary>Every check name a rule may qualify: the catalog's.</summary>
    public static IReadOnlyList<string> KnownChecks => CheckCatalog.AllChecks;

    public override string ToString() => Window.Length == 0 ? $"{Text} ({Source})" : $"{Text} ({Source}; {Window})";
}
