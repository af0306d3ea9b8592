using PveHealth.Clients.Proxmox;
using Xunit;

namespace PveHealth.Tests;

public class ProxmoxClassificationTests
{
    [Fact]
    public void Permission_reason_names_privilege_and_path()
    {
        var ex = ProxmoxApiException.FromStatus(403, "Permission check failed (/vms/101, VM.Audit)", null, "GET", "/nodes/pve1/qemu/101/status/current", "https://pve:8006", "mon@pve!health");
        Assert.Equal(ProxmoxFailure.Permission, ex.Failure);
        Assert.Contains("lacks VM.Audit on /vms/101", ex.Message);
        Assert.True(ex.IsCheckerTrouble);
    }

    [Theory]
    [InlineData(500, "QEMU guest agent is not running", null, ProxmoxFailure.AgentNotRunning, "not running")]
    [InlineData(500, "Internal Server Error", "No QEMU guest agent configured\n", ProxmoxFailure.AgentNotConfigured, "no QEMU guest agent configured")]
    [InlineData(500, "VM 103 is not running", null, ProxmoxFailure.VmNotRunning, "VM is not running")]
    [InlineData(500, "VM 103 qmp command 'guest-ping' failed - got timeout", null, ProxmoxFailure.AgentNotRunning, "got timeout")]
    [InlineData(595, "No route to host", null, ProxmoxFailure.NodeUnreachable, "node pve2 unreachable")]
    [InlineData(401, "authentication failure", null, ProxmoxFailure.Authentication, "authentication failed")]
    [InlineData(500, "Configuration file 'nodes/pve2/qemu-server/103.conf' does not exist", null, ProxmoxFailure.GuestNotFound, "does not exist on node pve2")]
    [InlineData(501, "Method 'GET /x' not implemented", null, ProxmoxFailure.Http, "HTTP 501")]
    public void Status_and_reason_map_to_distinct_failures(int status, string reason, string? message, ProxmoxFailure failure, string wording)
    {
        var ex = ProxmoxApiException.FromStatus(status, reason, message, "POST", "/nodes/pve2/qemu/103/agent/ping", "https://pve:8006", "mon@pve!health");
        Assert.Equal(failure, ex.Failure);
        Assert.Contains(wording, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
