# Node and service health (the NodeHealth group) against the lab's Proxmox simulator, scripted with the issue-16 cases
# (tests/Lab/ProxmoxSimulator/NodeHealthRoutes.cs): a node certificate expiring in 5 days, a DEGRADED pool with a
# FAULTED vdev, a FAILED! disk, an SSD at 8 % life, an HA service in error, Ceph HEALTH_WARN (absent on lab-b), a node
# running an older kernel than installed, a Proxmox API certificate inside the Warning window.
# Runs as root inside a network namespace (the lab); in loopback mode otherwise.

BeforeDiscovery {
    $script:LabSkipReason = $null
    if (-not $IsLinux) { $script:LabSkipReason = 'the lab needs Linux' }
    elseif ((& id -u) -ne '0') { $script:LabSkipReason = 'the lab needs root to create a network namespace (ip netns add); run the tests as root' }
    elseif (-not (Test-Path /usr/sbin/sshd)) { $script:LabSkipReason = 'openssh-server is not installed (tools/install-prerequisites.sh)' }
    if ($script:LabSkipReason) { Write-Warning "Node health lab tests skipped: $script:LabSkipReason" }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Lab/PveLab.psm1') -Force
    $script:ModulePath = Get-PveHealthModulePath

    function Invoke-LabRun {
        param($Lab, [string[]] $Component = @('NodeHealth'), [int] $TimeoutSec = 5)
        $null = Invoke-PveLabApi -Lab $Lab -Path '/_lab/reset-counters' -Method POST -Token 'none' -Headers @{ 'X-Lab-Control' = $Lab.ControlToken } -Body '{}'
        $run = Invoke-InPveLab $Lab -ModulePath $script:ModulePath -ArgumentList ($Component -join ','), $TimeoutSec {
            param([string] $Component, $TimeoutSec)
            $sw = [Diagnostics.Stopwatch]::StartNew()
            # Status as its name (Export-Clixml would carry the enum as a number).
            $results = @(Invoke-PveHealthCheck -All -ConfigPath $Lab.ConfigPath -Component ($Component -split ',') -TimeoutSec $TimeoutSec -InformationAction Ignore |
                ForEach-Object { [pscustomobject]@{ Environment = $_.Environment; Component = $_.Component; Type = $_.Type; Check = $_.Check; Status = "$($_.Status)"; Detail = $_.Detail; Expiry = @($_.Measurements | Where-Object Name -eq 'pve_health_certificate_expiry_seconds' | ForEach-Object Value) } })
            [pscustomobject]@{ Results = $results; Seconds = $sw.Elapsed.TotalSeconds }
        }
        $state = Get-PveLabState $Lab
        $requests = 0
        foreach ($p in $state.requests.PSObject.Properties) { $requests += [int]$p.Value }
        [pscustomobject]@{ Results = @($run.Results); Seconds = $run.Seconds; Requests = $requests; RequestList = $state.requests }
    }
    function Find-Row {
        param($Results, [string] $Environment = 'lab', [string] $Component, [string] $Check)
        @($Results | Where-Object { $_.Environment -eq $Environment -and $_.Component -eq $Component -and $_.Check -eq $Check })
    }
}

Describe 'NodeHealth against the lab: every scripted case' -Tag 'Lab', 'NodeHealth' -Skip:([bool]$script:LabSkipReason) {
    BeforeAll {
        $script:lab = Start-PveLab -GuestCount 6 -NoStack -SecondEnvironment
        $script:run = Invoke-LabRun $lab
        $script:results = $run.Results
        $table = ($results | Sort-Object Environment, Check, Component | Format-Table Environment, Component, Type, Check, Status, Detail -AutoSize | Out-String -Width 250)
        Write-Host "NodeHealth rows ($([math]::Round($run.Seconds, 2)) s in Invoke-PveHealthCheck, $($run.Requests) API requests):`n$table"
        Write-Host "Requests: $(($run.RequestList.PSObject.Properties | ForEach-Object { "$($_.Name) x$($_.Value)" }) -join '; ')"
    }
    AfterAll {
        if ($script:lab) { Stop-PveLab $script:lab }
    }

    It 'node certificate expiring in 5 days: pve1/pveproxy-ssl.pem Critical naming the date and the renewal' {
        $r = Find-Row $results -Component 'pve1/pveproxy-ssl.pem' -Check 'NodeCertificate'
        $r.Count | Should -Be 1
        $r[0].Status | Should -Be 'Critical'
        $r[0].Type | Should -Be 'Certificate'
        $r[0].Detail | Should -BeLike 'pveproxy-ssl.pem (/CN=pve1.lab.invalid) expires in 4 days*, on 20*UTC (Critical under 7 days): renew*'
        @($r[0].Expiry).Count | Should -Be 1
        ($r[0].Expiry[0] - [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()) / 86400 | Should -BeGreaterThan 4.9
    }

    It 'the other node certificates are Ok, one row per node and file' {
        foreach ($c in 'pve1/pve-root-ca.pem', 'pve1/pve-ssl.pem', 'pve2/pve-root-ca.pem', 'pve2/pve-ssl.pem') {
            $r = Find-Row $results -Component $c -Check 'NodeCertificate'
            $r.Count | Should -Be 1 -Because $c
            $r[0].Status | Should -Be 'Ok' -Because $c
        }
        @(Find-Row $results -Environment 'lab-b' -Component 'pve1/pve-ssl.pem' -Check 'NodeCertificate')[0].Status | Should -Be 'Ok'
    }

    It 'asks each node once per kind' {
        foreach ($n in 'pve1', 'pve2') {
            $run.RequestList."GET /nodes/$n/certificates/info" | Should -Be 2 -Because 'one request per node for each of the two environments'
        }
    }
}
