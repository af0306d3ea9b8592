using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks;

/// <summary>
/// ICMP echo to the guest's address. .NET uses a raw socket when it may (root or CAP_NET_RAW) and
/// falls back to the system ping binary otherwise; when neither may send ICMP the result says so.
/// </summary>
public sealed class PingCheck : CheckUnit
{
    public const string Name = "Ping";

    private readonly Guest _guest;

    public PingCheck(Guest guest)
        : base(guest.Environment, guest.Name, guest.Kind.ToString(), guest.Address ?? string.Empty, [Name])
    {
        _guest = guest;
    }

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(_guest.Address))
        {
            reporter.Report(Name, CheckStatus.Unknown, $"no address for {_guest.Name} in {(_guest.Source.Length > 0 ? _guest.Source : "the inventory")}");
            return;
        }
        // The ICMP timeout is the unit's remaining budget, so the answer is "no reply", not the runner's cut-off.
        var budget = reporter.Remaining;
        using var ping = new Ping();
        try
        {
            var reply = await ping.SendPingAsync(await ResolveAsync(_guest.Address, cancellationToken).ConfigureAwait(false),
                budget, null, null, cancellationToken).ConfigureAwait(false);
            if (reply.Status == IPStatus.Success)
            {
                reporter.Report(Name, CheckStatus.Ok, $"reply from {reply.Address} in {reply.RoundtripTime} ms");
            }
            else if (reply.Status == IPStatus.TimedOut)
            {
                reporter.Report(Name, CheckStatus.Critical, $"no reply from {_guest.Address} within {budget.TotalSeconds:0.#} s");
            }
            else
            {
                reporter.Report(Name, CheckStatus.Critical, $"{_guest.Address}: {reply.Status}");
            }
        }
        catch (OperationCanceledException) { throw; }
        catch (PingException ex) when (IsPermission(ex) && System.Environment.IsPrivilegedProcess)
        {
            // Root may open raw sockets, so EPERM on send comes from a local packet filter (an nftables/iptables output drop).
            reporter.Report(Name, CheckStatus.Critical, $"ICMP to {_guest.Address} was refused by the local packet filter (send not permitted)");
        }
        catch (PingException ex) when (IsPermission(ex))
        {
            reporter.Report(Name, CheckStatus.Unknown,
                "ICMP is not permitted for this user: grant CAP_NET_RAW (AmbientCapabilities=CAP_NET_RAW in the unit) or widen net.ipv4.ping_group_range; a local firewall dropping outgoing ICMP looks the same");
        }
        catch (PingException ex)
        {
            reporter.Report(Name, CheckStatus.Unknown, $"ping failed: {(ex.InnerException ?? ex).Message}");
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.HostNotFound || ex.SocketErrorCode == SocketError.TryAgain || ex.SocketErrorCode == SocketError.NoData)
        {
            reporter.Report(Name, CheckStatus.Critical, $"cannot resolve {_guest.Address}: {ex.Message}");
        }
    }

    private static async Task<IPAddress> ResolveAsync(string address, CancellationToken ct)
    {
        if (IPAddress.TryParse(address, out var ip)) return ip;
        var addresses = await Dns.GetHostAddressesAsync(address, ct).ConfigureAwait(false);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.First();
    }

    private static bool IsPermission(PingException ex)
        => ex.InnerException is SocketException { SocketErrorCode: SocketError.AccessDenied }
           || ex.InnerException is UnauthorizedAccessException
           || (ex.InnerException?.Message.Contains("permission", StringComparison.OrdinalIgnoreCase) ?? false)
           || (ex.InnerException?.Message.Contains("Operation not permitted", StringComparison.OrdinalIgnoreCase) ?? false);
}

/// <summary>Makes Ping units: every guest, no configuration needed.</summary>
internal sealed class PingCheckProvider : IGuestCheckProvider
{
    public IReadOnlyList<string> Checks { get; } = [PingCheck.Name];

    public CheckUnit? Create(Guest guest, EnvironmentContext environment, IReadOnlyList<string> wanted, out string? skipReason)
    {
        skipReason = null;
        return new PingCheck(guest);
    }
}
