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

    public void Validate()
    {
        if (CheckTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(CheckTimeout), "The check timeout must be positive.");
        if (ThrottleLimit < 1) throw new ArgumentOutOfRangeException(nameof(ThrottleLimit), "The throttle limit must be at least 1.");
        if (RunTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RunTimeout), "The run timeout must be positive.");
    }
}
