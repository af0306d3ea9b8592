using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PveHealth.Checks;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// Issue 12 item 3, one fault, one verdict form: a guest whose SSH port accepts TCP and never speaks (a loopback listener
/// that never accepts: the kernel completes the handshake, nobody sends a banner) is "Ssh Critical no SSH answer ...,
/// Docker Skipped" whether the check's own connect deadline fires first or the runner's cut-off does (as on a loaded
/// machine; forced here with a connect budget past the unit's timeout).
/// </summary>
public sealed class SshSilentGuestTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pvehealth-ssh-silent-" + Guid.NewGuid().ToString("n"));
    private readonly TcpListener _mute = new(IPAddress.Loopback, 0);

    public SshSilentGuestTests()
    {
        Directory.CreateDirectory(_dir);
        using (var keygen = Process.Start(new ProcessStartInfo("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(_dir, "client")]) { RedirectStandardOutput = true })!)
        {
            keygen.WaitForExit(10_000);
            Assert.Equal(0, keygen.ExitCode);
        }
        File.WriteAllText(Path.Combine(_dir, "known_hosts"), string.Empty);
        _mute.Start(64);
    }

    private int Port => ((IPEndPoint)_mute.LocalEndpoint).Port;

    private (EnvironmentContext Env, SshConfig Ssh) Setup(RunOptions options)
    {
        var ssh = new SshConfig { KeyFile = Path.Combine(_dir, "client"), KnownHostsFile = Path.Combine(_dir, "known_hosts"), Port = Port };
        return (new EnvironmentContext("lab", new EnvironmentConfig { Ssh = ssh }, options), ssh);
    }

    private static SshCheck Unit(string name, SshConfig ssh, EnvironmentContext env, IReadOnlyList<string> checks, TimeSpan? connectBudget = null)
        => new(new Guest(name, GuestKind.Vm) { Address = "127.0.0.1", Environment = "lab" }, ssh, env, checks) { ConnectBudget = connectBudget };

    [Fact]
    public void The_runners_cut_off_while_connecting_gives_the_same_verdict_as_the_checks_own_deadline()
    {
        var options = new RunOptions { CheckTimeout = TimeSpan.FromSeconds(1) };
        var (env, ssh) = Setup(options);
        using var _ = env;
        string[] both = [SshCheck.SshName, SshCheck.DockerName];
        var units = new CheckUnit[]
        {
            Unit("own-deadline", ssh, env, both),
            Unit("cut-off", ssh, env, both, connectBudget: TimeSpan.FromSeconds(30)),
            // Ssh excluded: Docker carries the reason, in both cases.
            Unit("own-deadline-docker", ssh, env, [SshCheck.DockerName]),
            Unit("cut-off-docker", ssh, env, [SshCheck.DockerName], connectBudget: TimeSpan.FromSeconds(30)),
        };
        var results = new CheckRunner(options).Run(units, CancellationToken.None).OfType<ResultEvent>().Select(e => e.Result).ToList();

        var noAnswer = $"no SSH answer from 127.0.0.1:{Port} within 1 s";
        foreach (var component in new[] { "own-deadline", "cut-off" })
        {
            var mine = results.Where(r => r.Component == component).ToList();
            Assert.Equal(2, mine.Count);
            var s = mine.Single(r => r.Check == SshCheck.SshName);
            Assert.Equal((CheckStatus.Critical, noAnswer), (s.Status, s.Detail));
            var d = mine.Single(r => r.Check == SshCheck.DockerName);
            Assert.Equal((CheckStatus.Skipped, "skipped: SSH failed"), (d.Status, d.Detail));
        }
        foreach (var component in new[] { "own-deadline-docker", "cut-off-docker" })
        {
            var d = Assert.Single(results, r => r.Component == component);
            Assert.Equal((CheckStatus.Critical, "cannot reach Docker over SSH: " + noAnswer), (d.Status, d.Detail));
        }
    }

    public void Dispose()
    {
        _mute.Stop();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
