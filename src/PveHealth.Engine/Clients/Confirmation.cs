using System.Net.Sockets;

namespace PveHealth.Clients;

/// <summary>
/// Confirmation before Critical, the one rule for every check whose first attempt can fail fast (Ssh, and the HTTP
/// endpoints of Prometheus, Grafana, Alertmanager and MinIO health): a first attempt refused, reset or aborted at once
/// is tried exactly once more after <see cref="Pause"/>, inside the same deadline. A timeout (no answer) is never tried
/// again, so a silent host costs one timeout. A failure confirmed by the second attempt carries <see cref="Suffix"/>.
/// </summary>
public static class Confirmation
{
    /// <summary>Pause before the confirming attempt: half a second, or a tenth of a short unit timeout (fixed per timeout, so the detail is too).</summary>
    public static TimeSpan Pause(TimeSpan timeout) => timeout / 10 < TimeSpan.FromMilliseconds(500) ? timeout / 10 : TimeSpan.FromMilliseconds(500);

    /// <summary>"; the same on a second attempt 0.5 s later": the end of the detail of a confirmed failure.</summary>
    public static string Suffix(TimeSpan timeout) => $"; the same on a second attempt {Pause(timeout).TotalSeconds.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)} s later";

    /// <summary>A failure that came back at once from the network (connection refused, reset or aborted), anywhere in the chain.</summary>
    public static bool FailsFast(Exception? ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.ConnectionAborted }) return true;
            if (e is AggregateException { InnerExceptions.Count: 1 } a) return FailsFast(a.InnerExceptions[0]);
        }
        return false;
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> (given its number, 1 or 2); when attempt 1 throws an exception for which
    /// <paramref name="failsFast"/> is true, waits <see cref="Pause"/> of <paramref name="timeout"/> (bounded by
    /// <paramref name="deadline"/>) and runs attempt 2. A failure of attempt 2 is thrown as
    /// <see cref="ConfirmedFailureException"/> around it, so the caller can word it and add <see cref="Suffix"/>.
    /// </summary>
    public static Task<T> RunAsync<T>(Func<int, Task<T>> attempt, Func<Exception, bool> failsFast, TimeSpan timeout, CancellationToken deadline)
        => RunAsync((n, _) => attempt(n), failsFast, timeout, deadline);

    /// <summary>
    /// <see cref="RunAsync{T}(Func{int, Task{T}}, Func{Exception, bool}, TimeSpan, CancellationToken)"/> with a hedge: when
    /// <paramref name="hedge"/> completes while attempt 1 is still waiting (the target has said nothing for longer than its
    /// kind usually takes: a lost SYN or SYN-ACK costs the kernel's 1 s retransmission timer), attempt 2 starts beside it
    /// and the first to succeed wins; the other is cancelled through its token, and a result it still produces is given
    /// to <paramref name="discard"/>. The failure thrown when both fail is attempt 1's (the deadline: no answer). Still
    /// at most two attempts, inside the same deadline.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<int, CancellationToken, Task<T>> attempt, Func<Exception, bool> failsFast, TimeSpan timeout,
        CancellationToken deadline, Task? hedge = null, Action<T>? discard = null)
    {
        using var firstStop = CancellationTokenSource.CreateLinkedTokenSource(deadline);
        var first = Start(attempt, 1, firstStop.Token);
        if (hedge is not null && await Task.WhenAny(first, hedge).ConfigureAwait(false) != first && !first.IsCompleted)
        {
            using var secondStop = CancellationTokenSource.CreateLinkedTokenSource(deadline);
            var second = Start(attempt, 2, secondStop.Token);
            return await FirstSuccessAsync(first, firstStop, second, secondStop, discard, failsFast, timeout).ConfigureAwait(false);
        }
        try
        {
            return await first.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && failsFast(ex))
        {
            // confirm: one more attempt
        }
        await Task.Delay(Pause(timeout), deadline).ConfigureAwait(false);
        try
        {
            return await Start(attempt, 2, deadline).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new ConfirmedFailureException(ex, Suffix(timeout));
        }
    }

    /// <summary>An attempt as a task: one that throws before its first await fails its task instead of the caller.</summary>
    private static Task<T> Start<T>(Func<int, CancellationToken, Task<T>> attempt, int number, CancellationToken token)
    {
        try { return attempt(number, token); }
        catch (Exception ex) { return Task.FromException<T>(ex); }
    }

    /// <summary>
    /// The first of two running attempts to succeed; the other is cancelled (and its late result discarded). When both fail
    /// and attempt 1 failed fast, attempt 2 was its confirmation, whatever started it: its failure is thrown as
    /// <see cref="ConfirmedFailureException"/> with the same suffix, so a refusal has one form whether it came back before
    /// the hedge (confirmed after the pause) or after it (on a loaded checker).
    /// </summary>
    private static async Task<T> FirstSuccessAsync<T>(Task<T> first, CancellationTokenSource firstStop, Task<T> second, CancellationTokenSource secondStop,
        Action<T>? discard, Func<Exception, bool> failsFast, TimeSpan timeout)
    {
        var winner = await Task.WhenAny(first, second).ConfigureAwait(false);
        if (!winner.IsCompletedSuccessfully)
        {
            // One failed: the other may still answer.
            var other = winner == first ? second : first;
            try { await other.ConfigureAwait(false); } catch (Exception) { /* both failed: attempt 1's failure is thrown below */ }
            winner = other.IsCompletedSuccessfully ? other : first;
        }
        if (winner.IsCompletedSuccessfully)
        {
            var loser = winner == first ? second : first;
            var loserStop = winner == first ? secondStop : firstStop;
            if (!loser.IsCompleted)
            {
                loserStop.Cancel();
                _ = loser.ContinueWith(t => { if (t.IsCompletedSuccessfully) discard?.Invoke(t.Result); },
                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            else if (loser.IsCompletedSuccessfully)
            {
                discard?.Invoke(loser.Result);
            }
            return winner.Result;
        }
        if (first.Exception?.InnerException is { } failed && failed is not OperationCanceledException && failsFast(failed))
        {
            if (second.Exception?.InnerException is { } confirming && confirming is not OperationCanceledException) throw new ConfirmedFailureException(confirming, Suffix(timeout));
            return await second.ConfigureAwait(false); // attempt 2 ran out of the deadline: as after a pause, that is the answer
        }
        return await first.ConfigureAwait(false); // throws attempt 1's failure
    }
}

/// <summary>The second attempt of Confirmation.RunAsync failed too: <see cref="Exception.InnerException"/> is its failure.</summary>
public sealed class ConfirmedFailureException(Exception inner, string suffix) : Exception(inner.Message, inner)
{
    /// <summary>"; the same on a second attempt N s later".</summary>
    public string Suffix { get; } = suffix;
}
