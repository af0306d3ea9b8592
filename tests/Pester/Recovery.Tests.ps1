# Recovery groups against the lab (tests/Lab/PveLab.psm1, routes in tests/Lab/ProxmoxSimulator/RecoveryRoutes.cs):
# Storage (and, as they land, Backups, Replication, Snapshots). Each scripted case of the simulator gets its row with
# the right status and detail; the requests per run are counted by the simulator. They need root (a network namespace).

BeforeDiscovery {
    $script:LabSkipReason = $null
    if (-not $IsLinux) { $script:LabSkipReason = 'the lab needs Linux network namespaces' }
    elseif ((& id -u) -ne '0') { $script:LabSkipReason = 'the lab needs root to create a network namespace (ip netns add); run the tests as root' }
    else {
        foreach ($tool in 'nft', 'ssh-keygen', 'curl', 'ip') {
            if (-not $script:LabSkipReason -and -not (Get-Command $tool -ErrorAction SilentlyContinue)) { $script:LabSkipReason = "$tool is not installed (tools/install-prerequisites.sh)" }
        }
        if (-not $script:LabSkipReason -and -not (Test-Path /usr/sbin/sshd)) { $script:LabSkipReason = 'openssh-server is not installed (tools/install-prerequisites.sh)' }
    }
    if ($script:LabSkipReason) { Write-Warning "Recovery lab tests skipped: $script:LabSkipReason" }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Lab/PveLab.psm1') -Force
    $script:ModulePath = Get-PveHealthModulePath

    function Reset-LabRequestCount {
        param($Lab)
        $r = Invoke-PveLabApi -Lab $Lab -Path '/_lab/reset-counters' -Method POST -Token 'none' -Headers @{ 'X-Lab-Control' = $Lab.ControlToken } -Body '{}'
        if ($r.Status -ne 200) { throw "reset-counters failed: $($r.Status)" }
    }
    function Get-LabRequests {
        param($Lab)
        $state = Get-PveLabState $Lab
        $map = [ordered]@{}
        foreach ($p in $state.requests.PSObject.Properties) { $map[$p.Name] = [int]$p.Value }
        $map
    }
    function Measure-Requests {
        param($Requests, [string] $Pattern)
        $n = 0
        foreach ($k in $Requests.Keys) { if ($k -like $Pattern) { $n += $Requests[$k] } }
        $n
    }
    # Results come back through Export-Clixml: the Status enum arrives as its number; give it its name again.
    function ConvertTo-PlainResult {
        param($Items)
        $names = 'Ok', 'Warning', 'Critical', 'Unknown', 'Skipped'
        foreach ($r in @($Items)) {
            if ($null -ne $r -and $r.PSObject.Properties['Check'] -and $r.PSObject.Properties['Status']) {
                $s = "$($r.Status)"
                [pscustomobject]@{ Environment = $r.Environment; Component = $r.Component; Type = $r.Type; Check = $r.Check
                    Status = $(if ($s -match '^\d$') { $names[[int]$s] } else { $s }); Detail = $r.Detail; Target = $r.Target }
            }
        }
    }
    function Invoke-LabRecoveryRun {
        param($Lab, [string[]] $Component)
        Reset-LabRequestCount $Lab
        $run = Invoke-InPveLab $Lab -ModulePath $script:ModulePath -TimeoutSec 600 -ArgumentList (, $Component) {
            param([string[]] $Component)
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $results = @(Invoke-PveHealthCheck -ConfigPath $Lab.ConfigPath -Component $Component -TimeoutSec 60 -InformationAction Ignore)
            $metrics = Join-Path $Lab.Root 'recovery.prom'
            $results | Export-PveHealthMetrics -Path $metrics
            [pscustomobject]@{ Results = $results; Seconds = $sw.Elapsed.TotalSeconds; Metrics = (Get-Content -Raw $metrics) }
        }
        [pscustomobject]@{ Results = @(ConvertTo-PlainResult $run.Results); Seconds = $run.Seconds; Metrics = $run.Metrics; Requests = (Get-LabRequests $Lab) }
    }
}

Describe 'Storage against the lab' -Tag 'Lab' -Skip:([bool]$script:LabSkipReason) {
    BeforeAll {
        $script:lab = Start-PveLab -GuestCount 6 -NoStack
        $script:run = Invoke-LabRecoveryRun $lab 'Storage'
        $script:results = $run.Results
        Write-Host "Storage run ($([math]::Round($run.Seconds, 2)) s, $((Measure-Requests $run.Requests '*')) requests):`n$(($results | Sort-Object Component | Format-Table Component, Type, Check, Status, Detail -AutoSize | Out-String -Width 220))"
    }
    AfterAll {
        if ($script:lab) { Stop-PveLab $script:lab }
    }

    It '<Component> is <Status>' -ForEach @(
        @{ Component = 'pve1/local-lvm'; Status = 'Critical'; Detail = '93 % used, over 90 % (186 GiB of 200 GiB, 14 GiB free); lvmthin' }
        @{ Component = 'pve2/local-lvm'; Status = 'Ok'; Detail = '51 % used (102 GiB of 200 GiB, 98 GiB free); lvmthin' }
        @{ Component = 'pve1/nfs-archive'; Status = 'Critical'; Detail = 'nfs storage nfs-archive is inactive or unreachable on node pve1 (active: 0)*' }
        @{ Component = 'pve2/nfs-archive'; Status = 'Critical'; Detail = '*inactive or unreachable on node pve2*' }
        @{ Component = 'pve1/local'; Status = 'Ok'; Detail = '41 % used*' }
        @{ Component = 'pve1/pbs'; Status = 'Ok'; Detail = '37.1 % used (760 GiB of 2 TiB, 1.3 TiB free); pbs, shared' }
    ) {
        $r = @($results | Where-Object { $_.Component -eq $Component -and $_.Check -eq 'Usage' })
        $r.Count | Should -Be 1
        $r[0].Type | Should -Be 'Storage'
        $r[0].Status | Should -Be $Status -Because $r[0].Detail
        $r[0].Detail | Should -BeLike $Detail
    }

    It 'reports every enabled storage of every node once and nothing else' {
        @($results).Count | Should -Be 8
        @($results | Select-Object -ExpandProperty Component -Unique).Count | Should -Be 8
    }

    It 'exports the capacity gauges Prometheus forecasts from' {
        $run.Metrics | Should -Match '(?m)^pve_health_storage_used_ratio\{environment="lab",node="pve1",storage="local-lvm"\} 0\.93\d*$'
        $run.Metrics | Should -Match '(?m)^pve_health_storage_active\{environment="lab",node="pve2",storage="nfs-archive"\} 0$'
        $run.Metrics | Should -Not -Match 'pve_health_storage_used_ratio\{[^}]*nfs-archive'
    }

    It 'makes one storage request per node (and the shared /cluster/status)' {
        Measure-Requests $run.Requests 'GET /nodes/*/storage' | Should -Be 2
        Measure-Requests $run.Requests '*' | Should -Be 3
    }
}
