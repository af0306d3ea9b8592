using System.Net;
using PveHealth.Clients.Icmp;
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
