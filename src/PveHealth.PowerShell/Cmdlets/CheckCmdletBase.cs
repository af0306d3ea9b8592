using System.Management.Automation;
using System.Management.Automation.Host;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// Shared plumbing of the cmdlets that run checks: one CancellationTokenSource cancelled by
/// StopProcessing (Ctrl+C), and the pump that drains the runner's queue on the pipeline thread,
/// the only thread that writes objects, progress and messages.
/// </summary>
public abstract class CheckCmdletBase : PSCmdlet
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly Dictionary<CheckStatus, int> _counts = new();
    private readonly System.Diagnostics.Stopwatch _runClock = new();

    /// <summary>Cancelled on Ctrl+C or when the pipeline stops (Select-Object -First).</summary>
    protected CancellationToken Cancellation => _cancel.Token;

    /// <summary>Seconds each check may take; every socket wait of the check is bounded by it.</summary>
    [Parameter]
    [ValidateRange(0.1, 3600)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>How many checks run at once.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = 64;

    protected override void StopProcessing() => _cancel.Cancel();

    /// <summary>Runs <paramref name="units"/> and writes each result as it finishes.</summary>
    protected void RunAndWrite(IReadOnlyList<CheckUnit> units, RunOptions options, int activityId = 1)
    {
        _runClock.Start();
        if (units.Count == 0) return;
        var runner = new CheckRunner(options);
        var progress = new ProgressRecord(activityId, "PveHealth", $"Running {units.Count} checks");
        try
        {
            foreach (var ev in runner.Run(units, _cancel.Token))
            {
                switch (ev)
                {
                    case ResultEvent r:
                        Count(r.Result);
                        WriteObject(r.Result);
                        break;
                    case ProgressEvent p:
                        progress.StatusDescription = $"{p.Completed} of {p.Total} done";
                        progress.CurrentOperation = p.LastUnit;
                        progress.PercentComplete = (int)(100L * p.Completed / Math.Max(1, p.Total));
                        WriteProgress(progress);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            // Ctrl+C: PowerShell stops the pipeline; nothing more to write.
            return;
        }
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
        WriteVerbose($"Concurrency: {runner.Concurrency} (throttle limit {options.ThrottleLimit}).");
    }

    /// <summary>Writes a result produced without running (exclusions, dry-run skips) and counts it.</summary>
    protected void WriteResult(CheckResult result)
    {
        Count(result);
        WriteObject(result);
    }

    private void Count(CheckResult result)
    {
        _counts[result.Status] = _counts.TryGetValue(result.Status, out var n) ? n + 1 : 1;
    }

    /// <summary>Statuses written so far.</summary>
    protected IReadOnlyDictionary<CheckStatus, int> Counts => _counts;

    /// <summary>
    /// The closing line of an interactive run ("12 checks: 9 Ok, 1 Warning, 2 Critical in 3.4 s"),
    /// written to the host (information stream, like Write-Host) only when this command ends the
    /// pipeline, so scripts capturing the objects never see it.
    /// </summary>
    protected void WriteSummary()
    {
        if (MyInvocation.PipelinePosition != MyInvocation.PipelineLength) return;
        var total = _counts.Values.Sum();
        var parts = Enum.GetValues<CheckStatus>().Where(s => _counts.ContainsKey(s)).Select(s => $"{_counts[s]} {s}");
        var text = $"{total} {(total == 1 ? "check" : "checks")}: {(total == 0 ? "none run" : string.Join(", ", parts))} in {_runClock.Elapsed.TotalSeconds:0.0} s";
        WriteInformation(new HostInformationMessage { Message = text, NoNewLine = false }, ["PSHOST", "PveHealthSummary"]);
    }
}
