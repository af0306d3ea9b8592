using System.Collections.Concurrent;
using System.Diagnostics;
using PveHealth.Model;

namespace PveHealth.Execution;

/// <summary>
/// Runs check units concurrently (at most <see cref="RunOptions.ThrottleLimit"/> at once), each under
/// its timeout and all under one run-wide deadline. Results are queued in a BlockingCollection that
/// only the caller's thread drains (the PowerShell pipeline thread), so nothing is written from a
/// worker thread. A unit that ignores its cancellation token is abandoned at its deadline: the run
/// still ends on time.
/// </summary>
public sealed class CheckRunner
{
    private readonly RunOptions _options;

    public CheckRunner(RunOptions options)
    {
        options.Validate();
        _options = options;
    }

    /// <summary>
    /// Starts the run and returns the events in the order they happen. Enumerate on one thread;
    /// cancelling <paramref name="cancellationToken"/> (Ctrl+C) cancels every unit and ends the
    /// enumeration at once. With <paramref name="tick"/>, a <see cref="TickEvent"/> comes whenever that long
    /// passed without another event, so the caller can refresh its progress while every check is waiting.
    /// </summary>
    public IEnumerable<RunEvent> Run(IReadOnlyList<CheckUnit> units, CancellationToken cancellationToken, TimeSpan? tick = null)
    {
        EnsureThreads(_options.ThrottleLimit);
        using var queue = new BlockingCollection<RunEvent>();
        using var runCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The run deadline counts from the run's start: time spent reading the inventory is already gone.
        runCts.CancelAfter(_options.RunRemaining);
        var runner = Task.Run(() => RunAllAsync(units, queue, runCts.Token, cancellationToken));

        try
        {
            if (tick is not TimeSpan interval)
            {
                foreach (var item in queue.GetConsumingEnumerable(cancellationToken))
                {
                    yield return item;
                }
            }
            else
            {
                var lastEvent = Stopwatch.StartNew();
                while (!queue.IsCompleted)
                {
                    RunEvent? item;
                    try
                    {
                        if (!queue.TryTake(out item, (int)Math.Max(1, interval.TotalMilliseconds), cancellationToken)) item = null;
                    }
                    catch (InvalidOperationException) when (queue.IsCompleted)
                    {
                        break; // completed between the check and the take
                    }
                    if (item is not null)
                    {
                        lastEvent.Restart();
                        yield return item;
                    }
                    else if (!queue.IsCompleted && lastEvent.Elapsed >= interval)
                    {
                        lastEvent.Restart();
                        yield return new TickEvent();
                    }
                }
            }
        }
        finally
        {
            runCts.Cancel();
            // The runner observes runCts and ends quickly; never block the pipeline thread long.
            runner.Wait(TimeSpan.FromSeconds(1));
        }
    }

    private async Task RunAllAsync(IReadOnlyList<CheckUnit> units, BlockingCollection<RunEvent> queue,
        CancellationToken runToken, CancellationToken userToken)
    {
        using var throttle = new SemaphoreSlim(_options.ThrottleLimit, _options.ThrottleLimit);
        // Per kind of unit, how many run at once adapts to how fast the Ok answers come (AdaptiveLimit).
        var limits = new Dictionary<Type, AdaptiveLimit>();
        foreach (var unit in units)
        {
            if (!limits.ContainsKey(unit.GetType())) limits[unit.GetType()] = new AdaptiveLimit(AdaptiveStart(_options.ThrottleLimit), _options.ThrottleLimit, System.Environment.ProcessorCount);
        }
        var completed = 0;
        void Post(RunEvent e)
        {
            try { queue.Add(e); } catch (InvalidOperationException) { /* consumer gone or queue disposed */ }
        }

        async Task RunOne(CheckUnit unit)
        {
            var clock = Stopwatch.StartNew();
            var reporter = new CheckReporter(unit, r => Post(new ResultEvent(r)), clock);
            var acquired = false;
            var limit = limits[unit.GetType()];
            AdaptiveLimit.Slot? slot = null;
            double? fraction = null;
            try
            {
                try
                {
                    await limit.WaitAsync(runToken).ConfigureAwait(false);
                    slot = new AdaptiveLimit.Slot(limit);
                    await throttle.WaitAsync(runToken).ConfigureAwait(false);
                    acquired = true;
                    // A slot freed by the deadline itself must not start new work.
                    runToken.ThrowIfCancellationRequested();
                }
                catch (OperationCanceledException)
                {
                    var missing = reporter.Seal();
                    if (!userToken.IsCancellationRequested)
                    {
                        reporter.ReportMissing(missing, CheckStatus.Unknown,
                            $"not run: the run deadline of {Seconds(_options.RunTimeout)} s was reached before this check could start");
                    }
                    return;
                }

                clock.Restart();
                var timeout = unit.Timeout ?? _options.CheckTimeout;
                reporter.Timeout = timeout;
                // What the limit learns and the silence rule measure against: one step of the unit (its whole timeout
                // unless it takes rounds, CheckUnit.Step).
                var step = unit.Step is { } s && s < timeout ? s : timeout;
                using var unitCts = CancellationTokenSource.CreateLinkedTokenSource(runToken);
                unitCts.CancelAfter(timeout);
                // The limit is about handshake cost, not waiting: a unit listening for its target's first word that hears
                // nothing for a while (a stopped guest, a port that accepts and never speaks) gives its slot to the next unit
                // of its kind, so silent guests wait side by side, and takes it back if it speaks after all; any unit that has
                // reported nothing at half its timeout gives its slot back too (AdaptiveLimit).
                var mine = slot!;
                reporter.OnHeard = () =>
                {
                    limit.Heard(clock.Elapsed / step);
                    mine.Heard();
                };
                _ = Task.Delay(step * limit.SilentAfter, unitCts.Token).ContinueWith(t =>
                {
                    if (t.IsCompletedSuccessfully && reporter.ListeningInSilence)
                    {
                        mine.FreeInSilence();
                        reporter.SilentTooLong();
                    }
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                _ = Task.Delay(step * AdaptiveLimit.SlowFraction, unitCts.Token).ContinueWith(t =>
                {
                    if (t.IsCompletedSuccessfully && !reporter.AnsweredAny) mine.FreeLate();
                }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                Task work;
                try
                {
                    work = Task.Run(() => unit.RunAsync(reporter, unitCts.Token), CancellationToken.None);
                }
                catch (Exception ex)
                {
                    work = Task.FromException(ex);
                }

                string? failure = null;
                var status = CheckStatus.Critical;
                var cutOff = false; // the unit's timeout, not the run's deadline or a failure
                try
                {
                    // WaitAsync bounds the wait even when the unit ignores its token.
                    await work.WaitAsync(timeout, runToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    failure = $"timed out after {Seconds(timeout)} s";
                    cutOff = true;
                }
                catch (OperationCanceledException) when (userToken.IsCancellationRequested)
                {
                    failure = null; // Ctrl+C: nobody reads the rest.
                    reporter.Seal();
                    return;
                }
                catch (OperationCanceledException) when (runToken.IsCancellationRequested)
                {
                    status = CheckStatus.Unknown;
                    failure = $"stopped: the run deadline of {Seconds(_options.RunTimeout)} s was reached";
                }
                catch (OperationCanceledException) when (unitCts.IsCancellationRequested)
                {
                    failure = $"timed out after {Seconds(timeout)} s";
                    cutOff = true;
                }
                catch (Exception ex)
                {
                    status = CheckStatus.Unknown;
                    failure = $"internal error in the check: {ex.GetType().Name}: {CheckResult.OneLine(ex.Message)}";
                }
                finally
                {
                    unitCts.Cancel();
                }

                fraction = clock.Elapsed / step;
                var unanswered = reporter.Seal(completed: failure is null);
                if (cutOff)
                {
                    // One fault, one form: a unit that words this fault itself (Ssh: "no SSH answer") does so here too.
                    var generic = new List<string>();
                    foreach (var check in unanswered)
                    {
                        if (unit.CutOffVerdict(check, timeout) is { } own) reporter.ReportMissing([check], own.Status, own.Detail);
                        else generic.Add(check);
                    }
                    unanswered = generic;
                }
                if (unanswered.Count > 0)
                {
                    // A unit that ends without answering for a declared check is the checker's own fault: Unknown.
                    reporter.ReportMissing(unanswered, failure is null ? CheckStatus.Unknown : status,
                        failure ?? "internal error: the check ended without reporting a result");
                }
                // The rows it said it would report about other components (each declared guest) and did not: Unknown,
                // the checker could not look - whatever cut the unit off says nothing about those guests.
                reporter.ReportUnreportedRows(failure);
            }
            finally
            {
                if (acquired) throttle.Release();
                slot?.End(reporter.AnsweredOk, fraction);
                var done = Interlocked.Increment(ref completed);
                Post(new ProgressEvent(done, units.Count, unit.ToString(), unit));
            }
        }

        // The answers many units share are asked, and awaited, before any unit is admitted (CheckUnit.Prepare): the one
        // /cluster/resources answer every guest waits for must not queue behind the run's own pings and handshakes. The
        // wait is bounded (Deadline.SharedHead: a quarter of the check timeout) and ends at the run deadline; an answer
        // that failed or has not come is the units' to meet within their own timeouts (a timed-out attempt is asked once
        // more, SharedAnswer).
        var shared = new HashSet<Task>();
        foreach (var unit in units)
        {
            try { if (unit.Prepare() is { IsCompleted: false } work) shared.Add(work); }
            catch (Exception) { /* the unit meets the same failure when it runs, and reports it */ }
        }
        if (shared.Count > 0)
        {
            try { await Task.WhenAll(shared).WaitAsync(Deadline.SharedHead(_options.CheckTimeout), runToken).ConfigureAwait(false); }
            catch (Exception) { /* failed, late or cancelled: each unit waits or reports for itself */ }
        }
        try
        {
            var tasks = new Task[units.Count];
            for (var i = 0; i < units.Count; i++)
            {
                tasks[i] = RunOne(units[i]);
            }
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        finally
        {
            Concurrency = string.Join(", ", limits.Select(kv => $"{kv.Key.Name} {kv.Value.Limit} at the end (peak {kv.Value.Peak})"));
            try { queue.CompleteAdding(); } catch (ObjectDisposedException) { }
        }
    }

    /// <summary>After a run: how many units of each kind ran at once at the end, and at most (-Verbose; the benchmark).</summary>
    public string Concurrency { get; private set; } = string.Empty;

    /// <summary>Where each kind's adaptive limit starts: 8 or 4 per core, at most the throttle limit.</summary>
    internal static int AdaptiveStart(int throttle) => Math.Min(throttle, Math.Max(8, 4 * System.Environment.ProcessorCount));

    /// <summary>
    /// Some client libraries block a pool thread while they wait (SSH.NET's handshake does). On a
    /// 2-core host the pool starts with 2 workers and adds about one a second, so a burst of checks
    /// would queue behind each other and time out without ever running. The minimum is raised to the
    /// throttle limit plus 8 (at least 16, at most <see cref="MaxMinThreads"/>), only ever raised, never
    /// lowered. The thread pool belongs to the process: the setting also applies to the pwsh session that
    /// imported the module, and stays after the run (threads above the host's own need are idle and retire
    /// after about 20 s; nothing else changes). The guide says so under "Threads".
    /// </summary>
    private static void EnsureThreads(int throttle)
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        var wanted = Math.Min(Math.Max(throttle + 8, 16), MaxMinThreads);
        if (workers < wanted) ThreadPool.SetMinThreads(wanted, Math.Max(io, wanted));
    }

    /// <summary>Highest pool minimum a run asks for, whatever -ThrottleLimit says.</summary>
    internal const int MaxMinThreads = 512;

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString(t.TotalSeconds % 1 == 0 ? "0" : "0.###", System.Globalization.CultureInfo.InvariantCulture);
}
