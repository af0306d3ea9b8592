using System.Net.Sockets;
using PveHealth.Clients;
using PveHealth.Clients.Ssh;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace PveHealth.Checks;

/// <summary>
/// Ssh and Docker on one SSH connection per guest. The host key is verified against known_hosts or a
/// pinned SHA-256 fingerprint; an unknown or changed key is Critical with the fingerprint seen, never
/// trusted and never prompted for. Docker runs the configured command (default
/// `systemctl is-active docker`) over the same connection; exit status 0 means active.
/// </summary>
public sealed class SshCheck : CheckUnit
{
    public const string SshName = "Ssh";
    public const string DockerName = "Docker";
    public const string DefaultDockerCommand = "systemctl is-active docker";

    private readonly Guest _guest;
    private readonly SshConfig _ssh;
    private readonly EnvironmentContext _env;
    /// <summary>One step's time (-TimeoutSec): the connection and handshake get one, the Docker command another.</summary>
    private readonly TimeSpan _step;
    /// <summary>What a cut-off now means: <see cref="Connecting"/> (no SSH answer) or <see cref="Commanding"/> (the command did not finish).</summary>
    private int _phase;
    private const int Connecting = 1;
    private const int Commanding = 2;

    public SshCheck(Guest guest, SshConfig ssh, EnvironmentContext env, IReadOnlyList<string> checks)
        : base(guest.Environment, guest.Name, guest.Kind.ToString(), guest.Address ?? string.Empty, checks)
    {
        _guest = guest;
        _ssh = ssh;
        _env = env;
        _step = env.CheckTimeout;
        // Two dependent steps, each within -TimeoutSec: the connection (TCP, banner, key exchange, authentication) and the
        // Docker command on it. A silent guest still costs one step: the connection's own deadline reports it.
        TakesRounds(2, _step, env.Options.RunTimeout);
    }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(_guest.Address))
        {
            Fail(reporter, CheckStatus.Unknown, $"no address for {_guest.Name} in {(_guest.Source.Length > 0 ? _guest.Source : "the inventory")}");
            return;
        }
        var user = _ssh.User ?? "root";
        PrivateKeyFile key;
        KnownHosts? knownHosts = null;
        try
        {
            key = _env.Shared($"ssh-key:{_ssh.KeyFile}", () => LoadKey(_ssh));
            if (_ssh.HostKeyFingerprint is null)
            {
                knownHosts = SharedKnownHosts(_env, _ssh);
            }
        }
        catch (SshSetupException ex)
        {
            Fail(reporter, CheckStatus.Unknown, ex.Message);
            return;
        }

        // The connection and handshake get one step (the deadline rule on -TimeoutSec), so a silent guest is reported
        // by this check (with Docker Skipped) rather than by the runner's cut-off.
        var connectBudget = ConnectBudget ?? reporter.RemainingFor(_step);
        using var connectDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectDeadline.CancelAfter(connectBudget);
        string? rejected = null;
        Volatile.Write(ref _phase, Connecting);
        reporter.Listening();
        var connected = await ConnectConfirmedAsync().ConfigureAwait(false);
        Volatile.Write(ref _phase, 0);
        if (connected is null) return;
        using (connected)
        {
            await RunConnectedAsync(connected.Client, user, reporter, cancellationToken).ConfigureAwait(false);
        }

        // Each attempt has its own connection info: SSH.NET's authentication method keeps its state (a wait handle, the
        // result) in the instance, so two attempts sharing one would take each other's USERAUTH_SUCCESS (seen at 2 % loss:
        // "Message type 52 is not valid in the current context" on the command after a hedged connect). The client owns and
        // disposes it.
        Attempt NewClient()
        {
        var connection = new PrivateKeyConnectionInfo(_guest.Address, _ssh.Port, user, key) { Timeout = connectBudget };
        PreferCurve25519(connection);
        var c = new SshClient(connection);
        // The server's identification string: it speaks, and the costly key exchange follows (the unit keeps its slot).
        c.ServerIdentificationReceived += (_, _) => reporter.Heard();
        c.HostKeyReceived += (_, e) =>
        {
            var fingerprint = KnownHosts.Fingerprint(e.HostKey);
            if (_ssh.HostKeyFingerprint is { } pinned)
            {
                e.CanTrust = string.Equals(Normalize(pinned), fingerprint, StringComparison.Ordinal);
                if (!e.CanTrust) rejected = $"host key mismatch: the server presented {e.HostKeyName} {fingerprint}, the pinned fingerprint is {Normalize(pinned)}";
                return;
            }
            var verdict = knownHosts!.Verify(_guest.Address!, _ssh.Port, e.HostKeyName, e.HostKey);
            e.CanTrust = verdict == HostKeyVerdict.Trusted;
            rejected = verdict switch
            {
                HostKeyVerdict.Trusted => null,
                HostKeyVerdict.Changed => $"host key changed: the server presented {e.HostKeyName} {fingerprint}, which is not the key {knownHosts.Path} holds for {_guest.Address} (possible man-in-the-middle; verify, then update known_hosts)",
                HostKeyVerdict.Revoked => $"host key revoked: the server presented {e.HostKeyName} {fingerprint}, marked @revoked in {knownHosts.Path}",
                _ => $"host key unknown: {_guest.Address} is not in {knownHosts.Path}; the server presented {e.HostKeyName} {fingerprint} (add it after verifying: ssh-keyscan)",
            };
        };
        return new Attempt(c, connection);
        }

        // Confirmation before Critical (Clients.Confirmation, the rule the HTTP checks share): a first attempt that fails
        // fast (refused, reset, dropped before the handshake) is tried once more after a short pause, both inside the one
        // connect budget. A first attempt that has heard nothing when units of its kind usually have (reporter.Silent: a
        // lost SYN or SYN-ACK waits for the kernel's 1 s retransmission) is hedged with a second connection beside it; the
        // first to complete the handshake is used. Still one connect budget: stopped guests cost one timeout, no more.
        async Task<Attempt?> ConnectConfirmedAsync()
        {
            try
            {
                return await Confirmation.RunAsync(async (_, token) =>
                {
                    var c = NewClient();
                    try
                    {
                        await c.Client.ConnectAsync(token).ConfigureAwait(false);
                        return c;
                    }
                    catch
                    {
                        c.Dispose();
                        throw;
                    }
                }, ex => rejected is null && FailsFast(ex), _step, connectDeadline.Token, reporter.Silent, c => c.Dispose()).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException)
            {
                // Our own connect deadline, a little inside the unit's timeout: the check answers for itself
                // (Ssh Critical, Docker Skipped) instead of being cut off as "timed out".
                // Worded with the step (-TimeoutSec), not the remaining budget, so the same fault always gives the same detail.
                Fail(reporter, CheckStatus.Critical, NoAnswer());
                return null;
            }
            catch (ConfirmedFailureException confirmed)
            {
                Fail(reporter, CheckStatus.Critical, rejected ?? Describe(confirmed.InnerException!, user) + confirmed.Suffix);
                return null;
            }
            catch (Exception ex)
            {
                Fail(reporter, CheckStatus.Critical, rejected ?? Describe(ex, user));
                return null;
            }
        }
    }

    /// <summary>A failure that came back at once (refused, reset, aborted, dropped before the handshake): worth one more attempt.</summary>
    internal static bool FailsFast(Exception ex) => ex switch
    {
        SshConnectionException => true,
        AggregateException { InnerExceptions.Count: 1 } a => FailsFast(a.InnerExceptions[0]),
        _ => Confirmation.FailsFast(ex),
    };

    private async Task RunConnectedAsync(SshClient client, string user, CheckReporter reporter, CancellationToken cancellationToken)
    {
        reporter.Report(SshName, CheckStatus.Ok, $"connected as {user}, host key verified ({client.ConnectionInfo.CurrentHostKeyAlgorithm})");

        if (Runs(DockerName))
        {
            var started = reporter.Elapsed;
            var commandText = string.IsNullOrWhiteSpace(_ssh.DockerCommand) ? DefaultDockerCommand : _ssh.DockerCommand;
            using var command = client.CreateCommand(commandText);
            string stdout, stderr;
            // The command's own step: -TimeoutSec from now (the deadline rule), whatever the connection took.
            using var commandDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            commandDeadline.CancelAfter(reporter.RemainingFor(_step));
            Volatile.Write(ref _phase, Commanding);
            try
            {
                (stdout, stderr) = await ExecuteBoundedAsync(command, commandDeadline.Token).ConfigureAwait(false);
            }
            catch (InputTooLargeException ex)
            {
                reporter.Report(DockerName, CheckStatus.Unknown, $"'{commandText}': {ex.Message}; the command was stopped", reporter.Elapsed - started);
                client.Disconnect();
                return;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                reporter.Report(DockerName, CheckStatus.Critical, NotFinished(), reporter.Elapsed - started);
                return;
            }
            finally
            {
                Volatile.Write(ref _phase, 0);
            }
            var output = CheckResult.OneLine(stdout);
            if (output.Length > 120) output = output[..120] + "...";
            var duration = reporter.Elapsed - started;
            if (command.ExitStatus == 0)
            {
                reporter.Report(DockerName, CheckStatus.Ok, $"docker {(output.Length > 0 ? output : "active")}", duration);
            }
            else
            {
                var error = CheckResult.OneLine(stderr);
                if (error.Length > 200) error = error[..200] + "...";
                var said = output.Length > 0 ? output : error.Length > 0 ? error : "no output";
                reporter.Report(DockerName, CheckStatus.Critical, $"docker not active: '{commandText}' exited {command.ExitStatus?.ToString() ?? "without status"} ({said})", duration);
            }
        }
        client.Disconnect();
    }

    /// <summary>
    /// Runs <paramref name="command"/> watching how much output and error output it has buffered (every 20 ms): more
    /// than <see cref="BoundedInput.SshOutputBytes"/> (a <c>cat /dev/zero</c>) cancels the command and throws
    /// <see cref="InputTooLargeException"/>, so memory stays bounded (the cap plus what arrives in one interval)
    /// whatever the guest prints.
    /// </summary>
    internal static async Task<(string Output, string Error)> ExecuteBoundedAsync(SshCommand command, CancellationToken cancellationToken)
    {
        const long cap = BoundedInput.SshOutputBytes;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var execute = command.ExecuteAsync(stop.Token);
        InputTooLargeException? tooLarge = null;
        while (!execute.IsCompleted)
        {
            await Task.WhenAny(execute, Task.Delay(20, cancellationToken)).ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested) break;
            if (Buffered(command.OutputStream) > cap) tooLarge = new InputTooLargeException("the output of the command", cap);
            else if (Buffered(command.ExtendedOutputStream) > cap) tooLarge = new InputTooLargeException("the error output of the command", cap);
            if (tooLarge is not null)
            {
                stop.Cancel();
                break;
            }
        }
        try
        {
            await execute.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (tooLarge is not null && !cancellationToken.IsCancellationRequested)
        {
        }
        if (tooLarge is not null) throw tooLarge;
        return (Capped(command.Result), Capped(command.Error));
    }

    private static long Buffered(Stream? stream)
    {
        try { return stream?.Length ?? 0; }
        catch (Exception ex) when (ex is NotSupportedException or ObjectDisposedException) { return 0; }
    }

    private static string Capped(string text) => text.Length > BoundedInput.SshOutputBytes ? text[..(int)BoundedInput.SshOutputBytes] : text;

    private void Fail(CheckReporter reporter, CheckStatus status, string detail)
    {
        foreach (var check in Checks)
        {
            if (FailedVerdict(check, status, detail) is { } v) reporter.Report(check, v.Status, v.Detail, check == DockerName && Runs(SshName) ? TimeSpan.Zero : null);
        }
    }

    /// <summary>
    /// What <paramref name="check"/> says when the SSH connection failed with <paramref name="detail"/>: Ssh the failure,
    /// Docker Skipped (one page per cause), or Docker the failure when Ssh itself is excluded.
    /// </summary>
    private (CheckStatus Status, string Detail)? FailedVerdict(string check, CheckStatus status, string detail)
    {
        if (check == SshName) return (status, detail);
        if (check != DockerName) return null;
        return Runs(SshName) ? (CheckStatus.Skipped, "skipped: SSH failed") : (status, $"cannot reach Docker over SSH: {detail}");
    }

    /// <summary>Cut off by the runner while connecting or running the command: the same verdicts as the check's own deadlines give.</summary>
    internal override (CheckStatus Status, string Detail)? CutOffVerdict(string check, TimeSpan timeout) => Volatile.Read(ref _phase) switch
    {
        Connecting => FailedVerdict(check, CheckStatus.Critical, NoAnswer()),
        Commanding when check == DockerName => (CheckStatus.Critical, NotFinished()),
        _ => null,
    };

    /// <summary>The one wording of a guest that did not complete the SSH handshake within its step (-TimeoutSec).</summary>
    private string NoAnswer() => $"no SSH answer from {_guest.Address}:{_ssh.Port} within {StepSeconds} s";

    /// <summary>The one wording of a Docker command that did not finish within its step (-TimeoutSec).</summary>
    private string NotFinished()
        => $"docker not confirmed active: '{(string.IsNullOrWhiteSpace(_ssh.DockerCommand) ? DefaultDockerCommand : _ssh.DockerCommand)}' did not finish within {StepSeconds} s";

    private string StepSeconds => _step.TotalSeconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Tests only: the connect budget instead of <see cref="CheckReporter.Remaining"/>. Longer than the unit's timeout,
    /// the runner's cut-off comes first, as it can on a loaded machine.
    /// </summary>
    internal TimeSpan? ConnectBudget { get; init; }

    private string Describe(Exception ex, string user) => ex switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => $"connection refused by {_guest.Address}:{_ssh.Port} (sshd not running?)",
        SocketException { SocketErrorCode: SocketError.TimedOut } or SshOperationTimeoutException or OperationCanceledException
            => NoAnswer(),
        SocketException { SocketErrorCode: SocketError.HostUnreachable or SocketError.NetworkUnreachable } s => $"{_guest.Address} unreachable: {s.Message}",
        SocketException s => $"cannot connect to {_guest.Address}:{_ssh.Port}: {s.Message}",
        SshAuthenticationException => $"authentication failed for {user} with key {_ssh.KeyFile}",
        SshConnectionException c => $"SSH connection failed: {c.Message}",
        _ => $"SSH failed: {ex.GetType().Name}: {ex.Message}",
    };

    /// <summary>
    /// SSH.NET offers sntrup761x25519 (and mlkem768x25519) first; their managed implementation costs about
    /// 55 ms of client CPU per connection on the 2-core benchmark host against about 5 ms for curve25519-sha256
    /// (bench/RESULTS.md), which at 1,000 guests is most of the checker's CPU. curve25519-sha256 is offered
    /// first; every other algorithm stays offered, so a server without it still connects.
    /// </summary>
    internal static void PreferCurve25519(ConnectionInfo connection)
    {
        var kex = connection.KeyExchangeAlgorithms;
        var entries = kex.ToList();
        kex.Clear();
        foreach (var name in PreferredKeyExchange)
        {
            foreach (var e in entries) if (e.Key == name) kex.Add(e.Key, e.Value);
        }
        foreach (var e in entries) if (!kex.ContainsKey(e.Key)) kex.Add(e.Key, e.Value);
    }

    internal static readonly string[] PreferredKeyExchange = ["curve25519-sha256", "curve25519-sha256@libssh.org"];

    private static string Normalize(string fingerprint)
        => fingerprint.StartsWith("SHA256:", StringComparison.Ordinal) ? fingerprint.TrimEnd('=') : "SHA256:" + fingerprint.TrimEnd('=');

    /// <summary>Largest private key file read (an RSA-16384 key in PEM is under 16 KiB).</summary>
    private const long MaxKeyFileBytes = 1024 * 1024;

    private static PrivateKeyFile LoadKey(SshConfig ssh)
    {
        if (string.IsNullOrWhiteSpace(ssh.KeyFile)) throw new SshSetupException("no SSH key configured (ssh.keyFile)");
        try
        {
            var passphrase = ssh.Passphrase is null ? null : SecretResolver.Resolve(ssh.Passphrase, "ssh.passphrase");
            var bytes = new MemoryStream(BoundedInput.ReadFile(ssh.KeyFile, MaxKeyFileBytes, $"SSH key {ssh.KeyFile}"));
            return passphrase is null ? new PrivateKeyFile(bytes) : new PrivateKeyFile(bytes, passphrase);
        }
        catch (SecretUnavailableException ex) { throw new SshSetupException(ex.Message); }
        catch (InputTooLargeException ex) { throw new SshSetupException(ex.Message); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw new SshSetupException($"cannot read SSH key {ssh.KeyFile}: {ex.Message}"); }
        catch (SshPassPhraseNullOrEmptyException) { throw new SshSetupException($"SSH key {ssh.KeyFile} is encrypted: configure ssh.passphrase"); }
        catch (SshException ex) { throw new SshSetupException($"cannot load SSH key {ssh.KeyFile}: {ex.Message}"); }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or System.Security.Cryptography.CryptographicException)
        {
            throw new SshSetupException($"cannot load SSH key {ssh.KeyFile}: {ex.Message} (wrong passphrase or unsupported format?)");
        }
    }

    /// <summary>The environment's known_hosts, read once and shared by its guests' units (and the planner's setup look).</summary>
    private static KnownHosts SharedKnownHosts(EnvironmentContext env, SshConfig ssh) => env.Shared($"known-hosts:{ssh.KnownHostsFile}", () => LoadKnownHosts(ssh));

    /// <summary>Most bad known_hosts lines one Warning names; the rest are counted.</summary>
    private const int ListedProblems = 5;

    /// <summary>
    /// A Warning naming the known_hosts file and each line that was ignored (component known_hosts, Type Ssh, check Ssh),
    /// or null when every line parsed, host keys are pinned by fingerprint instead, or the file cannot be read (each
    /// guest's Ssh result then says so).
    /// </summary>
    internal static CheckResult? KnownHostsFinding(EnvironmentContext env, SshConfig ssh)
    {
        if (ssh.HostKeyFingerprint is not null || string.IsNullOrWhiteSpace(ssh.KnownHostsFile)) return null;
        KnownHosts knownHosts;
        try { knownHosts = SharedKnownHosts(env, ssh); }
        catch (SshSetupException) { return null; }
        catch (InputTooLargeException) { return null; }
        var problems = knownHosts.Problems;
        if (problems.Count == 0) return null;
        var listed = string.Join("; ", problems.Take(ListedProblems)) + (problems.Count > ListedProblems ? $"; and {problems.Count - ListedProblems} more" : string.Empty);
        return new CheckResult(env.Name, "known_hosts", SshName, SshName, CheckStatus.Warning,
            $"{knownHosts.Path}: {problems.Count} {(problems.Count == 1 ? "line" : "lines")} ignored ({listed}); fix or remove them",
            TimeSpan.Zero, knownHosts.Path);
    }

    private static KnownHosts LoadKnownHosts(SshConfig ssh)
    {
        if (string.IsNullOrWhiteSpace(ssh.KnownHostsFile))
        {
            throw new SshSetupException("no host key policy: configure ssh.knownHostsFile or ssh.hostKeyFingerprint (host keys are never trusted blindly)");
        }
        try { return KnownHosts.Load(ssh.KnownHostsFile); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw new SshSetupException($"cannot read known_hosts {ssh.KnownHostsFile}: {ex.Message}"); }
    }

    private sealed class SshSetupException(string message) : Exception(message);

    /// <summary>One connection attempt: the client and the connection info it does not own (disposed with it).</summary>
    private sealed class Attempt(SshClient client, PrivateKeyConnectionInfo connection) : IDisposable
    {
        public SshClient Client => client;

        public void Dispose()
        {
            client.Dispose();
            connection.Dispose();
        }
    }
}

internal sealed class SshCheckProvider : IGuestCheckProvider
{
    public IReadOnlyList<string> Checks { get; } = [SshCheck.SshName, SshCheck.DockerName];

    public CheckUnit? Create(Guest guest, EnvironmentContext environment, IReadOnlyList<string> wanted, out string? skipReason)
    {
        if (environment.Config.Ssh is not { } ssh)
        {
            skipReason = "SSH not configured: set ssh.keyFile and ssh.knownHostsFile in the configuration, or pass -KeyFile and -KnownHostsFile";
            return null;
        }
        skipReason = null;
        // Docker alone still needs the SSH connection: it runs inside the same unit.
        return new SshCheck(guest, ssh, environment, wanted);
    }

    public IEnumerable<CheckResult> SetupFindings(EnvironmentContext environment)
        => environment.Config.Ssh is { } ssh && SshCheck.KnownHostsFinding(environment, ssh) is { } finding ? [finding] : [];
}
