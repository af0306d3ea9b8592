using System.Management.Automation;
using PveHealth.Metrics;
using PveHealth.Model;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// Export-PveHealthMetrics: writes the results on the pipeline as a node_exporter textfile
/// (Invoke-PveHealthCheck | Export-PveHealthMetrics -Path ...), atomically (temp file + rename).
/// The series and their rules are described on <see cref="PrometheusTextWriter"/>.
/// </summary>
[Cmdlet(VerbsData.Export, "PveHealthMetrics", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType("PveHealth.Model.CheckResult")]
public sealed class ExportPveHealthMetricsCommand : PSCmdlet
{
    // CheckResult is an Engine reference type: allowed as a field (no Engine enums/structs here).
    private readonly List<CheckResult> _results = new();

    /// <summary>Check results, usually from the pipeline.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    [AllowEmptyCollection]
    public CheckResult[] InputObject { get; set; } = [];

    /// <summary>The textfile to write; default /var/lib/prometheus/node-exporter/pve_health.prom.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = PrometheusTextWriter.DefaultPath;

    /// <summary>Writes the results on to the pipeline as they arrive.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var result in InputObject)
        {
            if (result is null) continue;
            _results.Add(result);
            if (PassThru) WriteObject(result);
        }
    }

    protected override void EndProcessing()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (_results.Count == 0)
        {
            WriteWarning($"No check results on the input: {path} gets the metric families without samples, so HealthCheckStale fires.");
        }
        var text = PrometheusTextWriter.Render(_results);
        if (!ShouldProcess(path, $"Write {_results.Count} check results as Prometheus metrics"))
        {
            return;
        }
        try
        {
            AtomicFileWriter.Write(path, text);
            WriteVerbose($"Wrote {_results.Count} check results ({text.Length} characters) to {path}.");
        }
        catch (MetricsExportException ex)
        {
            WriteError(ErrorRecordFactory.From(ex, path));
        }
    }
}
