using System.Text.Json;
using PveHealth.Checks.NodeHealth;
using Xunit;

namespace PveHealth.Tests;

public class NodeHealthKindParserTests
{
    private static JsonElement Data(string json) => JsonDocument.Parse(json).RootElement.GetProperty("data").Clone();

    [Fact]
    public void A_degraded_pool_names_the_faulted_disk_not_its_mirror_or_the_pool()
    {
        var detail = NodeHealthParsers.ParseZfsDetail(Data("""
            {"data":{"name":"tank","state":"DEGRADED","action":"Replace the faulted device.","children":[
              {"name":"tank","state":"DEGRADED","read":0,"write":0,"cksum":0,"children":[
                {"name":"mirror-0","state":"DEGRADED","read":0,"write":0,"cksum":0,"children":[
                  {"name":"/dev/sdb","state":"ONLINE","read":0,"write":0,"cksum":0,"leaf":1},
                  {"name":"/dev/sdc","state":"FAULTED","read":"3","write":41,"cksum":12,"msg":"too many errors","leaf":1}]}]}]}}
            """))!;
        var failing = NodeHealthParsers.FailingVdevs(detail);
        var v = Assert.Single(failing);
        Assert.Equal(("/dev/sdc", "FAULTED", 3L, 41L, 12L), (v.Name, v.State, v.Read, v.Write, v.Cksum));
        Assert.Equal("Replace the faulted device.", detail.Action);
    }

    [Fact]
    public void Disks_read_wearout_as_life_remaining_and_NA_as_none()
    {
        var disks = NodeHealthParsers.ParseDisks(Data("""
            {"data":[{"devpath":"/dev/nvme0n1","health":"PASSED","wearout":8,"type":"nvme"},{"devpath":"/dev/sda","health":"FAILED!","wearout":"N/A"},{"devpath":"/dev/sdb","health":"OK","wearout":"97"}]}
            """));
        Assert.Equal([8, null, 97], disks.Select(d => d.WearoutRemaining));
        Assert.Equal("FAILED!", disks[1].Health);
    }

    [Fact]
    public void The_newest_installed_kernel_is_found_among_kernel_packages_numerically()
    {
        var packages = NodeHealthParsers.ParseAptVersions(Data("""
            {"data":[{"Package":"proxmox-ve","Version":"8.3.0","CurrentState":"Installed","RunningKernel":"6.8.12-9-pve"},
                     {"Package":"proxmox-kernel-6.8","Version":"6.8.12-10","CurrentState":"Installed"},
                     {"Package":"proxmox-kernel-6.8.12-9-pve-signed","Version":"6.8.12-9","CurrentState":"Installed"},
                     {"Package":"proxmox-kernel-6.8.12-10-pve-signed","Version":"6.8.12-10","CurrentState":"Installed"},
                     {"Package":"pve-kernel-5.15.158-2-pve","Version":"5.15.158-2","CurrentState":"Installed"},
                     {"Package":"proxmox-kernel-6.11.0-1-pve-signed","Version":"6.11.0-1","CurrentState":"ConfigFiles"}]}
            """));
        Assert.Equal("6.8.12-10-pve", NodeHealthParsers.NewestInstalledKernel(packages));
        Assert.True(NodeHealthParsers.CompareKernel("6.8.12-9-pve", "6.8.12-10-pve") < 0);
        Assert.Equal("6.8.12-2-pve", NodeHealthParsers.ParseRunningKernel(Data("""{"data":{"current-kernel":{"release":"6.8.12-2-pve"},"kversion":"Linux 6.8.12-2-pve #1"}}""")));
        Assert.Equal("6.8.12-2-pve", NodeHealthParsers.ParseRunningKernel(Data("""{"data":{"kversion":"Linux pve1 6.8.12-2-pve #1 SMP"}}""")));
    }

    [Fact]
    public void Ha_status_reads_quorum_and_services_and_ceph_its_checks()
    {
        var ha = NodeHealthParsers.ParseHaStatus(Data("""
            {"data":[{"id":"quorum","type":"quorum","status":"OK","quorate":1},{"id":"master","type":"master","node":"pve1"},
                     {"id":"service:vm:101","type":"service","sid":"vm:101","node":"pve1","crm_state":"error","state":"error","request_state":"started"}]}
            """));
        Assert.True(ha.Quorate);
        var svc = Assert.Single(ha.Services);
        Assert.Equal(("vm:101", "error"), (svc.Sid, svc.CrmState));
        var ceph = NodeHealthParsers.ParseCephStatus(Data("""
            {"data":{"health":{"status":"HEALTH_WARN","checks":{"OSD_NEARFULL":{"severity":"HEALTH_WARN","summary":{"message":"1 nearfull osd(s)","count":1}}}}}}
            """));
        Assert.Equal("HEALTH_WARN", ceph.Status);
        Assert.Equal(("OSD_NEARFULL", "1 nearfull osd(s)"), (ceph.Checks[0].Code, ceph.Checks[0].Summary));
    }
}
