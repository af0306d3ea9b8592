using System.Net;
using PveHealth.Clients.Icmp;
using Xunit;

namespace PveHealth.Tests;

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
