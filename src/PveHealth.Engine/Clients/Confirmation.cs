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
    public static async Task<T> RunAsync<T>(Func<int, Task<T>> attempt, Func<Exception, bool> failsFast, TimeSpan timeout, CancellationToken deadline)
    {
        try
        {
            return await attempt(1).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && failsFast(ex))
        {
            // confirm: one more attempt
        }
        await Task.Delay(Pause(timeout), deadline).ConfigureAwait(false);
        try
        {
            return await attempt(2).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new ConfirmedFailureException(ex, Suffix(timeout));
        }
    }
}

/// <summary>The second attempt of <see cref="Confirmation.RunAsync"/> failed too: <see cref="Exception.InnerException"/> is its failure.</summary>
public sealed class ConfirmedFailureException(Exception inner, string suffix) : Exception(inner.Message, inner)
{
    /// <summary>"; the same on a second attempt N s later".</summary>
    public string Suffix { get; } = suffix;
}
