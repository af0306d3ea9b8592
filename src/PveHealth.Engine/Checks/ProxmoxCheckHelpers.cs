using PveHealth.Clients.Proxmox;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks;

/// <summary>Helpers the Proxmox API checks share: a shared answer awaited within the unit's budget, and status from a failure.</summary>
internal static class ProxmoxCheckHelpers
{
    /// <summary>Awaits a shared answer within the unit's budget; a timeout becomes a client-side timeout failure.</summary>
    public static async Task<T> AwaitShared<T>(Task<T> task, ProxmoxShared shared, CheckReporter reporter, CancellationToken ct)
    {
        var budget = reporter.Remaining;
        try
        {
            return await task.WaitAsync(budget, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new ProxmoxApiException(ProxmoxFailure.Timeout, $"no answer from {shared.Client?.BaseUrl} within {(reporter.Elapsed).TotalSeconds:0.#} s (client-side timeout)");
        }
    }

    /// <summary>Unknown for the checker's own trouble (setup, credentials, permissions), else Critical.</summary>
    public static CheckStatus StatusOf(ProxmoxApiException ex) => ex.IsCheckerTrouble ? CheckStatus.Unknown : CheckStatus.Critical;

    public static string SkipVerifyNote(ProxmoxShared shared)
        => shared.Client is { } c && c.SkipsCertificateCheck ? " (TLS certificate NOT verified: skipCertificateCheck)" : string.Empty;

    public const string NotConfigured = "Proxmox API not configured: set a proxmox section (url, tokenId, tokenSecret) in the configuration, or pass -ProxmoxUrl and -Credential";
}
