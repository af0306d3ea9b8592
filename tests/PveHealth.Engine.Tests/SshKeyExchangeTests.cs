using PveHealth.Checks;
using Renci.SshNet;
using Xunit;

namespace PveHealth.Engine.Tests;

public class SshKeyExchangeTests
{
    [Fact]
    public void Curve25519IsOfferedFirstAndNothingIsDropped()
    {
        var connection = new ConnectionInfo("127.0.0.1", 22, "root", new PasswordAuthenticationMethod("root", "x"));
        var before = connection.KeyExchangeAlgorithms.Keys.ToList();
        Assert.NotEqual("curve25519-sha256", before[0]); // SSH.NET's own order starts with a post-quantum hybrid

        SshCheck.PreferCurve25519(connection);

        var after = connection.KeyExchangeAlgorithms.Keys.ToList();
        Assert.Equal("curve25519-sha256", after[0]);
        Assert.Equal("curve25519-sha256@libssh.org", after[1]);
        Assert.Equal(before.OrderBy(k => k, StringComparer.Ordinal), after.OrderBy(k => k, StringComparer.Ordinal));
        // the rest keep their relative order
        Assert.Equal(before.Where(k => !k.StartsWith("curve25519", StringComparison.Ordinal)), after.Skip(2));
    }
}
