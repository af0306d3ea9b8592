using System.Diagnostics;
using PveHealth.Model;

namespace PveHealth.Execution;

/// <summary>
/// Hands a unit's results to the runner. Thread-safe; after the unit has timed out or finished,
/// the reporter is sealed and late reports are dropped, so a slow unit can never add a second
/// verdict after "timed out".
/// </summary>
public sealed class CheckReporter
{
    private readonly CheckUnit _unit;
    private readonly Action<CheckResult> _sink;
    private readonly Stopwatch _clock;
    private readonly HashSet<string> _reported = new(StringComparer.OrdinalIgnoreCase);
    // Rows the unit said it will report about other components (per declared guest), not reported yet: (component,
    // check) → (type, the exclusion's Skipped detail or null).
    private readonly Dictionary<(string Component, string Check), (string Type, string? Excluded)> _expected = new();
    private readonly object _gate = new();
    private bool _sealed;

    internal CheckReporter(CheckUnit unit, Action<CheckResult> sink, Stopwatch clock)
    {
        _unit = unit;
        _sink = sink;
        _clock = clock;
    }

    /// <summary>The unit's timeout: checks that wait on the network keep their own waits inside it.</summary>
    public TimeSpan Timeout { get; internal set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time since the unit started.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>
    /// The deadline rule, the one place it is computed: the time the next wait (an HTTP call, an API answer, an SSH
    /// handshake, an ICMP echo) may take. It is what is left of the unit's timeout less <see cref="Margin"/>, so the
    /// check reports "no answer within N s" itself before the runner cuts the unit off as "timed out"; never less
    /// than <see cref="Floor"/> (a call started late still gets a chance to answer). Checks pass it to every client
    /// call and never compute margins of their own.
    /// </summary>
    public TimeSpan Remaining => RemainingOf(Timeout, _clock.Elapsed);

    /// <summary>
    /// The deadline rule for one request of a unit that makes rounds of them under a timeout grown with the rounds
    /// (Snapshots: one list per guest): <see cref="Remaining"/>, but never more than a unit of
    /// <paramref name="requestTimeout"/> (-TimeoutSec) would give a request it started now.
    /// </summary>
    public TimeSpan RemainingFor(TimeSpan requestTimeout)
    {
        var left = Remaining;
        var one = RemainingOf(requestTimeout, TimeSpan.Zero);
        return left < one ? left : one;
    }

    /// <summary>Time kept back at the end of the unit's timeout to report: 250 ms, or a fifth of a short timeout.</summary>
    public static TimeSpan Margin(TimeSpan timeout) => Deadline.Margin(timeout);

    /// <summary>The least a call is given: 100 ms, or a tenth of a short timeout.</summary>
    public static TimeSpan Floor(TimeSpan timeout) => Deadline.Floor(timeout);

    /// <summary><see cref="Remaining"/> for a unit with <paramref name="timeout"/> that has run for <paramref name="elapsed"/> (<see cref="Deadline.RemainingOf"/>).</summary>
    public static TimeSpan RemainingOf(TimeSpan timeout, TimeSpan elapsed) => Deadline.RemainingOf(timeout, elapsed);

    /// <summary>Report one of the unit's own checks. Duration defaults to the time since the unit started.</summary>
    public void Report(string check, CheckStatus status, string detail, TimeSpan? duration = null)
        => Report(new CheckResult(_unit.Environment, _unit.Component, _unit.Type, check, status, detail,
            duration ?? _clock.Elapsed, _unit.Target) { Node = _unit.Node });

    /// <summary>Report a result with its own component (one result per scrape target, per state object...).</summary>
    public void Report(CheckResult result)
    {
        lock (_gate)
        {
            if (_sealed) return;
            AnsweredAny = true;
            if (result.Status == CheckStatus.Ok) AnsweredOk = true;
            _expected.Remove((result.Component, result.Check));
            if (string.Equals(result.Component, _unit.Component, StringComparison.Ordinal))
            {
                _reported.Add(result.Check);
            }
            else
            {
                // A unit that reports on other components has still answered for itself
                // (Targets reported per scrape target answers the unit's Targets check).
                _reported.Add("*");
                _reported.Add("*:" + result.Check);
            }
            _sink(result);
        }
    }

    /// <summary>
    /// Declares that <paramref name="check"/> has nothing to report in this run, so no "ended without reporting a result"
    /// row is made for it: a Lock check when no state object matched (the State row already says why).
    /// </summary>
    public void NoResult(string check)
    {
        lock (_gate)
        {
            if (!_sealed) _reported.Add("*:" + check);
        }
    }

    /// <summary>
    /// Declares a row the unit will report about another component (each declared guest's Backups and Snapshot rows),
    /// so that no series silently disappears: when the unit is cut off (timed out, run deadline, internal error)
    /// before reporting it, the runner reports it Unknown "not checked: the … check ended before this row was
    /// reported (timed out after N s)" — or Skipped with <paramref name="excluded"/>, the exclusion's detail. An
    /// expected row also answers for <paramref name="check"/>: no unit-level row is made for it.
    /// </summary>
    public void Expect(string component, string type, string check, string? excluded = null)
    {
        lock (_gate)
        {
            if (_sealed) return;
            _expected[(component, check)] = (type, excluded);
            _reported.Add("*:" + check);
        }
    }

    /// <summary>Withdraws an expected row (the guest turned out not to exist in Proxmox): nothing is reported for it.</summary>
    public void NoResult(string component, string check)
    {
        lock (_gate) _expected.Remove((component, check));
    }

    /// <summary>
    /// Reports every row still expected for <paramref name="check"/> with one verdict (a listing every row needed could
    /// not be read); expected rows of excluded components are Skipped with their exclusion. Returns how many.
    /// </summary>
    public int ReportExpected(string check, CheckStatus status, string detail)
    {
        lock (_gate)
        {
            var rows = _expected.Where(e => string.Equals(e.Key.Check, check, StringComparison.Ordinal)).ToList();
            foreach (var ((component, c), (type, excluded)) in rows)
            {
                Report(new CheckResult(_unit.Environment, component, type, c, excluded is null ? status : CheckStatus.Skipped, excluded ?? detail,
                    excluded is null ? _clock.Elapsed : TimeSpan.Zero, _unit.Target));
            }
            return rows.Count;
        }
    }


    private int _listening;
    private int _heard;

    /// <summary>
    /// The unit now waits for its target's first word (a TCP connect and an SSH server's identification, an echo reply):
    /// a wait that costs no CPU, so if it lasts the unit's slot of the runner's concurrency limit goes to the next unit of
    /// its kind (AdaptiveLimit.SilentAfter). Call <see cref="Heard"/> when the target speaks.
    /// </summary>
    public void Listening() => Interlocked.Exchange(ref _listening, 1);

    /// <summary>The target said its first word: the unit keeps (or takes back) its slot for what follows.</summary>
    public void Heard()
    {
        if (Interlocked.Exchange(ref _heard, 1) == 0) OnHeard?.Invoke();
    }

    private readonly TaskCompletionSource _silent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes when the unit has listened for longer than units of its kind usually wait for a first word
    /// (AdaptiveLimit.SilentAfter) and heard nothing: the moment its slot goes to the next unit, and the moment a check may
    /// hedge with a second attempt (Confirmation.RunAsync: a lost SYN costs the kernel's 1 s retransmission timer).
    /// </summary>
    public Task Silent => _silent.Task;

    /// <summary>The runner found the unit listening in silence (see <see cref="Silent"/>).</summary>
    internal void SilentTooLong() => _silent.TrySetResult();

    /// <summary>True while the unit listens and has heard nothing: its slot may go to the next unit.</summary>
    internal bool ListeningInSilence => Volatile.Read(ref _listening) == 1 && Volatile.Read(ref _heard) == 0;

    /// <summary>Called once, when the unit first hears from its target (the runner's limit learns the time to first word).</summary>
    internal Action? OnHeard { get; set; }

    /// <summary>True once the unit has reported an Ok result (the runner's concurrency limit learns from these).</summary>
    internal bool AnsweredOk { get; private set; }

    /// <summary>True once the unit has reported anything.</summary>
    internal bool AnsweredAny { get; private set; }

    /// <summary>
    /// Seals the reporter and returns the declared checks that never reported. A unit that reported only on other
    /// components has answered for itself when it <paramref name="completed"/>; when it was cut off (timed out, failed)
    /// its checks that said nothing are returned, so the cut-off is a result rather than silence (a Drift unit that
    /// timed out after its state row must not look like a clean comparison).
    /// </summary>
    internal IReadOnlyList<string> Seal(bool completed = true)
    {
        lock (_gate)
        {
            _sealed = true;
            _unreportedRows = _expected.Select(e => (e.Key.Component, e.Value.Type, e.Key.Check, e.Value.Excluded)).ToList();
            if (completed && _reported.Contains("*") && _unit.Checks.All(c => !_reported.Contains(c)))
            {
                return Array.Empty<string>();
            }
            return _unit.Checks.Where(c => !_reported.Contains(c) && !_reported.Contains("*:" + c)).ToList();
        }
    }

    private IReadOnlyList<(string Component, string Type, string Check, string? Excluded)> _unreportedRows = [];

    /// <summary>
    /// Fill in the expected rows the unit did not report before it ended (<see cref="Expect"/>), bypassing the seal
    /// (runner only): Unknown with one detail for all of them, naming why the unit ended (<paramref name="failure"/>,
    /// null when it completed without reporting them: the checker's own fault); excluded rows Skipped.
    /// </summary>
    internal void ReportUnreportedRows(string? failure)
    {
        var detail = failure is null
            ? "internal error: the check ended without reporting this row"
            : $"not checked: the {_unit.Type} check ended before this row was reported ({failure})";
        foreach (var (component, type, check, excluded) in _unreportedRows)
        {
            _sink(new CheckResult(_unit.Environment, component, type, check, excluded is null ? CheckStatus.Unknown : CheckStatus.Skipped,
                excluded ?? detail, excluded is null ? _clock.Elapsed : TimeSpan.Zero, _unit.Target));
        }
    }

    /// <summary>Fill in the missing checks after the unit ended, bypassing the seal (runner only).</summary>
    internal void ReportMissing(IEnumerable<string> checks, CheckStatus status, string detail)
    {
        foreach (var check in checks)
        {
            _sink(new CheckResult(_unit.Environment, _unit.Component, _unit.Type, check, status, detail, _clock.Elapsed, _unit.Target) { Node = _unit.Node });
        }
    }
}
