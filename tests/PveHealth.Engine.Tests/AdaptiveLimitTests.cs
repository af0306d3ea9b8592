using System.Diagnostics;
using PveHealth.Execution;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class AdaptiveLimitTests
{
    private static void Cycle(AdaptiveLimit limit, bool ok, double fraction)
    {
        Assert.True(limit.WaitAsync(CancellationToken.None).IsCompleted);
        limit.Release(ok, fraction);
    }

    [Fact]
    public void Fast_Ok_answers_grow_the_limit_up_to_the_throttle_and_slow_ones_halve_it_per_window()
    {
        var limit = new AdaptiveLimit(4, 64, 2);
        for (var i = 0; i < 100; i++) Cycle(limit, true, 0.05);
        Assert.Equal(64, limit.Limit);
        for (var i = 0; i < 64; i++) Cycle(limit, true, 0.9);
        Assert.Equal(32, limit.Limit);
        for (var i = 0; i < 200; i++) Cycle(limit, true, 0.9);
        Assert.Equal(2, limit.Limit); // never below the floor
    }

    [Fact]
    public void Dead_hosts_grow_the_limit_only_while_the_Ok_answers_are_not_slow()
    {
        var limit = new AdaptiveLimit(4, 64, 2);
        for (var i = 0; i < 10; i++) Cycle(limit, false, 1.0);
        Assert.Equal(14, limit.Limit);
        for (var i = 0; i < 8; i++) Cycle(limit, true, 0.9); // slow Ok answers: -0.5 each
        Assert.Equal(10, limit.Limit);
        for (var i = 0; i < 10; i++) Cycle(limit, false, 1.0);
        Assert.Equal(10, limit.Limit);
    }

    [Fact]
    public void Answers_near_the_fastest_seen_grow_the_limit_even_above_a_quarter_of_the_timeout()
    {
        var limit = new AdaptiveLimit(4, 64, 2);
        for (var i = 0; i < 10; i++) Cycle(limit, true, 0.15); // fast: grows
        Assert.Equal(14, limit.Limit);
        for (var i = 0; i < 10; i++) Cycle(limit, true, 0.28); // above a quarter, but under twice the fastest: grows
        Assert.Equal(24, limit.Limit);
        for (var i = 0; i < 10; i++) Cycle(limit, true, 0.4); // queueing (over twice the fastest), not yet slow: holds
        Assert.Equal(24, limit.Limit);
    }

    [Fact]
    public async Task Waiters_start_in_order_when_slots_free_and_a_cancelled_waiter_takes_no_slot()
    {
        var limit = new AdaptiveLimit(1, 1);
        await limit.WaitAsync(CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var cancelled = limit.WaitAsync(cts.Token);
        var next = limit.WaitAsync(CancellationToken.None);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(next.IsCompleted);
        limit.Release(true, 0.1);
        await next.WaitAsync(TimeSpan.FromSeconds(5));
    }

    private sealed class SlowUnit(string name, Func<CheckReporter, CancellationToken, Task> run) : CheckUnit("test", name, "Vm", "127.0.0.1", ["Ssh"])
    {
        public override Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken) => run(reporter, cancellationToken);
    }

    [Fact]
    public void Units_of_dead_hosts_time_out_in_parallel_not_one_after_another()
    {
        var units = Enumerable.Range(0, 64).Select(i => (CheckUnit)new SlowUnit($"g{i}", (_, ct) => Task.Delay(Timeout.Infinite, ct))).ToList();
        var clock = Stopwatch.StartNew();
        var results = new CheckRunner(new RunOptions { ThrottleLimit = 64, CheckTimeout = TimeSpan.FromMilliseconds(300) })
            .Run(units, CancellationToken.None).OfType<ResultEvent>().ToList();
        Assert.Equal(64, results.Count);
        Assert.All(results, r => Assert.Equal(CheckStatus.Critical, r.Result.Status));
        // one after another: 19 s; 8 at a time without growing: 2.4 s; growing: a few timeouts
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Units_listening_in_silence_wait_side_by_side_and_the_run_takes_one_timeout()
    {
        // 30 mute guests (Listening, never Heard) at a 2 s timeout: the limit starts at 8, but a silent listener frees its
        // slot after a tenth of its timeout, so all 30 wait at once. Before: waves of 8 freed at half the timeout (5 s).
        var inside = 0;
        var peak = 0;
        var units = Enumerable.Range(0, 30).Select(i => (CheckUnit)new SlowUnit($"mute{i}", async (r, ct) =>
        {
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref peak, now);
            try
            {
                r.Listening();
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally { Interlocked.Decrement(ref inside); }
        })).ToList();
        var clock = Stopwatch.StartNew();
        var results = new CheckRunner(new RunOptions { ThrottleLimit = 64, CheckTimeout = TimeSpan.FromSeconds(2) })
            .Run(units, CancellationToken.None).OfType<ResultEvent>().Select(e => e.Result).ToList();
        clock.Stop();
        Assert.Equal(30, results.Count);
        Assert.Single(results.Select(r => (r.Status, r.Detail)).Distinct());
        Assert.Equal(30, peak);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2 * 1.5 + 1), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("not listening")]
    [InlineData("first word at once")]
    [InlineData("first word queued")]
    public void A_shared_bottleneck_keeps_healthy_units_inside_their_timeout(string firstWord)
    {
        // A server that takes 30 ms of exclusive work per unit (the slow sshd's key exchange): 64 at once would wait 1.9 s,
        // beyond the 1.2 s timeout. A listening unit hears the server's first word at once, or only when the server gets to
        // it (a server too busy to even say hello): listening must not lift the limit.
        var server = new SemaphoreSlim(1, 1);
        var units = Enumerable.Range(0, 150).Select(i => (CheckUnit)new SlowUnit($"g{i}", async (r, ct) =>
        {
            if (firstWord != "not listening") r.Listening();
            if (firstWord == "first word at once") r.Heard();
            await server.WaitAsync(ct);
            try
            {
                if (firstWord == "first word queued") r.Heard();
                await Task.Delay(30, ct);
            }
            finally { server.Release(); }
            r.Report("Ssh", CheckStatus.Ok, "ok");
        })).ToList();
        var results = new CheckRunner(new RunOptions { ThrottleLimit = 64, CheckTimeout = TimeSpan.FromMilliseconds(1200) })
            .Run(units, CancellationToken.None).OfType<ResultEvent>().Select(e => e.Result).ToList();
        var timedOut = results.Count(r => r.Status != CheckStatus.Ok);
        Assert.True(timedOut <= 15, $"{timedOut} of 150 healthy units timed out");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
