using System.Diagnostics;
using System.Globalization;
using PveHealth.Checks.Recovery;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// The Snapshots sweep and the Backups unit at many guests against a scripted Proxmox API (loopback only): the sweep's
/// budget grows with the guests, a silent API stops it after one round, and a unit that runs out of time still gives
/// every declared guest its rows.
/// </summary>
public class RecoverySweepTests : IDisposable
{
    private const string Secret = "5ecret-recovery-sweep";
    private readonly string _secretFile = Path.GetTempFileName();
    private readonly List<(string Prefix, int Status, string Body, int DelayMs)> _routes = new();
    private readonly HostileServer _server;

    public RecoverySweepTests()
    {
        File.WriteAllText(_secretFile, Secret + "\n");
        _server = HostileServer.Scripted(line =>
        {
            var path = line.Split(' ')[1]["/api2/json".Length..];
            lock (_routes)
            {
                foreach (var r in _routes)
                {
                    if (path.StartsWith(r.Prefix, StringComparison.Ordinal) || (r.Prefix.StartsWith('~') && path.EndsWith(r.Prefix[1..], StringComparison.Ordinal)))
                    {
                        return (r.Status, r.Status == 200 ? "OK" : "Error", r.Body, r.DelayMs);
                    }
                }
            }
            return (501, "Method not implemented", """{"data":null}""", 0);
        });
    }

    public void Dispose()
    {
        _server.Dispose();
        File.Delete(_secretFile);
    }

    private void Route(string prefix, string body, int delayMs = 0) { lock (_routes) _routes.Add((prefix, 200, body, delayMs)); }

    private static List<Guest> Guests(int n) => Enumerable.Range(0, n).Select(i => new Guest($"guest-{i:D4}", GuestKind.Vm) { VmId = 1000 + i, Node = "pve1" }).ToList();

    /// <summary>/cluster/status (one online node) and /cluster/resources for <paramref name="guests"/>.</summary>
    private void Cluster(IReadOnlyList<Guest> guests, int resourcesDelayMs = 0)
    {
        Route("/cluster/status", """{"data":[{"type":"cluster","name":"lab","quorate":1},{"type":"node","name":"pve1","online":1}]}""");
        var rows = string.Join(",", guests.Select(g => $$"""{"id":"qemu/{{g.VmId}}","vmid":{{g.VmId}},"type":"qemu","node":"pve1","name":"{{g.Name}}","status":"running","template":0}"""));
        Route("/cluster/resources", "{\"data\":[" + rows + "]}", resourcesDelayMs);
    }

    private EnvironmentContext Env(IReadOnlyList<Guest> guests, TimeSpan timeout)
        => new("lab", new EnvironmentConfig
        {
            Proxmox = new ProxmoxConfig { Url = _server.Url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = _secretFile } },
            Inventory = new InventoryConfig { Source = "file", Path = "unused.json" },
        }, new RunOptions { CheckTimeout = timeout })
        { Guests = guests };

    private static List<CheckResult> Run(CheckUnit unit, TimeSpan timeout)
        => new CheckRunner(new RunOptions { CheckTimeout = timeout }).Run([unit], CancellationToken.None)
            .OfType<ResultEvent>().Select(e => e.Result).ToList();

    private int SnapshotRequests() { lock (_server.Requests) return _server.Requests.Count(r => r.Contains("/snapshot ", StringComparison.Ordinal)); }

    [Fact]
    public void Snapshots_of_400_guests_answered_after_50_ms_each_are_all_read_at_a_2_s_timeout()
    {
        // 400 lists, 8 at a time, 50 ms each: at least 2.5 s, more than one -TimeoutSec; every list is answered.
        var guests = Guests(400);
        Cluster(guests);
        Route("~/snapshot", """{"data":[{"name":"current","description":"You are here!","running":1}]}""", delayMs: 50);
        using var env = Env(guests, TimeSpan.FromSeconds(2));
        var results = Run(new SnapshotCheck(env), TimeSpan.FromSeconds(2));
        Assert.Equal(400, results.Count);
        Assert.Equal(guests.Select(g => g.Name).Order(StringComparer.Ordinal), results.Select(r => r.Component).Order(StringComparer.Ordinal));
        Assert.All(results, r => Assert.Equal((CheckStatus.Ok, "no snapshots"), (r.Status, r.Detail)));
        Assert.Equal(400, SnapshotRequests());
    }

    [Fact]
    public void A_silent_snapshot_endpoint_stops_the_sweep_after_one_round_and_every_guest_still_gets_its_row()
    {
        var guests = Guests(100);
        Cluster(guests);
        Route("~/snapshot", """{"data":[]}""", delayMs: 60_000);
        using var env = Env(guests, TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        var results = Run(new SnapshotCheck(env), TimeSpan.FromSeconds(1));
        clock.Stop();
        Assert.Equal(100, results.Count);
        Assert.Equal(100, results.Select(r => r.Component).Distinct().Count());
        // One round of 8 lists was asked; none answered within the 1 s timeout, so no second round was started.
        Assert.Equal(8, SnapshotRequests());
        var asked = results.Where(r => r.Detail.Contains("snapshots could not be listed: no answer", StringComparison.Ordinal)).ToList();
        Assert.Equal(8, asked.Count);
        Assert.All(asked, r => Assert.NotEqual(CheckStatus.Ok, r.Status));
        var stopped = results.Except(asked).ToList();
        Assert.All(stopped, r => Assert.Equal((CheckStatus.Unknown,
            "not checked: the 1 s timeout ran out before its snapshot list was read (no snapshot list was answered within 1 s, so the sweep stopped); raise -TimeoutSec (timeoutSec) or exclude Snapshots for this environment"),
            (r.Status, r.Detail)));
        // 13 rounds of 1 s would be the sweep's budget; the silent API costs about one.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"the sweep took {clock.Elapsed}");
    }

    [Fact]
    public void The_sweep_budget_is_one_round_for_the_listings_plus_one_per_8_guests_capped_by_the_run_deadline()
    {
        static TimeSpan? Sweep(int guests, TimeSpan request, TimeSpan run) => UnitTimeout(env => new SnapshotCheck(env), guests, request, run);
        Assert.Equal(TimeSpan.FromSeconds(4), Sweep(8, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(5)));
        Assert.Equal(TimeSpan.FromSeconds(6), Sweep(9, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(5)));
        Assert.Equal(TimeSpan.FromSeconds(252), Sweep(1000, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(5)));
        Assert.Equal(TimeSpan.FromMinutes(5), Sweep(1000, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5)));
        Assert.Equal(TimeSpan.FromSeconds(2), Sweep(0, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Backups_whose_listings_do_not_answer_in_time_still_give_every_declared_guest_its_rows_with_one_detail()
    {
        var guests = Guests(50);
        Cluster(guests, resourcesDelayMs: 60_000);
        Route("/cluster/backup-info/not-backed-up", """{"data":[]}""");
        Route("/cluster/backup", """{"data":[{"id":"daily","type":"vzdump","schedule":"21:00","storage":"local","all":1,"enabled":1}]}""");
        using var env = Env(guests, TimeSpan.FromSeconds(1));
        var results = Run(new BackupCheck(env), TimeSpan.FromSeconds(1));
        foreach (var check in new[] { BackupCheck.CoverageCheck, BackupCheck.AgeCheck })
        {
            var rows = results.Where(r => r.Check == check).ToList();
            Assert.Equal(guests.Select(g => g.Name), rows.Select(r => r.Component).Order(StringComparer.Ordinal));
            Assert.All(rows, r => Assert.Equal("Vm", r.Type));
            Assert.Single(rows.Select(r => (r.Status, r.Detail)).Distinct());
            Assert.NotEqual(CheckStatus.Ok, rows[0].Status);
        }
        Assert.DoesNotContain(results, r => r.Component == "backups" && r.Check != BackupCheck.TaskCheck);
    }

    [Fact]
    public void Backups_at_1000_guests_make_one_content_listing_per_storage_and_one_task_listing_per_node()
    {
        var guests = Guests(1000);
        Cluster(guests);
        var now = DateTimeOffset.UtcNow;
        Route("/cluster/backup-info/not-backed-up", """{"data":[]}""");
        Route("/cluster/backup", """{"data":[{"id":"daily","type":"vzdump","schedule":"21:00","storage":"pbs","all":1,"enabled":1}]}""");
        Route("/nodes/pve1/storage/pbs/content", "{\"data\":[" + string.Join(",", guests.SelectMany(g => Enumerable.Range(0, 10).Select(d =>
            $$"""{"volid":"pbs:backup/vm/{{g.VmId}}/{{d}}","content":"backup","vmid":{{g.VmId}},"format":"pbs-vm","size":1024,"ctime":{{(now.AddHours(-2 - 24 * d)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}}}"""))) + "]}");
        Route("/nodes/pve1/storage", """{"data":[{"storage":"pbs","type":"pbs","content":"backup","active":1,"enabled":1,"shared":1,"total":100,"used":10,"avail":90}]}""");
        Route("/nodes/pve1/tasks", """{"data":[]}""");
        using var env = Env(guests, TimeSpan.FromSeconds(10));
        var results = Run(new BackupCheck(env), TimeSpan.FromSeconds(10));
        Assert.Equal(1000, results.Count(r => r.Check == BackupCheck.CoverageCheck && r.Status == CheckStatus.Ok));
        var ages = results.Where(r => r.Check == BackupCheck.AgeCheck).ToList();
        Assert.Equal(1000, ages.Count);
        Assert.All(ages, r => Assert.Equal(CheckStatus.Ok, r.Status));
        lock (_server.Requests)
        {
            Assert.Equal(1, _server.Requests.Count(r => r.Contains("/storage/pbs/content", StringComparison.Ordinal)));
            Assert.Equal(1, _server.Requests.Count(r => r.Contains("/tasks?", StringComparison.Ordinal)));
            Assert.Equal(7, _server.Requests.Count); // status, resources, backup, not-backed-up, storage, content, tasks: nothing per guest
        }
    }
    [Fact]
    public void Backups_whose_three_dependent_listing_rounds_each_take_most_of_the_timeout_are_all_read()
    {
        // Cluster listings, then the node's storages and tasks, then the storage's content: three rounds of 450 ms at a
        // 1 s -TimeoutSec. Each request is answered within its own timeout, so every row is a true verdict (Ok).
        var guests = Guests(20);
        Cluster(guests, resourcesDelayMs: 450);
        var now = DateTimeOffset.UtcNow;
        Route("/cluster/backup-info/not-backed-up", """{"data":[]}""", delayMs: 450);
        Route("/cluster/backup", """{"data":[{"id":"daily","type":"vzdump","schedule":"21:00","storage":"pbs","all":1,"enabled":1}]}""", delayMs: 450);
        Route("/nodes/pve1/storage/pbs/content", "{\"data\":[" + string.Join(",", guests.Select(g =>
            $$"""{"volid":"pbs:backup/vm/{{g.VmId}}/0","content":"backup","vmid":{{g.VmId}},"format":"pbs-vm","size":1024,"ctime":{{now.AddHours(-2).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}}}""")) + "]}", delayMs: 450);
        Route("/nodes/pve1/storage", """{"data":[{"storage":"pbs","type":"pbs","content":"backup","active":1,"enabled":1,"shared":1,"total":100,"used":10,"avail":90}]}""", delayMs: 450);
        Route("/nodes/pve1/tasks", """{"data":[]}""", delayMs: 450);
        using var env = Env(guests, TimeSpan.FromSeconds(1));
        var results = Run(new BackupCheck(env), TimeSpan.FromSeconds(1));
        foreach (var check in new[] { BackupCheck.CoverageCheck, BackupCheck.AgeCheck })
        {
            var rows = results.Where(r => r.Check == check).ToList();
            Assert.Equal(guests.Select(g => g.Name), rows.Select(r => r.Component).Order(StringComparer.Ordinal));
            Assert.All(rows, r => Assert.Equal(CheckStatus.Ok, r.Status));
        }
    }

    [Fact]
    public void A_backup_storage_that_does_not_answer_makes_no_backup_found_a_could_not_look_never_a_critical()
    {
        // The job stores to pbs, whose content listing does not answer; the node's local storage answers with another guest's backup.
        // Before: BackupAge Critical "no backup of VMID ... found" for every guest (a false page per guest).
        var guests = Guests(5);
        Cluster(guests);
        Route("/cluster/backup-info/not-backed-up", """{"data":[]}""");
        Route("/cluster/backup", """{"data":[{"id":"daily","type":"vzdump","schedule":"21:00","storage":"pbs","all":1,"enabled":1}]}""");
        Route("/nodes/pve1/storage/pbs/content", """{"data":[]}""", delayMs: 60_000);
        Route("/nodes/pve1/storage/local/content", "{\"data\":[{\"volid\":\"local:backup/vzdump-qemu-999-2026_12_01-21_00_00.vma.zst\",\"content\":\"backup\",\"vmid\":999,\"format\":\"vma.zst\",\"size\":1024,\"ctime\":" +
            DateTimeOffset.UtcNow.AddHours(-2).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + "}]}");
        Route("/nodes/pve1/storage", """{"data":[{"storage":"pbs","type":"pbs","content":"backup","active":1,"enabled":1,"shared":1,"total":100,"used":10,"avail":90},{"storage":"local","type":"dir","content":"backup,iso","active":1,"enabled":1,"shared":0,"total":100,"used":10,"avail":90}]}""");
        Route("/nodes/pve1/tasks", """{"data":[]}""");
        using var env = Env(guests, TimeSpan.FromSeconds(1));
        var ages = Run(new BackupCheck(env), TimeSpan.FromSeconds(1)).Where(r => r.Check == BackupCheck.AgeCheck).ToList();
        Assert.Equal(5, ages.Count);
        Assert.All(ages, r =>
        {
            Assert.Equal(CheckStatus.Unknown, r.Status);
            Assert.StartsWith("could not look at every backup storage: no backup of VMID", r.Detail);
            Assert.Contains("pve1/pbs content unreadable (no answer", r.Detail);
        });
    }

    [Fact]
    public void The_backups_budget_is_one_timeout_per_round_of_dependent_listings_capped_by_the_run_deadline()
    {
        Assert.Equal(TimeSpan.FromSeconds(8), UnitTimeout(env => new BackupCheck(env), 0, TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(5)));
        Assert.Equal(TimeSpan.FromSeconds(30), UnitTimeout(env => new BackupCheck(env), 0, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)));
    }

    /// <summary>The timeout the unit <paramref name="make"/> builds sets itself (CheckUnit.TakesRounds) in an environment of <paramref name="guests"/> guests.</summary>
    private static TimeSpan? UnitTimeout(Func<EnvironmentContext, CheckUnit> make, int guests, TimeSpan request, TimeSpan run)
    {
        using var env = new EnvironmentContext("lab", new EnvironmentConfig(), new RunOptions { CheckTimeout = request, RunTimeout = run })
        {
            Guests = Enumerable.Range(1, guests).Select(i => new Guest($"g{i}", GuestKind.Vm)).ToList(),
        };
        return make(env).Timeout;
    }
}
