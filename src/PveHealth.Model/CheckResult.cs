namespace PveHealth.Model;

/// <summary>
/// The one record every check emits. Property types are fixed; scripts filter on <see cref="Status"/>,
/// never on text. <see cref="Detail"/> is one line a person can act on and never holds a secret
/// (every registered credential is scrubbed here, whatever a server echoed back: the engine's SecretScrubber sets
/// <see cref="Scrubber"/> when the first secret is registered).
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
        Detail = OneLine(Scrubber is { } scrub ? scrub(detail ?? string.Empty) : detail);
        Duration = duration < TimeSpan.Zero ? TimeSpan.Zero : duration;
        Target = Scrubber is { } scrubTarget ? scrubTarget(target ?? string.Empty) : target ?? string.Empty;
        Timestamp = timestamp ?? DateTimeOffset.UtcNow;
    }

    /// <summary>The engine's secret scrubber (PveHealth.SecretScrubber.Scrub), applied to Detail and Target; null until a secret is known.</summary>
    internal static volatile Func<string, string>? Scrubber;

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
    /// <summary>
    /// <see cref="Duration"/> in seconds, rounded to the millisecond: the form ConvertTo-Json and Export-Csv
    /// write as a plain number (a TimeSpan becomes a 15-field object in JSON and "00:00:00.0363599" in CSV).
    /// </summary>
    public double DurationSeconds => Math.Round(Duration.TotalSeconds, 3, MidpointRounding.AwayFromZero);
    /// <summary>
    /// <see cref="Timestamp"/> as ISO 8601 in UTC with milliseconds ("2026-11-30T06:36:38.123Z"), culture-independent:
    /// what Export-Csv writes instead of a culture-dependent date.
    /// </summary>
    public string TimestampUtc => FormatTimestamp(Timestamp);
    /// <summary>Address or URL that was contacted (empty when none).</summary>
    public string Target { get; }
    /// <summary>Numbers the check measured (exported as their own gauges by Export-PveHealthMetrics); usually empty.</summary>
    public IReadOnlyList<Measurement> Measurements { get; init; } = [];

    public override string ToString() => $"{Component} {Check}: {Status} - {Detail}";

    /// <summary>
    /// Where the result was produced: the host name of the machine that ran the check (<see cref="LocalSource"/>), so
    /// results gathered from several runners (Receive-Job, a remote session, files merged from sites) stay attributable.
    /// A result read back by name keeps its Source, else the remoting PSComputerName, else empty (not known).
    /// </summary>
    public string Source { get; init; } = LocalSource;

    /// <summary>This machine's host name: the <see cref="Source"/> of every result created here.</summary>
    public static string LocalSource { get; } = System.Environment.MachineName;

    /// <summary>ISO 8601 UTC with milliseconds, invariant culture: the one timestamp text of results and reports.</summary>
    public static string FormatTimestamp(DateTimeOffset timestamp)
        => timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Details are single lines: a table row and a journal line stay one line.</summary>
    internal static string OneLine(string? text)
    {
        if (string.IsNullOrEmpty(text)) return string.Empty;
        if (text.IndexOfAny(['\r', '\n', '\t']) < 0) return text.Trim();
        var parts = text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" ", parts);
    }
}
