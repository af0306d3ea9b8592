namespace PveHealth.Execution;

/// <summary>
/// How many units of one kind (Ping, Ssh+Docker, ...) run at once: from a small start value up to the
/// -ThrottleLimit (never below a floor), adjusted from how long the units that got an Ok answer took against
/// their timeout (additive increase, multiplicative decrease, like TCP's congestion window).
/// Why: a timeout is a verdict ("the guest does not answer"), so a unit must not time out because the checker
/// queued more handshakes on a shared bottleneck than it can serve within the timeout (the checker's own CPU,
/// one API endpoint, one jump host; in the benchmark lab, one sshd for every guest). With a fixed 64 at once and
/// -TimeoutSec 2, 85 of 100 healthy lab guests got "Docker timed out" while the lab's sshd cost 125 ms per command.
/// Rules: an Ok answer faster than a quarter of the timeout, or under twice the fastest recent one (little
/// queueing yet), raises the limit (by 1 until the first slow answer, then by 1/limit); an Ok answer slower than
/// half the timeout lowers it by 1/2 (so a whole window of slow answers halves it). The margin matters: latency
/// follows the limit with a delay, and on a busy host it varies. Units without an Ok answer (dead hosts,
/// refusals, timeouts) raise it unless the recent Ok answers are slow, and a unit still silent at half its
/// timeout gives its slot back (CheckRunner), so stopped guests cost one timeout in parallel, not one each in series.
/// Thread-safe; waiters are served first come, first served.
/// </summary>
internal sealed class AdaptiveLimit
{
    /// <summary>Ok answers faster than this part of their timeout grow the limit.</summary>
    internal const double FastFraction = 0.25;
    /// <summary>Ok answers slower than this part of their timeout shrink it.</summary>
    internal const double SlowFraction = 0.5;

    private readonly object _gate = new();
    private readonly Queue<TaskCompletionSource<bool>> _waiters = new();
    private readonly int _max;
    private readonly int _min;
    private double _limit;
    private int _running;
    private bool _slowStart = true;
    private double _recentOkFraction;
    private double _baseFraction = double.MaxValue;

    public AdaptiveLimit(int start, int max, int min = 1)
    {
        _max = Math.Max(1, max);
        _min = Math.Clamp(min, 1, _max);
        _limit = Math.Clamp(start, _min, _max);
        Peak = (int)_limit;
    }

    /// <summary>The current limit (whole units).</summary>
    public int Limit { get { lock (_gate) return (int)_limit; } }

    /// <summary>Highest limit reached (diagnostics).</summary>
    public int Peak { get; private set; }

    public Task WaitAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_waiters.Count == 0 && _running < (int)_limit)
            {
                _running++;
                return Task.CompletedTask;
            }
            var waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(waiter);
            if (cancellationToken.CanBeCanceled)
            {
                var registration = cancellationToken.Register(() => waiter.TrySetCanceled(cancellationToken));
                _ = waiter.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            return waiter.Task;
        }
    }

    /// <summary>
    /// Frees a slot and learns from the unit. <paramref name="answeredOk"/>: the unit reported at least one Ok
    /// result; <paramref name="fractionOfTimeout"/>: its running time divided by its timeout.
    /// </summary>
    public void Release(bool answeredOk, double fractionOfTimeout)
    {
        lock (_gate)
        {
            _running--;
            Learn(answeredOk, fractionOfTimeout);
            Pump();
        }
    }

    /// <summary>Frees a slot without learning (Ctrl+C, run deadline, a unit still silent: see CheckRunner).</summary>
    public void Release()
    {
        lock (_gate)
        {
            _running--;
            Pump();
        }
    }

    /// <summary>Learns from a unit whose slot was already freed.</summary>
    public void Learn(bool answeredOk, double fractionOfTimeout, bool pump)
    {
        lock (_gate)
        {
            Learn(answeredOk, fractionOfTimeout);
            if (pump) Pump();
        }
    }

    private void Learn(bool answeredOk, double fraction)
    {
        if (answeredOk)
        {
            _recentOkFraction = _recentOkFraction * 0.8 + fraction * 0.2;
            // The fastest recent Ok answer: what a unit takes without queueing (drifts up slowly when conditions change).
            _baseFraction = fraction < _baseFraction ? fraction : _baseFraction + (fraction - _baseFraction) * 0.005;
            if (fraction > SlowFraction)
            {
                _slowStart = false;
                _limit = Math.Max(_min, _limit - 0.5);
            }
            else if (fraction < FastFraction || fraction < 2 * _baseFraction) Grow();
        }
        else if (_recentOkFraction < SlowFraction) Grow();
    }

    private void Pump()
    {
        while (_running < (int)_limit && _waiters.TryDequeue(out var next))
        {
            if (next.TrySetResult(true)) _running++;
        }
    }

    private void Grow()
    {
        _limit = Math.Min(_max, _limit + (_slowStart ? 1 : 1 / _limit));
        if ((int)_limit > Peak) Peak = (int)_limit;
    }
}
