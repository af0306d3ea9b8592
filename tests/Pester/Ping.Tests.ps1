# Ping at scale and its verdicts against the kernel's own counters, inside a network namespace the test creates
# (tests/Lab/PveLab.psm1). Needs root; without it the tests are skipped.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:LabSkipReason = Get-LabSkipReason -Suite 'Ping lab tests' -Tool nft, ssh-keygen, ip, /usr/sbin/sshd
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Lab/PveLab.psm1') -Force
    $script:ModulePath = Get-PveHealthModulePath
}

Describe 'Ping burst: 3 x 999 concurrent pings to loopback aliases' -Tag 'Lab' -Skip:([bool]$script:LabSkipReason) {
    BeforeAll {
        $script:lab = Start-PveLab -GuestCount 1 -NoStack
        # 999 guests on 127.30.x.y (nothing drops them): every echo is answered by the namespace's kernel.
        $script:burst = Invoke-InPveLab $lab -ModulePath $script:ModulePath -TimeoutSec 240 {
            function Get-IcmpCounters {
                $lines = @(Get-Content /proc/net/snmp | Where-Object { $_ -like 'Icmp:*' })
                $names = $lines[0] -split '\s+'; $values = $lines[1] -split '\s+'
                $h = @{}; for ($i = 1; $i -lt $names.Count; $i++) { $h[$names[$i]] = [long]$values[$i] }
                $h
            }
            $guests = foreach ($i in 1..999) { [pscustomobject]@{ Name = "burst-$i"; Address = "127.30.$([math]::Floor($i / 250)).$($i % 250 + 1)"; Kind = 'Vm' } }
            foreach ($round in 1..3) {
                $before = Get-IcmpCounters
                $sw = [Diagnostics.Stopwatch]::StartNew()
                $results = @($guests | Test-PveVm -Check Ping -Environment burst -ThrottleLimit 999 -TimeoutSec 5)
                $after = Get-IcmpCounters
                [pscustomobject]@{
                    Round = $round; Seconds = $sw.Elapsed.TotalSeconds; Count = $results.Count
                    Failed = @($results | Where-Object { "$($_.Status)" -ne 'Ok' } | ForEach-Object { "$($_.Component) $($_.Status) $($_.Detail)" })
                    OutEchos = $after.OutEchos - $before.OutEchos; InEchoReps = $after.InEchoReps - $before.InEchoReps
                }
            }
        }
        foreach ($r in $burst) { Write-Host ("round {0}: {1} results in {2:0.0} s, {3} not Ok, kernel OutEchos {4} InEchoReps {5}" -f $r.Round, $r.Count, $r.Seconds, $r.Failed.Count, $r.OutEchos, $r.InEchoReps) }
    }
    AfterAll {
        if ($script:lab) { Stop-PveLab $script:lab }
    }

    It 'reports every guest Ok when the kernel answered every echo (no false Critical)' {
        @($burst).Count | Should -Be 3
        foreach ($r in $burst) {
            $r.Count | Should -Be 999
            $r.InEchoReps | Should -Be $r.OutEchos -Because 'the kernel answered every echo request it sent'
            $r.OutEchos | Should -BeGreaterOrEqual 999
            ($r.Failed | Select-Object -First 5) -join '; ' | Should -BeNullOrEmpty -Because "round $($r.Round): no guest may be reported failing"
        }
    }
}

Describe 'Ping verdicts in the lab: loss thresholds, destination unreachable, a silent guest' -Tag 'Lab' -Skip:([bool]$script:LabSkipReason) {
    BeforeAll {
        $script:lab = Start-PveLab -GuestCount 1 -NoStack
        # 127.33.0.1: every third echo request of five... dropped by a counter (numgen inc): 3 of 5 lost (60 %, Warning);
        # 127.34.0.1: one of five lost (20 %, Ok); 127.35.0.1: rejected with ICMP host unreachable; 127.36.0.1: silent.
        $rules = @'
table inet pingtest {
    chain input {
        type filter hook input priority -10; policy accept;
        ip daddr 127.33.0.1 icmp type echo-request numgen inc mod 5 < 3 drop
        ip daddr 127.34.0.1 icmp type echo-request numgen inc mod 5 == 0 drop
        ip daddr 127.35.0.1 icmp type echo-request reject with icmp type host-unreachable
        ip daddr 127.36.0.1 drop
    }
}
'@
        $file = Join-Path $lab.Root 'pingtest.nft'
        Set-Content -LiteralPath $file -Value $rules
        $null = Invoke-LabNative -Lab $lab -FilePath 'nft' -ArgumentList @('-f', $file)
        $script:results = @(Invoke-InPveLab $lab -ModulePath $script:ModulePath -TimeoutSec 120 {
            $guests = @(
                [pscustomobject]@{ Name = 'lossy'; Address = '127.33.0.1' }
                [pscustomobject]@{ Name = 'one-lost'; Address = '127.34.0.1' }
                [pscustomobject]@{ Name = 'unreachable'; Address = '127.35.0.1' }
                [pscustomobject]@{ Name = 'silent'; Address = '127.36.0.1' }
                [pscustomobject]@{ Name = 'healthy'; Address = '127.37.0.1' }
            )
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $r = @($guests | Test-PveVm -Check Ping -Environment pingtest -TimeoutSec 3)
            foreach ($x in $r) { [pscustomobject]@{ Component = $x.Component; Status = "$($x.Status)"; Detail = $x.Detail; Seconds = $x.Duration.TotalSeconds; Run = $sw.Elapsed.TotalSeconds } }
        })
        $results | Format-Table Component, Status, Detail -AutoSize | Out-String -Width 220 | Write-Host
    }
    AfterAll {
        if ($script:lab) { Stop-PveLab $script:lab }
    }

    It 'a healthy guest is Ok with 0 % loss and its round trip' {
        $r = $results | Where-Object Component -eq 'healthy'
        $r.Status | Should -Be 'Ok'
        $r.Detail | Should -Match '^0 % loss, 5 of 5 echoes answered by 127\.37\.0\.1, rtt avg [\d.]+ ms, max [\d.]+ ms$'
    }
    It 'one lost echo of five does not page (Ok, the loss reported)' {
        $r = $results | Where-Object Component -eq 'one-lost'
        $r.Status | Should -Be 'Ok'
        $r.Detail | Should -Match '^20 % loss, 4 of 5 echoes answered'
    }
    It 'loss between the thresholds is a Warning naming them' {
        $r = $results | Where-Object Component -eq 'lossy'
        $r.Status | Should -Be 'Warning'
        $r.Detail | Should -Match '^60 % loss, 2 of 5 echoes answered by 127\.33\.0\.1, .*at least 100 % is critical, 40 % a warning'
    }
    It 'destination unreachable is Critical and names who reported it' {
        $r = $results | Where-Object Component -eq 'unreachable'
        $r.Status | Should -Be 'Critical'
        $r.Detail | Should -Be 'destination unreachable (host unreachable), reported by 127.35.0.1 (127.35.0.1, 5 echoes, 100 % loss)'
        $r.Seconds | Should -BeLessThan 2 -Because 'the unreachable answers arrive at once; nothing waits for the timeout'
    }
    It 'a silent guest is Critical within one timeout' {
        $r = $results | Where-Object Component -eq 'silent'
        $r.Status | Should -Be 'Critical'
        # One form: worded with the unit's nominal budget (3 s less the 250 ms margin), not what was left when the echoes
        # went out (before: 2.7 s, or 2.6 s on a loaded checker).
        $r.Detail | Should -BeExactly 'no reply from 127.36.0.1 within 2.8 s (5 echoes, 100 % loss)'
        $r.Seconds | Should -BeLessThan 3.2
        ($results | Measure-Object Run -Maximum).Maximum | Should -BeLessThan 6 -Because 'the five guests run at once; the silent one costs one timeout'
    }
}
