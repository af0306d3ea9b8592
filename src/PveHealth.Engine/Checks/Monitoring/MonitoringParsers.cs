using System.Globalization;
using System.Text.Json;

namespace PveHealth.Checks.Monitoring;

/// <summary>An answer that is not what the API documents. The message says what was expected, where.</summary>
public sealed class UnexpectedAnswerException(string message) : Exception(message);

/// <summary>One active scrape target from Prometheus' /api/v1/targets.</summary>
public sealed record ScrapeTarget(string Job, string Instance, string ScrapeUrl, string Health, string LastError, DateTimeOffset? LastScrape)
{
    /// <summary>job/instance: the Component of the target's result.</summary>
    public string Component => $"{Job}/{Instance}";

    public bool IsUp => string.Equals(Health, "up", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Parses Prometheus' <c>GET /api/v1/targets?state=active</c> answer.</summary>
public static class PrometheusTargetsParser
{
    public static IReadOnlyList<ScrapeTarget> Parse(string json)
    {
        using var doc = ParseJson(json, "/api/v1/targets");
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new UnexpectedAnswerException("/api/v1/targets: expected a JSON object.");
        if (root.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String && status.GetString() != "success")
        {
            var error = root.TryGetProperty("error", out var e) ? e.ToString() : "no error text";
            throw new UnexpectedAnswerException($"/api/v1/targets: status {status.GetString()}: {error}");
        }
        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object
            || !data.TryGetProperty("activeTargets", out var active) || active.ValueKind != JsonValueKind.Array)
        {
            throw new UnexpectedAnswerException("/api/v1/targets: expected data.activeTargets to be an array.");
        }
        var targets = new List<ScrapeTarget>();
        foreach (var t in active.EnumerateArray())
        {
            if (t.ValueKind != JsonValueKind.Object) continue;
            var labels = t.TryGetProperty("labels", out var l) && l.ValueKind == JsonValueKind.Object ? l : default;
            var job = Label(labels, "job") ?? Str(t, "scrapePool") ?? "?";
            var instance = Label(labels, "instance") ?? Str(t, "scrapeUrl") ?? "?";
            DateTimeOffset? last = null;
            if (Str(t, "lastScrape") is { } ls && DateTimeOffset.TryParse(ls, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                && parsed.Year > 1)
            {
                last = parsed;
            }
            targets.Add(new ScrapeTarget(job, instance, Str(t, "scrapeUrl") ?? string.Empty, Str(t, "health") ?? "unknown", Str(t, "lastError") ?? string.Empty, last));
        }
        return targets;
    }

    private static string? Label(JsonElement labels, string name)
        => labels.ValueKind == JsonValueKind.Object && labels.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static string? Str(JsonElement e, string name)
        => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static JsonDocument ParseJson(string json, string what)
    {
        try
        {
            return SafeJson.Parse(json, what);
        }
        catch (UnsafeJsonException ex) when (ex.InnerException is JsonException j)
        {
            throw new UnexpectedAnswerException($"{what}: not JSON (line {(j.LineNumber ?? 0) + 1}, byte {(j.BytePositionInLine ?? 0) + 1}).");
        }
        catch (UnsafeJsonException ex)
        {
            throw new UnexpectedAnswerException($"{what}: unexpected answer: {ex.JsonPath}: {ex.Reason}.");
        }
    }
}

/// <summary>The cluster part of Alertmanager's <c>GET /api/v2/status</c>.</summary>
public sealed record AlertmanagerCluster(string Status, IReadOnlyList<string> Peers, string? Name)
{
    public bool Enabled => !string.Equals(Status, "disabled", StringComparison.OrdinalIgnoreCase);

    public static AlertmanagerCluster Parse(string json)
    {
        using var doc = PrometheusTargetsParser.ParseJson(json, "/api/v2/status");
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("cluster", out var cluster) || cluster.ValueKind != JsonValueKind.Object)
        {
            throw new UnexpectedAnswerException("/api/v2/status: expected an object with \"cluster\".");
        }
        var status = PrometheusTargetsParser.Str(cluster, "status") ?? "unknown";
        var peers = new List<string>();
        if (cluster.TryGetProperty("peers", out var p) && p.ValueKind == JsonValueKind.Array)
        {
            foreach (var peer in p.EnumerateArray())
            {
                peers.Add(PrometheusTargetsParser.Str(peer, "address") ?? PrometheusTargetsParser.Str(peer, "name") ?? "?");
            }
        }
        return new AlertmanagerCluster(status, peers, PrometheusTargetsParser.Str(cluster, "name"));
    }
}

/// <summary>Grafana's <c>GET /api/health</c> body: {"commit", "database": "ok"|"failing", "version"}.</summary>
public sealed record GrafanaHealth(string? Database, string? Version, string? Commit)
{
    /// <summary>Parses the body; null when it is not the documented JSON object.</summary>
    public static GrafanaHealth? TryParse(string json)
    {
        try
        {
            using var doc = SafeJson.Parse(json, "/api/health");
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            var r = doc.RootElement;
            return new GrafanaHealth(PrometheusTargetsParser.Str(r, "database"), PrometheusTargetsParser.Str(r, "version"), PrometheusTargetsParser.Str(r, "commit"));
        }
        catch (UnsafeJsonException)
        {
            return null;
        }
    }
}
