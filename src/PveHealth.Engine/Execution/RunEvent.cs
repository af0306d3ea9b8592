using PveHealth.Model;

namespace PveHealth.Execution;

/// <summary>What the runner hands to the pipeline thread: a result, or progress.</summary>
public abstract record RunEvent;

/// <summary>A finished check.</summary>
public sealed record ResultEvent(CheckResult Result) : RunEvent;

/// <summary>A unit finished: <paramref name="Completed"/> of <paramref name="Total"/> units are done; <paramref name="Unit"/> is the one that finished.</summary>
public sealed record ProgressEvent(int Completed, int Total, string LastUnit, CheckUnit? Unit = null) : RunEvent;

/// <summary>Nothing happened for the tick interval the caller asked for: time to refresh a progress display.</summary>
public sealed record TickEvent : RunEvent;
