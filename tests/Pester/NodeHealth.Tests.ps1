# Node and service health (the NodeHealth group) against the lab's Proxmox simulator, scripted with the issue-16 cases
# (tests/Lab/ProxmoxSimulator/NodeHealthRoutes.cs): a node certificate expiring in 5 days, a DEGRADED pool with a
# FAULTED vdev, a FAILED! disk, an SSD at 8 % life, an HA service in error, Ceph HEALTH_WARN (absent on lab-b), a node
# running an older kernel than installed, a Proxmox API certificate inside the Warning window.
# Runs as root inside a network namespace (the lab); in loopback mode otherwise.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:LabSkipReason = Get-LabSkipReason -Suite 'Node health lab tests' -Tool /usr/sbin/sshd
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
        # Warm the simulator up (its first answers pay the JIT), then a generous per-check timeout: on a loaded
        # machine the verdicts must not turn into timeouts.
        foreach ($p in '/api2/json/cluster/status', '/api2/json/nodes/pve1/disks/list', '/api2/json/cluster/ceph/status') { $null = Invoke-PveLabApi -Lab $lab -Path $p }
        $script:run = Invoke-LabRun $lab -TimeoutSec 30
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

    It '<Component> <Check> is <Status>' -ForEach @(
        @{ Env = 'lab'; Component = 'pve2/tank'; Check = 'Zfs'; Status = 'Critical'; Detail = 'pool tank DEGRADED: vdev /dev/disk/by-id/ata-ST4000NM0035-1V4107_ZC1B2C3G-part1 FAULTED (read 3, write 41, cksum 12) too many errors; action: Replace the faulted device*' }
        @{ Env = 'lab'; Component = 'pve1/rpool'; Check = 'Zfs'; Status = 'Ok'; Detail = 'pool rpool ONLINE*' }
        @{ Env = 'lab'; Component = 'pve1/sdb'; Check = 'Disks'; Status = 'Critical'; Detail = '/dev/sdb ST4000NM0035-1V4107 (serial ZC1B2C3D): SMART health FAILED!: replace the disk' }
        @{ Env = 'lab'; Component = 'pve2/nvme0n1'; Check = 'Disks'; Status = 'Warning'; Detail = '/dev/nvme0n1 Samsung SSD 980 PRO 1TB (serial S5GXNX0T200002): only 8% SSD life remaining (Warning under 10%)*' }
        @{ Env = 'lab'; Component = 'pve1/sda'; Check = 'Disks'; Status = 'Ok'; Detail = '*SMART PASSED, 96% life remaining' }
        @{ Env = 'lab'; Component = 'vm:101'; Check = 'Ha'; Status = 'Critical'; Detail = 'HA service vm:101 on pve1 is in error, requested started:*' }
        @{ Env = 'lab'; Component = 'vm:102'; Check = 'Ha'; Status = 'Ok'; Detail = 'HA service vm:102 on pve2 is started*' }
        @{ Env = 'lab'; Component = 'ceph'; Check = 'Ceph'; Status = 'Warning'; Detail = 'HEALTH_WARN: OSD_NEARFULL 1 nearfull osd(s); POOL_NEARFULL 2 pool(s) nearfull' }
        @{ Env = 'lab-b'; Component = 'ceph'; Check = 'Ceph'; Status = 'Skipped'; Detail = 'Ceph is not installed on this cluster' }
        @{ Env = 'lab'; Component = 'pve1'; Check = 'Kernel'; Status = 'Warning'; Detail = 'running kernel 6.8.12-2-pve is older than the newest installed 6.8.12-4-pve: reboot*' }
        @{ Env = 'lab'; Component = 'pve2'; Check = 'Kernel'; Status = 'Ok'; Detail = 'running the newest installed kernel 6.8.12-4-pve' }
        @{ Env = 'lab'; Component = 'updates'; Check = 'Updates'; Status = 'Skipped'; Detail = '*needs Sys.Modify*' }
    ) {
        $r = Find-Row $results -Environment $Env -Component $Component -Check $Check
        $r.Count | Should -Be 1
        $r[0].Status | Should -Be $Status
        $r[0].Detail | Should -BeLike $Detail
    }

    It 'lab-b (no HA configured) has no HA service rows, and no Updates rows where the token lacks Sys.Modify' {
        @($results | Where-Object { $_.Environment -eq 'lab-b' -and $_.Check -eq 'Ha' -and $_.Status -ne 'Skipped' }).Count | Should -Be 0
        @($results | Where-Object { $_.Check -eq 'Updates' -and $_.Status -ne 'Skipped' }).Count | Should -Be 0
    }

    It 'the Proxmox API certificate (the simulator serves one with 20 days left) is a TlsCertificate Warning from the existing handshake' {
        $cluster = Invoke-LabRun $lab -Component 'Cluster' -TimeoutSec 30
        foreach ($e in 'lab', 'lab-b') {
            $r = Find-Row $cluster.Results -Environment $e -Component 'proxmox-api' -Check 'TlsCertificate'
            $r.Count | Should -Be 1 -Because $e
            $r[0].Type | Should -Be 'Proxmox'
            $r[0].Status | Should -Be 'Warning' -Because $r[0].Detail
            $r[0].Detail | Should -BeLike '127.0.0.1:* presents * (SHA-256 *): expires in 19 days *, on 20* UTC (Warning under 30 days)'
            @($r[0].Expiry).Count | Should -Be 1
            ($r[0].Expiry[0] - [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()) / 86400 | Should -BeGreaterThan 19.5
        }
        # No extra request: the Cluster group asks /cluster/status once per environment, and nothing else.
        $cluster.RequestList.'GET /cluster/status' | Should -Be 2
        $cluster.Requests | Should -Be 2
    }

    It 'the dashboard''s node health, recovery, certificate and capacity panels return this lab run''s rows through node_exporter and Prometheus' {
        $textfiles = (New-Item -ItemType Directory -Force (Join-Path $lab.Root 'textfile')).FullName
        $null = Invoke-InPveLab $lab -ModulePath $script:ModulePath -TimeoutSec 300 -ArgumentList (Join-Path $textfiles 'pve_health.prom') {
            param([string] $File)
            Invoke-PveHealthCheck -All -ConfigPath $Lab.ConfigPath -Component NodeHealth, Cluster, Storage, Backups -TimeoutSec 30 -InformationAction Ignore |
                Export-PveHealthMetrics -Path $File
        }
        $prom = Start-TestPrometheus -Folder (Join-Path $lab.Root 'prometheus') -TextfileDirectory $textfiles
        try {
            Wait-TestPrometheus $prom 'pve_health_check_status{check="Zfs"}' | Should -BeTrue -Because 'Prometheus scrapes the lab run''s textfile'
            $dashboard = Join-Path $PSScriptRoot '../../deploy/grafana/health-overview.json'
            $rows = @{}
            foreach ($title in 'Storage capacity', 'Certificates: days until expiry', 'Node health (current)', 'Recovery (current)', 'Backups: hours since the last good backup') {
                $q = @(Get-DashboardQuery $dashboard -Title $title)
                $q.Count | Should -Be 1 -Because "the dashboard has the panel '$title'"
                $r = Invoke-TestPromQuery $prom $q[0].Expr -Range:$q[0].Range
                $r.status | Should -Be 'success'
                @($r.data.result).Count | Should -BeGreaterThan 0 -Because "panel '$title' ($($q[0].Expr)) must return the lab's data"
                $rows[$title] = @($r.data.result)
            }
            # The scripted cases are what the panels show (status 2 = Critical, 1 = Warning).
            $zfs = @($rows['Node health (current)'] | Where-Object { $_.metric.environment -eq 'lab' -and $_.metric.component -eq 'pve2/tank' -and $_.metric.check -eq 'Zfs' })
            [double]$zfs[0].value[1] | Should -Be 2
            $api = @($rows['Certificates: days until expiry'] | Where-Object { $_.metric.environment -eq 'lab' -and $_.metric.component -eq 'proxmox-api' -and $_.metric.check -eq 'TlsCertificate' })
            [double]$api[0].value[1] | Should -BeGreaterThan 19.5
            [double]$api[0].value[1] | Should -BeLessThan 20.1
            $full = @($rows['Recovery (current)'] | Where-Object { $_.metric.environment -eq 'lab' -and $_.metric.component -eq 'pve1/local-lvm' -and $_.metric.check -eq 'Usage' })
            [double]$full[0].value[1] | Should -Be 2
            $stale = @($rows['Backups: hours since the last good backup'] | Where-Object { $_.metric.guest -eq 'db-01' })
            [double]$stale[0].value[1] | Should -BeGreaterThan 50
            @($rows['Storage capacity'] | Where-Object { $_.metric.environment -eq 'lab' -and $_.metric.storage -eq 'local-lvm' -and $_.metric.node -eq 'pve1' }).Count | Should -Be 1
        }
        finally { Stop-TestPrometheus $prom }
    }

    It 'asks each node once per kind' {
        foreach ($n in 'pve1', 'pve2') {
            $run.RequestList."GET /nodes/$n/certificates/info" | Should -Be 2 -Because 'one request per node for each of the two environments'
        }
    }
}
