using PveHealth.Clients.Proxmox;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks;

/// <summary>Helpers the Proxmox API checks share: a shared answer awaited within the unit's budget, and status from a failure.</summary>
internal static class ProxmoxCheckHelpers
{
    /// <summary>
    /// Awaits a shared answer within the unit's budget (<see cref="CheckReporter.Remaining"/>). When the attempt it waited
    /// for timed out and the unit still has time, it waits for the next attempt (<see cref="SharedAnswer{T}.Retry"/>: at
    /// most two a run). A wait that ends first throws the answer's own timeout failure, so every unit waiting for one
    /// answer reports the same words.
    /// </summary>
    public static async Task<T> AwaitShared<T>(SharedAnswer<T> answer, CheckReporter reporter, CancellationToken ct)
    {
        var task = answer.Current();
        while (true)
        {
            try
            {
                return await task.WaitAsync(reporter.Remaining, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw answer.NoAnswer();
            }
            catch (ProxmoxApiException ex) when (ex.Failure == ProxmoxFailure.Timeout && reporter.Remaining > CheckReporter.Floor(reporter.Timeout) && answer.Retry(task) is { } next)
            {
                task = next;
            }
        }
    }

    /// <summary>Unknown for the checker's own trouble (setup, credentials, permissions), else Critical.</summary>
    public static CheckStatus StatusOf(ProxmoxApiException ex) => ex.IsCheckerTrouble ? CheckStatus.Unknown : CheckStatus.Critical;

    /// <summary>
    /// Status and detail of a check of one guest (or of the guests' rows of a group) whose source is the Proxmox API's
    /// answer, when the API failed. When the API itself did not answer (<see cref="ProxmoxApiException.IsNoAnswer"/>:
    /// a timeout, refused or reset connections, a 5xx of its own) the guest was not looked at: Unknown, "could not look:
    /// ..." in the same words for every guest, while the API's failure is the environment's one Critical row (Quorum).
    /// Otherwise <see cref="StatusOf"/>.
    /// </summary>
    public static (CheckStatus Status, string Detail) GuestFailure(ProxmoxApiException ex)
        => ex.IsNoAnswer
            ? (CheckStatus.Unknown, $"{CouldNotLook}Proxmox API: {ex.Message}")
            : (StatusOf(ex), $"Proxmox API: {ex.Message}");

    /// <summary>
    /// The verdict of a guest unit whose every wait is on the Proxmox API (ApiStatus, GuestAgent) when the runner cut it
    /// off at its <paramref name="timeout"/> (on a loaded machine the runner's deadline can fire before the unit's own):
    /// the API did not answer in time, so the unit could not look. In the words of the shared
    /// <c>/cluster/resources</c> answer while that has not come (the same as the unit's own deadline gives), else of
    /// the unit's own timeout.
    /// </summary>
    public static (CheckStatus Status, string Detail) CutOff(ProxmoxShared shared, TimeSpan timeout, GuestRequest? asking = null)
    {
        var words = !shared.Resources.Answered ? shared.Resources.NoAnswer().Message
            : asking is { } r ? ProxmoxClient.NoAnswerMessage(shared.Client?.BaseUrl ?? string.Empty, r.Method, r.Path, Deadline.Stated(timeout))
            : $"no answer from {shared.Client?.BaseUrl} within {PveHealth.Clients.HttpEndpointClient.Seconds(Deadline.Stated(timeout))} s (client-side timeout)";
        return (CheckStatus.Unknown, $"{CouldNotLook}Proxmox API: {words}");
    }

    /// <summary>The per-guest request a unit is waiting for (named by its cut-off verdict).</summary>
    public sealed record GuestRequest(string Method, string Path);

    /// <summary>How a guest row that could not look at the API's answer starts.</summary>
    public const string CouldNotLook = "could not look: ";

    public static string SkipVerifyNote(ProxmoxShared shared)
        => shared.Client is { } c && c.SkipsCertificateCheck ? " (TLS certificate NOT verified: skipCertificateCheck)" : string.Empty;

    public const string NotConfigured = "Proxmox API not configured: set a proxmox section (url, tokenId, tokenSecret) in the configuration, or pass -ProxmoxUrl and -Credential";
}
