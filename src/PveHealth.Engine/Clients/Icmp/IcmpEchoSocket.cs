using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace PveHealth.Clients.Icmp;

/// <summary>How one echo ended.</summary>
public enum IcmpEchoOutcome
{
    Reply,
    TimedOut,
    /// <summary>A router (or the host) answered "destination unreachable" or "time exceeded"; see <see cref="IcmpEchoResult.Reason"/>.</summary>
    Unreachable,
}

/// <summary>One echo's answer: the round trip for a reply; for an error, who reported it and why.</summary>
public readonly record struct IcmpEchoResult(IcmpEchoOutcome Outcome, TimeSpan RoundTrip, IPAddress? From, string? Reason);

/// <summary>Neither a raw ICMP socket nor an ICMP datagram (ping) socket may be opened by this process.</summary>
public sealed class IcmpNotPermittedException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// One ICMP socket per address family for the whole process, shared by every concurrent ping: echoes are matched to
/// their waiters by identifier and sequence in one receive loop. (A socket per ping, as <c>System.Net.NetworkInformation.Ping</c>
/// opens on Linux, gets a copy of every echo reply on the host: with a thousand pings at once each socket must read a
/// thousand replies, their receive buffers overflow and answered echoes are reported lost.) A raw socket is used
/// when the process may (root, CAP_NET_RAW), else an ICMP datagram socket (<c>net.ipv4.ping_group_range</c>), where the
/// kernel chooses the identifier and delivers only this socket's replies (and no ICMP errors: an unreachable host
/// then reads as no reply). The socket is opened by the first lease and closed when the last lease is disposed.
/// </summary>
public sealed class IcmpEchoSocket
{
    private static readonly object LeaseGate = new();
    private static IcmpEchoSocket? _v4, _v6;

    private static readonly byte[] Payload = "PveHealth echo.."u8.ToArray();
    private const int ReceiveBufferBytes = 4 * 1024 * 1024;

    private readonly Socket _socket;
    private readonly bool _ipv6;
    private readonly bool _raw;
    private readonly ConcurrentDictionary<uint, Pending> _pending = new();
    private readonly object _keyGate = new();
    private uint _nextKey;
    private int _leases;
    private volatile bool _closed;
    private readonly Task _receiveLoop;

    private sealed class Pending(IPAddress target)
    {
        public readonly IPAddress Target = target;
        public readonly TaskCompletionSource<IcmpEchoResult> Answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long SentAt;
    }

    private IcmpEchoSocket(Socket socket, bool ipv6, bool raw)
    {
        _socket = socket;
        _ipv6 = ipv6;
        _raw = raw;
        _nextKey = BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(4));
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>True for a raw socket (ICMP errors are seen), false for an ICMP datagram socket.</summary>
    public bool IsRaw => _raw;

    /// <summary>Echoes waiting for an answer (tests).</summary>
    public int PendingCount => _pending.Count;

    /// <summary>A lease on the process's ICMP socket for <paramref name="family"/>; dispose it when the pings are done.</summary>
    /// <exception cref="IcmpNotPermittedException">neither socket kind may be opened.</exception>
    public static Lease Acquire(AddressFamily family)
    {
        var ipv6 = family == AddressFamily.InterNetworkV6;
        lock (LeaseGate)
        {
            ref var slot = ref ipv6 ? ref _v6 : ref _v4;
            slot ??= Open(ipv6);
            slot._leases++;
            return new Lease(slot);
        }
    }

    private static void Release(IcmpEchoSocket socket)
    {
        lock (LeaseGate)
        {
            if (--socket._leases > 0) return;
            if (ReferenceEquals(_v4, socket)) _v4 = null;
            if (ReferenceEquals(_v6, socket)) _v6 = null;
        }
        socket._closed = true;
        socket._socket.Dispose();   // ends the receive loop
        foreach (var key in socket._pending.Keys)
        {
            if (socket._pending.TryRemove(key, out var p)) p.Answer.TrySetCanceled();
        }
    }

    private static IcmpEchoSocket Open(bool ipv6)
    {
        var family = ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        var protocol = ipv6 ? ProtocolType.IcmpV6 : ProtocolType.Icmp;
        Socket socket;
        bool raw = true;
        try
        {
            socket = new Socket(family, SocketType.Raw, protocol);
        }
        catch (SocketException rawError) when (rawError.SocketErrorCode is SocketError.AccessDenied or SocketError.ProtocolNotSupported or SocketError.SocketNotSupported)
        {
            try
            {
                socket = new Socket(family, SocketType.Dgram, protocol);
                raw = false;
            }
            catch (SocketException dgramError)
            {
                throw new IcmpNotPermittedException(
                    $"no raw ICMP socket ({rawError.Message}) and no ICMP datagram socket ({dgramError.Message})", dgramError);
            }
        }
        try
        {
            // A burst of replies must not overflow the buffer before the loop reads them: root may exceed rmem_max.
            try { socket.SetRawSocketOption(1 /* SOL_SOCKET */, 33 /* SO_RCVBUFFORCE */, BitConverter.GetBytes(ReceiveBufferBytes)); }
            catch (SocketException) { socket.ReceiveBufferSize = ReceiveBufferBytes; }
            socket.Bind(new IPEndPoint(ipv6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new IcmpEchoSocket(socket, ipv6, raw);
    }

    /// <summary>
    /// Sends one echo request to <paramref name="target"/> and waits up to <paramref name="timeout"/> for its answer.
    /// Send errors (no route, a local filter) surface as <see cref="SocketException"/>.
    /// </summary>
    public async Task<IcmpEchoResult> EchoAsync(IPAddress target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pending = new Pending(target);
        uint key = Register(pending);
        try
        {
            var packet = IcmpPacket.EchoRequest(_ipv6, (ushort)(key >> 16), (ushort)key, Payload);
            pending.SentAt = Stopwatch.GetTimestamp();
            await _socket.SendToAsync(packet, SocketFlags.None, new IPEndPoint(target, 0), cancellationToken).ConfigureAwait(false);
            try
            {
                return await pending.Answer.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return new IcmpEchoResult(IcmpEchoOutcome.TimedOut, timeout, null, null);
            }
        }
        finally
        {
            _pending.TryRemove(key, out _);
        }
    }

    /// <summary>
    /// A key no pending echo uses. Raw socket: identifier (high 16 bits) and sequence (low 16 bits) are ours.
    /// Datagram socket: the kernel sets the identifier, so only the sequence tells echoes apart.
    /// </summary>
    private uint Register(Pending pending)
    {
        lock (_keyGate)
        {
            for (int tries = 0; tries < 65536; tries++)
            {
                uint key = _raw ? _nextKey++ : (_nextKey++ & 0xFFFF);
                if (_pending.TryAdd(key, pending)) return key;
            }
        }
        throw new InvalidOperationException("more than 65536 ICMP echoes outstanding at once");
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(_ipv6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (true)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any).ConfigureAwait(false);
            }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) when (_closed) { return; }
            catch (SocketException)
            {
                // A transient error (an ICMP error reported on the socket itself): keep reading, without spinning.
                await Task.Delay(10).ConfigureAwait(false);
                continue;
            }
            var at = Stopwatch.GetTimestamp();
            if (!IcmpPacket.TryRead(buffer.AsSpan(0, received.ReceivedBytes), _ipv6, withIpHeader: _raw, out var message)) continue;
            uint key = _raw ? ((uint)message.Id << 16) | message.Sequence : message.Sequence;
            if (!_pending.TryGetValue(key, out var pending)) continue;
            var from = (received.RemoteEndPoint as IPEndPoint)?.Address;
            if (message.Kind == IcmpMessageKind.EchoReply)
            {
                // Another host's reply with the same identifier and sequence (another program's echo) is not ours.
                if (from is null || !SameAddress(from, pending.Target)) continue;
                pending.Answer.TrySetResult(new IcmpEchoResult(IcmpEchoOutcome.Reply, Stopwatch.GetElapsedTime(pending.SentAt, at), from, null));
            }
            else
            {
                if (message.Destination is null || !SameAddress(message.Destination, pending.Target)) continue;
                var reason = message.Kind == IcmpMessageKind.Unreachable
                    ? "destination unreachable (" + IcmpPacket.UnreachableReason(_ipv6, message.Code) + ")"
                    : "time exceeded in transit";
                pending.Answer.TrySetResult(new IcmpEchoResult(IcmpEchoOutcome.Unreachable, Stopwatch.GetElapsedTime(pending.SentAt, at), from, reason));
            }
        }
    }

    private static bool SameAddress(IPAddress a, IPAddress b)
        => (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Equals(b.IsIPv4MappedToIPv6 ? b.MapToIPv4() : b);

    /// <summary>A hold on the shared socket; disposing the last one closes it.</summary>
    public sealed class Lease : IDisposable
    {
        private IcmpEchoSocket? _socket;
        internal Lease(IcmpEchoSocket socket) => _socket = socket;
        public IcmpEchoSocket Socket => _socket ?? throw new ObjectDisposedException(nameof(Lease));
        public void Dispose()
        {
            var s = Interlocked.Exchange(ref _socket, null);
            if (s is not null) Release(s);
        }
    }
}
