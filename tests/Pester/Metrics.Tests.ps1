# Export-PveHealthMetrics and the scheduled entry script (out/PveHealth/bin/pve-health-check.ps1).
# Traffic: ICMP to 127.0.0.1 only, and to 127.0.0.3 inside a network namespace this file creates.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:ModulePath = Get-PveHealthModulePath
    Import-Module $script:ModulePath -Force
    $script:Entry = Join-Path $script:ModulePath 'bin/pve-health-check.ps1'
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "pvehealth-metrics-$([guid]::NewGuid().ToString('N'))")).FullName


    # The entry script in a fresh pwsh, optionally inside a network namespace.
    function script:Invoke-Entry {
        param([string[]] $Arguments, [string] $Namespace, [hashtable] $Environment = @{})
        $pwsh = @(Get-PwshCommand)
        $cmd = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $script:Entry) + $Arguments
        if ($Namespace) { return Invoke-Program -File 'ip' -Arguments (@('netns', 'exec', $Namespace, $pwsh[0]) + $cmd) -Environment $Environment }
        Invoke-Program -File $pwsh[0] -Arguments $cmd -Environment $Environment
    }

    # A config with one environment whose guests come from a terraform-output file.
    function script:New-GuestConfig {
        param([string] $Name, [object[]] $Guests)
        $folder = New-Item -ItemType Directory -Force (Join-Path $script:Work $Name)
        $tf = Join-Path $folder 'tf.json'
        @{ guests = @{ sensitive = $false; type = 'list'; value = $Guests } } | ConvertTo-Json -Depth 10 | Set-Content $tf -Encoding utf8NoBOM
        $config = New-TestConfig -Folder $folder -Environments @{ lab = @{ inventory = @{ source = 'terraform-output'; path = $tf }; checks = @('Ping') } } -Defaults @{ timeoutSec = 1 }
        $excl = Join-Path $folder 'exclusions.conf'
        Set-Content $excl '# none' -Encoding utf8NoBOM
        [pscustomobject]@{ Config = $config; Exclusions = $excl; Metrics = (Join-Path $folder 'pve_health.prom'); Folder = $folder.FullName }
    }

    $script:Odd = Test-PveVm -Name "we`"ird\name`nline-ümlaut-数据" -Address 127.0.0.1 -Environment 'prød "east"' -Check Ping -InformationAction Ignore
    $script:NoAddress = Test-PveVm -Name 'ghost' -Environment 'lab' -Check Ping -InformationAction Ignore
}

AfterAll {
    if ($script:Work -and (Test-Path $script:Work)) {
        & umount (Join-Path $script:Work 'ro') 2>$null
        Remove-Item -Recurse -Force $script:Work -ErrorAction SilentlyContinue
    }
}

Describe 'Export-PveHealthMetrics' {
    It 'writes a file promtool check metrics accepts, with quotes, backslashes, newlines and non-ASCII names escaped' {
        $script:Odd.Status | Should -Be 'Ok'
        $script:NoAddress.Status | Should -Be 'Unknown'
        $path = Join-Path $script:Work 'odd.prom'
        $script:Odd, $script:NoAddress | Export-PveHealthMetrics -Path $path
        $text = [IO.File]::ReadAllText($path, [Text.Encoding]::UTF8)
        $text | Should -Match '\n$'
        $text | Should -BeLike '*pve_health_check_success{environment="prød \"east\"",component="we\"ird\\name\nline-ümlaut-数据",type="Vm",check="Ping"} 1*'
        $text | Should -BeLike '*pve_health_check_success{environment="lab",component="ghost",type="Vm",check="Ping"} 0*'
        $text | Should -BeLike '*pve_health_check_status{environment="lab",component="ghost",type="Vm",check="Ping"} 3*'
        $text | Should -BeLike '*pve_health_last_run_timestamp_seconds{environment="lab"} *'
        ([regex]::Matches($text, '(?m)^# HELP ')).Count | Should -Be 6
        $psi = [Diagnostics.ProcessStartInfo]::new('promtool')
        'check', 'metrics' | ForEach-Object { $psi.ArgumentList.Add($_) }
        $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
        $p = [Diagnostics.Process]::Start($psi)
        $p.StandardInput.Write($text); $p.StandardInput.Close()
        $out = $p.StandardOutput.ReadToEndAsync(); $err = $p.StandardError.ReadToEndAsync()
        $p.WaitForExit(30000) | Should -BeTrue
        "$($out.Result)$($err.Result)".Trim() | Should -BeNullOrEmpty
        $p.ExitCode | Should -Be 0
    }

    It '-WhatIf writes nothing and leaves an existing file as it was' {
        $fresh = Join-Path $script:Work 'whatif-new.prom'
        $script:Odd | Export-PveHealthMetrics -Path $fresh -WhatIf
        Test-Path $fresh | Should -BeFalse
        $existing = Join-Path $script:Work 'whatif-old.prom'
        Set-Content $existing 'previous' -NoNewline
        $script:Odd | Export-PveHealthMetrics -Path $existing -WhatIf
        Get-Content -Raw $existing | Should -Be 'previous'
        @(Get-ChildItem $script:Work -Force -Filter '.whatif*').Count | Should -Be 0
    }

    It '-PassThru re-emits the same result objects; without it nothing is emitted' {
        $path = Join-Path $script:Work 'passthru.prom'
        $out = @($script:Odd, $script:NoAddress | Export-PveHealthMetrics -Path $path -PassThru)
        $out.Count | Should -Be 2
        [object]::ReferenceEquals($out[0], $script:Odd) | Should -BeTrue
        [object]::ReferenceEquals($out[1], $script:NoAddress) | Should -BeTrue
        @($script:Odd | Export-PveHealthMetrics -Path $path).Count | Should -Be 0
        Test-Path $path | Should -BeTrue
    }

    It 'a missing folder is the error MetricsFolderNotFound naming the path' {
        $path = Join-Path $script:Work 'no/such/folder/pve_health.prom'
        $script:Odd | Export-PveHealthMetrics -Path $path -ErrorVariable e -ErrorAction SilentlyContinue
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -Be 'MetricsFolderNotFound,PveHealth.PowerShell.Cmdlets.ExportPveHealthMetricsCommand'
        $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e[0].TargetObject | Should -Be $path
        $e[0].ToString() | Should -BeLike "*$path*does not exist*"
        Test-Path $path | Should -BeFalse
    }

    It 'a folder that cannot be written is MetricsWriteFailed and the previous file stays intact' {
        # Root ignores permission bits, so the unwritable folder is a read-only mount.
        $ro = New-Item -ItemType Directory -Force (Join-Path $script:Work 'ro')
        & mount -t tmpfs -o size=1m tmpfs $ro.FullName 2>$null
        if ($LASTEXITCODE -ne 0) { Set-ItResult -Skipped -Because 'mount(8) is not permitted here'; return }
        $path = Join-Path $ro.FullName 'pve_health.prom'
        $script:NoAddress | Export-PveHealthMetrics -Path $path
        $before = [IO.File]::ReadAllText($path)
        & mount -o 'remount,ro' $ro.FullName
        $LASTEXITCODE | Should -Be 0
        $script:Odd | Export-PveHealthMetrics -Path $path -ErrorVariable e -ErrorAction SilentlyContinue
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'Metrics*,PveHealth.PowerShell.Cmdlets.ExportPveHealthMetricsCommand'
        $e[0].FullyQualifiedErrorId | Should -Not -BeLike 'MetricsFolderNotFound*'
        $e[0].ToString() | Should -BeLike "*$path*"
        [IO.File]::ReadAllText($path) | Should -Be $before
        @(Get-ChildItem $ro.FullName -Force).Name | Should -Be @('pve_health.prom')
        & umount $ro.FullName
    }

    It 'concurrent writers in 4 processes x 20 exports never leave a broken or partial file for a reader' {
        $path = Join-Path $script:Work 'concurrent.prom'
        $script:NoAddress | Export-PveHealthMetrics -Path $path
        $pwsh = @(Get-PwshCommand)
        $procs = foreach ($w in 1..4) {
            # Each writer exports a different number of guests, so files differ in size and content.
            $script = "Import-Module '$script:ModulePath'; `$r = @(1..($w * 40) | ForEach-Object { Test-PveVm -Name `"g`$_`" -Environment 'w$w' -Check Ping -InformationAction Ignore }); 1..20 | ForEach-Object { `$r | Export-PveHealthMetrics -Path '$path' }"
            $psi = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
            foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script)) { $psi.ArgumentList.Add($a) }
            $psi.UseShellExecute = $false
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $p = [Diagnostics.Process]::Start($psi)
            [pscustomobject]@{ Process = $p; Out = $p.StandardOutput.ReadToEndAsync(); Err = $p.StandardError.ReadToEndAsync() }
        }
        $deadline = [DateTime]::UtcNow.AddSeconds(180)
        $reads = 0; $bad = @(); $seen = @{}
        while (($procs.Process | Where-Object { -not $_.HasExited }) -and [DateTime]::UtcNow -lt $deadline -and $reads -lt 200000) {
            $text = [IO.File]::ReadAllText($path)
            $reads++
            $envs = @([regex]::Matches($text, 'pve_health_last_run_timestamp_seconds\{environment="([^"]*)"\}') | ForEach-Object { $_.Groups[1].Value })
            $samples = ([regex]::Matches($text, '(?m)^pve_health_check_success\{')).Count
            $expected = if ($envs.Count -eq 1 -and $envs[0] -match '^w(\d)$') { [int]$Matches[1] * 40 } elseif ($envs -eq @('lab')) { 1 } else { -1 }
            $ok = $text.EndsWith("`n") -and ([regex]::Matches($text, '(?m)^# HELP ')).Count -eq 6 -and $envs.Count -eq 1 -and $samples -eq $expected -and
                  ([regex]::Matches($text, '(?m)^pve_health_checks\{')).Count -eq 5
            if (-not $ok) { $bad += $text.Length } else { $seen[$envs[0]] = $true }
        }
        foreach ($p in $procs) {
            $p.Process.WaitForExit(60000) | Should -BeTrue
            $p.Err.Result | Should -BeNullOrEmpty
            $p.Process.ExitCode | Should -Be 0
        }
        $reads | Should -BeGreaterThan 0
        $bad.Count | Should -Be 0 -Because "$($bad.Count) of $reads reads saw a broken file"
        Write-Host "    $reads reads during the concurrent exports, writers seen: $(($seen.Keys | Sort-Object) -join ', ')"
        (Get-Content -Raw $path) | Should -Match 'environment="w[1-4]"'
        @(Get-ChildItem (Split-Path $path) -Force -Filter '.concurrent.prom.*').Count | Should -Be 0
    }
}

Describe 'Export-PveHealthMetrics with deserialized, CSV or empty input' {
    BeforeAll {
        $script:Live = Join-Path $script:Work 'live.prom'
        $script:Odd, $script:NoAddress | Export-PveHealthMetrics -Path $script:Live -InformationAction Ignore
        $script:LiveText = [IO.File]::ReadAllText($script:Live)
    }

    It 'Import-Clixml results (as from Receive-Job or a remote session) give the same file as the live objects' {
        $xml = Join-Path $script:Work 'results.xml'
        $script:Odd, $script:NoAddress | Export-Clixml -Path $xml
        $back = Import-Clixml $xml
        $back[0].PSObject.TypeNames[0] | Should -Be 'Deserialized.PveHealth.Model.CheckResult'
        $path = Join-Path $script:Work 'clixml.prom'
        $back | Export-PveHealthMetrics -Path $path -ErrorVariable errs -InformationAction Ignore
        $errs | Should -BeNullOrEmpty
        [IO.File]::ReadAllText($path) | Should -BeExactly $script:LiveText
    }

    It 'Export-Csv then Import-Csv gives the same file: Status by name, DurationSeconds and TimestampUtc culture-free' {
        $csv = Join-Path $script:Work 'results.csv'
        $script:Odd, $script:NoAddress | Export-Csv -Path $csv -NoTypeInformation
        $rows = Import-Csv $csv
        $rows[1].Status | Should -BeExactly 'Unknown'
        $rows[0].DurationSeconds | Should -Match '^\d+(\.\d{1,3})?$'
        $rows[0].TimestampUtc | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$'
        $path = Join-Path $script:Work 'csv.prom'
        $rows | Export-PveHealthMetrics -Path $path -ErrorVariable errs -InformationAction Ignore
        $errs | Should -BeNullOrEmpty
        # Durations went through DurationSeconds (milliseconds): compare everything but the duration samples.
        $strip = { param($t) ($t -split "`n" | Where-Object { $_ -notmatch '^pve_health_(check|run)_duration_seconds\{' }) -join "`n" }
        (& $strip ([IO.File]::ReadAllText($path))) | Should -BeExactly (& $strip $script:LiveText)
    }

    It 'ConvertTo-Json writes DurationSeconds as a number and TimestampUtc as ISO 8601 UTC' {
        $json = $script:Odd | Select-Object Status, DurationSeconds, TimestampUtc | ConvertTo-Json -EnumsAsStrings
        $json | Should -Match '"DurationSeconds": \d+(\.\d+)?,'
        $json | Should -Match '"TimestampUtc": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"'
        $json | Should -Match '"Status": "Ok"'
    }

    It 'writes one information line naming the series count and the file' {
        $path = Join-Path $script:Work 'info.prom'
        $script:Odd, $script:NoAddress | Export-PveHealthMetrics -Path $path -InformationVariable info -InformationAction SilentlyContinue
        @($info).Count | Should -Be 1
        $series = @([IO.File]::ReadAllLines($path) | Where-Object { $_ -and -not $_.StartsWith('#') }).Count
        "$($info[0])" | Should -BeExactly "Wrote $series series for 2 check results to $path."
    }

    It 'objects that are not results are errors InvalidCheckResult, and with no valid result the existing file stays untouched' {
        $path = Join-Path $script:Work 'keep.prom'
        Set-Content $path $script:LiveText -NoNewline
        $before = (Get-Item $path).LastWriteTimeUtc
        $bad = @([pscustomobject]@{ Component = 'web-01'; Check = 'Ping'; Status = 2; TimestampUtc = '2026-11-30T06:36:38Z' },
                 [pscustomobject]@{ Name = 'not a result' })
        $bad | Export-PveHealthMetrics -Path $path -ErrorVariable errs -ErrorAction SilentlyContinue -WarningVariable warns -WarningAction SilentlyContinue
        @($errs).Count | Should -Be 2
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'InvalidCheckResult,*'
        "$($errs[0])" | Should -BeLike "*Status '2' is not a status name*"
        "$($warns[0])" | Should -BeLike "Nothing written: none of the 2 input objects was a usable check result; $path keeps the previous run's metrics."
        [IO.File]::ReadAllText($path) | Should -BeExactly $script:LiveText
        (Get-Item $path).LastWriteTimeUtc | Should -Be $before
    }

    It 'an empty pipeline writes nothing: no empty file that would fire HealthCheckStale' {
        $path = Join-Path $script:Work 'empty.prom'
        @() | Export-PveHealthMetrics -Path $path -WarningVariable warns -WarningAction SilentlyContinue
        Test-Path $path | Should -BeFalse
        "$($warns[0])" | Should -BeLike "Nothing written: no check results on the input; $path was not created."
    }
}

Describe 'pve-health-check.ps1 (the scheduled entry point)' {
    It 'is shipped in the module under bin/' {
        Test-Path $script:Entry | Should -BeTrue
    }

    It 'exits 0 when every check is Ok, exports the metrics and prints the Nagios status line first' {
        $c = New-GuestConfig -Name 'ok' -Guests @(@{ name = 'web-01'; address = '127.0.0.1' }, @{ name = 'web-02'; address = '127.0.0.1' })
        $r = Invoke-Entry -Arguments @('-ConfigPath', $c.Config, '-ExclusionPath', $c.Exclusions, '-MetricsPath', $c.Metrics)
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $lines = @($r.Output.TrimEnd() -split "`n")
        $lines.Count | Should -Be 2
        $lines[0] | Should -Match '^OK: 0 of 2 checks failed \| ok=2 warning=0 critical=0 unknown=0 skipped=0 duration=[0-9]+\.[0-9]s$'
        $lines[1] | Should -Be "pve-health-check: metrics written to $($c.Metrics)"
        $r.Output | Should -Not -Match "`e\["
        Get-Content -Raw $c.Metrics | Should -Match 'pve_health_check_success\{environment="lab",component="web-01",type="Vm",check="Ping"\} 1'
    }

    It 'exits 3 (Unknown) for a guest without an address, with one line for it' {
        $c = New-GuestConfig -Name 'unknown' -Guests @(@{ name = 'web-01'; address = '127.0.0.1' }, @{ name = 'ghost' })
        $r = Invoke-Entry -Arguments @('-ConfigPath', $c.Config, '-ExclusionPath', $c.Exclusions) -Environment @{ PVE_HEALTH_TEXTFILE = $c.Metrics }
        $r.ExitCode | Should -Be 3 -Because $r.Error
        $lines = @($r.Output.TrimEnd() -split "`n")
        $lines.Count | Should -Be 3
        $lines[0] | Should -Match '^UNKNOWN: 1 of 2 checks failed \| ok=1 warning=0 critical=0 unknown=1 skipped=0 duration=[0-9]+\.[0-9]s$'
        $lines[1] | Should -BeLike 'UNKNOWN lab/ghost Vm Ping: no address for ghost*'
        $lines[2] | Should -BeLike 'pve-health-check: metrics written to *'
        # PVE_HEALTH_TEXTFILE chose the file.
        Get-Content -Raw $c.Metrics | Should -Match 'component="ghost",type="Vm",check="Ping"\} 0'
    }

    It 'exits 2 (Critical) when a guest does not answer (an nftables drop in a namespace of its own)' {
        $ns = "pvehm-$PID"
        & ip netns add $ns 2>$null
        if ($LASTEXITCODE -ne 0) { Set-ItResult -Skipped -Because 'network namespaces cannot be created here'; return }
        try {
            & ip netns exec $ns ip link set lo up
            # A stopped guest: packets to 127.0.0.3 vanish on input (a timeout, not a refusal). An output-hook drop
            # would make the raw-socket send fail with EPERM, which PingCheck reports as Unknown "ICMP is not permitted".
            "table inet pvehm {`n chain in {`n  type filter hook input priority 0;`n  ip daddr 127.0.0.3 drop`n }`n}`n" | & ip netns exec $ns nft -f -
            $LASTEXITCODE | Should -Be 0
            $c = New-GuestConfig -Name 'critical' -Guests @(@{ name = 'web-01'; address = '127.0.0.1' }, @{ name = 'stopped-01'; address = '127.0.0.3' }, @{ name = 'ghost' })
            $r = Invoke-Entry -Namespace $ns -Arguments @('-ConfigPath', $c.Config, '-ExclusionPath', $c.Exclusions, '-MetricsPath', $c.Metrics, '-TimeoutSec', '1')
            $r.ExitCode | Should -Be 2 -Because "$($r.Output) $($r.Error)"
            $lines = @($r.Output.TrimEnd() -split "`n")
            $lines[0] | Should -Match '^CRITICAL: 2 of 3 checks failed \| ok=1 warning=0 critical=1 unknown=1 skipped=0 duration=[0-9]+\.[0-9]s$'
            # Sorted by environment, component, check: ghost before stopped-01, whatever finished first.
            $lines[1] | Should -BeLike 'UNKNOWN lab/ghost Vm Ping*'
            $lines[2] | Should -Match '^CRITICAL lab/stopped-01 Vm Ping: no reply from 127\.0\.0\.3'
            Get-Content -Raw $c.Metrics | Should -Match 'component="stopped-01",type="Vm",check="Ping"\} 2'
        }
        finally {
            & ip netns del $ns
        }
    }

    BeforeAll {
        # The entry script with the run replaced by a function (functions win over cmdlets) that returns one real Ok
        # result (web-01 Ping) and one result per row 'environment|component|type|check|status|detail', built with
        # the engine's CheckResult constructor (no check of this version reports Warning, for example).
        function script:Invoke-EntryWithRows {
            param([string[]] $Rows, [string] $EntryArguments)
            $rowText = ($Rows | ForEach-Object { "'" + $_.Replace("'", "''") + "'" }) -join ', '
            $command = @"
Import-Module '$script:ModulePath'
function global:Invoke-PveHealthCheck {
    [CmdletBinding()] param([switch] `$All, [string[]] `$Environment, [string] `$ConfigPath, [string] `$ExclusionPath, [double] `$TimeoutSec)
    `$ok = Test-PveVm -Name web-01 -Address 127.0.0.1 -Environment lab -Check Ping -InformationAction Ignore
    `$t = `$ok.GetType(); `$s = `$t.Assembly.GetType('PveHealth.Model.CheckStatus')
    foreach (`$x in @($rowText)) {
        `$e, `$comp, `$type, `$check, `$status, `$detail = `$x -split '\|'
        `$t::new(`$e, `$comp, `$type, `$check, [Enum]::Parse(`$s, `$status), `$detail, [TimeSpan]::FromSeconds(0.1), '', `$null)
    }
    `$ok
}
& '$script:Entry' $EntryArguments
exit `$LASTEXITCODE
"@
            $pwsh = @(Get-PwshCommand)
            Invoke-Program -File $pwsh[0] -Arguments (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $command))
        }
    }

    It 'exits 1 (Warning) when the worst result is a Warning' {
        $c = New-GuestConfig -Name 'warning' -Guests @(@{ name = 'web-01'; address = '127.0.0.1' })
        $r = Invoke-EntryWithRows -Rows @('lab|minio|TerraformState|Age|Warning|state is 9 days old') -EntryArguments "-ConfigPath '$($c.Config)' -MetricsPath '$($c.Metrics)'"
        $r.ExitCode | Should -Be 1 -Because $r.Error
        $r.Output | Should -Match '(?m)^WARNING lab/minio TerraformState Age: state is 9 days old'
        $r.Output | Should -Match '\AWARNING: 1 of 2 checks failed \| ok=1 warning=1 critical=0 unknown=0 skipped=0 duration=[0-9]+\.[0-9]s\r?\n'
        Get-Content -Raw $c.Metrics | Should -Match 'pve_health_check_success\{environment="lab",component="minio",type="TerraformState",check="Age"\} 1'
    }

    It 'prints the failures sorted by environment, component and check (ordinal), whatever order they arrive in' {
        $c = New-GuestConfig -Name 'sorted' -Guests @(@{ name = 'web-01'; address = '127.0.0.1' })
        $rows = foreach ($x in 'prod|web-02|Ping|Critical', 'lab|web-10|Ssh|Unknown', 'lab|web-10|Docker|Warning', 'lab|Web-03|Ping|Critical', 'lab-b|db-01|Ping|Critical', 'lab|web-10|Skipped|Skipped') {
            $e, $comp, $check, $status = $x -split '\|'
            "$e|$comp|Vm|$check|$status|$status detail"
        }
        $r = Invoke-EntryWithRows -Rows $rows -EntryArguments "-ConfigPath '$($c.Config)' -NoMetrics"
        $r.ExitCode | Should -Be 2 -Because $r.Error
        $lines = @($r.Output.TrimEnd() -split "`n" | ForEach-Object TrimEnd)
        $lines[0] | Should -Match '^CRITICAL: 5 of 7 checks failed \| ok=1 warning=1 critical=3 unknown=1 skipped=1 duration=[0-9]+\.[0-9]s$'
        $lines[1..5] | Should -Be @(
            'CRITICAL lab/Web-03 Vm Ping: Critical detail'
            'WARNING lab/web-10 Vm Docker: Warning detail'
            'UNKNOWN lab/web-10 Vm Ssh: Unknown detail'
            'CRITICAL lab-b/db-01 Vm Ping: Critical detail'
            'CRITICAL prod/web-02 Vm Ping: Critical detail')
        $lines[6] | Should -Be 'pve-health-check: metrics not exported (-NoMetrics)'
        $lines.Count | Should -Be 7
    }

    It 'exits 3 with one line on stderr for a configuration it cannot use' {
        $bad = Join-Path $script:Work 'bad.json'
        Set-Content $bad '{ "environments": { "lab": ' -Encoding utf8NoBOM
        $r = Invoke-Entry -Arguments @('-ConfigPath', $bad, '-MetricsPath', (Join-Path $script:Work 'never.prom'))
        $r.ExitCode | Should -Be 3
        $r.Output | Should -BeNullOrEmpty
        $err = @($r.Error.TrimEnd() -split "`n")
        $err.Count | Should -Be 1
        $err[0] | Should -BeLike "pve-health-check: UNKNOWN: *$bad*"
        Test-Path (Join-Path $script:Work 'never.prom') | Should -BeFalse
        $missing = Invoke-Entry -Arguments @('-ConfigPath', (Join-Path $script:Work 'nope.json'))
        $missing.ExitCode | Should -Be 3
        $missing.Error | Should -BeLike '*configuration file not found*'
    }

    It 'exits 3 when the metrics cannot be written, even though the checks are Ok' {
        $c = New-GuestConfig -Name 'unwritable' -Guests @(@{ name = 'web-01'; address = '127.0.0.1' })
        $r = Invoke-Entry -Arguments @('-ConfigPath', $c.Config, '-ExclusionPath', $c.Exclusions, '-MetricsPath', (Join-Path $script:Work 'missing-dir/pve_health.prom'))
        $r.ExitCode | Should -Be 3
        $r.Error | Should -BeLike '*MetricsFolderNotFound*missing-dir*'
        @($r.Output -split "`n")[0] | Should -BeLike "UNKNOWN: 0 of 1 checks failed; metrics NOT written to $(Join-Path $script:Work 'missing-dir/pve_health.prom') | ok=1 warning=0 critical=0 unknown=0 skipped=0 duration=*s"
    }
}
