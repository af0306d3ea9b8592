using System.Diagnostics;
using PveHealth.Execution;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class CheckRunnerTests
{
    private sealed class FakeUnit : CheckUnit
    {
        private readonly Func<CheckReporter, CancellationToken, Task> _run;

        public FakeUnit(string component, Func<CheckReporter, CancellationToken, Task> run, params string[] checks)
            : base("test", component, "Vm", "127.0.0.1", checks.Length == 0 ? ["Ping"] : checks) => _run = run;

        public override Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken) => _run(reporter, cancellationToken);
    }

    private static List<CheckResult> Results(IEnumerable<RunEvent> events) => events.OfType<ResultEvent>().Select(e => e.Result).ToList();

    [Fact]
    public void A_unit_that_never_answers_and_ignores_cancellation_is_Critical_timed_out_and_the_run_ends_on_time()
    {
        var never = new TaskCompletionSource();
        var unit = new FakeUnit("hung", (_, _) => never.Task);
        var runner = new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromMilliseconds(300) });
        var clock = Stopwatch.StartNew();
        var results = Results(runner.Run([unit], CancellationToken.None));
        clock.Stop();
        var r = Assert.Single(results);
        Assert.Equal(CheckStatus.Critical, r.Status);
        Assert.Equal("timed out after 0.3 s", r.Detail);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"run took {clock.Elapsed}");
    }

    [Fact]
    public void Only_the_checks_a_timed_out_unit_did_not_report_become_timed_out()
    {
        var unit = new FakeUnit("web", async (rep, ct) =>
        {
            rep.Report("Ssh", CheckStatus.Ok, "connected");
            await Task.Delay(Timeout.Infinite, ct);
        }, "Ssh", "Docker");
        var results = Results(new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromMilliseconds(200) }).Run([unit], CancellationToken.None));
        Assert.Equal(2, results.Count);
        Assert.Equal(CheckStatus.Ok, results.Single(r => r.Check == "Ssh").Status);
        var docker = results.Single(r => r.Check == "Docker");
        Assert.Equal(CheckStatus.Critical, docker.Status);
        Assert.StartsWith("timed out after", docker.Detail);
    }

    [Fact]
    public void A_unit_cut_off_before_reporting_its_expected_rows_gets_each_of_them_Unknown_with_one_detail()
    {
        // A unit reporting per declared guest (Backups): each guest keeps its series when the unit runs out of time.
        var unit = new FakeUnit("backups", async (rep, ct) =>
        {
            foreach (var g in new[] { "web-01", "web-02", "db-01" }) rep.Expect(g, "Vm", "Coverage");
            rep.Expect("old-01", "Vm", "Coverage");
            rep.Expect("skip-01", "Lxc", "Coverage", excluded: "excluded by 'skip-*' (cli)");
            rep.NoResult("old-01", "Coverage"); // does not exist: no row
            rep.Report(new CheckResult("test", "web-01", "Vm", "Coverage", CheckStatus.Ok, "in job daily", TimeSpan.Zero));
            await Task.Delay(Timeout.Infinite, ct);
        }, "Coverage");
        var results = Results(new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromMilliseconds(300) }).Run([unit], CancellationToken.None));
        Assert.Equal(["db-01", "skip-01", "web-01", "web-02"], results.Select(r => r.Component).Order(StringComparer.Ordinal));
        Assert.Equal(CheckStatus.Ok, results.Single(r => r.Component == "web-01").Status);
        Assert.Equal((CheckStatus.Skipped, "excluded by 'skip-*' (cli)", "Lxc"), results.Where(r => r.Component == "skip-01").Select(r => (r.Status, r.Detail, r.Type)).Single());
        foreach (var g in new[] { "web-02", "db-01" })
        {
            var r = results.Single(r => r.Component == g);
            Assert.Equal((CheckStatus.Unknown, "not checked: the Vm check ended before this row was reported (timed out after 0.3 s)", "Coverage", "Vm"), (r.Status, r.Detail, r.Check, r.Type));
        }
    }

    [Fact]
    public void A_unit_that_completes_without_its_expected_rows_gets_them_Unknown_internal_error()
    {
        var unit = new FakeUnit("snapshots", (rep, _) => { rep.Expect("web-01", "Vm", "Snapshot"); return Task.CompletedTask; }, "Snapshot");
        var r = Assert.Single(Results(new CheckRunner(new RunOptions()).Run([unit], CancellationToken.None)));
        Assert.Equal(("web-01", CheckStatus.Unknown, "internal error: the check ended without reporting this row"), (r.Component, r.Status, r.Detail));
    }

    [Fact]
    public void Late_reports_after_a_timeout_are_dropped()
    {
        // The late report is made while the run is still going (a second unit keeps it open), after the pipeline
        // thread has seen the "timed out" verdict: only the reporter's seal can keep it out.
        var verdictSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lateReported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = new FakeUnit("slow", async (rep, _) =>
        {
            await verdictSeen.Task.WaitAsync(TimeSpan.FromSeconds(20));
            rep.Report("Ping", CheckStatus.Ok, "too late");
            lateReported.SetResult();
        });
        var keeper = new FakeUnit("keeper", async (rep, _) =>
        {
            await lateReported.Task.WaitAsync(TimeSpan.FromSeconds(20));
            rep.Report("Ping", CheckStatus.Ok, "ok");
        }) { Timeout = TimeSpan.FromSeconds(30) };
        var results = new List<CheckResult>();
        foreach (var e in new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromMilliseconds(100) }).Run([slow, keeper], CancellationToken.None))
        {
            if (e is not ResultEvent { Result: var r }) continue;
            results.Add(r);
            if (r.Component == "slow") verdictSeen.TrySetResult();
        }
        Assert.True(lateReported.Task.IsCompletedSuccessfully, "the slow unit never made its late report");
        var verdict = Assert.Single(results, r => r.Component == "slow");
        Assert.Equal((CheckStatus.Critical, "timed out after 0.1 s"), (verdict.Status, verdict.Detail));
        Assert.Equal(CheckStatus.Ok, Assert.Single(results, r => r.Component == "keeper").Status);
    }

    [Fact]
    public void An_exception_becomes_Unknown_with_the_reason()
    {
        var unit = new FakeUnit("broken", (_, _) => throw new InvalidOperationException("boom\nsecond line"));
        var r = Assert.Single(Results(new CheckRunner(new RunOptions()).Run([unit], CancellationToken.None)));
        Assert.Equal(CheckStatus.Unknown, r.Status);
        Assert.Equal("internal error in the check: InvalidOperationException: boom second line", r.Detail);
    }

    [Fact]
    public void A_unit_that_reports_nothing_is_Unknown()
    {
        var unit = new FakeUnit("silent", (_, _) => Task.CompletedTask);
        var r = Assert.Single(Results(new CheckRunner(new RunOptions()).Run([unit], CancellationToken.None)));
        Assert.Equal(CheckStatus.Unknown, r.Status);
        Assert.Equal("internal error: the check ended without reporting a result", r.Detail);
    }

    [Fact]
    public void Throttle_limit_bounds_concurrency()
    {
        var running = 0;
        var peak = 0;
        var units = Enumerable.Range(0, 12).Select(i => (CheckUnit)new FakeUnit($"g{i}", async (rep, ct) =>
        {
            var now = Interlocked.Increment(ref running);
            int seen;
            while ((seen = Volatile.Read(ref peak)) < now && Interlocked.CompareExchange(ref peak, now, seen) != seen) { }
            await Task.Delay(40, ct);
            Interlocked.Decrement(ref running);
            rep.Report("Ping", CheckStatus.Ok, "ok");
        })).ToList();
        var results = Results(new CheckRunner(new RunOptions { ThrottleLimit = 3 }).Run(units, CancellationToken.None));
        Assert.Equal(12, results.Count);
        Assert.True(peak <= 3, $"peak concurrency {peak}");
        Assert.True(peak >= 2, $"peak concurrency {peak}: the units did not overlap");
    }

    [Fact]
    public void Results_stream_as_they_finish_not_at_the_end()
    {
        var slow = new TaskCompletionSource();
        var units = new CheckUnit[]
        {
            new FakeUnit("slow", async (rep, ct) => { await slow.Task.WaitAsync(ct); rep.Report("Ping", CheckStatus.Ok, "slow"); }),
            new FakeUnit("fast", (rep, _) => { rep.Report("Ping", CheckStatus.Ok, "fast"); return Task.CompletedTask; }),
        };
        var seen = new List<string>();
        foreach (var ev in new CheckRunner(new RunOptions()).Run(units, CancellationToken.None))
        {
            if (ev is ResultEvent r)
            {
                seen.Add(r.Result.Component);
                if (r.Result.Component == "fast") slow.SetResult(); // the slow one finishes only after we saw the fast one
            }
        }
        Assert.Equal(["fast", "slow"], seen);
    }

    [Fact]
    public void The_run_deadline_reports_units_that_could_not_start()
    {
        var units = Enumerable.Range(0, 4).Select(i => (CheckUnit)new FakeUnit($"g{i}", (_, ct) => Task.Delay(Timeout.Infinite, ct))).ToList();
        var clock = Stopwatch.StartNew();
        var results = Results(new CheckRunner(new RunOptions { ThrottleLimit = 1, CheckTimeout = TimeSpan.FromSeconds(30), RunTimeout = TimeSpan.FromMilliseconds(400) })
            .Run(units, CancellationToken.None));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"run took {clock.Elapsed}");
        Assert.Equal(4, results.Count);
        Assert.All(results, r => Assert.Equal(CheckStatus.Unknown, r.Status));
        Assert.True(3 == results.Count(r => r.Detail.StartsWith("not run: the run deadline of 0.4 s")), string.Join(" / ", results.Select(r => r.Detail)));
        Assert.Single(results, r => r.Detail.StartsWith("stopped: the run deadline"));
    }

    [Fact]
    public void Cancelling_the_run_ends_the_enumeration_within_a_second_and_cancels_the_units()
    {
        using var cts = new CancellationTokenSource();
        var cancelled = 0;
        var units = Enumerable.Range(0, 8).Select(i => (CheckUnit)new FakeUnit($"g{i}", async (_, ct) =>
        {
            try { await Task.Delay(Timeout.Infinite, ct); }
            catch (OperationCanceledException) { Interlocked.Increment(ref cancelled); throw; }
        })).ToList();
        var runner = new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromSeconds(60) });
        cts.CancelAfter(200);
        var clock = Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() => { foreach (var _ in runner.Run(units, cts.Token)) { } });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"cancellation took {clock.Elapsed}");
        SpinWait.SpinUntil(() => Volatile.Read(ref cancelled) == 8, TimeSpan.FromSeconds(2));
        Assert.Equal(8, cancelled);
    }

    [Fact]
    public void Progress_counts_every_unit()
    {
        var units = Enumerable.Range(0, 5).Select(i => (CheckUnit)new FakeUnit($"g{i}", (rep, _) => { rep.Report("Ping", CheckStatus.Ok, "ok"); return Task.CompletedTask; })).ToList();
        var progress = new CheckRunner(new RunOptions()).Run(units, CancellationToken.None).OfType<ProgressEvent>().ToList();
        Assert.Equal(5, progress.Count);
        Assert.Equal(5, progress.Max(p => p.Completed));
        Assert.All(progress, p => Assert.Equal(5, p.Total));
    }

    [Theory]
    [InlineData(new[] { CheckStatus.Ok, CheckStatus.Skipped }, 0)]
    [InlineData(new[] { CheckStatus.Ok, CheckStatus.Warning }, 1)]
    [InlineData(new[] { CheckStatus.Unknown, CheckStatus.Warning }, 3)]
    [InlineData(new[] { CheckStatus.Unknown, CheckStatus.Critical }, 2)]
    [InlineData(new CheckStatus[0], 0)]
    public void Exit_code_follows_the_worst_status_with_Nagios_meanings(CheckStatus[] statuses, int expected)
        => Assert.Equal(expected, CheckStatusExtensions.ExitCode(statuses));
}
