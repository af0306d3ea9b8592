using System.Text.RegularExpressions;

namespace PveHealth.Clients.Proxmox;

/// <summary>What went wrong talking to the Proxmox API; each kind has its own wording in the message.</summary>
public enum ProxmoxFailure
{
    /// <summary>The checker cannot even start: no secret, bad CA file, bad URL (its own trouble: Unknown).</summary>
    Setup,
    /// <summary>401: the token id or secret is wrong, or the token expired.</summary>
    Authentication,
    /// <summary>403: the token lacks a privilege on a path.</summary>
    Permission,
    /// <summary>595: the node behind the request is unreachable from the API host.</summary>
    NodeUnreachable,
    AgentNotRunning,
    AgentNotConfigured,
    VmNotRunning,
    /// <summary>The guest does not exist on that node (500 "Configuration file ... does not exist").</summary>
    GuestNotFound,
    /// <summary>Any other HTTP error status.</summary>
    Http,
    /// <summary>The server certificate was not trusted.</summary>
    Tls,
    ConnectionRefused,
    /// <summary>Could not connect for another reason (DNS, unreachable network).</summary>
    Connection,
    /// <summary>The client gave up waiting (never a server error).</summary>
    Timeout,
    /// <summary>The answer was not the JSON Proxmox sends.</summary>
    InvalidResponse,
}

/// <summary>
/// A failed Proxmox API call. <see cref="Exception.Message"/> is one actionable line that never holds the
/// token secret (the client scrubs it).
/// </summary>
public sealed class ProxmoxApiException : Exception
{
    public ProxmoxApiException(ProxmoxFailure failure, string message, int? statusCode = null, string? reason = null, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
        StatusCode = statusCode;
        Reason = reason;
    }

    public ProxmoxFailure Failure { get; }
    public int? StatusCode { get; }
    /// <summary>The server's reason phrase or message (Proxmox puts its error text there).</summary>
    public string? Reason { get; }

    /// <summary>True when the trouble is the checker's own (configuration, credentials): results are Unknown, not Critical.</summary>
    public bool IsCheckerTrouble => Failure is ProxmoxFailure.Setup or ProxmoxFailure.Authentication or ProxmoxFailure.Permission or ProxmoxFailure.InvalidResponse;

    /// <summary>
    /// True when the API itself did not answer: no answer within the timeout, the connection refused, reset or not made,
    /// or an HTTP 5xx of the API host itself (not the 500s Proxmox uses for a guest's state, nor 595 "node unreachable").
    /// "Answered: stopped" is an answer; this is its absence.
    /// </summary>
    public bool IsNoAnswer => Failure is ProxmoxFailure.Timeout or ProxmoxFailure.ConnectionRefused or ProxmoxFailure.Connection
        || (Failure == ProxmoxFailure.Http && StatusCode is >= 500 and < 600 and not 595);

    private static readonly Regex PermissionReason = new(@"Permission check failed \((?<path>[^,()]+),\s*(?<priv>[^()]+)\)", RegexOptions.CultureInvariant);
    private static readonly Regex NodePath = new(@"^/?nodes/(?<node>[^/]+)", RegexOptions.CultureInvariant);

    /// <summary>
    /// Classifies an HTTP error answer. <paramref name="reason"/> is the reason phrase, <paramref name="message"/>
    /// the body's "message" (newer servers), <paramref name="path"/> the API path (for the node name).
    /// </summary>
    public static ProxmoxApiException FromStatus(int status, string? reason, string? message, string method, string path, string baseUrl, string tokenId)
    {
        var text = string.Join(" ", new[] { reason, message }.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s!.Trim()).Distinct());
        var said = text.Length > 0 ? text : "no reason given";
        var node = NodePath.Match(path) is { Success: true } m ? m.Groups["node"].Value : null;
        switch (status)
        {
            case 401:
                return new(ProxmoxFailure.Authentication,
                    $"authentication failed: {baseUrl} rejected API token {tokenId} (401 {said}); check the token id, its secret and that the token exists and has not expired",
                    status, said);
            case 403:
                var p = PermissionReason.Match(text);
                var detail = p.Success
                    ? $"permission missing: token {tokenId} lacks {p.Groups["priv"].Value.Trim()} on {p.Groups["path"].Value.Trim()} (grant it, e.g. pveum acl modify {p.Groups["path"].Value.Trim()} --tokens '{tokenId}' --roles PVEAuditor; a privilege-separated token needs its own ACL)"
                    : $"permission missing: token {tokenId} may not {method} {path} (403 {said})";
                return new(ProxmoxFailure.Permission, detail, status, said);
            case 595:
                return new(ProxmoxFailure.NodeUnreachable,
                    $"node {node ?? "behind the request"} unreachable from the API host {baseUrl} (595 {said})", status, said);
        }
        if (status == 500 || status == 596)
        {
            if (Contains(text, "guest agent is not running"))
                return new(ProxmoxFailure.AgentNotRunning, "QEMU guest agent is not running inside the VM (start qemu-guest-agent in the guest)", status, said);
            if (Contains(text, "No QEMU guest agent configured") || Contains(text, "agent not configured"))
                return new(ProxmoxFailure.AgentNotConfigured, "no QEMU guest agent configured for this VM (Options > QEMU Guest Agent, agent: 1)", status, said);
            if (Regex.IsMatch(text, @"\b(VM|CT) \d+ (is )?not running", RegexOptions.CultureInvariant))
                return new(ProxmoxFailure.VmNotRunning, "VM is not running", status, said);
            if (Contains(text, "got timeout"))
                return new(ProxmoxFailure.AgentNotRunning, $"QEMU guest agent did not answer ({said})", status, said);
            if (Contains(text, "does not exist") && Contains(text, ".conf"))
                return new(ProxmoxFailure.GuestNotFound, $"guest does not exist{(node is null ? "" : $" on node {node}")} ({said})", status, said);
        }
        return new(ProxmoxFailure.Http, $"{method} {path} failed: HTTP {status} {said}", status, said);
    }

    private static bool Contains(string text, string part) => text.Contains(part, StringComparison.OrdinalIgnoreCase);
}
