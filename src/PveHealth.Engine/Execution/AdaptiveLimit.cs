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
/// refusals, timeouts) raise it unless the recent Ok answers are slow.
/// The limit is about the cost of a handshake (the checker's CPU, the server's), not about waiting: a unit that
/// waits for its target's first word (CheckReporter.Listening: an SSH banner, an echo reply) and hears nothing
/// within <see cref="SilentAfter"/> gives its slot back (CheckRunner) and counts as a unit without an Ok answer, so
/// stopped or mute guests wait side by side and cost one timeout, not one each in waves. Any other unit still
/// silent at half its timeout gives its slot back too.
/// Thread-safe; waiters are served first come, first served.
/// </summary>
internal sealed class AdaptiveLimit
{
    /// <summary>Ok answers faster than this part of their timeout grow the limit.</summary>
    internal const double FastFraction = 0.25;
    /// <summary>Ok answers slower than this part of their timeout shrink it.</summary>
    internal const double SlowFraction = 0.5;
    /// <summary>
    /// A listening unit silent for this part of its timeout frees its slot while nothing of its kind has been heard yet;
    /// once answers come, after 4 times their recent time to first word (never less than this, never more than
    /// <see cref="SlowFraction"/>), so a server slow to say its first word under load keeps the limit in force.
    /// </summary>
    internal const double SilentFraction = 0.1;

    private readonly object _gate = new();
    private readonly Queue<TaskCompletionSource<bool>> _waiters = new();
    private readonly int _max;
    private readonly int _min;
    private double _limit;
    private int _running;
    private bool _slowStart = true;
    private double _recentOkFraction;
    private double _baseFraction = double.MaxValue;
    private double _heardFraction = -1; // recent time to a target's first word (part of the timeout); -1: none heard yet

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

    /// <summary>A unit heard its target's first word after <paramref name="fractionOfTimeout"/> of its timeout.</summary>
    public void Heard(double fractionOfTimeout)
    {
        lock (_gate) _heardFraction = _heardFraction < 0 ? fractionOfTimeout : _heardFraction * 0.8 + fractionOfTimeout * 0.2;
    }

    /// <summary>How long (part of its timeout) a listening unit may hear nothing before its slot goes to the next unit.</summary>
    public double SilentAfter
    {
        get { lock (_gate) return _heardFraction < 0 ? SilentFraction : Math.Clamp(4 * _heardFraction, SilentFraction, SlowFraction); }
    }

    /// <summary>Frees the slot of a listening unit that heard nothing in <see cref="SilentAfter"/>; learns from it as from a unit without an Ok answer.</summary>
    public void ReleaseSilent()
    {
        lock (_gate)
        {
            _running--;
            Learn(false, 0);
            Pump();
        }
    }

    /// <summary>
    /// A unit that freed its slot in silence spoke after all (a server too busy to say hello, not a mute one): it takes a
    /// slot back at once (even over the limit, so no new unit starts until it ends) and the limit learns the congestion as
    /// from a slow answer.
    /// </summary>
    public void Reclaim()
    {
        lock (_gate)
        {
            _running++;
            _slowStart = false;
            _limit = Math.Max(_min, _limit - 0.5);
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

    /// <summary>
    /// One unit's slot: held from the start, freed early at most once (listening in silence, or silent at half its
    /// timeout), taken back when a unit freed in silence speaks after all, and given back with what the limit learns
    /// when the unit ends. Each transition under one lock, so a slot is never freed twice or taken back after the end.
    /// </summary>
    internal sealed class Slot(AdaptiveLimit limit)
    {
        private enum State { Held, FreedInSilence, FreedLate, Ended }
        private readonly object _gate = new();
        private State _state = State.Held;

        /// <summary>The unit listens and heard nothing in <see cref="SilentAfter"/>.</summary>
        public void FreeInSilence()
        {
            lock (_gate)
            {
                if (_state != State.Held) return;
                _state = State.FreedInSilence;
                limit.ReleaseSilent();
            }
        }

        /// <summary>The unit reported nothing at half its timeout (learns at its end).</summary>
        public void FreeLate()
        {
            lock (_gate)
            {
                if (_state != State.Held) return;
                _state = State.FreedLate;
                limit.Release();
            }
        }

        /// <summary>The unit heard its target's first word: a slot freed in silence is taken back.</summary>
        public void Heard()
        {
            lock (_gate)
            {
                if (_state != State.FreedInSilence) return;
                _state = State.Held;
                limit.Reclaim();
            }
        }

        /// <summary>The unit ended; <paramref name="fractionOfTimeout"/> is null when it never ran (Ctrl+C, run deadline).</summary>
        public void End(bool answeredOk, double? fractionOfTimeout)
        {
            State was;
            lock (_gate)
            {
                was = _state;
                _state = State.Ended;
            }
            switch (was)
            {
                case State.Held when fractionOfTimeout is double f: limit.Release(answeredOk, f); break;
                case State.Held: limit.Release(); break;
                case State.FreedLate when fractionOfTimeout is double f: limit.Learn(answeredOk, f, pump: true); break;
                // FreedInSilence: learned when it was freed.
            }
        }
    }
}
