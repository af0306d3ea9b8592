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

    public ExclusionRule(string pattern, string? check, string source)
    {
        Pattern = pattern;
        Check = string.IsNullOrWhiteSpace(check) ? null : check;
        Source = source;
        _pattern = Wildcard.ToRegex(pattern);
        _check = Check is null ? null : Wildcard.ToRegex(Check);
    }

    public string Pattern { get; }
    public string? Check { get; }
    /// <summary>"path:line" for a file rule, "-Exclude" for a parameter.</summary>
    public string Source { get; }

    public string Text => Check is null ? Pattern : $"{Pattern}:{Check}";

    public bool Matches(string component, string type, string group, string check)
        => (_pattern.IsMatch(component) || _pattern.IsMatch(type) || _pattern.IsMatch(group))
           && (_check is null || _check.IsMatch(check));

    /// <summary>Parses "pattern" or "pattern:Check". Returns null and an error for a malformed rule.</summary>
    public static ExclusionRule? Parse(string text, string source, out string? error)
    {
        error = null;
        var t = text.Trim();
        if (t.Length == 0)
        {
            error = "empty rule";
            return null;
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
        return new ExclusionRule(pattern, check.Length == 0 ? null : check, source);
    }

    /// <summary>Every check name a rule may qualify: the catalog's.</summary>
    public static IReadOnlyList<string> KnownChecks => CheckCatalog.AllChecks;

    public override string ToString() => $"{Text} ({Source})";
}
