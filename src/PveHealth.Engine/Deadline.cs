namespace PveHealth;

/// <summary>
/// The deadline rule's arithmetic, in the lowest layer so discovery (Inventory) and the checks (through
/// <c>Execution.CheckReporter.Remaining</c>) compute it the same way: the time the next wait may take is what is left of
/// a timeout less <see cref="Margin"/>, never less than <see cref="Floor"/>.
/// </summary>
public static class Deadline
{
    /// <summary>Time kept back at the end of a timeout to report: 250 ms, or a fifth of a short timeout.</summary>
    public static TimeSpan Margin(TimeSpan timeout) => Min(TimeSpan.FromMilliseconds(250), timeout / 5);

    /// <summary>The least a call is given: 100 ms, or a tenth of a short timeout.</summary>
    public static TimeSpan Floor(TimeSpan timeout) => Min(TimeSpan.FromMilliseconds(100), timeout / 10);

    /// <summary>What a wait may take in a unit with <paramref name="timeout"/> that has run for <paramref name="elapsed"/>.</summary>
    public static TimeSpan RemainingOf(TimeSpan timeout, TimeSpan elapsed)
    {
        var left = timeout - elapsed - Margin(timeout);
        var floor = Floor(timeout);
        return left > floor ? left : floor;
    }

    /// <summary>
    /// The limit a timeout's words name for a unit with <paramref name="timeout"/>: what the deadline rule gives a wait at
    /// the unit's start (1.8 s at 2 s, 4.8 s at 5 s), the same for every unit of the kind whatever each had left when its
    /// wait began (a loaded checker starts some later), and the same when the runner cuts the unit off. One fault, one form.
    /// </summary>
    public static TimeSpan Stated(TimeSpan timeout) => RemainingOf(timeout, TimeSpan.Zero);

    /// <summary>
    /// The longest the runner holds every unit back for the answers many of them share (a quarter of the check timeout):
    /// long enough for a healthy API to answer before the run's flood starts, short enough that an API that hangs leaves
    /// each unit most of its own timeout for the answer's second attempt.
    /// </summary>
    public static TimeSpan SharedHead(TimeSpan timeout) => timeout / 4;

    /// <summary>
    /// The timeout of a unit whose requests depend on each other in <paramref name="rounds"/> rounds (a listing names what
    /// the next one reads): one <paramref name="request"/> timeout (-TimeoutSec, which still bounds each request) per
    /// round, never more than <paramref name="run"/> (the run deadline), never less than one request timeout.
    /// </summary>
    public static TimeSpan Rounds(int rounds, TimeSpan request, TimeSpan run)
    {
        var budget = request * Math.Max(1, rounds);
        return budget < run ? budget : run > request ? run : request;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
