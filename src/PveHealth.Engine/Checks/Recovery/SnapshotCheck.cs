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
/// A guest whose list could not be read within the unit's timeout because the API was busy with the other guests' lists
/// still gets its row (the runner would otherwise cut the unit off after the guests already listed): Unknown "not
/// checked" - the checker could not look, which says nothing about the guest. A list asked with the whole timeout ahead
/// and not answered is the API's fault: Critical like every other unanswered Proxmox request.
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
    }

    internal Func<DateTimeOffset> Now { get; init; } = () => DateTimeOffset.UtcNow;

    public override string Describe(string check) => $"{check} of every declared guest (GET .../snapshot per guest on {Target})";

    public override async Task RunAsync(CheckReporter reporter, CancellationToken ct)
    {
        if (_env.Guests is not { } guests)
        {
            reporter.Report(SnapshotCheckName, CheckStatus.Skipped, "no guest list: the environment has no inventory, or it could not be read (see Discover)", TimeSpan.Zero);
            return;
        }
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
            reporter.Report(SnapshotCheckName, failed, detail);
            return;
        }
        var maxAge = TimeSpan.FromDays(_env.Config.Snapshots?.MaxAgeDays ?? SnapshotCheckConfig.DefaultMaxAgeDays);
        var client = shared.Proxmox.RequireClient();
        var online = status.Nodes.Where(n => n.Online).Select(n => n.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var declared = guests.Select(g => (Guest: g, Row: ProxmoxShared.Find(resources, g)))
            .Where(x => x.Row is { Template: false } r && online.Contains(r.Node)).Select(x => (x.Guest, Row: x.Row!)).ToList();
        using var gate = new SemaphoreSlim(Concurrency);
        var now = Now();
        var work = declared.Select(async x =>
        {
            // Waits at most until the unit's deadline (Remaining, taken when the guest is queued): the rows of the guests
            // still waiting are written before the runner seals the unit.
            if (!await gate.WaitAsync(reporter.Remaining, ct).ConfigureAwait(false))
            {
                Report(reporter, x.Guest, NotReached(reporter, declared.Count));
                return;
            }
            var budget = reporter.Timeout;
            try
            {
                var path = $"nodes/{Uri.EscapeDataString(x.Row.Node)}/{(x.Row.IsLxc ? "lxc" : "qemu")}/{x.Row.VmId}/snapshot";
                budget = reporter.Remaining;
                var data = await client.GetAsync(path, ct, budget).ConfigureAwait(false);
                Report(reporter, x.Guest, Evaluate(RecoveryParsers.ParseSnapshots(data), maxAge, now));
            }
            catch (ProxmoxApiException ex) when (ex.Failure == ProxmoxFailure.Timeout && budget < reporter.Timeout / 2)
            {
                // Asked with less than half the timeout left: the API was busy with the other guests' lists, not silent.
                Report(reporter, x.Guest, NotReached(reporter, declared.Count));
            }
            catch (ProxmoxApiException ex)
            {
                Report(reporter, x.Guest, ex.IsNoAnswer
                    ? (CheckStatus.Unknown, $"{ProxmoxCheckHelpers.CouldNotLook}snapshots could not be listed: {ex.Message}")
                    : (ProxmoxCheckHelpers.StatusOf(ex), $"snapshots could not be listed: {ex.Message}"));
            }
            finally { gate.Release(); }
        }).ToList();
        await Task.WhenAll(work).ConfigureAwait(false);
        if (declared.Count == 0) reporter.Report(SnapshotCheckName, CheckStatus.Ok, "no declared guest exists on an online node: no snapshot to check");
    }

    private static (CheckStatus, string) NotReached(CheckReporter reporter, int guests)
        => (CheckStatus.Unknown, $"not checked: the {reporter.Timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s timeout ran out before its snapshot list was read " +
            $"({guests} guests' lists are read {Concurrency} at a time); raise -TimeoutSec (timeoutSec) or exclude Snapshots for this environment");

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
