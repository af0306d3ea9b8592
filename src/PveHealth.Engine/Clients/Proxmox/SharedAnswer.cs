using System.Text.Json;

namespace PveHealth.Clients.Proxmox;

/// <summary>The one way a shared answer is made: a GET of its path through the environment's client, then its parser.</summary>
public static class SharedAnswer
{
    /// <summary>
    /// <c>GET path</c> as a <see cref="SharedAnswer{T}"/>, each attempt under its own limit, the body given to
    /// <paramref name="parse"/>. <paramref name="require"/> gives the client or throws the setup error (the attempt's failure).
    /// </summary>
    public static SharedAnswer<T> Get<T>(ProxmoxClient? client, Func<ProxmoxClient> require, string path, Func<TimeSpan> runRemaining, Func<JsonElement, T> parse)
        => new(client, path, runRemaining, async limit => parse(await require().GetAsync(path, CancellationToken.None, limit).ConfigureAwait(false)));
}

/// <summary>
/// One Proxmox API answer that many units of a run wait for (<c>/cluster/resources</c>, <c>/cluster/status</c>, a
/// recovery listing). The first caller starts the request (<see cref="Current"/>); every attempt runs under the client's
/// own deadline, not a unit's token, and is bounded by <see cref="Limit"/>: the deadline rule on the client's timeout
/// (<see cref="Deadline.RemainingOf"/>), never past the run deadline. An attempt that timed out is not the run's answer:
/// the next caller that still has time asks once more (<see cref="Retry"/>), at most <see cref="MaxAttempts"/> attempts
/// a run, so one slow answer (an API host busy for a moment) does not cost every guest its verdict, and an API that hangs
/// costs at most two bounded attempts. Other failures (refused, rejected token, HTTP errors) are the answer for the run.
/// </summary>
public sealed class SharedAnswer<T>
{
    /// <summary>Attempts per run at most: the first, and one more after a timeout.</summary>
    public const int MaxAttempts = 2;

    private readonly ProxmoxClient? _client;
    private readonly Func<TimeSpan> _runRemaining;
    private readonly Func<TimeSpan, Task<T>> _fetch;
    private readonly object _gate = new();
    private Task<T>? _current;
    private int _attempts;

    /// <param name="client">The environment's client (null when it could not be made: <paramref name="fetch"/> then fails with the setup error).</param>
    /// <param name="path">The API path, as the client's messages name it ("cluster/resources?type=vm").</param>
    /// <param name="runRemaining">What is left of the run; no attempt is given more.</param>
    /// <param name="fetch">One attempt with the given limit.</param>
    public SharedAnswer(ProxmoxClient? client, string path, Func<TimeSpan> runRemaining, Func<TimeSpan, Task<T>> fetch)
    {
        _client = client;
        Path = path.TrimStart('/');
        _runRemaining = runRemaining;
        _fetch = fetch;
    }

    public string Path { get; }

    /// <summary>How long one attempt may take: the deadline rule on the client's timeout, never past the run deadline.</summary>
    public TimeSpan Limit
    {
        get
        {
            var limit = Deadline.RemainingOf(_client?.Timeout ?? TimeSpan.FromSeconds(10), TimeSpan.Zero);
            var run = _runRemaining();
            return run < limit ? run : limit;
        }
    }

    /// <summary>Attempts started so far (tests, -Verbose).</summary>
    public int Attempts { get { lock (_gate) return _attempts; } }

    /// <summary>True once an attempt has brought the answer.</summary>
    public bool Answered { get { lock (_gate) return _current is { IsCompletedSuccessfully: true }; } }

    /// <summary>The current attempt, started on first use. Never throws: a failure is the task's.</summary>
    public Task<T> Current()
    {
        lock (_gate)
        {
            return _current ??= Start();
        }
    }

    /// <summary>
    /// Starts the answer now and returns the attempt (never throws). The runner calls it through
    /// <see cref="Execution.CheckUnit.Prepare"/> and waits for it (bounded) before it admits any unit, so the one answer
    /// every guest waits for is asked and read before the run's own flood of pings and SSH handshakes competes with it.
    /// </summary>
    public Task Prefetch() => Current();

    /// <summary>
    /// After <paramref name="failed"/> (an attempt this caller waited for) timed out: the attempt that replaced it (another
    /// caller already asked again), a new one while attempts remain, or null when none remains.
    /// </summary>
    public Task<T>? Retry(Task<T> failed)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_current, failed)) return _current;
            if (_attempts >= MaxAttempts) return null;
            return _current = Start();
        }
    }

    /// <summary>
    /// The failure a caller reports when its own wait for the answer ended first: the same words as the attempt's own
    /// timeout, so every unit that waited for one answer says the same thing, whichever ended first.
    /// </summary>
    public ProxmoxApiException NoAnswer()
        => new(ProxmoxFailure.Timeout, ProxmoxClient.NoAnswerMessage(_client?.BaseUrl ?? "the Proxmox API", "GET", Path, Limit));

    private Task<T> Start()
    {
        _attempts++;
        var limit = Limit;
        try { return _fetch(limit); }
        catch (Exception ex) { return Task.FromException<T>(ex); }
    }
}
