using System.Net;
using PveHealth.Checks;
using PveHealth.Clients.Icmp;
using PveHealth.Configuration;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class IcmpPacketTests
{
    private static byte[] IPv4Header(string source, string destination, int protocol = 1, int ihl = 5)
    {
        var h = new byte[ihl * 4];
        h[0] = (byte)(0x40 | ihl);
        h[8] = 64;
        h[9] = (byte)protocol;
        IPAddress.Parse(source).GetAddressBytes().CopyTo(h, 12);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(h, 16);
        return h;
    }

    [Fact]
    public void An_echo_request_carries_id_sequence_and_a_valid_checksum()
    {
        var p = IcmpPacket.EchoRequest(false, 0x1234, 0xBEEF, "abc"u8);
        Assert.Equal(8, p[0]);
        Assert.Equal([0x12, 0x34, 0xBE, 0xEF], p[4..8]);
        Assert.Equal(0, IcmpPacket.Checksum(p));   // a packet with its checksum in sums to zero
        Assert.Equal(128, IcmpPacket.EchoRequest(true, 1, 2, "x"u8)[0]);
    }

    [Fact]
    public void A_raw_IPv4_echo_reply_is_read_after_its_IP_header_options_included()
    {
        var reply = IcmpPacket.EchoRequest(false, 7, 9, "payload"u8);
        reply[0] = 0;
        var datagram = IPv4Header("10.0.0.5", "10.0.0.1", ihl: 6).Concat(reply).ToArray();
        Assert.True(IcmpPacket.TryRead(datagram, false, true, out var m));
        Assert.Equal((IcmpMessageKind.EchoReply, (ushort)7, (ushort)9), (m.Kind, m.Id, m.Sequence));
        // A datagram (ping) socket delivers no IP header.
        Assert.True(IcmpPacket.TryRead(reply, false, false, out m));
        Assert.Equal((ushort)9, m.Sequence);
    }

    [Fact]
    public void A_destination_unreachable_names_the_quoted_echo_and_its_destination()
    {
        var request = IcmpPacket.EchoRequest(false, 0xAA01, 0x0203, "payload"u8);
        var quoted = IPv4Header("10.0.0.1", "10.9.9.9").Concat(request[..8]).ToArray();
        var error = new byte[8 + quoted.Length];
        error[0] = 3; error[1] = 1;
        quoted.CopyTo(error, 8);
        var datagram = IPv4Header("192.0.2.1", "10.0.0.1").Concat(error).ToArray();
        Assert.True(IcmpPacket.TryRead(datagram, false, true, out var m));
        Assert.Equal(IcmpMessageKind.Unreachable, m.Kind);
        Assert.Equal((ushort)0xAA01, m.Id);
        Assert.Equal((ushort)0x0203, m.Sequence);
        Assert.Equal(IPAddress.Parse("10.9.9.9"), m.Destination);
        Assert.Equal("host unreachable", IcmpPacket.UnreachableReason(false, m.Code));
    }

    [Fact]
    public void An_IPv6_unreachable_quotes_the_IPv6_header()
    {
        var request = IcmpPacket.EchoRequest(true, 5, 6, "p"u8);
        var inner = new byte[40];
        inner[0] = 0x60; inner[6] = 58;
        IPAddress.Parse("2001:db8::9").GetAddressBytes().CopyTo(inner, 24);
        var error = new byte[8].Concat(inner).Concat(request[..8]).ToArray();
        error[0] = 1; error[1] = 3;
        Assert.True(IcmpPacket.TryRead(error, true, false, out var m));
        Assert.Equal((IcmpMessageKind.Unreachable, (ushort)5, (ushort)6), (m.Kind, m.Id, m.Sequence));
        Assert.Equal(IPAddress.Parse("2001:db8::9"), m.Destination);
        Assert.Equal("address unreachable", IcmpPacket.UnreachableReason(true, 3));
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x45, 0, 0 })]                   // truncated IP header
    [InlineData(new byte[] { 0x4F, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 })]   // IHL beyond the data
    public void Truncated_or_malformed_datagrams_are_ignored(byte[] datagram)
        => Assert.False(IcmpPacket.TryRead(datagram, false, true, out _));

    [Fact]
    public void Our_own_echo_request_seen_on_loopback_and_foreign_ICMP_are_ignored()
    {
        var request = IcmpPacket.EchoRequest(false, 1, 1, "p"u8);
        Assert.False(IcmpPacket.TryRead(IPv4Header("127.0.0.1", "127.0.0.1").Concat(request).ToArray(), false, true, out _));
        // an unreachable that quotes a UDP datagram, not an echo
        var error = new byte[8].Concat(IPv4Header("10.0.0.1", "10.0.0.2", protocol: 17)).Concat(new byte[8]).ToArray();
        error[0] = 3;
        Assert.False(IcmpPacket.TryRead(error, false, false, out _));
    }
}

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

public class PingConfigTests
{
    private static PveHealthConfig Parse(string json) => ConfigLoader.Parse(json, "/etc/pve-health/config.json", out _);

    [Fact]
    public void Environment_ping_keys_win_over_defaults_ping()
    {
        var c = Parse("""{ "defaults": { "ping": { "count": 3, "criticalLossPercent": 80 } }, "environments": { "a": { "ping": { "count": 7 } }, "b": {} } }""");
        Assert.Equal((7, 80.0), (c.Environments["a"].Ping!.Count, c.Environments["a"].Ping!.CriticalLossPercent));
        Assert.Equal(3, c.Environments["b"].Ping!.Count);
        var s = PingSettings.From(c.Environments["a"].Ping);
        Assert.Equal(PingConfig.DefaultWarningLossPercent, s.WarningLossPercent);
    }

    [Theory]
    [InlineData("""{ "count": 0 }""", "$.environments.a.ping.count")]
    [InlineData("""{ "count": 21 }""", "$.environments.a.ping.count")]
    [InlineData("""{ "intervalMs": -1 }""", "$.environments.a.ping.intervalMs")]
    [InlineData("""{ "warningLossPercent": 0 }""", "$.environments.a.ping.warningLossPercent")]
    [InlineData("""{ "criticalLossPercent": 101 }""", "$.environments.a.ping.criticalLossPercent")]
    [InlineData("""{ "warningLossPercent": 90, "criticalLossPercent": 50 }""", "$.environments.a.ping.warningLossPercent")]
    [InlineData("""{ "warningRttMs": 500, "criticalRttMs": 100 }""", "$.environments.a.ping.warningRttMs")]
    public void Bad_ping_settings_name_their_key(string ping, string key)
    {
        var ex = Assert.Throws<ConfigException>(() => Parse($$"""{ "environments": { "a": { "ping": {{ping}} } } }"""));
        Assert.Contains(key, ex.Message);
    }
}

public class IcmpEchoSocketTests
{
    [Fact]
    public async Task Two_thousand_concurrent_echoes_on_one_socket_are_each_matched_to_their_own_reply()
    {
        using var lease = IcmpEchoSocket.Acquire(System.Net.Sockets.AddressFamily.InterNetwork);
        using var second = IcmpEchoSocket.Acquire(System.Net.Sockets.AddressFamily.InterNetwork);
        Assert.Same(lease.Socket, second.Socket);   // one socket per family for the whole process
        var targets = Enumerable.Range(0, 2000).Select(i => IPAddress.Parse($"127.0.{i / 250}.{i % 250 + 1}")).ToList();
        var answers = await Task.WhenAll(targets.Select(t => lease.Socket.EchoAsync(t, TimeSpan.FromSeconds(10), CancellationToken.None)));
        Assert.All(answers, a => Assert.Equal(IcmpEchoOutcome.Reply, a.Outcome));
        Assert.Equal(targets, answers.Select(a => a.From!));
        Assert.Equal(0, lease.Socket.PendingCount);
    }
}
