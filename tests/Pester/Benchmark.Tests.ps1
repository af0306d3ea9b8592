# The benchmark script (bench/Invoke-Benchmark.ps1) in its tiny mode, so it cannot rot: a 10-guest lab, one run of
# PveHealth and of the shell baseline, one run without the recovery groups (-RecoveryVariant), no import timing.
# Asserts what it writes, not how fast anything is.
# Needs root (the lab's network namespace); skipped otherwise, never run elsewhere.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:BenchSkipReason = Get-LabSkipReason -Suite 'Benchmark test' -Tool nft, ssh, curl, ping, xargs, /usr/bin/time, /usr/sbin/sshd
}

Describe 'bench/Invoke-Benchmark.ps1 (tiny mode)' -Skip:([bool]$script:BenchSkipReason) {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
        $script:Script = Join-Path $PSScriptRoot '../../bench/Invoke-Benchmark.ps1'
        $script:Md = Join-Path $TestDrive 'RESULTS.md'
        $script:Json = Join-Path $TestDrive 'RESULTS.json'
        $pwsh = Get-PwshCommand
        $log = Join-Path $TestDrive 'bench.log'
        # -Command, not -File: a native argument list cannot carry an array (-File would bind '-LossPercent 0' and drop the 2).
        $q = { param($s) "'" + ($s -replace "'", "''") + "'" }
        $command = '& {0} -ModulePath {1} -GuestCount 10 -LossPercent 0, 2 -Repeat 1 -SkipSerial -SkipImport -RecoveryVariant -ResultsPath {2} -JsonPath {3}' -f `
            (& $q $script:Script), (& $q (Get-PveHealthModulePath)), (& $q $script:Md), (& $q $script:Json)
        & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $command *> $log
        $script:ExitCode = $LASTEXITCODE
        $script:Log = Get-Content -Raw $log -ErrorAction SilentlyContinue
        $script:Data = if (Test-Path $script:Json) { Get-Content -Raw $script:Json | ConvertFrom-Json } else { $null }
    }

    It 'ends with exit code 0 and writes RESULTS.md and the raw JSON' {
        $script:ExitCode | Should -Be 0 -Because $script:Log
        $script:Md | Should -Exist
        $script:Json | Should -Exist
    }

    It 'records the machine and a table row for PveHealth and for the shell baseline' {
        $text = Get-Content -Raw $script:Md
        $text | Should -Match ([regex]::Escape("- Machine: $([Environment]::ProcessorCount) cores"))
        $text | Should -Match '## N = 10 guests \(1 stopped\)\r?\n'
        $text | Should -Match "## N = 10 guests \(1 stopped\), 2 % of every guest's packets dropped at random"
        $text | Should -Match 'Wrong verdicts in each run: PveHealth \d+; shell \d+\.'
        $text | Should -Match '\| PveHealth \(default throttle\) \(1×\) \| \d+\.\d\d'
        $text | Should -Match '\| shell \(xargs -P 64\) \(1×\) \| \d+\.\d\d'
        # The last two columns: wrong verdicts and the Proxmox API requests the simulator counted.
        $text | Should -Match '\| [^|\r\n]+ \| wrong verdicts \| API requests \|'
    }

    It 'counts the Proxmox API requests of each run and lists PveHealth''s by endpoint' {
        # Load-independent invariants only: a request that was answered was counted (a timed-out one may not be).
        $size = @($script:Data.Sizes)[0]
        $shell = @($size.Raw.shell)[0].ApiRequests
        $shell | Should -BeGreaterOrEqual $size.ShellCounts.ApiOk
        $shell | Should -BeLessOrEqual 10
        $pve = @($size.Raw.pvehealth)[0].ApiRequests
        (@($size.RequestBreakdown) | Measure-Object Requests -Sum).Sum | Should -Be $pve
        $text = Get-Content -Raw $script:Md
        $text | Should -Match "\| shell \(xargs -P 64\) \(1×\) \|[^\r\n]*\| \d+ \| $shell \|\r?\n"
        if ($pve -gt 0) { $text | Should -Match "Proxmox API requests of a PveHealth run \(default throttle, last run: $pve requests" }
    }

    It 'runs PveHealth with and without the recovery groups (lossless size only) and says whether the 10 % target is met' {
        $text = Get-Content -Raw $script:Md
        $text | Should -Match '\| with recovery groups \(1×\) \| \d+\.\d\d \([^)]*\) \| \d+\.\d\d \| \d+\.\d\d \| \d+ \| \d+ \|'
        $text | Should -Match '\| without \(1×\) \| \d+\.\d\d'
        $text | Should -Match 'Recovery rows that contradict the lab in each run \([^)]*\): \d+\.'
        $text | Should -Match 'With / without: wall \d+\.\d\d ×[^\r\n]*Within 10 % \(median wall\): (met|MISSED)\.'
        $text | Should -Match '\| with recovery groups ≤ 1\.10 × without \(median wall\) \| \d+\.\d\d × [^\r\n]*\| (met|MISSED) \|'
        $sizes = @($script:Data.Sizes)
        @($sizes[0].Raw.norecovery).Count | Should -Be 1
        @($sizes[1].Raw.norecovery).Count | Should -Be 0
        ([regex]::Matches($text, 'Recovery groups \(Storage, Backups, Replication, Snapshots\)')).Count | Should -Be 1
    }

    It 'measured the checker, the sshd and every guest: Ping finds exactly the stopped guest' {
        $size = @($script:Data.Sizes)[0]
        $size.PveHealth.CheckerCpu | Should -BeGreaterThan 0
        $size.PveHealth.RssMb | Should -BeGreaterThan 10
        $size.Shell.SshdCpu | Should -BeGreaterThan 0
        $ping = @($size.Checks) | Where-Object Check -eq 'Ping'
        $ping.PerRun | Should -Be 10
        $ping.Statuses | Should -Match 'Critical 1\b'
        $size.ShellCounts.Lines | Should -Be 10
        $size.ShellCounts.PingFailed | Should -Be 1
    }

    It 'stops its lab: the namespace it used is gone' {
        $ns = @($script:Data.Sizes)[0].Namespace
        $ns | Should -Match '^pvelab-'
        @(& ip netns list 2>$null | ForEach-Object { ($_ -split ' ')[0] }) | Should -Not -Contain $ns
    }
}
