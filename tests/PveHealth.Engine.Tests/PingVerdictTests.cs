using System.Net;
using PveHealth.Checks;
using PveHealth.Clients.Icmp;
using PveHealth.Configuration;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class PingVerdictTests
{
    private static IcmpEchoResult Reply(double ms) => new(IcmpEchoOutcome.Reply, TimeSpan.FromMilliseconds(ms), IPAddress.Loopback, null);
    private static readonly IcmpEchoResult Lost = new(IcmpEchoOutcome.TimedOut, TimeSpan.FromSeconds(2), null, null);
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(9.75);

    [Fact]
    public void Every_echo_answered_is_Ok_with_loss_and_round_trip()
    {
        var (s, d) = PingVerdict.Judge("10.0.0.1", [Reply(1), Reply(2), Reply(3), Reply(1), Reply(3)], PingSettings.Default, Budget);
        Assert.Equal(CheckStatus.Ok, s);
        Assert.Equal("0 % loss, 5 of 5 echoes answered by 10.0.0.1, rtt avg 2.0 ms, max 3.0 ms", d);
    }

    [Fact]
    public void One_lost_echo_does_not_page_two_are_a_warning_all_are_critical()
    {
        Assert.Equal(CheckStatus.Ok, PingVerdict.Judge("a", [Lost, Reply(1), Reply(1), Reply(1), Reply(1)], PingSettings.Default, Budget).Status);
        Assert.Equal(CheckStatus.Warning, PingVerdict.Judge("a", [Lost, Lost, Reply(1), Reply(1), Reply(1)], PingSettings.Default, Budget).Status);
        Assert.Equal(CheckStatus.Warning, PingVerdict.Judge("a", [Lost, Lost, Lost, Lost, Reply(1)], PingSettings.Default, Budget).Status);
        var (s, d) = PingVerdict.Judge("10.0.0.3", [Lost, Lost, Lost, Lost, Lost], PingSettings.Default, Budget);
        Assert.Equal(CheckStatus.Critical, s);
        Assert.Equal("no reply from 10.0.0.3 within 9.8 s (5 echoes, 100 % loss)", d);
    }

    [Fact]
    public void Thresholds_come_from_the_settings()
    {
        var strict = PingSettings.From(new PingConfig { WarningLossPercent = 20, CriticalLossPercent = 60 });
        Assert.Equal(CheckStatus.Warning, PingVerdict.Judge("a", [Lost, Reply(1), Reply(1), Reply(1), Reply(1)], strict, Budget).Status);
        var (s, d) = PingVerdict.Judge("a", [Lost, Lost, Lost, Reply(1), Reply(1)], strict, Budget);
        Assert.Equal(CheckStatus.Critical, s);
        Assert.EndsWith("(at least 60 % is critical, 20 % a warning)", d);
        var rtt = PingSettings.From(new PingConfig { WarningRttMs = 100, CriticalRttMs = 500 });
        Assert.Equal(CheckStatus.Warning, PingVerdict.Judge("a", [Reply(150)], rtt, Budget).Status);
        Assert.Equal(CheckStatus.Critical, PingVerdict.Judge("a", [Reply(600)], rtt, Budget).Status);
        Assert.Equal(CheckStatus.Ok, PingVerdict.Judge("a", [Reply(60)], rtt, Budget).Status);
    }

    [Fact]
    public void Destination_unreachable_is_Critical_and_names_the_router()
    {
        var un = new IcmpEchoResult(IcmpEchoOutcome.Unreachable, TimeSpan.FromMilliseconds(3), IPAddress.Parse("192.0.2.1"), "destination unreachable (host unreachable)");
        var (s, d) = PingVerdict.Judge("10.0.0.9", [un, un, un], PingSettings.Default, Budget);
        Assert.Equal(CheckStatus.Critical, s);
        Assert.Equal("destination unreachable (host unreachable), reported by 192.0.2.1 (10.0.0.9, 3 echoes, 100 % loss)", d);
    }
}
