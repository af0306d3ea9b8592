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

    private int _invalid;

    /// <summary>
    /// Check results, usually from the pipeline: live results, or results read back by property name
    /// (Import-Clixml, Receive-Job, a remote session, Import-Csv of an Export-Csv).
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    [AllowEmptyCollection]
    [AllowNull]
    public PSObject[] InputObject { get; set; } = [];

    /// <summary>The textfile to write; default /var/lib/prometheus/node-exporter/pve_health.prom.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = PrometheusTextWriter.DefaultPath;

    /// <summary>Writes the results on to the pipeline as they arrive.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var input in InputObject ?? [])
        {
            if (input is null) continue;
            var result = ResultInput.Read(input, out var error);
            if (result is null)
            {
                if (error is not null)
                {
                    _invalid++;
                    WriteError(error);
                }
                continue;
            }
            _results.Add(result);
            if (PassThru) WriteObject(input);
        }
    }

    protected override void EndProcessing()
    {
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (_results.Count == 0)
        {
            // An empty file would read as "no checks ran" and replace the last real run; leaving the file alone lets
            // HealthCheckStale fire only when runs really stop arriving.
            var why = _invalid > 0 ? $"none of the {_invalid} input objects was a usable check result" : "no check results on the input";
            WriteWarning(File.Exists(path)
                ? $"Nothing written: {why}; {path} keeps the previous run's metrics."
                : $"Nothing written: {why}; {path} was not created.");
            return;
        }
        var text = PrometheusTextWriter.Render(_results);
        if (!ShouldProcess(path, $"Write {_results.Count} check results as Prometheus metrics"))
        {
            return;
        }
        try
        {
            AtomicFileWriter.Write(path, text);
            var series = text.Split('\n').Count(line => line.Length > 0 && line[0] != '#');
            var skipped = _invalid > 0 ? $"; {_invalid} input objects were not check results" : string.Empty;
            WriteInformation($"Wrote {series} series for {_results.Count} check results to {path}{skipped}.", ["PveHealth", "Metrics"]);
        }
        catch (MetricsExportException ex)
        {
            WriteError(ErrorRecordFactory.From(ex, path));
        }
    }
}
