<#
.SYNOPSIS
    The PveHealth demo: starts the local lab, runs the full health check against it and stops the lab.
.DESCRIPTION
    Called by `build.ps1 -Task Demo` after the build. Installs missing Debian packages when run as root
    (tools/install-prerequisites.sh; without root it prints what to install), starts the lab (tests/Lab/PveLab.psm1),
    runs `Invoke-PveHealthCheck -ConfigPath <lab config> -All` inside the lab's network namespace with the coloured
    table (guests, Prometheus, Grafana, Alertmanager, MinIO and the Terraform state), writes pve_health.prom to out/demo,
    which is the textfile folder of the lab's node_exporter, shows that Prometheus scraped it, prints the start-up and
    total times and stops the lab whatever happens. Critical rows are the lab's scripted failures: the demo still exits 0.
.PARAMETER ModulePath
    The built module folder (out/PveHealth).
.PARAMETER GuestCount
    Guests in the lab (default 6).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [ValidateRange(1, 5000)] [int] $GuestCount = 6,
    [string] $OutputPath
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$total = [Diagnostics.Stopwatch]::StartNew()
$repo = Split-Path (Split-Path $PSScriptRoot)
if (-not $OutputPath) { $OutputPath = Join-Path $repo 'out/demo' }
$ModulePath = (Resolve-Path $ModulePath).Path

# 1. prerequisites
$prereq = Join-Path $repo 'tools/install-prerequisites.sh'
if ($IsLinux -and (Test-Path $prereq)) {
    Push-Location $repo
    try {
        & bash $prereq
        if ($LASTEXITCODE) { Write-Warning 'Some prerequisites are missing (see above); the demo continues with what is installed.' }
    }
    finally { Pop-Location }
}

Import-Module (Join-Path $PSScriptRoot 'PveLab.psm1') -Force
$lab = $null
$null = New-Item -ItemType Directory -Force -Path $OutputPath
$OutputPath = (Resolve-Path $OutputPath).Path
$prom = Join-Path $OutputPath 'pve_health.prom'
# A file from an earlier demo would be scraped before this run writes its own: start clean.
Remove-Item -LiteralPath $prom -ErrorAction SilentlyContinue
try {
    Write-Host "Starting the lab ($GuestCount guests, Proxmox simulator, Prometheus, node_exporter, 2 Alertmanagers, Grafana and MinIO stand-ins)..."
    # node_exporter's textfile folder is the demo's output folder: the pve_health.prom written below is what Prometheus scrapes.
    $lab = Start-PveLab -GuestCount $GuestCount -TextfileDirectory $OutputPath
    if ($lab.Namespace) { Write-Host "Lab up in $($lab.StartupSeconds) s: network namespace $($lab.Namespace), config $($lab.ConfigPath)" }
    else { Write-Host "Lab up in $($lab.StartupSeconds) s WITHOUT a network namespace: $($lab.Note)" }
    $m = $lab.Monitoring
    Write-Host "  Proxmox API $($lab.ProxmoxUrl) | Prometheus $($m.PrometheusUrl) | Alertmanager $($m.AlertmanagerUrl) | Grafana $($m.GrafanaUrl) | MinIO $($m.MinioUrl)"

    Write-Host ''
    Write-Host "Invoke-PveHealthCheck -ConfigPath $($lab.ConfigPath) -All"
    $check = [Diagnostics.Stopwatch]::StartNew()
    Invoke-InPveLab -Lab $lab -ModulePath $ModulePath -NoCapture -ArgumentList @($prom) -ScriptBlock {
        param($Prom)
        $results = @(Invoke-PveHealthCheck -ConfigPath $Lab.ConfigPath -All)
        # Redirected (CI logs, a pipe): no terminal width to fit, so the whole Detail column is kept.
        if ([Console]::IsOutputRedirected) { $results | Format-Table | Out-String -Width 250 | Out-Host } else { $results | Format-Table | Out-Host }
        $counts = $results | Group-Object Status | ForEach-Object { "$($_.Count) $($_.Name)" }
        Write-Host "Results: $($results.Count) ($($counts -join ', ')); types: $((@($results.Type | ForEach-Object { "$_" } | Select-Object -Unique)) -join ', ')"
        $results | Export-PveHealthMetrics -Path $Prom
        Write-Host "Metrics written to $Prom (Export-PveHealthMetrics; node_exporter's textfile folder in the lab)"
    }
    Write-Host ("Health check: {0:n1} s" -f $check.Elapsed.TotalSeconds)

    # The metrics reach Prometheus: node_exporter reads the file, Prometheus scrapes it every second (bounded wait).
    $query = [uri]::EscapeDataString('count(pve_health_check_success) or vector(0)')
    $failing = [uri]::EscapeDataString('count(pve_health_check_success == 0) or vector(0)')
    $seen = 0
    $deadline = [DateTime]::UtcNow.AddSeconds(15)
    while (-not $seen -and [DateTime]::UtcNow -lt $deadline) {
        $r = (Invoke-LabNative -Lab $lab -FilePath 'curl' -ArgumentList @('-sS', '--max-time', '3', "$($m.PrometheusUrl)/api/v1/query?query=$query") -AllowFailure) -join ''
        try { $seen = [int](($r | ConvertFrom-Json).data.result[0].value[1]) } catch { $seen = 0 }
        if (-not $seen) { Start-Sleep -Milliseconds 500 }
    }
    if ($seen) {
        $r = (Invoke-LabNative -Lab $lab -FilePath 'curl' -ArgumentList @('-sS', '--max-time', '3', "$($m.PrometheusUrl)/api/v1/query?query=$failing") -AllowFailure) -join ''
        $bad = try { [int](($r | ConvertFrom-Json).data.result[0].value[1]) } catch { '?' }
        Write-Host "Prometheus in the lab scraped them through node_exporter: $seen pve_health_check_success series, $bad of them 0 (InfraHealthCheckFailed goes pending)."
    }
    else { Write-Warning 'Prometheus in the lab did not show the pve_health_check_success series within 15 s.' }
}
finally {
    if ($lab) {
        Stop-PveLab -Lab $lab
        Write-Host 'Lab stopped (processes ended, namespace deleted, temp folder removed).'
    }
    if (Test-Path $prom) { Write-Host "pve_health.prom kept at $prom" }
    if ($lab) { Write-Host ("Start-up: {0:n1} s, total: {1:n1} s" -f $lab.StartupSeconds, $total.Elapsed.TotalSeconds) }
}
exit 0
