using System.Globalization;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks.Recovery;

/// <summary>
/// Snapshots of the declared guests: one <c>GET /nodes/{node}/{qemu|lxc}/{vmid}/snapshot</c> per declared guest that
/// exists on an online node (Proxmox has no cluster-wide list: this group's cost grows with guests, at most 8 at once).
/// One <c>Snapshot</c> result per guest (Type Vm/Lxc): snapshots older than <c>snapshots.maxAgeDays</c> (30) Warning naming
/// them, an unfinished snapshot operation (<c>snapstate</c>) Warning, else Ok. The "current" pseudo-entry is not a snapshot.
/// <para>
/// The sweep's budget grows with the guests (<see cref="SweepRounds"/>: one round of -TimeoutSec for the shared
/// listings, one per 8 declared guests, at most the run deadline); each list is still asked within one -TimeoutSec
/// (<see cref="CheckReporter.RemainingFor"/>). A list asked with its whole timeout ahead and not answered is the API's
/// fault, like every other unanswered Proxmox request; when no list at all was answered during that wait the API is
/// silent and the sweep stops there (a hanging API costs one round, not all of them): the guests not asked yet are
/// Unknown "not checked", as are those whose list could not be asked before the sweep's budget ran out - the checker
/// could not look, which says nothing about the guest. Every declared guest gets its row (<see cref="CheckReporter.Expect"/>).
/// </para>
/// </summary>
public sealed class SnapshotCheck : CheckUnit
{
    public const string SnapshotCheckName = "Snapshot";
    public const string Group = "Snapshots";
    private const int Concurrency = 8;

    private readonly EnvironmentContext _env;

    public SnapshotCheck(EnvironmentContext env)
        : base(env.Name, "snapshots", Group, env.Config.Proxmox?.Url ?? string.Empty, [SnapshotCheckName])
    {
        _env = env;
        TakesRounds(SweepRounds(env.Guests?.Count ?? 0), env.CheckTimeout, env.Options.RunTimeout);
    }

    internal Func<DateTimeOffset> Now { get; init; } = () => DateTimeOffset.UtcNow;

    /// <summary>
    /// The sweep's rounds of -TimeoutSec (<see cref="CheckUnit.TakesRounds"/>, at most the run deadline): one for the shared
    /// listings plus one per <see cref="Concurrency"/> declared guests (their lists are read that many at a time); with no
    /// guest one.
    /// </summary>
    private static int SweepRounds(int guests) => guests <= 0 ? 1 : 1 + (guests + Concurrency - 1) / Concurrency;

    public override string Describe(string check) => $"{check} of every declared guest (GET .../snapshot per guest on {Target})";

    public override async Task RunAsync(CheckReporter reporter, CancellationToken ct)
    {
        if (_env.Guests is not { } guests)
        {
            reporter.Report(SnapshotCheckName, CheckStatus.Skipped, "no guest list: the environment has no inventory, or it could not be read (see Discover)", TimeSpan.Zero);
            return;
        }
        RecoveryShared.ExpectGuestRows(_env, reporter, guests, Group, SnapshotCheckName);
        var shared = RecoveryShared.For(_env);
        IReadOnlyList<PveResource> resources;
        PveClusterStatus status;
        try
        {
            resources = await ProxmoxCheckHelpers.AwaitShared(shared.Proxmox.Resources, reporter, ct).ConfigureAwait(false);
            status = await shared.ClusterStatusAsync(reporter, ct).ConfigureAwait(false);
        }
        catch (ProxmoxApiException ex)
        {
            var (failed, detail) = ProxmoxCheckHelpers.GuestFailure(ex);
            if (reporter.ReportExpected(SnapshotCheckName, failed, detail) == 0) reporter.Report(SnapshotCheckName, failed, detail);
            return;
        }
        var maxAge = TimeSpan.FromDays(_env.Config.Snapshots?.MaxAgeDays ?? SnapshotCheckConfig.DefaultMaxAgeDays);
        var client = shared.Proxmox.RequireClient();
        var online = status.Nodes.Where(n => n.Online).Select(n => n.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var find = ProxmoxShared.Finder(resources);
        var declared = new List<(Guest Guest, PveResource Row)>();
        foreach (var g in guests)
        {
            if (find(g) is { Template: false } row && online.Contains(row.Node)) declared.Add((g, row));
            else reporter.NoResult(g.Name, SnapshotCheckName); // no longer exists, a template, or its node is offline
        }
        var requestTimeout = _env.CheckTimeout;
        using var gate = new SemaphoreSlim(Concurrency);
        var now = Now();
        long lastAnswer = -1; // reporter.Elapsed ticks when the API last answered a list (or refused it)
        var silent = 0;       // 1 once a list asked with its whole timeout ahead ran out while no list at all was answered
        var work = declared.Select(async x =>
        {
            // Waits at most until the sweep's deadline (Remaining, taken when the guest is queued): the rows of the guests
            // still waiting are written before the runner seals the unit.
            if (!await gate.WaitAsync(reporter.Remaining, ct).ConfigureAwait(false))
            {
                Report(reporter, x.Guest, NotReached(reporter, declared.Count));
                return;
            }
            var budget = requestTimeout;
            var asked = reporter.Elapsed;
            try
            {
                if (Volatile.Read(ref silent) == 1)
                {
                    Report(reporter, x.Guest, Stopped(requestTimeout));
                    return;
                }
                var path = $"nodes/{Uri.EscapeDataString(x.Row.Node)}/{(x.Row.IsLxc ? "lxc" : "qemu")}/{x.Row.VmId}/snapshot";
                budget = reporter.RemainingFor(requestTimeout);
                var data = await client.GetAsync(path, ct, budget).ConfigureAwait(false);
                Answered(reporter, ref lastAnswer);
                Report(reporter, x.Guest, Evaluate(RecoveryParsers.ParseSnapshots(data), maxAge, now));
            }
            catch (ProxmoxApiException ex) when (ex.Failure == ProxmoxFailure.Timeout && budget < requestTimeout / 2)
            {
                // Asked with less than half the timeout left: the sweep's budget ran out, the API was not silent.
                Report(reporter, x.Guest, NotReached(reporter, declared.Count));
            }
            catch (ProxmoxApiException ex)
            {
                if (ex.Failure != ProxmoxFailure.Timeout) Answered(reporter, ref lastAnswer);
                else if (Interlocked.Read(ref lastAnswer) < asked.Ticks) Volatile.Write(ref silent, 1);
                Report(reporter, x.Guest, ex.IsNoAnswer
                    ? (CheckStatus.Unknown, $"{ProxmoxCheckHelpers.CouldNotLook}snapshots could not be listed: {ex.Message}")
                    : (ProxmoxCheckHelpers.StatusOf(ex), $"snapshots could not be listed: {ex.Message}"));
            }
            finally { gate.Release(); }
        }).ToList();
        await Task.WhenAll(work).ConfigureAwait(false);
        if (declared.Count == 0) reporter.Report(SnapshotCheckName, CheckStatus.Ok, "no declared guest exists on an online node: no snapshot to check");
    }

    private static void Answered(CheckReporter reporter, ref long lastAnswer)
    {
        var at = reporter.Elapsed.Ticks;
        long seen;
        while ((seen = Interlocked.Read(ref lastAnswer)) < at && Interlocked.CompareExchange(ref lastAnswer, at, seen) != seen) { }
    }

    private const string RaiseOrExclude = "raise -TimeoutSec (timeoutSec) or exclude Snapshots for this environment";

    private static (CheckStatus, string) NotReached(CheckReporter reporter, int guests)
        => (CheckStatus.Unknown, $"not checked: the {Seconds(reporter.Timeout)} s timeout ran out before its snapshot list was read " +
            $"({guests} guests' lists are read {Concurrency} at a time); {RaiseOrExclude}");

    private static (CheckStatus, string) Stopped(TimeSpan requestTimeout)
        => (CheckStatus.Unknown, $"not checked: the {Seconds(requestTimeout)} s timeout ran out before its snapshot list was read " +
            $"(no snapshot list was answered within {Seconds(requestTimeout)} s, so the sweep stopped); {RaiseOrExclude}");

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);

    internal static (CheckStatus Status, string Detail) Evaluate(IReadOnlyList<PveSnapshot> snapshots, TimeSpan maxAge, DateTimeOffset now)
    {
        if (snapshots.Count == 0) return (CheckStatus.Ok, "no snapshots");
        var findings = new List<string>();
        foreach (var s in snapshots.Where(s => s.SnapState is { Length: > 0 }))
        {
            findings.Add($"unfinished snapshot operation on {s.Name} (snapstate {s.SnapState}): finish or remove it (qm/pct delsnapshot --force)");
        }
        var old = snapshots.Where(s => s.Created is { } c && now - c > maxAge).OrderBy(s => s.Created).ToList();
        if (old.Count > 0)
        {
            findings.Add($"snapshot{(old.Count == 1 ? string.Empty : "s")} older than {maxAge.TotalDays.ToString("0.#", CultureInfo.InvariantCulture)} d: " +
                string.Join(", ", old.Select(s => $"{s.Name} ({RecoveryShared.Age(now - s.Created!.Value)})")));
        }
        if (findings.Count > 0) return (CheckStatus.Warning, string.Join("; ", findings));
        var newest = snapshots.Where(s => s.Created is not null).OrderByDescending(s => s.Created).FirstOrDefault();
        return (CheckStatus.Ok, $"{snapshots.Count} snapshot{(snapshots.Count == 1 ? string.Empty : "s")}{(newest is null ? string.Empty : $", newest {newest.Name} ({RecoveryShared.Age(now - newest.Created!.Value)} old)")}");
    }

    private void Report(CheckReporter reporter, Guest g, (CheckStatus Status, string Detail) verdict)
    {
        var type = g.Kind.ToString();
        if (_env.Excluded?.Invoke(g.Name, type, Group, SnapshotCheckName) is { } excluded)
        {
            reporter.Report(new CheckResult(Environment, g.Name, type, SnapshotCheckName, CheckStatus.Skipped, excluded, TimeSpan.Zero, Target));
            return;
        }
        reporter.Report(new CheckResult(Environment, g.Name, type, SnapshotCheckName, verdict.Status, verdict.Detail, reporter.Elapsed, Target));
    }
}

/// <summary>The Snapshots group: for each environment with a proxmox section and an inventory.</summary>
internal sealed class SnapshotCheckProvider : IGuestListConsumer
{
    public string Group => SnapshotCheck.Group;

    public IReadOnlyList<string> Checks { get; } = [SnapshotCheck.SnapshotCheckName];

    public IEnumerable<CheckUnit> Create(EnvironmentContext environment)
    {
        if (environment.Config.Proxmox is null || environment.Config.Inventory is null) yield break;
        yield return new SnapshotCheck(environment);
    }
}
