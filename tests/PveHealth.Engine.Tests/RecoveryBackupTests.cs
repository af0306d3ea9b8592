using PveHealth.Checks.Recovery;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using Xunit;
using static PveHealth.Tests.RecoveryStorageTests;

namespace PveHealth.Tests;

/// <summary>The Backups group's parsers on real-shaped answers (ESTATE-FACTS §2) and its coverage rule.</summary>
public class RecoveryBackupTests
{
    [Fact]
    public void Backup_jobs_enabled_absent_means_enabled_and_ids_are_comma_strings()
    {
        var jobs = RecoveryParsers.ParseBackupJobs(Json("""
            [ {"id":"backup-daily","type":"vzdump","schedule":"21:00","storage":"pbs","all":1,"exclude":"105,106","enabled":1,"next-run":1764709200,"prune-backups":{"keep-daily":7}},
              {"id":"backup-old","type":"vzdump","schedule":"sun 02:00","storage":"local","vmid":"105","enabled":0},
              {"id":"pool-job","type":"vzdump","schedule":"daily","pool":"prod","node":"pve2"} ]
            """));
        Assert.Equal(["backup-daily", "backup-old", "pool-job"], jobs.Select(j => j.Id));
        Assert.True(jobs[0].All);
        Assert.Equal([105, 106], jobs[0].Exclude);
        Assert.False(jobs[1].Enabled);
        Assert.Equal([105], jobs[1].VmIds);
        Assert.True(jobs[2].Enabled);
        Assert.Equal(("prod", "pve2"), (jobs[2].Pool, jobs[2].Node));
    }

    [Theory]
    [InlineData(101, "pve1", null, true)]   // all
    [InlineData(105, "pve1", null, false)]  // excluded
    public void Coverage_all_minus_exclude(int vmid, string node, string? pool, bool covered)
    {
        var job = new PveBackupJob { Id = "j", All = true, Exclude = [105, 106] };
        Assert.Equal(covered, BackupCheck.Covers(job, new PveResource { VmId = vmid, Node = node, Pool = pool, Type = "qemu" }));
    }

    [Fact]
    public void Coverage_by_vmid_pool_and_node()
    {
        var row = new PveResource { VmId = 101, Node = "pve1", Pool = "prod", Type = "qemu" };
        Assert.True(BackupCheck.Covers(new PveBackupJob { VmIds = [100, 101] }, row));
        Assert.False(BackupCheck.Covers(new PveBackupJob { VmIds = [100] }, row));
        Assert.True(BackupCheck.Covers(new PveBackupJob { Pool = "prod" }, row));
        Assert.False(BackupCheck.Covers(new PveBackupJob { Pool = "test", All = true }, row));
        Assert.False(BackupCheck.Covers(new PveBackupJob { All = true, Node = "pve2" }, row)); // a node job covers only guests on it now
    }

    [Fact]
    public void Not_backed_up_entries()
    {
        var list = RecoveryParsers.ParseNotBackedUp(Json("""[{"vmid":106,"type":"qemu","name":"ci-01"},{"vmid":"107","type":"lxc"},{"type":"qemu"}]"""));
        Assert.Equal([new PveNotBackedUp(106, "qemu", "ci-01"), new PveNotBackedUp(107, "lxc", null)], list);
    }

    [Fact]
    public void Backup_content_PBS_and_vzdump_volumes_with_verification()
    {
        var list = RecoveryParsers.ParseBackupContent("pbs", Json("""
            [ {"volid":"pbs:backup/vm/101/2026-12-01T21:00:03Z","content":"backup","vmid":101,"format":"pbs-vm","size":3221225573,"ctime":1764622803,"subtype":"qemu","protected":0,"verification":{"state":"ok","upid":"UPID:pbs:..."}},
              {"volid":"pbs:backup/ct/104/2026-12-01T21:00:09Z","content":"backup","vmid":104,"format":"pbs-ct","ctime":1764622809,"verification":{"state":"failed","upid":"UPID:pbs:..."}},
              {"volid":"local:backup/vzdump-qemu-150-2026_11_15-21_00_00.vma.zst","content":"backup","format":"vma.zst","ctime":1763240400,"protected":1},
              {"volid":"local:iso/debian.iso","content":"iso","ctime":1},
              {"volid":"pbs:backup/vm/102/x","content":"backup","vmid":102} ]
            """));
        Assert.Equal([101, 104, 150], list.Select(v => v.VmId));
        Assert.Equal("ok", list[0].Verification);
        Assert.Equal("failed", list[1].Verification);
        Assert.Null(list[2].Verification);        // never verified / not PBS
        Assert.True(list[2].Protected);            // VMID taken from the vzdump volid when the field is missing
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1764622803), list[0].Created);
        Assert.Equal("pbs", list[0].Storage);
    }

    [Fact]
    public void Tasks_WARNINGS_is_a_success_errors_are_not_and_running_tasks_are_neither()
    {
        var tasks = RecoveryParsers.ParseTasks("pve1", Json("""
            [ {"upid":"UPID:pve1:1:2:6929F0A3:vzdump::root@pam:","type":"vzdump","id":"","starttime":1764356259,"endtime":1764356559,"status":"WARNINGS: 1"},
              {"upid":"UPID:pve2:1:2:6929F0A4:vzdump::root@pam:","node":"pve2","type":"vzdump","id":"","starttime":1764356260,"endtime":1764356560,"status":"job errors"},
              {"upid":"UPID:pve1:1:2:6929F0A5:vzdump:101:root@pam:","type":"vzdump","id":"101","starttime":1764356261,"endtime":1764356262,"status":"OK"},
              {"upid":"UPID:pve1:1:2:6929F0A6:vzdump:103:root@pam:","type":"vzdump","id":"103","starttime":1764356263},
              {"type":"vzdump","starttime":1} ]
            """));
        Assert.Equal(4, tasks.Count);
        Assert.True(tasks[0].Succeeded);
        Assert.False(tasks[1].Succeeded);
        Assert.Equal("pve2", tasks[1].Node);
        Assert.True(tasks[2].Succeeded);
        Assert.True(tasks[3].Running);
        Assert.False(tasks[3].Succeeded);
    }

    [Fact]
    public void Vzdump_log_gives_each_guests_outcome_in_a_multi_guest_run()
    {
        var outcomes = RecoveryParsers.ParseVzdumpLog(Json("""
            [ {"n":1,"t":"INFO: starting new backup job: vzdump --all 1 --mode snapshot --storage pbs --node pve2"},
              {"n":2,"t":"INFO: Starting Backup of VM 102 (qemu)"},
              {"n":3,"t":"ERROR: Backup of VM 102 failed - VM 102 qmp command 'backup' failed - got timeout"},
              {"n":4,"t":"INFO: Starting Backup of VM 104 (lxc)"},
              {"n":5,"t":"INFO: Finished Backup of VM 104 (00:00:54)"},
              {"n":6,"t":"INFO: Backup job finished with errors"},
              {"n":7,"t":"TASK ERROR: job errors"} ]
            """));
        Assert.Equal([new PveBackupOutcome(102, true, "ERROR: Backup of VM 102 failed - VM 102 qmp command 'backup' failed - got timeout"), new PveBackupOutcome(104, false, "INFO: Finished Backup of VM 104 (00:00:54)")], outcomes);
        Assert.Throws<ProxmoxApiException>(() => RecoveryParsers.ParseVzdumpLog(Json("null"))); // not a list: unexpected answer
    }

    [Theory]
    [InlineData("""{"warningHours":0}""", "$.environments.lab.backups.warningHours")]
    [InlineData("""{"warningHours":60}""", "$.environments.lab.backups.warningHours")]
    [InlineData("""{"criticalHours":-1}""", "$.environments.lab.backups.criticalHours")]
    public void Bad_backup_thresholds_stop_the_run(string section, string path)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("{\"environments\":{\"lab\":{\"backups\":" + section + "}}}", "c.json", out _));
        Assert.Equal(path, ex.JsonPath);
    }
}
