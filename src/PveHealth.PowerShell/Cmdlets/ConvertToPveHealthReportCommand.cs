using System.Management.Automation;
using PveHealth.Metrics;
using PveHealth.Model;
using PveHealth.Reports;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// ConvertTo-PveHealthReport: the results on the pipeline as an HTML, Markdown or JSON report
/// (rendered by <see cref="HealthReport"/>); the text on the pipeline, or written to -Path.
/// </summary>
[Cmdlet(VerbsData.ConvertTo, "PveHealthReport")]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class ConvertToPveHealthReportCommand : PSCmdlet
{
    private readonly List<CheckResult> _results = new();

    /// <summary>Check results: live, deserialized or Import-Csv rows (read by property name).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, Position = 0)]
    [AllowEmptyCollection]
    [AllowNull]
    public PSObject[] InputObject { get; set; } = [];

    /// <summary>Html (default), Markdown or Json.</summary>
    [Parameter]
    [ValidateSet("Html", "Markdown", "Json", IgnoreCase = true)]
    public string Format { get; set; } = "Html";

    /// <summary>Writes the report to this file (atomically) and outputs the file instead of the text.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The report's title.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Title { get; set; } = "PveHealth report";

    protected override void ProcessRecord()
    {
        foreach (var input in InputObject ?? [])
        {
            if (input is null) continue;
            var result = ResultInput.Read(input, out var error);
            if (result is not null) _results.Add(result);
            else if (error is not null) WriteError(error);
        }
    }

    protected override void EndProcessing()
    {
        var format = Enum.Parse<ReportFormat>(Format, ignoreCase: true);
        var version = MyInvocation.MyCommand.Module?.Version?.ToString()
            ?? typeof(ConvertToPveHealthReportCommand).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        var text = HealthReport.Render(_results, format, new ReportOptions(Title, version, DateTimeOffset.UtcNow));
        if (string.IsNullOrEmpty(Path))
        {
            WriteObject(text);
            return;
        }
        var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        try
        {
            AtomicFileWriter.Write(path, text);
        }
        catch (MetricsExportException ex)
        {
            WriteError(ErrorRecordFactory.Create(EngineFailure.ReportWriteFailed, $"The report could not be written to {path}: {ex.Message}", path, ex));
            return;
        }
        WriteInformation($"Wrote a {format} report of {_results.Count} check results to {path}.", ["PveHealth", "Report"]);
        WriteObject(new FileInfo(path));
    }
}
