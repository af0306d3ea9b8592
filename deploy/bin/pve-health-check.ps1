#requires -Version 7.4
<#
.SYNOPSIS
    The scheduled PveHealth run: checks, exports the textfile metrics, prints a journal summary, exits by the worst status.
.DESCRIPTION
    What pve-health-check.service (the systemd timer) runs. Shipped with the module in <module>/bin/.
    1. Invoke-PveHealthCheck with the configuration (-ConfigPath, default $env:PVE_HEALTH_CONFIG, else /etc/pve-health/config.json)
       for -Environment, or -All (the default when no -Environment is given).
    2. Export-PveHealthMetrics to -MetricsPath (default $env:PVE_HEALTH_TEXTFILE, else
       /var/lib/prometheus/node-exporter/pve_health.prom); -NoMetrics skips it.
    3. Prints, in plain text (journald keeps it clean), a Nagios plugin first line with performance data:
         CRITICAL: 8 of 43 checks failed | ok=32 warning=0 critical=8 unknown=0 skipped=3 duration=4.7s
       then one line per Warning, Critical or Unknown result sorted by environment, component and check
       (CRITICAL lab/web-01 Vm Ping: no reply from 10.0.0.5), then where the metrics went; error records follow on stderr.
    4. Exits with the Nagios code of the worst status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. A configuration that
       cannot be used (missing, invalid, unknown environment) exits 3 with one line on stderr. A failed metrics export
       raises the exit code to 3 unless a check is already CRITICAL (2).
.EXAMPLE
    pwsh -NoProfile -NonInteractive -File /usr/local/share/powershell/Modules/PveHealth/bin/pve-health-check.ps1 -All
#>
[CmdletBinding(DefaultParameterSetName = 'All')]
param(
    [Parameter(ParameterSetName = 'Environment', Mandatory)]
    [string[]] $Environment,
    [Parameter(ParameterSetName = 'All')]
    [switch] $All,
    [string] $ConfigPath,
    [string] $ExclusionPath,
    [string] $MetricsPath,
    [switch] $NoMetrics,
    [ValidateRange(0.1, 3600)]
    [double] $TimeoutSec
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$PSStyle.OutputRendering = 'PlainText'
$ProgressPreference = 'SilentlyContinue'
$tag = 'pve-health-check'

function Write-Failure([string] $Message) {
    [Console]::Error.WriteLine("${tag}: UNKNOWN: $Message")
}

# The module beside this script (<module>/bin/..), else the one on PSModulePath.
$manifest = Join-Path (Split-Path $PSScriptRoot -Parent) 'PveHealth.psd1'
try {
    if (Test-Path -LiteralPath $manifest) { Import-Module $manifest -ErrorAction Stop } else { Import-Module PveHealth -ErrorAction Stop }
}
catch {
    Write-Failure "cannot load the PveHealth module: $($_.Exception.Message)"
    exit 3
}

$run = @{ InformationAction = 'Ignore'; ErrorVariable = 'runErrors'; ErrorAction = 'Continue' }
if ($PSCmdlet.ParameterSetName -eq 'Environment') { $run.Environment = $Environment } else { $run.All = $true }
if ($ConfigPath) { $run.ConfigPath = $ConfigPath }
if ($ExclusionPath) { $run.ExclusionPath = $ExclusionPath }
if ($PSBoundParameters.ContainsKey('TimeoutSec')) { $run.TimeoutSec = $TimeoutSec }

$clock = [Diagnostics.Stopwatch]::StartNew()
$runErrors = $null
try {
    $results = @(Invoke-PveHealthCheck @run)
}
catch {
    # Terminating errors: bad configuration, unknown environment, unreadable exclusions.
    $message = if ($_.ErrorDetails -and $_.ErrorDetails.Message) { $_.ErrorDetails.Message } else { $_.Exception.Message }
    Write-Failure (($message -split "`r?`n" | Where-Object { $_.Trim() }) -join ' ')
    exit 3
}
# Error records go to stderr after the summary, so stdout's first line is always the status line.
$diagnostics = [System.Collections.Generic.List[string]]::new()
foreach ($e in @($runErrors)) {
    if ($e) { $diagnostics.Add("${tag}: $($e.FullyQualifiedErrorId.Split(',')[0]): $($e.ToString())") }
}

$exportFailed = $false
$metricsNote = 'metrics not exported (-NoMetrics)'
if (-not $NoMetrics) {
    if (-not $MetricsPath) {
        $MetricsPath = if ($env:PVE_HEALTH_TEXTFILE) { $env:PVE_HEALTH_TEXTFILE } else { '/var/lib/prometheus/node-exporter/pve_health.prom' }
    }
    $exportErrors = $null
    $results | Export-PveHealthMetrics -Path $MetricsPath -ErrorVariable exportErrors -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
    if ($exportErrors) {
        $exportFailed = $true
        foreach ($e in $exportErrors) { $diagnostics.Add("${tag}: $($e.FullyQualifiedErrorId.Split(',')[0]): $($e.ToString())") }
        $metricsNote = "metrics NOT written to $MetricsPath"
    }
    else {
        $metricsNote = "metrics written to $MetricsPath"
    }
}

$names = 'Ok', 'Warning', 'Critical', 'Unknown', 'Skipped'
$counts = [ordered]@{}
foreach ($n in $names) { $counts[$n] = 0 }
$failures = [System.Collections.Generic.List[object]]::new()
foreach ($r in $results) {
    $status = $r.Status.ToString()
    $counts[$status]++
    if ($status -in 'Warning', 'Critical', 'Unknown') { $failures.Add($r) }
}

# Nagios code of the worst status: the module's one rule (CheckStatusExtensions.ExitCode over NagiosCode; Skipped counts as Ok).
$code = [PveHealth.Model.CheckStatusExtensions]::ExitCode([PveHealth.Model.CheckStatus[]]@($results | ForEach-Object Status))
if ($exportFailed -and $code -ne 2) { $code = 3 }
$worst = @('OK', 'WARNING', 'CRITICAL', 'UNKNOWN')[$code]

# First line, Nagios plugin style: status text | performance data (invariant culture: always "4.7s", never "4,7s").
$invariant = [Globalization.CultureInfo]::InvariantCulture
$text = '{0}: {1} of {2} checks failed' -f $worst, $failures.Count, $results.Count
if ($exportFailed) { $text += "; metrics NOT written to $MetricsPath" }
$perf = (($names | ForEach-Object { '{0}={1}' -f $_.ToLowerInvariant(), $counts[$_] }) + ('duration=' + $clock.Elapsed.TotalSeconds.ToString('0.0', $invariant) + 's')) -join ' '
Write-Output "$text | $perf"

# Then the failures in a stable order (ordinal, so the same faults print the same way in every run and culture):
# environment, component, check, then type and detail to break ties.
$key = { param($r) ($r.Environment, $r.Component, $r.Check, $r.Type.ToString(), $r.Detail) -join [char]0 }
$sorted = [System.Linq.Enumerable]::ToArray([System.Linq.Enumerable]::OrderBy($failures, [Func[object, string]]{ param($r) & $key $r }, [StringComparer]::Ordinal))
foreach ($r in $sorted) {
    $where = if ($r.Environment) { "$($r.Environment)/$($r.Component)" } else { $r.Component }
    Write-Output ('{0} {1} {2} {3}: {4}' -f $r.Status.ToString().ToUpperInvariant(), $where, $r.Type, $r.Check, $r.Detail)
}
Write-Output "${tag}: $metricsNote"
foreach ($line in $diagnostics) { [Console]::Error.WriteLine($line) }
exit $code
