namespace PveHealth.Model;

/// <summary>
/// The one record every check emits. Property types are fixed; scripts filter on <see cref="Status"/>,
/// never on text. <see cref="Detail"/> is one line a person can act on and never holds a secret.
/// </summary>
public sealed class CheckResult
{
    public CheckResult(string environment, string component, string type, string check, CheckStatus status,
        string detail, TimeSpan duration, string? target = null, DateTimeOffset? timestamp = null)
    {
        Environment = environment ?? string.Empty;
        Component = component ?? string.Empty;
        Type = type ?? string.Empty;
        Check = check ?? string.Empty;
        Status = status;
        Detail = OneLine(detail);
        Duration = duration < TimeSpan.Zero ? TimeSpan.Zero : duration;
        Target = target ?? string.Empty;
        Timestamp = timestamp ?? DateTimeOffset.UtcNow;
    }

    /// <summary>Environment from the configuration (prod, lab, ...).</summary>
    public string Environment { get; }
    /// <summary>Guest or service name.</summary>
    public string Component { get; }
    /// <summary>Vm, Lxc, Cluster, Prometheus, ScrapeTarget, Grafana, Alertmanager, Minio, TerraformState, ...</summary>
    public string Type { get; }
    /// <summary>The check that ran: Ping, Ssh, ApiStatus, Docker, GuestAgent, Ready, Health, ...</summary>
    public string Check { get; }
    public CheckStatus Status { get; }
    public string Detail { get; }
    public TimeSpan Duration { get; }
    public DateTimeOffset Timestamp { get; }
    /// <summary>Address or URL that was contacted (empty when none).</summary>
    public string Target { get; }
    /// <summary>Numbers the check measured (exported as their own gauges by Export-PveHealthMetrics); usually empty.</summary>
    public IReadOnlyList<Measurement> Measurements { get; init; } = [];

    public override string ToString() => $"{Component} {Check}: {Status} - {Detail}";

    /// <summary>Details are single lines: a table row and a journal line stay one line.</summary>
    internal static string OneLine(string? text)
    {
        if (string.IsNullOrEmpty(text)) return string.Empty;
        if (text.IndexOfAny(['\r', '\n', '\t']) < 0) return text.Trim();
        var parts = text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" ", parts);
    }
}
