using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PveHealth.Clients.Icmp;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks;

/// <summary>
/// ICMP echoes to the guest's address: <c>ping.count</c> echoes (default 5) spaced <c>ping.intervalMs</c> apart inside
/// the unit's timeout, all sent through the process's one shared ICMP socket (<see cref="IcmpEchoSocket"/>). The loss
/// decides: Critical from <c>ping.criticalLossPercent</c> (default 100: no echo answered), Warning from
/// <c>ping.warningLossPercent</c> (default 40), so one lost packet on a busy network never pages. A router's
/// "destination unreachable" is Critical and names the router.
/// </summary>
public sealed class PingCheck : CheckUnit
{
    public const string Name = "Ping";

    private readonly Guest _guest;
    private readonly PingSettings _settings;

    public PingCheck(Guest guest, PingSettings? settings = null)
        : base(guest.Environment, guest.Name, guest.Kind.ToString(), guest.Address ?? string.Empty, [Name])
    {
        _guest = guest;
        _settings = settings ?? PingSettings.Default;
    }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(_guest.Address))
        {
            reporter.Report(Name, CheckStatus.Unknown, $"no address for {_guest.Name} in {(_guest.Source.Length > 0 ? _guest.Source : "the inventory")}");
            return;
        }
        IPAddress ip;
        try
        {
            ip = await ResolveAsync(_guest.Address, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData)
        {
            reporter.Report(Name, CheckStatus.Critical, $"cannot resolve {_guest.Address}: {ex.Message}");
            return;
        }
        IcmpEchoSocket.Lease lease;
        try
        {
            lease = IcmpEchoSocket.Acquire(ip.AddressFamily);
        }
        catch (IcmpNotPermittedException)
        {
            reporter.Report(Name, CheckStatus.Unknown,
                "ICMP is not permitted for this user: grant CAP_NET_RAW (AmbientCapabilities=CAP_NET_RAW in the unit) or widen net.ipv4.ping_group_range");
            return;
        }
        using (lease)
        {
            // Every echo may wait until the unit's remaining budget ends, so the answer is "no reply", not the runner's cut-off;
            // the echoes are all sent in the first half of it, so the last one has time to come back too.
            var budget = reporter.Remaining;
            var started = Stopwatch.GetTimestamp();
            var interval = _settings.Count > 1 ? Min(_settings.Interval, budget / (2 * _settings.Count)) : TimeSpan.Zero;
            var echoes = new List<Task<IcmpEchoResult>>(_settings.Count);
            // Waiting for replies costs nothing: a guest silent for a while frees the unit's slot of the runner's limit.
            reporter.Listening();
            for (int k = 0; k < _settings.Count; k++)
            {
                if (k > 0 && interval > TimeSpan.Zero) await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
                var left = budget - Stopwatch.GetElapsedTime(started);
                if (left <= TimeSpan.Zero) break;
                var echo = lease.Socket.EchoAsync(ip, left, cancellationToken);
                echoes.Add(echo);
                _ = echo.ContinueWith(static (t, r) =>
                {
                    if (t.Result.Outcome != IcmpEchoOutcome.TimedOut) ((CheckReporter)r!).Heard();
                }, reporter, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                // A send that fails at once (no route, a local filter) fails the same way for every echo.
                if (echo.IsFaulted) break;
            }
            try
            {
                await Task.WhenAll(echoes).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // Judged below from each echo's task.
            }
            cancellationToken.ThrowIfCancellationRequested();
            var answers = echoes.Where(e => e.IsCompletedSuccessfully).Select(e => e.Result).ToList();
            var failure = echoes.Where(e => e.IsFaulted).Select(e => e.Exception!.GetBaseException()).FirstOrDefault();
            if (answers.Count == 0 && failure is not null)
            {
                ReportSendFailure(reporter, failure);
                return;
            }
            // Worded with the unit's nominal budget (the deadline rule at its start), not what was left when the echoes went
            // out: a stopped guest reads "within 2.8 s" at -TimeoutSec 3 whatever the checker's load delayed (one fault, one form).
            var (status, detail) = PingVerdict.Judge(_guest.Address, answers, _settings, Deadline.Stated(reporter.Timeout));
            reporter.Report(Name, status, detail);
        }
    }

    private void ReportSendFailure(CheckReporter reporter, Exception failure)
    {
        switch (failure)
        {
            case SocketException { SocketErrorCode: SocketError.AccessDenied } when System.Environment.IsPrivilegedProcess:
                // Root may open raw sockets, so EPERM on send comes from a local packet filter (an nftables/iptables output drop).
                reporter.Report(Name, CheckStatus.Critical, $"ICMP to {_guest.Address} was refused by the local packet filter (send not permitted)");
                break;
            case SocketException { SocketErrorCode: SocketError.AccessDenied }:
                reporter.Report(Name, CheckStatus.Unknown,
                    "ICMP is not permitted for this user: grant CAP_NET_RAW (AmbientCapabilities=CAP_NET_RAW in the unit) or widen net.ipv4.ping_group_range; a local firewall dropping outgoing ICMP looks the same");
                break;
            case SocketException { SocketErrorCode: SocketError.HostUnreachable or SocketError.NetworkUnreachable } s:
                reporter.Report(Name, CheckStatus.Critical, $"no route to {_guest.Address} from this host ({s.Message})");
                break;
            default:
                reporter.Report(Name, CheckStatus.Unknown, $"ping failed: {failure.Message}");
                break;
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static async Task<IPAddress> ResolveAsync(string address, CancellationToken ct)
    {
        if (IPAddress.TryParse(address, out var ip)) return ip;
        var addresses = await Dns.GetHostAddressesAsync(address, ct).ConfigureAwait(false);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.First();
    }
}

/// <summary>Ping's settings, from <c>defaults.ping</c> and <c>environments.&lt;name&gt;.ping</c> (see <see cref="PingConfig"/>).</summary>
public sealed record PingSettings(int Count, TimeSpan Interval, double WarningLossPercent, double CriticalLossPercent, double? WarningRttMs = null, double? CriticalRttMs = null)
{
    public static PingSettings Default { get; } = From(null);

    public static PingSettings From(PingConfig? config) => new(
        config?.Count ?? PingConfig.DefaultCount,
        TimeSpan.FromMilliseconds(config?.IntervalMs ?? PingConfig.DefaultIntervalMs),
        config?.WarningLossPercent ?? PingConfig.DefaultWarningLossPercent,
        config?.CriticalLossPercent ?? PingConfig.DefaultCriticalLossPercent,
        config?.WarningRttMs,
        config?.CriticalRttMs);
}

/// <summary>Turns a ping's echo answers into one verdict: loss against the thresholds, then the round trip.</summary>
public static class PingVerdict
{
    public static (CheckStatus Status, string Detail) Judge(string address, IReadOnlyList<IcmpEchoResult> answers, PingSettings settings, TimeSpan budget)
    {
        var inv = CultureInfo.InvariantCulture;
        int sent = Math.Max(answers.Count, 1);
        var replies = answers.Where(a => a.Outcome == IcmpEchoOutcome.Reply).ToList();
        var errors = answers.Where(a => a.Outcome == IcmpEchoOutcome.Unreachable).ToList();
        double loss = 100.0 * (sent - replies.Count) / sent;
        string echoes = sent == 1 ? "1 echo" : $"{sent} echoes";
        if (replies.Count == 0)
        {
            if (errors.Count > 0)
            {
                var first = errors[0];
                var by = first.From is null ? string.Empty : $", reported by {first.From}";
                return (CheckStatus.Critical, $"{first.Reason}{by} ({address}, {echoes}, 100 % loss)");
            }
            return (CheckStatus.Critical, $"no reply from {address} within {budget.TotalSeconds.ToString("0.#", inv)} s ({echoes}, 100 % loss)");
        }
        var avg = replies.Average(r => r.RoundTrip.TotalMilliseconds);
        var max = replies.Max(r => r.RoundTrip.TotalMilliseconds);
        string rtt = $"rtt avg {Ms(avg)} ms, max {Ms(max)} ms";
        string answered = $"{replies.Count} of {echoes} answered by {address}";
        string unreachable = errors.Count > 0 ? $"; {errors[0].Reason}{(errors[0].From is null ? "" : $" reported by {errors[0].From}")}" : string.Empty;
        var status = loss >= settings.CriticalLossPercent ? CheckStatus.Critical
            : loss >= settings.WarningLossPercent ? CheckStatus.Warning
            : CheckStatus.Ok;
        string why = status == CheckStatus.Ok ? string.Empty
            : $" (at least {settings.CriticalLossPercent.ToString("0.#", inv)} % is critical, {settings.WarningLossPercent.ToString("0.#", inv)} % a warning)";
        if (settings.CriticalRttMs is double crit && avg >= crit && status != CheckStatus.Critical)
        {
            status = CheckStatus.Critical;
            why += $" (rtt avg at least {Ms(crit)} ms is critical)";
        }
        else if (settings.WarningRttMs is double warn && avg >= warn && status == CheckStatus.Ok)
        {
            status = CheckStatus.Warning;
            why += $" (rtt avg at least {Ms(warn)} ms is a warning)";
        }
        return (status, $"{loss.ToString("0.#", inv)} % loss, {answered}, {rtt}{unreachable}{why}");
    }

    private static string Ms(double ms) => ms.ToString(ms < 10 ? "0.0" : "0", CultureInfo.InvariantCulture);
}

/// <summary>Makes Ping units: every guest, with the environment's ping settings.</summary>
internal sealed class PingCheckProvider : IGuestCheckProvider
{
    public IReadOnlyList<string> Checks { get; } = [PingCheck.Name];

    public CheckUnit? Create(Guest guest, EnvironmentContext environment, IReadOnlyList<string> wanted, out string? skipReason)
    {
        skipReason = null;
        var settings = environment.Shared("ping-settings", () => PingSettings.From(environment.Config.Ping));
        return new PingCheck(guest, settings);
    }
}
