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
    3. Prints one plain line per Warning, Critical or Unknown result (skipped checks are only counted) and a final count
       line; no colour, so journald keeps clean text.
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
foreach ($e in @($runErrors)) {
    if ($e) { [Console]::Error.WriteLine("${tag}: $($e.FullyQualifiedErrorId.Split(',')[0]): $($e.ToString())") }
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
        foreach ($e in $exportErrors) { [Console]::Error.WriteLine("${tag}: $($e.FullyQualifiedErrorId.Split(',')[0]): $($e.ToString())") }
        $metricsNote = "metrics NOT written to $MetricsPath"
    }
    else {
        $metricsNote = "metrics written to $MetricsPath"
    }
}

$names = 'Ok', 'Warning', 'Critical', 'Unknown', 'Skipped'
$counts = [ordered]@{}
foreach ($n in $names) { $counts[$n] = 0 }
foreach ($r in $results) {
    $status = $r.Status.ToString()
    $counts[$status]++
    if ($status -in 'Warning', 'Critical', 'Unknown') {
        $where = if ($r.Environment) { "$($r.Environment)/$($r.Component)" } else { $r.Component }
        Write-Output ("{0} {1} {2} {3}: {4}" -f $status.ToUpperInvariant(), $where, $r.Type, $r.Check, $r.Detail)
    }
}

# Nagios code of the worst status: the module's one rule (CheckStatusExtensions.ExitCode; Skipped counts as Ok).
$code = [PveHealth.Model.CheckStatusExtensions]::ExitCode([PveHealth.Model.CheckStatus[]]@($results | ForEach-Object Status))
if ($exportFailed -and $code -ne 2) { $code = 3 }
$worst = @('OK', 'WARNING', 'CRITICAL', 'UNKNOWN')[$code]
$parts = ($names | ForEach-Object { "$($counts[$_]) $($_.ToLowerInvariant())" }) -join ', '
Write-Output ("{0}: {1}: {2} checks: {3} in {4:0.0} s; {5}" -f $tag, $worst, $results.Count, $parts, $clock.Elapsed.TotalSeconds, $metricsNote)
exit $code
