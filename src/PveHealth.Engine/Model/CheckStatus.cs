namespace PveHealth.Model;

/// <summary>
/// Outcome of one check, with Nagios meanings. The numeric values are the Nagios exit codes
/// and the value of the <c>pve_health_check_status</c> metric; <see cref="Skipped"/> is last
/// and never counts as a failure.
/// </summary>
public enum CheckStatus
{
    /// <summary>The check passed.</summary>
    Ok = 0,
    /// <summary>Works, but needs attention (a stale state file, an old lock).</summary>
    Warning = 1,
    /// <summary>Broken: down, refused, timed out, rejected.</summary>
    Critical = 2,
    /// <summary>The checker could not tell (its own trouble: bad input, missing secret, internal error).</summary>
    Unknown = 3,
    /// <summary>Not run: excluded, not applicable, or a prerequisite failed.</summary>
    Skipped = 4,
}

public static class CheckStatusExtensions
{
    /// <summary>Severity order used to find the worst status of a run: Ok &lt; Skipped &lt; Warning &lt; Unknown &lt; Critical.</summary>
    public static int Severity(this CheckStatus status) => status switch
    {
        CheckStatus.Ok => 0,
        CheckStatus.Skipped => 0,
        CheckStatus.Warning => 1,
        CheckStatus.Unknown => 2,
        CheckStatus.Critical => 3,
        _ => 3,
    };

    /// <summary>The Nagios exit code of the worst of <paramref name="statuses"/> (0 when empty).</summary>
    public static int ExitCode(IEnumerable<CheckStatus> statuses)
    {
        var worst = CheckStatus.Ok;
        foreach (var s in statuses)
        {
            if (s.Severity() > worst.Severity()) worst = s;
        }
        return worst == CheckStatus.Skipped ? 0 : (int)worst;
    }
}
