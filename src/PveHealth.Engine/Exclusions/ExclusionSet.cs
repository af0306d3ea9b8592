namespace PveHealth.Exclusions;

/// <summary>The exclusions of a run: from the file (default /etc/pve-health/exclusions.conf) and -Exclude.</summary>
public sealed class ExclusionSet
{
    public const string DefaultPath = "/etc/pve-health/exclusions.conf";

    private readonly List<ExclusionRule> _rules = new();

    /// <summary>Every rule read, expired ones included.</summary>
    public IReadOnlyList<ExclusionRule> Rules => _rules;

    /// <summary>The time the run's maintenance windows are judged at (the set's creation, one instant for the whole run).</summary>
    public DateTimeOffset Now { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>Rules that exclude now.</summary>
    public IEnumerable<ExclusionRule> Active => _rules.Where(r => r.IsActiveAt(Now));

    /// <summary>Rules whose maintenance window (until=) has ended: they no longer exclude, and the run warns about each.</summary>
    public IEnumerable<ExclusionRule> Expired => _rules.Where(r => !r.IsActiveAt(Now));

    public void Add(ExclusionRule rule) => _rules.Add(rule);

    /// <summary>The first active rule that excludes the check, or null.</summary>
    public ExclusionRule? Find(string component, string type, string group, string check)
        => _rules.FirstOrDefault(r => r.IsActiveAt(Now) && r.Matches(component, type, group, check));

    /// <summary>
    /// Reads an exclusions file: one rule a line ("pattern" or "pattern:Check", optionally
    /// "until=2026-12-24T18:00Z" and "reason=text"), '#' starts a comment,
    /// blank lines ignored. Bad lines are returned in <paramref name="errors"/> as "path:line: reason"
    /// and skipped; the good lines still apply.
    /// </summary>
    public static ExclusionSet ParseFile(string path, string text, out IReadOnlyList<string> errors, DateTimeOffset? now = null)
    {
        var set = new ExclusionSet { Now = now ?? DateTimeOffset.UtcNow };
        var errs = new List<string>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            line = line.Trim().TrimEnd('\r');
            if (line.Length == 0) continue;
            var rule = ExclusionRule.Parse(line, $"{path}:{i + 1}", out var error);
            if (rule is null) errs.Add($"{path}:{i + 1}: {error}");
            else set.Add(rule);
        }
        errors = errs;
        return set;
    }
}
