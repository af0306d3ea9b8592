using System.Buffers.Binary;
using System.Net;

namespace PveHealth.Clients.Icmp;

/// <summary>What an ICMP message received on the echo socket means for one of our echoes.</summary>
public enum IcmpMessageKind
{
    /// <summary>An echo reply (ICMP 0, ICMPv6 129).</summary>
    EchoReply,
    /// <summary>Destination unreachable (ICMP 3, ICMPv6 1) about one of our echo requests.</summary>
    Unreachable,
    /// <summary>Time exceeded (ICMP 11, ICMPv6 3) about one of our echo requests: a routing loop or a TTL too small.</summary>
    TimeExceeded,
}

/// <summary>
/// An ICMP message that concerns an echo request: a reply, or an error that quotes the request. <see cref="Id"/> and
/// <see cref="Sequence"/> are the echo's; <see cref="Destination"/> is the quoted request's destination (errors only).
/// </summary>
public readonly record struct IcmpMessage(IcmpMessageKind Kind, ushort Id, ushort Sequence, byte Code, IPAddress? Destination);

/// <summary>Builds echo requests and reads the ICMP messages that answer them (IPv4 and IPv6). Pure functions, no I/O.</summary>
public static class IcmpPacket
{
    private const int EchoHeaderLength = 8;

    /// <summary>An echo request: ICMP type 8 (IPv4, checksum filled in) or ICMPv6 type 128 (the kernel fills the checksum in).</summary>
    public static byte[] EchoRequest(bool ipv6, ushort id, ushort sequence, ReadOnlySpan<byte> payload)
    {
        var packet = new byte[EchoHeaderLength + payload.Length];
        packet[0] = ipv6 ? (byte)128 : (byte)8;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), sequence);
        payload.CopyTo(packet.AsSpan(EchoHeaderLength));
        if (!ipv6) BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), Checksum(packet));
        return packet;
    }

    /// <summary>The Internet checksum (RFC 1071).</summary>
    public static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        int i = 0;
        for (; i + 1 < data.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i));
        if (i < data.Length) sum += (uint)(data[i] << 8);
        while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>
    /// Reads a datagram from an ICMP socket. <paramref name="withIpHeader"/>: IPv4 raw sockets deliver the IP header
    /// first; IPv4 datagram (ping) sockets and IPv6 sockets do not. False for anything that is not a reply to an echo
    /// or an error quoting an echo request (our own requests seen on loopback, other ICMP traffic, truncated data).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> datagram, bool ipv6, bool withIpHeader, out IcmpMessage message)
    {
        message = default;
        var icmp = datagram;
        if (withIpHeader && !ipv6)
        {
            if (!SkipIPv4Header(ref icmp)) return false;
        }
        if (icmp.Length < EchoHeaderLength) return false;
        byte type = icmp[0], code = icmp[1];
        byte echoReply = ipv6 ? (byte)129 : (byte)0;
        if (type == echoReply)
        {
            message = new IcmpMessage(IcmpMessageKind.EchoReply, BinaryPrimitives.ReadUInt16BigEndian(icmp.Slice(4)), BinaryPrimitives.ReadUInt16BigEndian(icmp.Slice(6)), code, null);
            return true;
        }
        IcmpMessageKind kind;
        if (type == (ipv6 ? 1 : 3)) kind = IcmpMessageKind.Unreachable;
        else if (type == (ipv6 ? 3 : 11)) kind = IcmpMessageKind.TimeExceeded;
        else return false;

        // An error quotes the offending packet: its IP header and at least the first 8 bytes of its ICMP header.
        var quoted = icmp.Slice(EchoHeaderLength);
        IPAddress destination;
        if (ipv6)
        {
            if (quoted.Length < 40 || quoted[0] >> 4 != 6 || quoted[6] != 58) return false;   // next header ICMPv6, no extension headers
            destination = new IPAddress(quoted.Slice(24, 16));
            quoted = quoted.Slice(40);
        }
        else
        {
            if (quoted.Length < 20 || quoted[0] >> 4 != 4 || quoted[9] != 1) return false;     // protocol ICMP
            destination = new IPAddress(quoted.Slice(16, 4));
            if (!SkipIPv4Header(ref quoted)) return false;
        }
        if (quoted.Length < EchoHeaderLength || quoted[0] != (ipv6 ? 128 : 8)) return false;
        message = new IcmpMessage(kind, BinaryPrimitives.ReadUInt16BigEndian(quoted.Slice(4)), BinaryPrimitives.ReadUInt16BigEndian(quoted.Slice(6)), code, destination);
        return true;
    }

    /// <summary>What an unreachable code means, in words ("host unreachable").</summary>
    public static string UnreachableReason(bool ipv6, byte code) => ipv6
        ? code switch
        {
            0 => "no route to destination",
            1 => "communication administratively prohibited",
            2 => "beyond scope of source address",
            3 => "address unreachable",
            4 => "port unreachable",
            5 => "source address failed ingress/egress policy",
            6 => "reject route to destination",
            _ => $"code {code}",
        }
        : code switch
        {
            0 => "network unreachable",
            1 => "host unreachable",
            2 => "protocol unreachable",
            3 => "port unreachable",
            4 => "fragmentation needed",
            5 => "source route failed",
            6 => "destination network unknown",
            7 => "destination host unknown",
            9 or 10 or 13 => "communication administratively prohibited",
            11 => "network unreachable for type of service",
            12 => "host unreachable for type of service",
            _ => $"code {code}",
        };

    private static bool SkipIPv4Header(ref ReadOnlySpan<byte> data)
    {
        if (data.Length < 20 || data[0] >> 4 != 4) return false;
        int headerLength = (data[0] & 0x0F) * 4;
        if (headerLength < 20 || data.Length < headerLength) return false;
        data = data.Slice(headerLength);
        return true;
    }
}
