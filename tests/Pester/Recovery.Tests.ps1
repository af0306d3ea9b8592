# Recovery groups against the lab (tests/Lab/PveLab.psm1, routes in tests/Lab/ProxmoxSimulator/RecoveryRoutes.cs):
# Storage (and, as they land, Backups, Replication, Snapshots). Each scripted case of the simulator gets its row with
# the right status and detail; the requests per run are counted by the simulator. They need root (a network namespace).

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:LabSkipReason = Get-LabSkipReason -Suite 'Recovery lab tests' -Tool nft, ssh-keygen, curl, ip, /usr/sbin/sshd
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Lab/PveLab.psm1') -Force
    $script:ModulePath = Get-PveHealthModulePath

    function Measure-Requests {
        param($Requests, [string] $Pattern)
        $n = 0
        foreach ($k in $Requests.Keys) { if ($k -like $Pattern) { $n += $Requests[$k] } }
        $n
    }
    function Invoke-LabRecoveryRun {
        param($Lab, [string[]] $Component, [double] $TimeoutSec = 60)
        Reset-PveLabRequestCount $Lab
        $run = Invoke-InPveLab $Lab -ModulePath $script:ModulePath -TimeoutSec 600 -ArgumentList $Component, $TimeoutSec {
            param([string[]] $Component, [double] $TimeoutSec)
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $results = @(Invoke-PveHealthCheck -ConfigPath $Lab.ConfigPath -Component $Component -TimeoutSec $TimeoutSec -InformationAction Ignore)
            $metrics = Join-Path $Lab.Root 'recovery.prom'
            $results | Export-PveHealthMetrics -Path $metrics
            # Status by name (through Export-Clixml an enum arrives as its number).
            $plain = @($results | Select-Object Environment, Component, Type, Check, @{ n = 'Status'; e = { $_.Status.ToString() } }, Detail, Target)
            [pscustomobject]@{ Results = $plain; Seconds = $sw.Elapsed.TotalSeconds; Metrics = (Get-Content -Raw $metrics) }
        }
        [pscustomobject]@{ Results = @($run.Results); Seconds = $run.Seconds; Metrics = $run.Metrics; Requests = (Get-PveLabRequestCount $Lab) }
    }
    function Set-LabRecovery {
        <# The simulator's recovery knobs: backupVisible (false: a PVEAuditor token), snapshotDelayMs. #>
        param($Lab, [hashtable] $Settings)
        $r = Invoke-PveLabApi -Lab $Lab -Path '/_lab/recovery' -Method POST -Token 'none' -Headers @{ 'X-Lab-Control' = $Lab.ControlToken } -Body ($Settings | ConvertTo-Json -Compress)
        if ($r.Status -ne 200) { throw "lab: /_lab/recovery failed: $($r.Status) $($r.Raw)" }
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

Describe 'Backups against the lab' -Tag 'Lab' -Skip:([bool]$script:LabSkipReason) {
    BeforeAll {
        $script:lab = Start-PveLab -GuestCount 6 -NoStack
        $script:run = Invoke-LabRecoveryRun $lab 'Backups'
        $script:results = $run.Results
        Write-Host "Backups run ($([math]::Round($run.Seconds, 2)) s, $((Measure-Requests $run.Requests '*')) requests):`n$(($results | Sort-Object Component, Check | Format-Table Component, Type, Check, Status, Detail -AutoSize | Out-String -Width 260))"
        Write-Host ($run.Requests | Out-String)
    }
    AfterAll {
        if ($script:lab) { Stop-PveLab $script:lab }
    }

    It '<Component> <Check> is <Status>' -ForEach @(
        @{ Component = 'web-01'; Check = 'Coverage'; Status = 'Ok'; Detail = 'in backup job backup-daily (schedule 21:00, storage pbs)' }
        @{ Component = 'web-01'; Check = 'BackupAge'; Status = 'Ok'; Detail = 'last good backup 20 h ago (pbs:backup/vm/101/*Z, 3 GiB)' }
        @{ Component = 'ci-01'; Check = 'Coverage'; Status = 'Critical'; Detail = 'VMID 106 is in no backup job (/cluster/backup-info/not-backed-up): add it to a job or exclude it' }
        @{ Component = 'ci-01'; Check = 'BackupAge'; Status = 'Skipped'; Detail = 'not in an enabled backup job*' }
        @{ Component = 'cache-01'; Check = 'Coverage'; Status = 'Critical'; Detail = 'only in disabled backup job backup-old: enable it or add VMID 105 to an enabled job' }
        @{ Component = 'db-01'; Check = 'BackupAge'; Status = 'Critical'; Detail = 'last good backup 60 h ago, older than 50 h (pbs:backup/vm/103/*)' }
        @{ Component = 'web-02'; Check = 'BackupTask'; Status = 'Critical'; Detail = "vzdump on pve2 at * failed for VMID 102: ERROR: Backup of VM 102 failed - VM 102 qmp command 'backup' failed - got timeout" }
        @{ Component = 'web-02'; Check = 'BackupAge'; Status = 'Warning'; Detail = 'last good backup 44 h ago, older than 26 h (pbs:backup/vm/102/*)' }
        @{ Component = 'app-01'; Check = 'BackupAge'; Status = 'Warning'; Detail = 'newest backup pbs:backup/ct/104/* failed verification; last good backup 44 h ago, older than 26 h*' }
        @{ Component = 'app-01'; Check = 'Coverage'; Status = 'Ok' }
    ) {
        $r = @($results | Where-Object { $_.Component -eq $Component -and $_.Check -eq $Check })
        $r.Count | Should -Be 1
        $r[0].Status | Should -Be $Status -Because $r[0].Detail
        if ($Detail) { $r[0].Detail | Should -BeLike $Detail }
    }

    It 'gives guests that are not declared or no longer exist no rows (template, restricted guest, deleted VMID 150)' {
        @($results | Where-Object Component -notin 'web-01', 'web-02', 'db-01', 'app-01', 'cache-01', 'ci-01').Count | Should -Be 0
        @($results | Where-Object Check -eq 'BackupTask').Component | Should -Be @('web-02')
    }

    It 'exports the time of each guest''s last good backup' {
        $run.Metrics | Should -Match '(?m)^pve_health_backup_last_timestamp_seconds\{environment="lab",guest="db-01",vmid="103"\} \d+$'
    }

    It 'costs one content listing per backup storage, one task listing per node and one log for the failed multi-guest run' {
        Measure-Requests $run.Requests 'GET /nodes/*/storage/*/content*' | Should -Be 3   # pbs (shared, once) + local on each node; nfs-archive is inactive
        Measure-Requests $run.Requests 'GET /nodes/*/tasks[?]*' | Should -Be 2
        Measure-Requests $run.Requests 'GET /nodes/*/tasks/*/log*' | Should -Be 1
        Measure-Requests $run.Requests 'GET /nodes/*/storage' | Should -Be 2
        (Measure-Requests $run.Requests '*') | Should -Be 12
        @($run.Requests.Keys | Where-Object { $_ -like '*tasks[?]*' }) | ForEach-Object { $_ | Should -Match 'typefilter=vzdump&since=\d+&limit=1000' }
    }

    It 'Replication and Snapshots: <Component> <Check> is <Status>' -ForEach @(
        @{ Component = '101-0'; Check = 'Sync'; Status = 'Critical'; Detail = "web-01 (VMID 101) pve1 → pve2: failing (3 failures in a row); last sync 4 h ago; last error: command 'zfs recv' failed: exit code 1 - cannot receive incremental stream: destination rpool/data has been modified" }
        @{ Component = '103-0'; Check = 'Sync'; Status = 'Ok'; Detail = 'db-01 (VMID 103) pve1 → pve2: last sync * min ago (schedule */15)' }
        @{ Component = 'web-01'; Check = 'Snapshot'; Status = 'Warning'; Detail = 'snapshot older than 30 d: before-upgrade (45 d)' }
        @{ Component = 'app-01'; Check = 'Snapshot'; Status = 'Warning'; Detail = 'unfinished snapshot operation on nightly-test (snapstate prepare)*' }
        @{ Component = 'db-01'; Check = 'Snapshot'; Status = 'Ok'; Detail = 'no snapshots' }
    ) {
        if (-not $script:other) { $script:other = Invoke-LabRecoveryRun $lab 'Replication', 'Snapshots' }
        $r = @($other.Results | Where-Object { $_.Component -eq $Component -and $_.Check -eq $Check })
        $r.Count | Should -Be 1
        $r[0].Status | Should -Be $Status -Because $r[0].Detail
        $r[0].Detail | Should -BeLike $Detail
    }

    It 'Replication: one listing per node; Snapshots: one request per declared guest (6)' {
        Measure-Requests $other.Requests 'GET /nodes/*/replication' | Should -Be 2
        Measure-Requests $other.Requests 'GET /nodes/*/snapshot' | Should -Be 6
        $other.Metrics | Should -Match '(?m)^pve_health_replication_last_sync_timestamp_seconds\{environment="lab",job="101-0",target="pve2"\} \d+$'
    }

    It 'with a token that cannot see backup volumes (PVEAuditor) says Unknown with the privilege, never "no backup"' {
        Set-LabRecovery $lab @{ backupVisible = $false }
        try {
            $blind = Invoke-LabRecoveryRun $lab 'Backups'
        }
        finally { Set-LabRecovery $lab @{ backupVisible = $true } }
        $ages = @($blind.Results | Where-Object Check -eq 'BackupAge' | Where-Object Status -ne 'Skipped')
        $ages.Count | Should -Be 4
        foreach ($r in $ages) {
            $r.Status | Should -Be 'Unknown' -Because $r.Detail
            $r.Detail | Should -BeLike 'no backup volume is visible in 3 backup storages although 1 enabled backup job exists and vzdump runs succeeded: the API token cannot see backup volumes: grant Datastore.Allocate*VM.Backup*'
        }
        @($blind.Results | Where-Object { $_.Status -eq 'Critical' -and $_.Check -eq 'BackupAge' }).Count | Should -Be 0
    }
}

Describe 'Recovery groups at 10 and 100 guests: requests grow with nodes and storages, not guests' -Tag 'Lab' -Skip:([bool]$script:LabSkipReason) {
    BeforeAll {
        # The request map of a run with the per-guest snapshot requests taken out; "since=<time>" and the task's UPID
        # (both from the simulator's clock) made comparable between two labs.
        function Get-FixedCostRequests {
            param($Requests)
            $map = [ordered]@{}
            foreach ($k in $Requests.Keys | Sort-Object) {
                if ($k -match '^GET /nodes/[^/]+/(qemu|lxc)/\d+/snapshot$') { continue }
                $map[($k -replace 'since=\d+', 'since=T' -replace '/tasks/UPID:[^/]+/log', '/tasks/UPID/log')] = $Requests[$k]
            }
            $map
        }
        $script:sizes = @{}
        foreach ($n in 10, 100) {
            $lab = Start-PveLab -GuestCount $n -NoStack
            try {
                $run = Invoke-LabRecoveryRun $lab 'Storage', 'Backups', 'Replication', 'Snapshots'
                $size = [pscustomobject]@{
                    N = $n; Guests = @($lab.Guests); Run = $run; Fixed = (Get-FixedCostRequests $run.Requests)
                    Snapshot = [ordered]@{}; Offline = $null; LabSeconds = $lab.StartupSeconds
                }
                foreach ($k in $run.Requests.Keys) { if ($k -match '^GET /nodes/[^/]+/(qemu|lxc)/\d+/snapshot$') { $size.Snapshot[$k] = $run.Requests[$k] } }
                if ($n -eq 100) {
                    # A slow node: 100 snapshot lists, 8 at a time, 400 ms each (at least 5 s): more than one -TimeoutSec 2,
                    # within the sweep's budget (1 + 13 rounds of 2 s).
                    Set-LabRecovery $lab @{ snapshotDelayMs = 400 }
                    try { $size | Add-Member -NotePropertyName Slow -NotePropertyValue (Invoke-LabRecoveryRun $lab 'Snapshots' -TimeoutSec 2) }
                    finally { Set-LabRecovery $lab @{ snapshotDelayMs = 0 } }
                    # A silent snapshot endpoint (no list within 2 s): the sweep stops after the first round.
                    Set-LabRecovery $lab @{ snapshotDelayMs = 30000 }
                    try { $size | Add-Member -NotePropertyName Silent -NotePropertyValue (Invoke-LabRecoveryRun $lab 'Snapshots' -TimeoutSec 2) }
                    finally { Set-LabRecovery $lab @{ snapshotDelayMs = 0 } }
                    # Snapshots are read only for guests on an online node.
                    Set-PveLabNode $lab -Node pve2 -Online $false
                    $size.Offline = Invoke-LabRecoveryRun $lab 'Snapshots'
                }
                $script:sizes[$n] = $size
                Write-Host ("{0} guests (lab up in {1} s): Storage+Backups+Replication {2} requests, Snapshots {3} requests, run {4} s" -f $n, $lab.StartupSeconds,
                    ($size.Fixed.Values | Measure-Object -Sum).Sum, ($size.Snapshot.Values | Measure-Object -Sum).Sum, [math]::Round($run.Seconds, 2))
            }
            finally { Stop-PveLab $lab }
        }
        Write-Host (($sizes[100].Fixed.GetEnumerator() | ForEach-Object { "  $($_.Value)  $($_.Key)" }) -join "`n")
    }

    It 'Storage, Backups and Replication make the same requests at 10 and at 100 guests (14: nodes and storages)' {
        # /cluster/status, /cluster/resources, /cluster/backup, not-backed-up, 2 storage lists, 3 content listings,
        # 2 task listings, 1 log (the failed multi-guest run), 2 replication listings.
        $small = $sizes[10].Fixed; $large = $sizes[100].Fixed
        ($large.GetEnumerator() | ForEach-Object { "$($_.Key) = $($_.Value)" }) | Should -Be ($small.GetEnumerator() | ForEach-Object { "$($_.Key) = $($_.Value)" })
        ($large.Values | Measure-Object -Sum).Sum | Should -Be 14
        foreach ($n in 10, 100) {
            @($sizes[$n].Run.Results | Where-Object Check -eq 'Coverage').Count | Should -Be $n
            @($sizes[$n].Run.Results | Where-Object Check -eq 'BackupAge').Count | Should -Be $n
        }
    }

    It 'Snapshots make exactly one request per declared guest (<_>)' -ForEach 10, 100 {
        $size = $sizes[$_]
        $expected = @($size.Guests | ForEach-Object { "GET /nodes/$($_.Node)/$($_.Type)/$($_.VmId)/snapshot" } | Sort-Object)
        @($size.Snapshot.Keys | Sort-Object) | Should -Be $expected
        @($size.Snapshot.Values | Where-Object { $_ -ne 1 }).Count | Should -Be 0
        @($size.Run.Results | Where-Object Check -eq 'Snapshot').Count | Should -Be $_
    }

    It 'Snapshots of a slow node: the sweep''s budget grows with the guests, so every list is read at -TimeoutSec 2' {
        $rows = @($sizes[100].Slow.Results | Where-Object Check -eq 'Snapshot')
        Write-Host "slow snapshot lists (400 ms each) at -TimeoutSec 2: $(($rows | Group-Object Status | ForEach-Object { "$($_.Name) $($_.Count)" }) -join ', ') in $([math]::Round($sizes[100].Slow.Seconds, 2)) s"
        @($rows.Component | Sort-Object -Unique).Count | Should -Be 100
        $rows.Count | Should -Be 100
        foreach ($r in $rows) { $r.Status | Should -BeIn 'Ok', 'Warning' -Because "$($r.Component): $($r.Detail)" }
    }

    It 'Snapshots of a silent API: the sweep stops after one round, every declared guest still gets its row, the unasked ones Unknown (not checked)' {
        $silent = $sizes[100].Silent
        $rows = @($silent.Results | Where-Object Check -eq 'Snapshot')
        Write-Host "silent snapshot lists at -TimeoutSec 2: $(($rows | Group-Object Status | ForEach-Object { "$($_.Name) $($_.Count)" }) -join ', ') in $([math]::Round($silent.Seconds, 2)) s, $(Measure-Requests $silent.Requests 'GET /nodes/*/snapshot') lists asked"
        @($rows.Component | Sort-Object -Unique).Count | Should -Be 100
        Measure-Requests $silent.Requests 'GET /nodes/*/snapshot' | Should -Be 8   # one round, 8 at a time
        $asked = @($rows | Where-Object Detail -like '*snapshots could not be listed: no answer*')
        $asked.Count | Should -Be 8
        foreach ($r in @($rows | Where-Object Detail -notlike '*snapshots could not be listed*')) {
            $r.Status | Should -Be 'Unknown' -Because $r.Detail
            $r.Detail | Should -Be 'not checked: the 2 s timeout ran out before its snapshot list was read (no snapshot list was answered within 2 s, so the sweep stopped); raise -TimeoutSec (timeoutSec) or exclude Snapshots for this environment'
        }
    }

    It 'Snapshots make no request for the guests of an offline node' {
        $offline = $sizes[100].Offline
        $pve1 = @($sizes[100].Guests | Where-Object Node -eq 'pve1')
        Measure-Requests $offline.Requests 'GET /nodes/pve1/*/snapshot' | Should -Be $pve1.Count
        Measure-Requests $offline.Requests 'GET /nodes/pve2/*' | Should -Be 0
        Measure-Requests $offline.Requests '*' | Should -Be ($pve1.Count + 2)   # + /cluster/status and /cluster/resources
    }
}
