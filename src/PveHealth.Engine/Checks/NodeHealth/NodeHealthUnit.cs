using System.Globalization;
using System.Text.Json;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks.NodeHealth;

/// <summary>
/// Base of the NodeHealth units: one unit per kind and environment, which reads the node list from the shared
/// <c>/cluster/status</c> answer (no extra request) and then asks each online node once, all nodes at once, each call
/// within the unit's budget (<see cref="CheckReporter.Remaining"/>). Offline nodes are left to the Cluster group's Node
/// result (Critical there); a node whose answer fails gets one result naming the failure.
/// </summary>
public abstract class NodeHealthUnit : CheckUnit
{
    protected NodeHealthUnit(EnvironmentContext env, string component, string type, string check)
        : base(env.Name, component, type, env.Config.Proxmox?.Url ?? string.Empty, [check])
    {
        Env = env;
        Check = check;
    }

    protected EnvironmentContext Env { get; }

    /// <summary>The check this unit reports.</summary>
    protected string Check { get; }

    /// <summary>The environment's nodeHealth section, or the defaults.</summary>
    protected NodeHealthConfig Settings => Env.Config.NodeHealth ?? NodeHealthConfig.Default;

    /// <summary>A node's answer to one request: the data, or the failure.</summary>
    protected sealed record NodeAnswer(string Node, JsonElement Data, ProxmoxApiException? Error);

    /// <summary>The online nodes, or null after reporting why there are none to ask (Skipped: the Cluster group says why).</summary>
    protected async Task<IReadOnlyList<string>?> OnlineNodesAsync(CheckReporter reporter, CancellationToken ct)
    {
        var shared = ProxmoxShared.For(Env)!;
        PveClusterStatus status;
        try
        {
            status = await ProxmoxCheckHelpers.AwaitShared(shared.ClusterStatus, reporter, ct).ConfigureAwait(false);
        }
        catch (ProxmoxApiException)
        {
            reporter.Report(Check, CheckStatus.Skipped, "skipped: /cluster/status could not be read, so the nodes are not known (see the cluster's Quorum result)", TimeSpan.Zero);
            return null;
        }
        var nodes = status.Nodes.Where(n => n.Online).Select(n => n.Name).Where(n => n.Length > 0).ToList();
        if (nodes.Count == 0)
        {
            reporter.Report(Check, CheckStatus.Skipped, "skipped: no node is online according to /cluster/status (see the Node results)", TimeSpan.Zero);
            return null;
        }
        return nodes;
    }

    /// <summary>
    /// One GET per node, all at once, each within the unit's remaining budget; an answer whose data is not of
    /// <paramref name="shape"/> is that node's failure (an unexpected answer: Unknown), never an empty list read as healthy.
    /// </summary>
    protected async Task<IReadOnlyList<NodeAnswer>> PerNodeAsync(IReadOnlyList<string> nodes, Func<string, string> path, JsonValueKind shape, CheckReporter reporter, CancellationToken ct)
    {
        var tasks = nodes.Select(async node =>
        {
            try
            {
                var data = await GetAsync(path(Uri.EscapeDataString(node)), shape, reporter, ct).ConfigureAwait(false);
                return new NodeAnswer(node, data, null);
            }
            catch (ProxmoxApiException ex)
            {
                return new NodeAnswer(node, default, ex);
            }
        });
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>A GET within the unit's remaining budget whose data must be of <paramref name="shape"/> (else an unexpected answer).</summary>
    protected async Task<JsonElement> GetAsync(string path, JsonValueKind shape, CheckReporter reporter, CancellationToken ct)
    {
        var data = await ProxmoxShared.For(Env)!.RequireClient().GetAsync(path, ct, reporter.Remaining).ConfigureAwait(false);
        return data.ValueKind == shape
            ? data
            : throw ProxmoxParsers.Unexpected($"GET /{path}", shape == JsonValueKind.Array ? "a list in data" : "an object in data", data);
    }

    /// <summary>One result for a node whose answer failed: Unknown for the checker's own trouble (403, setup), else Critical.</summary>
    protected void ReportNodeFailure(CheckReporter reporter, NodeAnswer answer, string what)
        => reporter.Report(new CheckResult(Environment, answer.Node, Type, Check, ProxmoxCheckHelpers.StatusOf(answer.Error!),
            $"cannot read {what} of node {answer.Node}: {answer.Error!.Message}", reporter.Elapsed, Target) { Node = answer.Node });

    /// <summary>A result for a component of its own (pve1/tank, pve1/pveproxy-ssl.pem, vm:100).</summary>
    protected CheckResult Result(CheckReporter reporter, string component, CheckStatus status, string detail, DateTimeOffset? expiresAt = null)
        => new(Environment, component, Type, Check, status, detail, reporter.Elapsed, Target)
        {
            Measurements = expiresAt is { } at ? [CertificateVerdict.ExpiryMeasurement(component, Type, Check, at)] : [],
        };

    protected static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
