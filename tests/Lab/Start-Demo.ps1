<#
.SYNOPSIS
    The PveHealth demo: starts the local lab, runs the full health check against it and stops the lab.
.DESCRIPTION
    Called by `build.ps1 -Task Demo` after the build. Installs missing Debian packages when run as root
    (tools/install-prerequisites.sh; without root it prints what to install), starts the lab (tests/Lab/PveLab.psm1),
    runs `Invoke-PveHealthCheck -ConfigPath <lab config> -All` inside the lab's network namespace with the coloured
    table, writes pve_health.prom (when Export-PveHealthMetrics exists) to out/demo, prints the start-up and total
    times and stops the lab whatever happens. Critical rows are the lab's scripted failures: the demo still exits 0.
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
try {
    Write-Host "Starting the lab ($GuestCount guests)..."
    $lab = Start-PveLab -GuestCount $GuestCount
    if ($lab.Namespace) { Write-Host "Lab up in $($lab.StartupSeconds) s: network namespace $($lab.Namespace), Proxmox simulator $($lab.ProxmoxUrl), config $($lab.ConfigPath)" }
    else { Write-Host "Lab up in $($lab.StartupSeconds) s WITHOUT a network namespace: $($lab.Note)" }
    if (-not $lab.StackServices) { Write-Host 'Monitoring stack and MinIO side: not part of this lab version (tests/Support/StackServices.psm1 absent).' }

    $null = New-Item -ItemType Directory -Force -Path $OutputPath
    $prom = Join-Path $OutputPath 'pve_health.prom'
    Write-Host ''
    Write-Host "Invoke-PveHealthCheck -ConfigPath $($lab.ConfigPath) -All"
    $check = [Diagnostics.Stopwatch]::StartNew()
    Invoke-InPveLab -Lab $lab -ModulePath $ModulePath -NoCapture -ArgumentList @($prom) -ScriptBlock {
        param($Prom)
        $results = @(Invoke-PveHealthCheck -ConfigPath $Lab.ConfigPath -All)
        $results | Format-Table | Out-Host
        $counts = $results | Group-Object Status | ForEach-Object { "$($_.Count) $($_.Name)" }
        Write-Host "Results: $($results.Count) ($($counts -join ', '))"
        if (Get-Command Export-PveHealthMetrics -ErrorAction SilentlyContinue) {
            $results | Export-PveHealthMetrics -Path $Prom
            Write-Host "Metrics written to $Prom"
        }
        else { Write-Host 'Export-PveHealthMetrics is not in this module version: no pve_health.prom written.' }
    }
    Write-Host ("Health check: {0:n1} s" -f $check.Elapsed.TotalSeconds)
}
finally {
    if ($lab) {
        Stop-PveLab -Lab $lab
        Write-Host 'Lab stopped (processes ended, namespace deleted, temp folder removed).'
    }
    if ($lab) { Write-Host ("Start-up: {0:n1} s, total: {1:n1} s" -f $lab.StartupSeconds, $total.Elapsed.TotalSeconds) }
}
exit 0
