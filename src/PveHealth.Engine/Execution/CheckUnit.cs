using PveHealth.Model;

namespace PveHealth.Execution;

/// <summary>
/// One unit of work the runner schedules under one timeout: a check, or a few checks that share a
/// connection (Ssh then Docker on one SSH session). A unit declares the checks it reports so the
/// dry run can list them and a timeout can answer for the ones that never reported.
/// Adding a check kind means one subclass and one registration in the planner.
/// </summary>
public abstract class CheckUnit
{
    protected CheckUnit(string environment, string component, string type, string target, IReadOnlyList<string> checks)
    {
        Environment = environment;
        Component = component;
        Type = type;
        Target = target;
        Checks = checks;
    }

    public string Environment { get; }
    public string Component { get; }
    public string Type { get; }
    /// <summary>Address or URL the unit contacts; shown by the dry run and in results.</summary>
    public string Target { get; }
    /// <summary>Proxmox node the component runs on, where known (a guest's inventory node); stamped on the unit's own results.</summary>
    public string Node { get; internal set; } = string.Empty;
    /// <summary>Names of the checks this unit reports, in the order it runs them.</summary>
    public IReadOnlyList<string> Checks { get; private set; }

    /// <summary>True when <paramref name="check"/> is among the checks this unit should run.</summary>
    protected bool Runs(string check) => Checks.Contains(check, StringComparer.OrdinalIgnoreCase);

    /// <summary>A copy of the unit that runs only <paramref name="checks"/> (the rest were excluded).</summary>
    public CheckUnit WithChecks(IReadOnlyList<string> checks)
    {
        var copy = (CheckUnit)MemberwiseClone();
        copy.Checks = checks;
        return copy;
    }

    /// <summary>
    /// Optional per-unit timeout; the runner uses its default (-TimeoutSec) when null.
    /// </summary>
    public TimeSpan? Timeout { get; internal set; }

    /// <summary>
    /// The time one network step of the unit may take (-TimeoutSec) when its <see cref="Timeout"/> spans several steps that
    /// depend on each other (<see cref="TakesRounds"/>); null: the whole timeout. The runner's concurrency limit and its
    /// silence rule measure against it (a handshake must fit its own step, however many steps follow).
    /// </summary>
    public TimeSpan? Step { get; private set; }

    /// <summary>
    /// The unit's timeout for <paramref name="rounds"/> dependent steps of <paramref name="step"/> each, at most the run
    /// deadline <paramref name="run"/> (<see cref="Deadline.Rounds"/>): the one rule for units that wait more than once.
    /// </summary>
    protected void TakesRounds(int rounds, TimeSpan step, TimeSpan run)
    {
        Timeout = Deadline.Rounds(rounds, step, run);
        Step = step;
    }

    /// <summary>
    /// Run the checks and report each one through <paramref name="reporter"/>. The token is cancelled
    /// when the unit's timeout or the run-wide deadline passes, or on Ctrl+C: pass it to every wait.
    /// Exceptions are caught by the runner and become Unknown results.
    /// </summary>
    public abstract Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken);

    /// <summary>
    /// Starts shared work this unit will wait for (the one answer many units share) and returns it, or null when there
    /// is none. The runner calls it for every unit before it admits any and waits for the returned work, bounded by the
    /// deadline rule on the check timeout, so that answer is asked and read before the run's own flood of pings and SSH
    /// handshakes competes with it for the CPU. Must be cheap, idempotent and never throw.
    /// </summary>
    public virtual Task? Prepare() => null;

    /// <summary>
    /// The verdict for <paramref name="check"/> (one the unit never reported) when the runner cut the unit off at its
    /// <paramref name="timeout"/>: a unit that words a fault at its own deadline ("no SSH answer within 5 s") gives the
    /// same words here, so the same fault has one form whichever deadline fires first (on a loaded machine the runner's
    /// can). Null: the runner's Critical "timed out after N s".
    /// </summary>
    internal virtual (CheckStatus Status, string Detail)? CutOffVerdict(string check, TimeSpan timeout) => null;

    /// <summary>Human description for the dry run ("What if: ...").</summary>
    public virtual string Describe(string check) => Target.Length == 0 ? $"{check} on {Component}" : $"{check} on {Component} ({Target})";

    public override string ToString() => $"{Type} {Component} [{string.Join(",", Checks)}]";
}
