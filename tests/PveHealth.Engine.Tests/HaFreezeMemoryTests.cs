using PveHealth.Checks.NodeHealth;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class HaFreezeMemoryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pvehealth-ha-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    [Fact]
    public void Freeze_is_Ok_on_first_sight_and_Warning_when_it_lasts_to_the_next_run()
    {
        var status = """{"data":[{"type":"cluster","name":"lab","quorate":1},{"type":"node","name":"pve1","online":1}]}""";
        var ha = """{"data":[{"id":"quorum","type":"quorum","status":"OK","quorate":1},{"id":"service:vm:101","type":"service","sid":"vm:101","node":"pve1","crm_state":"freeze","state":"freeze","request_state":"started"}]}""";
        using var server = HostileServer.Scripted(line => line.Contains("/cluster/status") ? (200, "OK", status, 0)
            : line.Contains("/cluster/ha/status/current") ? (200, "OK", ha, 0) : (501, "not implemented", """{"data":null}""", 0));
        var secret = Path.GetTempFileName();
        File.WriteAllText(secret, "s3cret-token\n");
        try
        {
            CheckResult RunOnce()
            {
                var env = new EnvironmentContext("lab", new EnvironmentConfig
                {
                    Proxmox = new ProxmoxConfig { Url = server.Url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = secret } },
                    NodeHealth = new NodeHealthConfig { StateDirectory = _dir },
                }, new RunOptions { CheckTimeout = TimeSpan.FromSeconds(5) });
                return Assert.Single(NodeHealthCheckTests.Run(new HaCheck(env)));
            }
            var first = RunOnce();
            Assert.Equal(CheckStatus.Ok, first.Status);
            Assert.Contains("a Warning if it still is at the next run", first.Detail);
            Assert.True(File.Exists(Path.Combine(_dir, "ha-lab.json")));
            var second = RunOnce();
            Assert.Equal(CheckStatus.Warning, second.Status);
            Assert.Contains("still in freeze since the previous run", second.Detail);
        }
        finally { File.Delete(secret); }
    }
}
