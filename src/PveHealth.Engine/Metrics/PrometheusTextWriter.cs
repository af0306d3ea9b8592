using System.Globalization;
using System.Text;
using PveHealth.Model;

namespace PveHealth.Metrics;

/// <summary>
/// Renders check results as a node_exporter textfile (Prometheus text exposition format 0.0.4).
/// </summary>
/// <remarks>
/// Series (all gauges; names are a contract with deploy/prometheus/health-alerts.yml and deploy/grafana):
/// <list type="bullet">
/// <item><c>pve_health_check_success{environment,component,type,check,node}</c>: 1 for Ok and Warning (the thing works),
/// 0 for Critical and Unknown (a failed check: broken, or the checker could not tell). <c>node</c> is the Proxmox node
/// the component runs on (<see cref="CheckResult.Node"/>: a guest's node, a Node result's own name) and is always
/// written, empty where unknown (services, inventories without a node), which Prometheus stores as no label. A guest
/// that migrated gets its new node at the next run (the rewritten file drops the old series).</item>
/// <item><c>pve_health_check_status{...}</c>: 0 ok, 1 warning, 2 critical, 3 unknown (the Nagios codes).</item>
/// <item><c>pve_health_check_duration_seconds{...}</c>: how long the check took.</item>
/// <item><c>pve_health_last_run_timestamp_seconds{environment}</c>: Unix time of the newest result of the environment.</item>
/// <item><c>pve_health_run_duration_seconds{environment}</c>: from the earliest check start to the newest result.</item>
/// <item><c>pve_health_checks{environment,status}</c>: checks per status (ok, warning, critical, unknown, skipped), every status
/// written, zeros included.</item>
/// <item>Measured values (<see cref="CheckResult.Measurements"/>, for example <c>pve_health_storage_used_ratio{environment,node,storage}</c>):
/// one gauge family per name after the fixed families, sorted by name; a repeated sample (same name and labels) keeps the last.</item>
/// </list>
/// Skipped checks (excluded, not applicable) are neither successes nor failures: they get no
/// success/status/duration series (a 1 would claim health nobody measured, a 0 would page) and are only
/// counted in <c>pve_health_checks{status="skipped"}</c>.
/// When one (environment, component, type, check) key arrives more than once, the worst status wins
/// (Critical &gt; Unknown &gt; Warning &gt; Ok &gt; Skipped; on a tie the longer duration), so a duplicate can never hide a failure.
/// Output is deterministic: fixed family order, samples sorted ordinally by their label values, no timestamps,
/// one HELP and TYPE per family, a final newline.
/// </remarks>
public static class PrometheusTextWriter
{
    /// <summary>Where node_exporter's textfile collector reads on Debian.</summary>
    public const string DefaultPath = "/var/lib/prometheus/node-exporter/pve_health.prom";

    /// <summary>Renders <paramref name="results"/>; an empty input gives the families with no samples.</summary>
    public static string Render(IEnumerable<CheckResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var checks = Deduplicate(results);
        var runnable = checks.Where(r => r.Status != CheckStatus.Skipped).ToList();
        var environments = checks.GroupBy(r => r.Environment, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();

        var sb = new StringBuilder(256 + checks.Count * 400);
        Family(sb, "pve_health_check_success", "1 when the check passed (Ok or Warning), 0 when it failed (Critical or Unknown). Skipped checks are not exported.");
        foreach (var r in runnable) Sample(sb, "pve_health_check_success", CheckLabels(r), r.Status is CheckStatus.Ok or CheckStatus.Warning ? 1 : 0);

        Family(sb, "pve_health_check_status", "Check status with Nagios meanings: 0 ok, 1 warning, 2 critical, 3 unknown.");
        foreach (var r in runnable) Sample(sb, "pve_health_check_status", CheckLabels(r), r.Status.NagiosCode());

        Family(sb, "pve_health_check_duration_seconds", "How long the check took, in seconds.");
        foreach (var r in runnable) Sample(sb, "pve_health_check_duration_seconds", CheckLabels(r), r.Duration.TotalSeconds);

        Family(sb, "pve_health_last_run_timestamp_seconds", "Unix time of the newest check result of the environment's last run.");
        foreach (var g in environments) Sample(sb, "pve_health_last_run_timestamp_seconds", [("environment", g.Key)], g.Max(r => r.Timestamp).ToUnixTimeMilliseconds() / 1000.0);

        Family(sb, "pve_health_run_duration_seconds", "Duration of the environment's last run, from the earliest check start to the newest result, in seconds.");
        foreach (var g in environments)
        {
            var end = g.Max(r => r.Timestamp);
            var start = g.Min(r => r.Timestamp - r.Duration);
            Sample(sb, "pve_health_run_duration_seconds", [("environment", g.Key)], Math.Max(0, (end - start).TotalSeconds));
        }

        Family(sb, "pve_health_checks", "Checks of the environment's last run per status (ok, warning, critical, unknown, skipped).");
        foreach (var g in environments)
        {
            foreach (var status in StatusOrder)
            {
                Sample(sb, "pve_health_checks", [("environment", g.Key), ("status", status.ToString().ToLowerInvariant())], g.Count(r => r.Status == status));
            }
        }
        RenderMeasurements(sb, checks);
        return sb.ToString();
    }

    private static void RenderMeasurements(StringBuilder sb, List<CheckResult> checks)
    {
        var families = new SortedDictionary<string, (string Help, SortedDictionary<string, ((string, string)[] Labels, double Value)> Samples)>(StringComparer.Ordinal);
        foreach (var r in checks)
        {
            foreach (var m in r.Measurements)
            {
                if (m is null || !IsMetricName(m.Name) || FixedFamilies.Contains(m.Name)) continue;
                if (m.Labels.Any(l => !IsLabelName(l.Name) || l.Name == "environment")) continue;
                var labels = new (string, string)[m.Labels.Count + 1];
                labels[0] = ("environment", r.Environment);
                for (var i = 0; i < m.Labels.Count; i++) labels[i + 1] = (m.Labels[i].Name, m.Labels[i].Value ?? string.Empty);
                if (!families.TryGetValue(m.Name, out var family))
                {
                    family = (m.Help, new SortedDictionary<string, ((string, string)[], double)>(StringComparer.Ordinal));
                    families[m.Name] = family;
                }
                family.Samples[string.Join("\u0000", labels.Select(l => l.Item1 + "=" + l.Item2))] = (labels, m.Value);
            }
        }
        foreach (var (name, family) in families)
        {
            Family(sb, name, family.Help);
            foreach (var sample in family.Samples.Values) Sample(sb, name, sample.Labels, sample.Value);
        }
    }

    /// <summary>The families every export has; a measurement may not reuse their names.</summary>
    public static IReadOnlyList<string> FixedFamilies { get; } =
        ["pve_health_check_success", "pve_health_check_status", "pve_health_check_duration_seconds", "pve_health_last_run_timestamp_seconds", "pve_health_run_duration_seconds", "pve_health_checks"];

    private static bool IsMetricName(string? name)
        => !string.IsNullOrEmpty(name) && name.StartsWith("pve_health_", StringComparison.Ordinal) && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');

    private static bool IsLabelName(string? name)
        => !string.IsNullOrEmpty(name) && !name.StartsWith("__", StringComparison.Ordinal) && name[0] is (>= 'a' and <= 'z') or '_' && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');

    private static readonly CheckStatus[] StatusOrder = [CheckStatus.Ok, CheckStatus.Warning, CheckStatus.Critical, CheckStatus.Unknown, CheckStatus.Skipped];

    /// <summary>One result per (environment, component, type, check), the worst one, sorted by those labels.</summary>
    internal static List<CheckResult> Deduplicate(IEnumerable<CheckResult> results)
    {
        var byKey = new Dictionary<(string, string, string, string), CheckResult>();
        foreach (var r in results)
        {
            if (r is null) continue;
            var key = (r.Environment, r.Component, r.Type, r.Check);
            if (!byKey.TryGetValue(key, out var kept) || Worse(r, kept)) byKey[key] = r;
        }
        return byKey.Values
            .OrderBy(r => r.Environment, StringComparer.Ordinal)
            .ThenBy(r => r.Component, StringComparer.Ordinal)
            .ThenBy(r => r.Type, StringComparer.Ordinal)
            .ThenBy(r => r.Check, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Rank for duplicates: Skipped &lt; Ok &lt; Warning &lt; Unknown &lt; Critical.</summary>
    private static int Rank(CheckStatus s) => s.Severity();

    private static bool Worse(CheckResult candidate, CheckResult kept)
    {
        var a = Rank(candidate.Status);
        var b = Rank(kept.Status);
        return a > b || (a == b && candidate.Duration > kept.Duration);
    }

    private static (string, string)[] CheckLabels(CheckResult r)
        => [("environment", r.Environment), ("component", r.Component), ("type", r.Type), ("check", r.Check), ("node", r.Node)];

    private static void Family(StringBuilder sb, string name, string help)
    {
        sb.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(help)).Append('\n');
        sb.Append("# TYPE ").Append(name).Append(" gauge\n");
    }

    private static void Sample(StringBuilder sb, string name, (string Name, string Value)[] labels, double value)
    {
        sb.Append(name).Append('{');
        for (var i = 0; i < labels.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(labels[i].Name).Append("=\"").Append(EscapeLabelValue(labels[i].Value)).Append('"');
        }
        sb.Append("} ").Append(FormatValue(value)).Append('\n');
    }

    /// <summary>Label value escaping of the text format: backslash, double quote and line feed.</summary>
    internal static string EscapeLabelValue(string value)
    {
        if (string.IsNullOrEmpty(value)) return string.Empty;
        if (value.IndexOfAny(['\\', '"', '\n']) < 0) return value;
        var sb = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>HELP text escaping: backslash and line feed.</summary>
    internal static string EscapeHelp(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>Shortest round-trip form, invariant culture ("0.25", "1764170000.123", "1").</summary>
    internal static string FormatValue(double value)
    {
        if (double.IsNaN(value)) return "NaN";
        if (double.IsPositiveInfinity(value)) return "+Inf";
        if (double.IsNegativeInfinity(value)) return "-Inf";
        return value.ToString("R", CultureInfo.InvariantCulture);
    }
}
