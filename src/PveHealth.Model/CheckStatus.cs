namespace PveHealth.Model;

/// <summary>
/// Outcome of one check, with Nagios meanings, declared in severity order so that scripts can compare
/// statuses: Skipped &lt; Ok &lt; Warning &lt; Unknown &lt; Critical. <c>Where-Object Status -ge Warning</c>
/// keeps the failures (never Skipped) and <c>Sort-Object Status -Descending</c> puts Critical first.
/// The numeric values are NOT the Nagios codes: the exit code and the <c>pve_health_check_status</c>
/// metric come from <see cref="CheckStatusExtensions.NagiosCode"/>, an explicit mapping.
/// </summary>
public enum CheckStatus
{
    /// <summary>Not run: excluded, not applicable, or a prerequisite failed. Lowest: never a failure.</summary>
    Skipped = 0,
    /// <summary>The check passed.</summary>
    Ok = 1,
    /// <summary>Works, but needs attention (a stale state file, an old lock).</summary>
    Warning = 2,
    /// <summary>The checker could not tell (its own trouble: bad input, missing secret, internal error).</summary>
    Unknown = 3,
    /// <summary>Broken: down, refused, timed out, rejected.</summary>
    Critical = 4,
}

public static class CheckStatusExtensions
{
    /// <summary>Severity order (the enum's order): Skipped &lt; Ok &lt; Warning &lt; Unknown &lt; Critical.</summary>
    public static int Severity(this CheckStatus status) => status switch
    {
        CheckStatus.Skipped => 0,
        CheckStatus.Ok => 1,
        CheckStatus.Warning => 2,
        CheckStatus.Unknown => 3,
        CheckStatus.Critical => 4,
        _ => 4,
    };

    /// <summary>
    /// The Nagios code of a status, which is also the value of the <c>pve_health_check_status</c> metric:
    /// Ok 0, Warning 1, Critical 2, Unknown 3. Skipped counts as Ok (0): it is never exported as a check
    /// status and never raises an exit code.
    /// </summary>
    public static int NagiosCode(this CheckStatus status) => status switch
    {
        CheckStatus.Skipped => 0,
        CheckStatus.Ok => 0,
        CheckStatus.Warning => 1,
        CheckStatus.Critical => 2,
        CheckStatus.Unknown => 3,
        _ => 3,
    };

    /// <summary>The Nagios exit code of the worst of <paramref name="statuses"/> (0 when empty).</summary>
    public static int ExitCode(IEnumerable<CheckStatus> statuses)
    {
        var worst = CheckStatus.Skipped;
        foreach (var s in statuses)
        {
            if (s.Severity() > worst.Severity()) worst = s;
        }
        return worst.NagiosCode();
    }
}
