# The interactive session (issue 17): status order, views, streaming, Ctrl+C, filters, completion, composition.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Get-PveHealthModulePath) -Force
    # One real run (ping of loopback) gives the result and status types, wherever the module loads them.
    $inv = Join-Path $TestDrive 'one.json'
    @{ guests = @(@{ name = 'loop-01'; kind = 'vm'; address = '127.0.0.1' }) } | ConvertTo-Json -Depth 5 | Set-Content $inv
    $noExclusions = Join-Path $TestDrive 'none.conf'
    '# none' | Set-Content $noExclusions
    $script:OneCfg = New-TestConfig -Folder $TestDrive -Environments @{ one = @{ inventory = @{ source = 'file'; path = $inv }; checks = @('Ping') } } -Defaults @{ exclusionPath = $noExclusions }
    $sample = @(Invoke-PveHealthCheck -All -ConfigPath $script:OneCfg)[0]
    $script:ResultType = $sample.GetType()
    $script:StatusType = $sample.Status.GetType()
    function New-Result([string] $Component, [string] $Status, [string] $Check = 'Ping', [string] $Environment = 'prod', [string] $Detail = 'detail', [double] $Seconds = 0.25) {
        $script:ResultType::new($Environment, $Component, 'Vm', $Check, [Enum]::Parse($script:StatusType, $Status), $Detail, [timespan]::FromSeconds($Seconds), '127.0.0.1', $null)
    }
}

Describe 'Interactive: Status severity order' {
    BeforeAll {
        $script:Mixed = @('Skipped', 'Critical', 'Ok', 'Unknown', 'Warning', 'Skipped', 'Ok') | ForEach-Object { New-Result "g-$_" $_ }
    }
    It 'Where-Object Status -ge Warning keeps Warning, Unknown and Critical, never Skipped' {
        $kept = $script:Mixed | Where-Object Status -ge Warning
        ($kept.Status | ForEach-Object ToString | Sort-Object) | Should -Be @('Critical', 'Unknown', 'Warning')
    }
    It 'Sort-Object Status -Descending puts Critical first and Skipped last' {
        $sorted = @($script:Mixed | Sort-Object Status -Descending | ForEach-Object { "$($_.Status)" })
        $sorted | Should -Be @('Critical', 'Unknown', 'Warning', 'Ok', 'Ok', 'Skipped', 'Skipped')
    }
    It 'exports Nagios values (0 ok, 1 warning, 2 critical, 3 unknown) whatever the enum order' {
        $path = Join-Path $TestDrive 'order.prom'
        $script:Mixed | Export-PveHealthMetrics -Path $path
        $text = Get-Content -Raw $path
        $text | Should -Match 'pve_health_check_status\{[^}]*component="g-Ok"[^}]*\} 0\n'
        $text | Should -Match 'pve_health_check_status\{[^}]*component="g-Warning"[^}]*\} 1\n'
        $text | Should -Match 'pve_health_check_status\{[^}]*component="g-Critical"[^}]*\} 2\n'
        $text | Should -Match 'pve_health_check_status\{[^}]*component="g-Unknown"[^}]*\} 3\n'
        $text | Should -Not -Match 'component="g-Skipped"'
    }
}

Describe 'Interactive: Table views' {
    It 'prints control characters of Detail and Component as visible stand-ins, the object keeps them' {
        $r = New-Result "evil`e[2Jname" 'Critical' -Detail "moved`e[31mred`a bell`u{202E}rtl"
        $text = $r | Format-Table | Out-String -Width 200
        $text | Should -Not -Match "`e"
        $text | Should -Not -Match "`a"
        $text | Should -Not -Match "`u{202E}"
        $text | Should -Match ([regex]::Escape("moved`u{241B}[31mred`u{2407} bell`u{FFFD}rtl"))
        $text | Should -Match ([regex]::Escape("evil`u{241B}[2Jname"))
        $r.Detail | Should -BeExactly "moved`e[31mred`a bell`u{202E}rtl"
    }
    It 'keeps Duration whole at 80 and 200 columns and gives Detail the rest, wrapped' {
        $r = New-Result 'web-01' 'Critical' -Detail ('no SSH answer from 127.10.0.3:22 within 2.7 s ' * 3) -Seconds 12.3456
        foreach ($width in 80, 200) {
            $lines = @(($r | Format-Table | Out-String -Width $width) -split "`r?`n" | Where-Object { $_ })
            $lines[0] | Should -Match '^Component\s+Status\s+Check\s+Detail\s+Duration$'
            $lines[2] | Should -Match '^web-01\s+Critical\s+Ping\s+no SSH answer .*\s12\.3 s$'
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual $width }
        }
    }
    It 'shortens a long component in the middle so its distinguishing end stays' {
        $text = New-Result 'prometheus-scrape-target-node-07' 'Ok' | Format-Table | Out-String -Width 120
        $text | Should -Match 'prometheu…-node-07'
    }
    It 'wraps Detail at spaces, never inside a word' {
        [PveHealth.PowerShell.Formatting.TableText]::WrapTo('no SSH answer from 127.10.0.3:22 within 2.7 s', 20) | Should -Be "no SSH answer from`n127.10.0.3:22 within`n2.7 s"
    }
    It 'has a Wide view with Environment, Type and Target' {
        $text = New-Result 'web-01' 'Ok' | Format-Table -View Wide | Out-String -Width 200
        $text | Should -Match '^\s*Environment\s+Component\s+Type\s+Check\s+Status\s+Duration\s+Target\s+Detail'
    }
}

Describe 'Interactive: Runs: environment column, -ByComponent, summary placement' {
    BeforeAll {
        $inv2 = Join-Path $TestDrive 'two.json'
        @{ guests = @(@{ name = 'loop-01'; kind = 'vm'; address = '127.0.0.1' }) } | ConvertTo-Json -Depth 5 | Set-Content $inv2
        $script:TwoCfg = Join-Path $TestDrive 'two-envs'
        $null = New-Item -ItemType Directory $script:TwoCfg
        $script:TwoCfg = New-TestConfig -Folder $script:TwoCfg -Environments @{
            one = @{ inventory = @{ source = 'file'; path = $inv2 }; checks = @('Ping') }
            two = @{ inventory = @{ source = 'file'; path = $inv2 }; checks = @('Ping') }
        } -Defaults @{ exclusionPath = $noExclusions }
    }
    It 'shows the Environment column when several environments are checked, not for one' {
        $two = @(Invoke-PveHealthCheck -All -ConfigPath $script:TwoCfg)
        $two.Count | Should -Be 2
        $two[0].PSObject.TypeNames[0] | Should -Be 'PveHealth.Model.CheckResult#Environment'
        ($two | Out-String -Width 120) | Should -Match '(?m)^Environment\s+Component\s+Status'
        $one = @(Invoke-PveHealthCheck -All -ConfigPath $script:OneCfg)
        ($one | Out-String -Width 120) | Should -Match '(?m)^Component\s+Status'
    }
    It '-ByComponent writes one row per component with one column per check' {
        $rows = @(Invoke-PveHealthCheck -All -ConfigPath $script:TwoCfg -ByComponent)
        $rows.Count | Should -Be 2
        "$($rows[0].Ping)" | Should -Be 'Ok'
        $rows[0].Ssh | Should -BeNullOrEmpty
        "$($rows[0].Status)" | Should -Be 'Ok'
        $rows[0].Results.Count | Should -Be 1
        ($rows | Out-String -Width 120) | Should -Match '(?m)^Environment\s+Name\s+Ping\s+Ssh\s+Docker\s+ApiStatus\s+GuestAgent'
    }
    It 'prints the summary after the rows when the command ends the pipeline, never when its output is captured' {
        $cfg = $script:OneCfg
        $shown = Invoke-FreshPwsh -Script "Invoke-PveHealthCheck -All -ConfigPath '$cfg'; 'END'"
        $shown.Output | Should -Match '(?s)loop-01\s+Ok.*1 check: 1 Ok in [0-9.]+ s.*END'
        foreach ($captured in @('$r = Invoke-PveHealthCheck -All -ConfigPath ''{0}''; "END $($r.Count)"', '$n = @(Invoke-PveHealthCheck -All -ConfigPath ''{0}'').Count; "END $n"', 'Invoke-PveHealthCheck -All -ConfigPath ''{0}'' > /dev/null; ''END 1''')) {
            $r = Invoke-FreshPwsh -Script ($captured -f $cfg)
            $r.Output | Should -Not -Match 'check: ' -Because $captured
            $r.Output | Should -Match 'END 1'
        }
    }
}

Describe 'Interactive: filters, -Quiet, -Check, warnings, completion' {
    BeforeAll {
        $inv3 = Join-Path $TestDrive 'three.json'
        @{ guests = @(@{ name = 'web-01'; kind = 'vm'; address = '127.0.0.1' }, @{ name = 'db-01'; kind = 'vm'; address = '127.0.0.1' }) } | ConvertTo-Json -Depth 5 | Set-Content $inv3
        $dir = Join-Path $TestDrive 'filters'
        $null = New-Item -ItemType Directory $dir
        # Prometheus on a closed loopback port: refused at once, Critical.
        $script:MixCfg = New-TestConfig -Folder $dir -Environments @{
            prod = @{ inventory = @{ source = 'file'; path = $inv3 }; checks = @('Ping'); monitoring = @{ prometheus = @{ url = 'http://127.0.0.1:9' } } }
            stage = @{ inventory = @{ source = 'file'; path = $inv3 }; checks = @('Ping') }
        } -Defaults @{ exclusionPath = $noExclusions }
    }
    It '-Status writes only the chosen statuses' {
        $r = @(Invoke-PveHealthCheck -Environment prod -ConfigPath $script:MixCfg -Status Critical, Unknown)
        $r.Count | Should -BeGreaterThan 0
        $r | ForEach-Object { "$($_.Status)" | Should -BeIn 'Critical', 'Unknown' }
        $r.Component | Should -Not -Contain 'web-01'
    }
    It '-Quiet returns $false when a check failed and $true when none did' {
        $q = @(Invoke-PveHealthCheck -Environment prod -ConfigPath $script:MixCfg -Quiet)
        $q.Count | Should -Be 1
        $q[0] | Should -BeOfType [bool]
        $q[0] | Should -BeFalse
        Invoke-PveHealthCheck -Environment stage -ConfigPath $script:MixCfg -Quiet | Should -BeTrue
    }
    It 'Invoke-PveHealthCheck -Check runs only the named checks' {
        $r = @(Invoke-PveHealthCheck -Environment prod -ConfigPath $script:MixCfg -Check Ping)
        $r.Check | Sort-Object -Unique | Should -Be 'Ping'
        $r.Count | Should -Be 2
    }
    It 'warns when -Component, -Exclude or -Check match nothing' {
        $null = Invoke-PveHealthCheck -Environment stage -ConfigPath $script:MixCfg -Component 'web-*', 'db-*', nosuch -Exclude 'dead*', 'db-01:Ping' -Check Ping, 'Nope*' -WarningVariable w 3>$null
        ($w -join "`n") | Should -Match "-Component 'nosuch' matches no group"
        ($w -join "`n") | Should -Match "-Exclude 'dead\*' excluded nothing"
        ($w -join "`n") | Should -Match "-Check 'Nope\*' matches no check"
        ($w -join "`n") | Should -Not -Match "'web-\*'|'db-\*'|'db-01:Ping'|-Check 'Ping'"
    }
    It '-WhatIf ends with the count of planned checks' {
        $file = Join-Path $TestDrive 'whatif.txt'
        Invoke-PveHealthCheck -Environment stage -ConfigPath $script:MixCfg -WhatIf 6> $file
        (Get-Content -Raw $file) | Should -Match 'What if: 2 checks planned in stage\.'
    }
    It 'completes -Environment, -Component, -Check and the check part of -Exclude with TabExpansion2' {
        $cfg = $script:MixCfg
        $complete = { param($line) (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText }
        & $complete "Invoke-PveHealthCheck -ConfigPath '$cfg' -Environment " | Should -Be @('prod', 'stage')
        & $complete "Invoke-PveHealthCheck -ConfigPath '$cfg' -Environment s" | Should -Be @('stage')
        $components = & $complete "Invoke-PveHealthCheck -ConfigPath '$cfg' -Component "
        $components | Should -Contain 'Vm'
        $components | Should -Contain 'Monitoring'
        $components | Should -Contain 'web-01'
        $components | Should -Contain 'db-01'
        & $complete "Invoke-PveHealthCheck -ConfigPath '$cfg' -Component we" | Should -Be @('web-01')
        & $complete "Invoke-PveHealthCheck -ConfigPath '$cfg' -Check Gu" | Should -Be @('GuestAgent')
        & $complete "Invoke-PveHealthCheck -ConfigPath '$cfg' -Exclude web-01:Do" | Should -Be @('web-01:Docker')
        & $complete "Test-PveVm -ConfigPath '$cfg' -Environment p" | Should -Be @('prod')
    }
}
