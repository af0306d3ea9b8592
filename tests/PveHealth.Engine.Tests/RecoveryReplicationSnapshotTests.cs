using PveHealth.Checks.Recovery;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;
using Xunit;
using static PveHealth.Tests.RecoveryStorageTests;

namespace PveHealth.Tests;

/// <summary>Replication and Snapshots: parsers on real-shaped answers and the verdicts.</summary>
public class RecoveryReplicationSnapshotTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1764700000);

    private static ReplicationCheck Unit()
    {
        var config = ConfigLoader.Parse("""{"environments":{"lab":{"proxmox":{"url":"https://127.0.0.1:8006","tokenId":"a@pve!b","tokenSecret":{"env":"X"}}}}}""", "c.json", out _);
        return new ReplicationCheck(new EnvironmentContext("lab", config.Environments["lab"], new RunOptions()));
    }

    private const string ReplicationJson = """
        [ {"id":"101-0","jobnum":0,"guest":101,"type":"local","target":"pve2","schedule":"*/15","source":"pve1","last_sync":1764685600,"last_try":1764699700,"fail_count":3,"error":"command 'zfs recv' failed: exit code 1","next_sync":1764700600,"duration":3.21},
          {"id":"103-0","guest":103,"target":"pve2","last_sync":1764699600,"last_try":1764699600,"fail_count":0,"next_sync":1764700500},
          {"id":"104-0","guest":104,"target":"pve3","schedule":"*/15","last_sync":1764690000,"fail_count":5,"error":"no route to host","next_sync":0},
          {"id":"105-0","guest":105,"target":"pve2","schedule":"*/10","last_sync":1764690000,"fail_count":0,"next_sync":1764700500},
          {"id":"106-0","guest":106,"target":"pve2","schedule":"*/15","disable":1,"fail_count":0},
          {"id":"107-1","target":"pve2","schedule":"*-*-01 03:00","last_sync":1764690000,"fail_count":0,"next_sync":1765000000} ]
        """;

    /// <summary>
    /// Every recovery endpoint answers a list; anything else ({"data":5}, an object, null) is an unexpected answer the
    /// checks report as Unknown, never an empty list read as "no snapshots" (Ok) or "no backup job" (a false page).
    /// </summary>
    [Theory]
    [InlineData("5")]
    [InlineData("""{"id":"101-0"}""")]
    [InlineData("null")]
    [InlineData("\"[]\"")]
    public void Every_recovery_parser_refuses_an_answer_that_is_not_a_list(string data)
    {
        var parsers = new Func<System.Text.Json.JsonElement, object>[]
        {
            d => RecoveryParsers.ParseStorages("pve1", d), d => RecoveryParsers.ParseBackupJobs(d), d => RecoveryParsers.ParseNotBackedUp(d),
            d => RecoveryParsers.ParseBackupContent("pbs", d), d => RecoveryParsers.ParseTasks("pve1", d), d => RecoveryParsers.ParseVzdumpLog(d),
            d => RecoveryParsers.ParseReplication(d), d => RecoveryParsers.ParseSnapshots(d),
        };
        foreach (var parse in parsers)
        {
            var ex = Assert.Throws<ProxmoxApiException>(() => parse(Json(data)));
            Assert.Equal(ProxmoxFailure.InvalidResponse, ex.Failure);
            Assert.Contains("expected a list in data", ex.Message, StringComparison.Ordinal);
            Assert.Equal(CheckStatus.Unknown, PveHealth.Checks.ProxmoxCheckHelpers.StatusOf(ex));
        }
    }

    [Fact]
    public void Replication_jobs_parse_with_the_schedule_default_and_0_1_disable()
    {
        var jobs = RecoveryParsers.ParseReplication(Json(ReplicationJson));
        Assert.Equal(6, jobs.Count);
        Assert.Equal("*/15", jobs[1].Schedule); // default
        Assert.Equal(0, jobs[2].NextSync);
        Assert.True(jobs[4].Disabled);
        Assert.Null(jobs[4].LastSync);
        Assert.Equal(107, jobs[5].Guest); // from the id
    }

    [Fact]
    public void Replication_verdicts()
    {
        var unit = Unit();
        var jobs = RecoveryParsers.ParseReplication(Json(ReplicationJson));
        var r = jobs.Select(j => unit.Evaluate(j, "pve1", j.Guest == 101 ? "web-01" : null, 3, Now, TimeSpan.Zero)).ToList();
        Assert.Equal([CheckStatus.Critical, CheckStatus.Ok, CheckStatus.Critical, CheckStatus.Warning, CheckStatus.Skipped, CheckStatus.Ok], r.Select(x => x.Status));
        Assert.Equal("web-01 (VMID 101) pve1 → pve2: failing (3 failures in a row); last sync 4 h ago; last error: command 'zfs recv' failed: exit code 1", r[0].Detail);
        Assert.StartsWith("VMID 104 pve1 → pve3: target pve3 offline (next_sync 0 after 5 failures)", r[2].Detail);
        Assert.Equal("VMID 105 pve1 → pve2: last sync 2.8 h ago, more than 3 × its schedule (*/10)", r[3].Detail);
        Assert.EndsWith("(schedule *-*-01 03:00, interval not understood: age not judged)", r[5].Detail);
        Assert.All(r, x => Assert.Equal(("Replication", "Sync"), (x.Type, x.Check)));
        Assert.Equal("101-0", r[0].Component);
        Assert.Equal(1764685600, r[0].Measurements.Single().Value);
    }

    [Theory]
    [InlineData("*/15", 15)]
    [InlineData("*/5", 5)]
    [InlineData("hourly", 60)]
    [InlineData("*:30", 60)]
    [InlineData("*/2:00", 120)]
    [InlineData("daily", 1440)]
    [InlineData("22:30", 1440)]
    [InlineData("mon..fri 22:00", 10080)]
    [InlineData("sat 03:00", 10080)]
    [InlineData(null, 15)]
    public void Schedule_intervals(string? schedule, int minutes)
        => Assert.Equal(TimeSpan.FromMinutes(minutes), RecoveryParsers.ScheduleInterval(schedule));

    [Fact]
    public void Snapshots_skip_current_old_ones_and_unfinished_ones_are_warnings()
    {
        var list = RecoveryParsers.ParseSnapshots(Json("""
            [ {"name":"before-upgrade","snaptime":1760812000,"description":"pre 12.8 upgrade","vmstate":0},
              {"name":"nightly-test","snaptime":1764696400,"description":"","snapstate":"prepare","parent":"before-upgrade"},
              {"name":"current","description":"You are here!","running":1,"parent":"nightly-test"} ]
            """));
        Assert.Equal(["before-upgrade", "nightly-test"], list.Select(s => s.Name));
        var (status, detail) = SnapshotCheck.Evaluate(list, TimeSpan.FromDays(30), Now);
        Assert.Equal(CheckStatus.Warning, status);
        Assert.Equal("unfinished snapshot operation on nightly-test (snapstate prepare): finish or remove it (qm/pct delsnapshot --force); snapshot older than 30 d: before-upgrade (45 d)", detail);
        Assert.Equal((CheckStatus.Ok, "no snapshots"), SnapshotCheck.Evaluate(RecoveryParsers.ParseSnapshots(Json("""[{"name":"current","description":"You are here!"}]""")), TimeSpan.FromDays(30), Now));
        Assert.Equal((CheckStatus.Ok, "1 snapshot, newest before-upgrade (45 d old)"), SnapshotCheck.Evaluate(list.Take(1).ToList(), TimeSpan.FromDays(60), Now));
    }

    [Theory]
    [InlineData("replication", """{"maxScheduleMultiple":0.5}""", "$.environments.lab.replication.maxScheduleMultiple")]
    [InlineData("snapshots", """{"maxAgeDays":0}""", "$.environments.lab.snapshots.maxAgeDays")]
    public void Bad_thresholds_stop_the_run(string section, string value, string path)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("{\"environments\":{\"lab\":{\"" + section + "\":" + value + "}}}", "c.json", out _));
        Assert.Equal(path, ex.JsonPath);
    }
}
