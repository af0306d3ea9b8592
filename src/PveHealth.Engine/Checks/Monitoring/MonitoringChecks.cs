using PveHealth.Clients;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks.Monitoring;

/// <summary>
/// A unit that talks to one HTTP endpoint (monitoring stack, MinIO health) through the environment's shared client.
/// For an https endpoint it also reports <see cref="TlsCertificate"/> after its own requests, from the certificate of
/// the handshake those requests made.
/// </summary>
public abstract class EndpointCheckUnit : CheckUnit
{
    private readonly Func<HttpEndpointClient> _client;

    protected EndpointCheckUnit(string environment, string component, string type, string target, IReadOnlyList<string> checks, Func<HttpEndpointClient> client)
        : base(environment, component, type, target, TlsCertificate.With(checks, target))
    {
        _client = client;
    }

    /// <summary>The TlsCertificate thresholds (the environment's <c>nodeHealth</c> section; defaults when null).</summary>
    public NodeHealthConfig? CertificateThresholds { get; init; }

    public sealed override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        var client = GetClient(reporter);
        if (client is null) return;
        await RunAsync(reporter, client, cancellationToken).ConfigureAwait(false);
        if (Runs(TlsCertificate.Name))
        {
            reporter.Report(TlsCertificate.Result(Environment, Component, Type, Target, client.ServerCertificate.Last, CertificateThresholds, reporter.Elapsed, DateTimeOffset.UtcNow));
        }
    }

    /// <summary>The endpoint's own checks, with its client.</summary>
    protected abstract Task RunAsync(CheckReporter reporter, HttpEndpointClient client, CancellationToken cancellationToken);

    /// <summary>The client, or null after reporting Unknown for every check (unreadable secret or CA file: the checker's own trouble).</summary>
    protected HttpEndpointClient? GetClient(CheckReporter reporter)
    {
        try
        {
            return _client();
        }
        catch (Exception ex) when (ex is SecretUnavailableException or EndpointUnreachableException or ArgumentException)
        {
            foreach (var check in Checks) reporter.Report(check, CheckStatus.Unknown, ex.Message);
            return null;
        }
    }

    /// <summary>" (TLS certificate not verified)" when skipCertificateCheck is in force: the skip is never silent.</summary>
    protected static string TlsNote(HttpEndpointClient client) => client.SkipsCertificateCheck ? " (TLS certificate NOT verified: skipCertificateCheck)" : string.Empty;

    /// <summary>GET a readiness route: Ok on 2xx, Critical on any other status or no answer. Returns true when Ok.</summary>
    protected static async Task<bool> ReadyAsync(CheckReporter reporter, HttpEndpointClient client, string check, string route, string okText, CancellationToken ct)
    {
        try
        {
            var answer = await client.GetAsync(route, reporter.Remaining, ct, reporter.Timeout).ConfigureAwait(false);
            if (answer.IsSuccess)
            {
                reporter.Report(check, CheckStatus.Ok, okText + TlsNote(client));
                return true;
            }
            reporter.Report(check, CheckStatus.Critical, $"{route}: {answer.Describe()}");
            return false;
        }
        catch (EndpointUnreachableException ex)
        {
            reporter.Report(check, CheckStatus.Critical, ex.Message);
            return false;
        }
    }
}

/// <summary>Prometheus: <c>/-/ready</c> (Ready) and the active scrape targets (Targets: one Critical result per target not up).</summary>
public sealed class PrometheusCheck : EndpointCheckUnit
{
    public const string Ready = "Ready";
    public const string Targets = "Targets";
    public const string TargetType = "ScrapeTarget";

    public PrometheusCheck(string environment, string target, Func<HttpEndpointClient> client, string component = "prometheus")
        : base(environment, component, "Prometheus", target, [Ready, Targets], client) { }

    protected override async Task RunAsync(CheckReporter reporter, HttpEndpointClient client, CancellationToken cancellationToken)
    {
        var ready = true;
        if (Runs(Ready)) ready = await ReadyAsync(reporter, client, Ready, "/-/ready", "ready", cancellationToken).ConfigureAwait(false);
        if (!Runs(Targets)) return;
        if (!ready)
        {
            reporter.Report(Targets, CheckStatus.Skipped, "not checked: Prometheus is not ready");
            return;
        }
        HttpAnswer answer;
        try
        {
            answer = await client.GetAsync("/api/v1/targets?state=active", reporter.Remaining, cancellationToken, reporter.Timeout).ConfigureAwait(false);
        }
        catch (EndpointUnreachableException ex)
        {
            reporter.Report(Targets, CheckStatus.Critical, ex.Message);
            return;
        }
        if (!answer.IsSuccess)
        {
            reporter.Report(Targets, CheckStatus.Critical, $"/api/v1/targets: {answer.Describe()}");
            return;
        }
        IReadOnlyList<ScrapeTarget> targets;
        try
        {
            targets = PrometheusTargetsParser.Parse(answer.Body);
        }
        catch (UnexpectedAnswerException ex)
        {
            reporter.Report(Targets, CheckStatus.Unknown, ex.Message);
            return;
        }
        foreach (var result in Evaluate(Environment, targets, DateTimeOffset.UtcNow))
        {
            reporter.Report(result.Component == "*"
                ? new CheckResult(Environment, Component, Type, Targets, result.Status, result.Detail, reporter.Elapsed, Target)
                : new CheckResult(result.Environment, result.Component, result.Type, result.Check, result.Status, result.Detail, reporter.Elapsed, result.Target));
        }
    }

    /// <summary>
    /// One result per target that is not up (Critical when down; Warning when Prometheus has not scraped it yet),
    /// or a single summary (Component "*", filled in by the unit) when all are up or none are active.
    /// </summary>
    public static IEnumerable<CheckResult> Evaluate(string environment, IReadOnlyList<ScrapeTarget> targets, DateTimeOffset now)
    {
        if (targets.Count == 0)
        {
            yield return new CheckResult(environment, "*", "Prometheus", Targets, CheckStatus.Warning, "no active scrape targets: check scrape_configs", TimeSpan.Zero);
            yield break;
        }
        var notUp = targets.Where(t => !t.IsUp).ToList();
        if (notUp.Count == 0)
        {
            var jobs = targets.Select(t => t.Job).Distinct(StringComparer.Ordinal).Count();
            yield return new CheckResult(environment, "*", "Prometheus", Targets, CheckStatus.Ok, $"{targets.Count} targets up ({jobs} jobs)", TimeSpan.Zero);
            yield break;
        }
        foreach (var t in notUp)
        {
            var since = t.LastScrape is { } last ? $"last scrape {Durations.Short(now - last)} ago" : "never scraped";
            var down = string.Equals(t.Health, "down", StringComparison.OrdinalIgnoreCase);
            var error = t.LastError.Length > 0 ? t.LastError : (down ? "no error text" : "not scraped yet");
            yield return new CheckResult(environment, t.Component, TargetType, Targets,
                down ? CheckStatus.Critical : CheckStatus.Warning,
                $"{t.Health}: {error}; {since}", TimeSpan.Zero, t.ScrapeUrl);
        }
    }
}

/// <summary>Alertmanager: <c>/-/ready</c> (Ready) and, when clustered, the peers from <c>/api/v2/status</c> (Peers).</summary>
public sealed class AlertmanagerCheck : EndpointCheckUnit
{
    public const string Ready = "Ready";
    public const string Peers = "Peers";

    public AlertmanagerCheck(string environment, string target, Func<HttpEndpointClient> client, string component = "alertmanager")
        : base(environment, component, "Alertmanager", target, [Ready, Peers], client) { }

    protected override async Task RunAsync(CheckReporter reporter, HttpEndpointClient client, CancellationToken cancellationToken)
    {
        var ready = true;
        if (Runs(Ready)) ready = await ReadyAsync(reporter, client, Ready, "/-/ready", "ready", cancellationToken).ConfigureAwait(false);
        if (!Runs(Peers)) return;
        if (!ready)
        {
            reporter.Report(Peers, CheckStatus.Skipped, "not checked: Alertmanager is not ready");
            return;
        }
        try
        {
            var answer = await client.GetAsync("/api/v2/status", reporter.Remaining, cancellationToken, reporter.Timeout).ConfigureAwait(false);
            if (!answer.IsSuccess)
            {
                reporter.Report(Peers, CheckStatus.Critical, $"/api/v2/status: {answer.Describe()}");
                return;
            }
            var (status, detail) = Evaluate(AlertmanagerCluster.Parse(answer.Body));
            reporter.Report(Peers, status, detail);
        }
        catch (EndpointUnreachableException ex)
        {
            reporter.Report(Peers, CheckStatus.Critical, ex.Message);
        }
        catch (UnexpectedAnswerException ex)
        {
            reporter.Report(Peers, CheckStatus.Unknown, ex.Message);
        }
    }

    /// <summary>disabled → Skipped; ready → Ok with the peers; settling → Warning; anything else → Critical.</summary>
    public static (CheckStatus Status, string Detail) Evaluate(AlertmanagerCluster cluster)
    {
        var peers = cluster.Peers.Count == 0 ? "no peers" : $"{cluster.Peers.Count} peers: {string.Join(", ", cluster.Peers)}";
        return cluster.Status.ToLowerInvariant() switch
        {
            "disabled" => (CheckStatus.Skipped, "not clustered (cluster.status disabled)"),
            "ready" => (CheckStatus.Ok, $"cluster ready, {peers}"),
            "settling" => (CheckStatus.Warning, $"cluster still settling, {peers}"),
            _ => (CheckStatus.Critical, $"cluster status {cluster.Status}, {peers}"),
        };
    }
}

/// <summary>Grafana: <c>/api/health</c> (Health): Ok for 200 with database ok, Critical for 503 or a failing database.</summary>
public sealed class GrafanaCheck : EndpointCheckUnit
{
    public const string Health = "Health";

    public GrafanaCheck(string environment, string target, Func<HttpEndpointClient> client, string component = "grafana")
        : base(environment, component, "Grafana", target, [Health], client) { }

    protected override async Task RunAsync(CheckReporter reporter, HttpEndpointClient client, CancellationToken cancellationToken)
    {
        try
        {
            var answer = await client.GetAsync("/api/health", reporter.Remaining, cancellationToken, reporter.Timeout).ConfigureAwait(false);
            var (status, detail) = Evaluate(answer);
            reporter.Report(Health, status, detail + (status == CheckStatus.Ok ? TlsNote(client) : string.Empty));
        }
        catch (EndpointUnreachableException ex)
        {
            reporter.Report(Health, CheckStatus.Critical, ex.Message);
        }
    }

    public static (CheckStatus Status, string Detail) Evaluate(HttpAnswer answer)
    {
        var health = GrafanaHealth.TryParse(answer.Body);
        var version = health?.Version is { Length: > 0 } v ? $"version {v}" : "version not reported";
        if (answer.StatusCode == 200 && health is not null && string.Equals(health.Database, "ok", StringComparison.OrdinalIgnoreCase))
        {
            return (CheckStatus.Ok, $"database ok, {version}");
        }
        if (health is not null && health.Database is { } db)
        {
            return (CheckStatus.Critical, $"HTTP {answer.StatusCode}: database {db}, {version}");
        }
        return (CheckStatus.Critical, $"/api/health: {answer.Describe()}");
    }
}

/// <summary>The Monitoring group: Prometheus, Alertmanager and Grafana of an environment's monitoring section.</summary>
public sealed class MonitoringCheckProvider : IServiceCheckProvider
{
    public string Group => "Monitoring";

    public IReadOnlyList<string> Checks { get; } = [PrometheusCheck.Ready, PrometheusCheck.Targets, AlertmanagerCheck.Peers, GrafanaCheck.Health, TlsCertificate.Name];

    public IEnumerable<CheckUnit> Create(EnvironmentContext environment)
    {
        var mon = environment.Config.Monitoring;
        if (mon is null) yield break;
        var at = $"environments.{environment.Name}.monitoring";
        var thresholds = environment.Config.NodeHealth;
        if (mon.Prometheus is { } p) yield return new PrometheusCheck(environment.Name, Target(p), Client(environment, "prometheus", p, at + ".prometheus")) { CertificateThresholds = thresholds };
        if (mon.Alertmanager is { } a) yield return new AlertmanagerCheck(environment.Name, Target(a), Client(environment, "alertmanager", a, at + ".alertmanager")) { CertificateThresholds = thresholds };
        if (mon.Grafana is { } g) yield return new GrafanaCheck(environment.Name, Target(g), Client(environment, "grafana", g, at + ".grafana")) { CertificateThresholds = thresholds };
    }

    private static string Target(EndpointConfig endpoint)
        => Uri.TryCreate(endpoint.Url, UriKind.Absolute, out var u) ? HttpEndpointClient.Display(u) : endpoint.Url ?? string.Empty;

    private static Func<HttpEndpointClient> Client(EnvironmentContext environment, string key, EndpointConfig endpoint, string what)
        => () => HttpEndpointClient.ForEnvironment(environment, key, () => HttpEndpointSettings.FromConfig(endpoint, what));
}
