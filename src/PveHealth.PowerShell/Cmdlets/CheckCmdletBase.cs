using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Language;
using PveHealth.Execution;
using PveHealth.Model;
using PveHealth.PowerShell.Formatting;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// Shared plumbing of the cmdlets that run checks: one CancellationTokenSource cancelled by
/// StopProcessing (Ctrl+C), and the pump that drains the runner's queue on the pipeline thread,
/// the only thread that writes objects, progress and messages.
/// </summary>
public abstract class CheckCmdletBase : PSCmdlet
{
    /// <summary>Type name added to results of a run over several environments (the view with an Environment column).</summary>
    public const string EnvironmentTypeName = "PveHealth.Model.CheckResult#Environment";

    private static readonly TimeSpan ProgressTick = TimeSpan.FromMilliseconds(500);

    private readonly CancellationTokenSource _cancel = new();
    private readonly Dictionary<CheckStatus, int> _counts = new();
    private readonly System.Diagnostics.Stopwatch _runClock = new();
    private readonly Dictionary<(string, string), ComponentReport> _byComponent = new();
    private readonly List<CheckResult> _kept = new();

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

    /// <summary>One object per component (PveHealth.ComponentReport: one column per check) instead of one per check.</summary>
    [Parameter]
    public SwitchParameter ByComponent { get; set; }

    /// <summary>Only results with these statuses are written (the summary still counts every check): -Status Warning, Unknown, Critical.</summary>
    [Parameter]
    public CheckStatus[]? Status { get; set; }

    /// <summary>Writes nothing but $true when no check failed (every status Ok or Skipped), else $false: for runbooks.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>When true, results carry <see cref="EnvironmentTypeName"/> so the table shows their Environment.</summary>
    protected bool ShowEnvironment { get; set; }

    /// <summary>True once Ctrl+C (or a stopping pipeline) cancelled the run.</summary>
    protected bool Cancelled { get; private set; }

    protected override void StopProcessing() => _cancel.Cancel();

    /// <summary>The run parameters this invocation was given (null = not given: the configuration's value applies).</summary>
    private protected Planning.RunParameters RunParameters() => new()
    {
        TimeoutSec = MyInvocation.BoundParameters.ContainsKey(nameof(TimeoutSec)) ? TimeoutSec : null,
        ThrottleLimit = MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)) ? ThrottleLimit : null,
    };

    /// <summary>
    /// Runs <paramref name="units"/> and writes each result as it finishes. Progress counts results against the
    /// planned total (results already written plus every check the units declare) and names what is pending; it
    /// shows while the run waits (refreshed every half second when nothing finishes) and is taken down before each
    /// row, so rows never stream under a live progress bar: pwsh's console host asks the terminal for the cursor
    /// position on every write under a visible bar, and a Ctrl+C that lands during that question can leave it
    /// waiting for an answer the terminal dropped (the prompt never returns). On Ctrl+C the rows already written
    /// stay and a closing line says the run was cancelled and how many checks were unfinished, whether the stop
    /// came while waiting for a result or while a row was being written.
    /// </summary>
    protected void RunAndWrite(IReadOnlyList<CheckUnit> units, RunOptions options, int activityId = 1)
    {
        _runClock.Start();
        if (units.Count == 0) return;
        var pending = new PendingChecks();
        foreach (var unit in units) pending.Add(unit);
        var runner = new CheckRunner(options);
        var progress = new ProgressRecord(activityId, "PveHealth", $"Running {Done + pending.Count} checks");
        var showing = false;
        void ShowProgress()
        {
            // The planned total is the results written plus the declared checks still pending, counted again each
            // time: a check that reports one result per item (storage Usage, NodeCertificate) raises it, so the bar
            // counts what the summary counts and never reads "44 of 44" while checks are still pending.
            var done = Done;
            var planned = done + pending.Count;
            // The minimal progress view of pwsh 7 shows only the status line: what is pending goes there too.
            var waiting = pending.Describe(_runClock.Elapsed);
            progress.RecordType = ProgressRecordType.Processing;
            progress.StatusDescription = $"{done} of {planned} checks done; {waiting}";
            progress.CurrentOperation = waiting;
            progress.PercentComplete = (int)(100L * done / Math.Max(1, planned));
            WriteProgress(progress);
            showing = true;
        }
        void HideProgress()
        {
            if (!showing) return;
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
            showing = false;
        }
        try
        {
            foreach (var ev in runner.Run(units, _cancel.Token, ProgressTick))
            {
                switch (ev)
                {
                    case ResultEvent r:
                        HideProgress();
                        // Counted and no longer pending only once written: a row the stop interrupted is unfinished.
                        WriteResult(r.Result);
                        pending.Remove(r.Result);
                        break;
                    case ProgressEvent p:
                        if (p.Unit is not null) pending.Remove(p.Unit);
                        break;
                    case TickEvent:
                        ShowProgress();
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            Cancelled = true;
            WriteCancelled(pending);
            return;
        }
        catch (PipelineStoppedException ex) when (ex.GetType() == typeof(PipelineStoppedException))
        {
            // Ctrl+C while a row was on its way down the pipeline: WriteObject throws. (Select-Object -First stops
            // the command with a subclass of its own; that is no cancellation and gets no line.)
            _cancel.Cancel();
            Cancelled = true;
            WriteCancelled(pending);
            throw;
        }
        HideProgress();
        WriteVerbose($"Concurrency: {runner.Concurrency} (throttle limit {options.ThrottleLimit}).");
    }

    private int Done => _counts.Values.Sum();

    /// <summary>Writes a result (from the runner, or decided without running) and counts it.</summary>
    protected void WriteResult(CheckResult result)
    {
        Emit(result);
        // Counted once written: when the stop interrupts WriteObject, the counts still match the rows shown.
        _counts[result.Status] = _counts.TryGetValue(result.Status, out var n) ? n + 1 : 1;
    }

    private void Emit(CheckResult result)
    {
        if (Quiet.IsPresent) return;
        if (ByComponent.IsPresent)
        {
            var key = (result.Environment, result.Component);
            if (!_byComponent.TryGetValue(key, out var report)) _byComponent[key] = report = new ComponentReport(result.Environment, result.Component, result.Type);
            report.Add(result);
            return;
        }
        if (Status is { Length: > 0 } && !Status.Contains(result.Status)) return;
        if (ShowEnvironment)
        {
            var wrapped = new PSObject(result);
            wrapped.TypeNames.Insert(0, EnvironmentTypeName);
            WriteObject(wrapped);
        }
        else WriteObject(result);
    }

    /// <summary>With -ByComponent: the component rows, sorted by environment and name (WriteSummary writes them).</summary>
    private void WriteComponentReports()
    {
        if (!ByComponent.IsPresent) return;
        foreach (var report in _byComponent.Values.OrderBy(r => r.Environment, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.Component, StringComparer.OrdinalIgnoreCase))
        {
            if (Status is { Length: > 0 } && !Status.Contains(report.Status)) continue;
            if (ShowEnvironment)
            {
                var wrapped = new PSObject(report);
                wrapped.TypeNames.Insert(0, ComponentReport.EnvironmentTypeName);
                WriteObject(wrapped);
            }
            else WriteObject(report);
        }
    }

    /// <summary>Statuses written so far.</summary>
    protected IReadOnlyDictionary<CheckStatus, int> Counts => _counts;

    private string CountsText()
    {
        var parts = Enum.GetValues<CheckStatus>().OrderByDescending(s => s).Where(s => _counts.ContainsKey(s)).Select(s => $"{_counts[s]} {s}");
        return string.Join(", ", parts);
    }

    /// <summary>
    /// The closing line of an interactive run ("12 checks: 2 Critical, 1 Warning, 9 Ok in 3.4 s"),
    /// written to the host (information stream, like Write-Host) only when this command ends the
    /// pipeline and its output is not captured (assigned, redirected, in an expression), so scripts
    /// capturing the objects never see it. Nothing after a cancelled run (the cancel line said it all).
    /// </summary>
    protected void WriteSummary()
    {
        if (Cancelled) return;
        if (Quiet.IsPresent)
        {
            WriteObject(!_counts.Any(kv => kv.Key >= CheckStatus.Warning && kv.Value > 0));
            return;
        }
        WriteComponentReports();
        if (!EndsPipelineUncaptured()) return;
        var total = Done;
        var text = $"{total} {(total == 1 ? "check" : "checks")}: {(total == 0 ? "none run" : CountsText())} in {_runClock.Elapsed.TotalSeconds:0.0} s";
        WriteInformation(new HostInformationMessage { Message = text, NoNewLine = false }, ["PSHOST", "PveHealthSummary"]);
    }

    private void WriteCancelled(PendingChecks pending)
    {
        var done = Done;
        var text = $"Cancelled after {_runClock.Elapsed.TotalSeconds:0.0} s: {done} {(done == 1 ? "check" : "checks")} done ({(done == 0 ? "none" : CountsText())}), {pending.Count} unfinished"
            + (pending.Count == 0 ? "." : $" ({pending.Describe(null)}).");
        try
        {
            // The pipeline is stopping: WriteObject/WriteInformation would throw. The host still prints.
            Host.UI.WriteLine(text);
        }
        catch (Exception ex) when (ex is PipelineStoppedException or HostException or InvalidOperationException or NotImplementedException)
        {
        }
    }

    /// <summary>
    /// True when this command is the last of its pipeline and that pipeline is a statement of its own (its output
    /// goes to the host): not assigned (<c>$r = ...</c>), not inside an expression (<c>@(...)</c>, <c>(...)</c>),
    /// not redirected. When the line cannot be read, the old rule (last in the pipeline) applies.
    /// </summary>
    private bool EndsPipelineUncaptured()
    {
        if (MyInvocation.PipelinePosition != MyInvocation.PipelineLength) return false;
        var line = MyInvocation.Line;
        var column = MyInvocation.OffsetInLine;
        if (string.IsNullOrEmpty(line) || column <= 0) return true;
        ScriptBlockAst ast;
        try
        {
            ast = Parser.ParseInput(line, out _, out _);
        }
        catch (Exception)
        {
            return true;
        }
        var command = ast.Find(a => a is CommandAst c && c.Extent.StartColumnNumber == column && c.Extent.StartLineNumber == 1, searchNestedScriptBlocks: true) as CommandAst;
        if (command is null) return true;
        if (command.Redirections.Any(r => r.FromStream is RedirectionStream.Output or RedirectionStream.All)) return false;
        if (command.Parent is not PipelineAst pipeline) return true;
        for (var a = pipeline.Parent; a is not null and not ScriptBlockAst; a = a.Parent)
        {
            if (a is AssignmentStatementAst or ArrayExpressionAst or SubExpressionAst or ParenExpressionAst or CommandExpressionAst or PipelineAst or ExpandableStringExpressionAst) return false;
        }
        return true;
    }

    /// <summary>The checks the units declared that have no result yet, in plan order, for the progress line and the cancel line.</summary>
    private sealed class PendingChecks
    {
        private readonly Dictionary<(string, string, string), int> _order = new();
        private readonly SortedDictionary<int, (string Env, string Component, string Check)> _byOrder = new();
        private int _next;

        public int Count => _order.Count;

        public void Add(CheckUnit unit)
        {
            foreach (var check in unit.Checks)
            {
                var key = Key(unit.Environment, unit.Component, check);
                if (_order.ContainsKey(key)) continue;
                _order[key] = _next;
                _byOrder[_next++] = (unit.Environment, unit.Component, check);
            }
        }

        public void Remove(CheckResult r) => Remove(Key(r.Environment, r.Component, r.Check));

        public void Remove(CheckUnit unit)
        {
            foreach (var check in unit.Checks) Remove(Key(unit.Environment, unit.Component, check));
        }

        private void Remove((string, string, string) key)
        {
            if (_order.Remove(key, out var i)) _byOrder.Remove(i);
        }

        private static (string, string, string) Key(string env, string component, string check)
            => (env.ToLowerInvariant(), component.ToLowerInvariant(), check.ToLowerInvariant());

        /// <summary>"waiting: db-01 Ping, Ssh; web-02 Docker and 3 more (4 s)"; without a time, only the list.</summary>
        public string Describe(TimeSpan? elapsed)
        {
            if (_order.Count == 0) return "finishing";
            var groups = new List<(string Component, List<string> Checks)>();
            var shownChecks = 0;
            foreach (var (_, component, check) in _byOrder.Values)
            {
                var g = groups.FindIndex(x => x.Component == component);
                if (g < 0)
                {
                    if (groups.Count == 3) break;
                    groups.Add((component, new List<string>()));
                    g = groups.Count - 1;
                }
                groups[g].Checks.Add(check);
                shownChecks++;
            }
            var text = string.Join("; ", groups.Select(g => $"{TableText.Inert(g.Component)} {string.Join(", ", g.Checks)}"));
            var more = _order.Count - shownChecks;
            if (more > 0) text += $" and {more} more";
            return elapsed is TimeSpan t ? $"waiting: {text} ({t.TotalSeconds:0} s)" : text;
        }
    }
}
