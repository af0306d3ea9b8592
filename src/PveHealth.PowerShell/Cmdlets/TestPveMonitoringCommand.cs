using System.Management.Automation;
using PveHealth.Checks.Monitoring;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Planning;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// Test-PveMonitoring: Prometheus (/-/ready, scrape targets), Alertmanager (/-/ready, cluster peers) and
/// Grafana (/api/health), from URLs or from the configuration's monitoring sections.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "PveMonitoring", DefaultParameterSetName = "Url")]
[OutputType("PveHealth.Model.CheckResult")]
public sealed class TestPveMonitoringCommand : CheckCmdletBase
{
    /// <summary>Prometheus base URL (http://host:9090).</summary>
    [Parameter(ParameterSetName = "Url")]
    [ValidateNotNullOrEmpty]
    public string? PrometheusUrl { get; set; }

    /// <summary>Grafana base URL (http://host:3000).</summary>
    [Parameter(ParameterSetName = "Url")]
    [ValidateNotNullOrEmpty]
    public string? GrafanaUrl { get; set; }

    /// <summary>Alertmanager base URL (http://host:9093).</summary>
    [Parameter(ParameterSetName = "Url")]
    [ValidateNotNullOrEmpty]
    public string? AlertmanagerUrl { get; set; }

    /// <summary>Do not verify TLS certificates (warned on every run).</summary>
    [Parameter(ParameterSetName = "Url")]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Configuration file; default $env:PVE_HEALTH_CONFIG, else /etc/pve-health/config.json.</summary>
    [Parameter(ParameterSetName = "Config")]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    /// <summary>Environments from the configuration (wildcards allowed); default the only one, or all.</summary>
    [Parameter(ParameterSetName = "Config", Position = 0)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string[]? Environment { get; set; }

    protected override void EndProcessing()
    {
        var parameters = RunParameters();
        var contexts = new List<EnvironmentContext>();
        var provider = new MonitoringCheckProvider();
        var units = new List<CheckUnit>();
        RunOptions options;
        if (ParameterSetName == "Url" && (PrometheusUrl ?? GrafanaUrl ?? AlertmanagerUrl) is not null)
        {
            options = RunPolicy.Options(null, parameters);
            var monitoring = new MonitoringConfig
            {
                Prometheus = Endpoint(nameof(PrometheusUrl), PrometheusUrl),
                Grafana = Endpoint(nameof(GrafanaUrl), GrafanaUrl),
                Alertmanager = Endpoint(nameof(AlertmanagerUrl), AlertmanagerUrl),
            };
            if (SkipCertificateCheck.IsPresent)
            {
                WriteWarning("-SkipCertificateCheck: TLS certificates of the monitoring endpoints are NOT verified; anyone on the path can impersonate them.");
            }
            var context = new EnvironmentContext(string.Empty, new EnvironmentConfig { Monitoring = monitoring }, options);
            contexts.Add(context);
            units.AddRange(provider.Create(context));
        }
        else
        {
            (contexts, options) = ServiceCmdletSupport.Load(this, ConfigPath, Environment, parameters);
            foreach (var context in contexts)
            {
                if (context.Config.Monitoring is not { } mon)
                {
                    WriteVerbose($"Environment {context.Name} has no monitoring section.");
                    continue;
                }
                foreach (var (name, ep) in new[] { ("prometheus", mon.Prometheus), ("grafana", mon.Grafana), ("alertmanager", mon.Alertmanager) })
                {
                    if (ep is { SkipCertificateCheck: true }) WriteWarning($"environments.{context.Name}.monitoring.{name}.skipCertificateCheck: the TLS certificate of {ep.Url} is NOT verified.");
                }
                units.AddRange(provider.Create(context));
            }
            if (units.Count == 0)
            {
                WriteError(ErrorRecordFactory.Create(EngineFailure.NoMonitoringConfigured, "no monitoring endpoint is configured in the selected environments: add a \"monitoring\" section or pass -PrometheusUrl, -GrafanaUrl, -AlertmanagerUrl.", ConfigPath));
            }
        }
        try
        {
            RunAndWrite(units, options);
        }
        finally
        {
            foreach (var context in contexts) context.Dispose();
        }
        WriteSummary();
    }

    private EndpointConfig? Endpoint(string parameter, string? url)
    {
        if (url is null) return null;
        if (ServiceCmdletSupport.HttpUrl(url) is null)
        {
            ThrowTerminatingError(ErrorRecordFactory.Create(EngineFailure.InvalidUrl, $"-{parameter}: expected an absolute http(s) URL, for example http://prometheus:9090; found '{url}'.", url));
        }
        return new EndpointConfig { Url = url, SkipCertificateCheck = SkipCertificateCheck.IsPresent };
    }
}
