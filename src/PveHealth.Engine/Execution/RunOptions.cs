namespace PveHealth.Execution;

/// <summary>Limits of one run. Every wait in a run is bounded by one of these.</summary>
public sealed record RunOptions
{
    /// <summary>Default timeout of one check unit (-TimeoutSec).</summary>
    public TimeSpan CheckTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many units run at once (-ThrottleLimit).</summary>
    public int ThrottleLimit { get; init; } = 64;

    /// <summary>Deadline of the whole run; units not finished by then are reported and the run ends.</summary>
    public TimeSpan RunTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// When the run started (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>): the commands set it before they
    /// read an inventory, so discovery counts against <see cref="RunTimeout"/>. Null: the run starts with the checks.
    /// </summary>
    public long? StartTimestamp { get; init; }

    /// <summary>Options whose run starts now (discovery and checks share <see cref="RunTimeout"/>).</summary>
    public RunOptions StartingNow() => this with { StartTimestamp = System.Diagnostics.Stopwatch.GetTimestamp() };

    /// <summary>
    /// What is left of <see cref="RunTimeout"/> (never negative): all of it before the run started, else the run
    /// timeout less the time since <see cref="StartTimestamp"/>.
    /// </summary>
    public TimeSpan RunRemaining
    {
        get
        {
            if (StartTimestamp is not long start) return RunTimeout;
            var left = RunTimeout - System.Diagnostics.Stopwatch.GetElapsedTime(start);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    public void Validate()
    {
        if (CheckTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(CheckTimeout), "The check timeout must be positive.");
        if (ThrottleLimit < 1) throw new ArgumentOutOfRangeException(nameof(ThrottleLimit), "The throttle limit must be at least 1.");
        if (RunTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RunTimeout), "The run timeout must be positive.");
    }
}
