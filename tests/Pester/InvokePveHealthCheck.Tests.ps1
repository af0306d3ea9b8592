# Invoke-PveHealthCheck: every parameter. Guests live on 127.x (loopback answers ping here).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Get-PveHealthModulePath) -Force
    $script:FakeDir = (Resolve-Path (Join-Path $PSScriptRoot '../Support/fake-terraform')).Path

    function New-Inventory([string] $Name, [object[]] $Guests) {
        $path = Join-Path $TestDrive $Name
        @{ guests = $Guests } | ConvertTo-Json -Depth 5 | Set-Content -Path $path -Encoding utf8NoBOM
        $path
    }
    $prodInv = New-Inventory 'prod.json' @(
        @{ name = 'web-01'; kind = 'vm'; address = '127.0.0.11' },
        @{ name = 'web-02'; kind = 'vm'; address = '127.0.0.12' },
        @{ name = 'db-01'; kind = 'vm'; address = '127.0.0.13' },
        @{ name = 'cache-01'; kind = 'lxc'; address = '127.0.0.14' })
    $stagingInv = New-Inventory 'staging.json' @(@{ name = 'stg-web-01'; kind = 'vm'; address = '127.0.0.21' })
    $labInv = New-Inventory 'lab.json' @(@{ name = 'lab-ct-01'; kind = 'lxc'; address = '127.0.0.31' })
    # The configuration names an exclusions file holding only a comment, so /etc/pve-health/exclusions.conf of this machine cannot interfere.
    $script:EmptyExclusions = Join-Path $TestDrive 'empty-exclusions.conf'
    '# nothing excluded' | Set-Content $script:EmptyExclusions
    $script:Cfg = New-TestConfig -Folder $TestDrive -Environments @{
        prod    = @{ inventory = @{ source = 'file'; path = $prodInv }; checks = @('Ping') }
        staging = @{ inventory = @{ source = 'file'; path = $stagingInv } }
        'stage-2' = @{ inventory = @{ source = 'file'; path = $labInv } }
    } -Defaults @{ exclusionPath = $script:EmptyExclusions }
    $script:Check = @{ ConfigPath = $script:Cfg }
}

Describe 'Invoke-PveHealthCheck -Environment / -All' {
    It 'checks one environment' {
        $r = Invoke-PveHealthCheck -Environment prod @script:Check
        ($r.Component | Sort-Object) | Should -Be @('cache-01', 'db-01', 'web-01', 'web-02')
        $r.Status | Sort-Object -Unique | ForEach-Object ToString | Should -Be 'Ok'
        $r.Check | Sort-Object -Unique | Should -Be 'Ping'
        $r.Environment | Sort-Object -Unique | Should -Be 'prod'
    }

    It 'checks several environments and wildcards' {
        (Invoke-PveHealthCheck -Environment prod, staging @script:Check).Environment | Sort-Object -Unique | Should -Be @('prod', 'staging')
        (Invoke-PveHealthCheck -Environment 'stag*' @script:Check).Environment | Sort-Object -Unique | Should -Be @('stage-2', 'staging')
    }

    It '-All checks every environment' {
        (Invoke-PveHealthCheck -All @script:Check).Environment | Sort-Object -Unique | Should -Be @('prod', 'stage-2', 'staging')
    }

    It 'an unknown environment is EnvironmentNotFound naming the configured ones' {
        { Invoke-PveHealthCheck -Environment qa @script:Check } | Should -Throw -ErrorId 'EnvironmentNotFound,*' -ExpectedMessage "*'qa'*configured: prod, stage-2, staging*"
    }

    It 'several environments without -Environment or -All is EnvironmentNotFound' {
        { Invoke-PveHealthCheck @script:Check } | Should -Throw -ErrorId 'EnvironmentNotFound,*' -ExpectedMessage '*-Environment or use -All*'
    }
}

Describe 'Invoke-PveHealthCheck -Component' {
    It 'Vm and Lxc select guests by kind' {
        (Invoke-PveHealthCheck -Environment prod -Component Lxc @script:Check).Component | Should -Be 'cache-01'
        (Invoke-PveHealthCheck -Environment prod -Component Vm @script:Check).Component | Sort-Object | Should -Be @('db-01', 'web-01', 'web-02')
    }

    It 'guest names with wildcards' {
        (Invoke-PveHealthCheck -Environment prod -Component 'web-*', 'CACHE-01' @script:Check).Component | Sort-Object | Should -Be @('cache-01', 'web-01', 'web-02')
    }
}

Describe 'Invoke-PveHealthCheck exclusions' {
    It '-Exclude skips whole components as Skipped results naming the rule and -Exclude' {
        $r = Invoke-PveHealthCheck -Environment prod -Exclude 'web-*' @script:Check
        $skipped = $r | Where-Object { $_.Status.ToString() -eq 'Skipped' }
        ($skipped.Component | Sort-Object) | Should -Be @('web-01', 'web-02')
        $skipped | ForEach-Object { $_.Detail | Should -Be "excluded by 'web-*' (-Exclude)" }
        ($r | Where-Object { $_.Status.ToString() -eq 'Ok' }).Component | Sort-Object | Should -Be @('cache-01', 'db-01')
    }

    It '-Exclude with :Check skips only that check' {
        $r = Invoke-PveHealthCheck -Environment prod -Exclude 'db-01:Ping', 'web-01:Docker' @script:Check
        ($r | Where-Object Component -eq 'db-01').Status.ToString() | Should -Be 'Skipped'
        ($r | Where-Object Component -eq 'db-01').Detail | Should -Be "excluded by 'db-01:Ping' (-Exclude)"
        ($r | Where-Object Component -eq 'web-01').Status.ToString() | Should -Be 'Ok'
    }

    It 'a bad -Exclude is ExcludeInvalid' {
        { Invoke-PveHealthCheck -Environment prod -Exclude 'web-01:Telnet' @script:Check } | Should -Throw -ErrorId 'ExcludeInvalid,*'
    }

    It '-ExclusionPath: comments apply nothing, a bad line is ExclusionLineInvalid with file:line, good lines still apply' {
        $file = Join-Path $TestDrive 'exclusions.conf'
        "# maintenance`n`nweb-02   # rebuilt`nbad line here`nLxc:Ping`n" | Set-Content $file -NoNewline
        $r = Invoke-PveHealthCheck -Environment prod -ExclusionPath $file @script:Check -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ExclusionLineInvalid,*'
        $errs[0].ToString() | Should -BeLike "$file`:4: *"
        ($r | Where-Object Component -eq 'web-02').Detail | Should -Be "excluded by 'web-02' ($file`:3)"
        ($r | Where-Object Component -eq 'cache-01').Detail | Should -Be "excluded by 'Lxc:Ping' ($file`:5)"
        ($r | Where-Object { $_.Status.ToString() -eq 'Ok' }).Component | Sort-Object | Should -Be @('db-01', 'web-01')
    }

    It 'maintenance windows: an active until= excludes with its reason, an expired one runs the check and is a Warning naming its line' {
        $file = Join-Path $TestDrive 'windows.conf'
        $future = [DateTimeOffset]::UtcNow.AddDays(3).ToString('yyyy-MM-ddTHH:mmZ', [cultureinfo]::InvariantCulture)
        "web-01 until=$future reason=kernel upgrade`nweb-02 until=2020-01-01T00:00Z reason=old window`n" | Set-Content $file -NoNewline
        $r = Invoke-PveHealthCheck -Environment prod -ExclusionPath $file @script:Check
        ($r | Where-Object Component -eq 'web-01').Status.ToString() | Should -Be 'Skipped'
        ($r | Where-Object Component -eq 'web-01').Detail | Should -BeLike "excluded by 'web-01' ($file`:1; until * UTC, kernel upgrade)"
        ($r | Where-Object Component -eq 'web-02').Status.ToString() | Should -Be 'Ok' -Because 'an expired window no longer excludes'
        $w = @($r | Where-Object Check -eq 'Maintenance')
        $w.Count | Should -Be 1
        $w[0].Status.ToString() | Should -Be 'Warning'
        $w[0].Type | Should -Be 'Exclusions'
        $w[0].Detail | Should -Be "the maintenance window of 'web-02' ($file`:2) ended 2020-01-01 00:00 UTC (old window); the rule no longer excludes: remove the line or move its until="
    }

    It 'an explicit missing exclusions file is ExclusionFileNotFound' {
        { Invoke-PveHealthCheck -Environment prod -ExclusionPath (Join-Path $TestDrive 'none.conf') @script:Check } | Should -Throw -ErrorId 'ExclusionFileNotFound,*'
    }
}

Describe 'Invoke-PveHealthCheck -TimeoutSec / -ThrottleLimit' {
    It 'runs every check with -ThrottleLimit 1 and -TimeoutSec 5' {
        $r = Invoke-PveHealthCheck -All -ThrottleLimit 1 -TimeoutSec 5 @script:Check
        $r.Count | Should -Be 6
        $r.Status | Sort-Object -Unique | ForEach-Object ToString | Should -Be 'Ok'
    }

    It 'rejects out-of-range values' {
        { Invoke-PveHealthCheck -All -TimeoutSec 0 @script:Check } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Invoke-PveHealthCheck -All -ThrottleLimit 0 @script:Check } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }
}

Describe 'Invoke-PveHealthCheck -ConfigPath' {
    It 'a missing configuration is ConfigInvalid naming the file' {
        $missing = Join-Path $TestDrive 'absent.json'
        { Invoke-PveHealthCheck -All -ConfigPath $missing } | Should -Throw -ErrorId 'ConfigInvalid,*' -ExpectedMessage "$missing`: configuration file not found*"
    }

    It 'a malformed configuration is ConfigInvalid naming the file and the JSON path' {
        $bad = Join-Path $TestDrive 'malformed.json'
        "{`n `"environments`": { `"prod`": { `"timeoutSec`": `"soon`" } }`n}" | Set-Content $bad
        $e = { Invoke-PveHealthCheck -All -ConfigPath $bad } | Should -Throw -ErrorId 'ConfigInvalid,*' -PassThru
        $e.ToString() | Should -BeLike "$bad`: `$.environments.prod.timeoutSec: expected a number*"
    }

    It 'an unknown key is a warning with its path' {
        $cfg = Join-Path $TestDrive 'unknown-key.json'
        @{ environments = @{ prod = @{ inventory = @{ source = 'file'; path = (Join-Path $TestDrive 'prod.json') }; colour = 'blue' } } } | ConvertTo-Json -Depth 5 | Set-Content $cfg
        $r = Invoke-PveHealthCheck -All -ConfigPath $cfg -WarningVariable warns -WarningAction SilentlyContinue
        $r.Count | Should -Be 4
        $warns.Count | Should -Be 1
        $warns[0].Message | Should -BeLike "$cfg`: unknown key '`$.environments.prod.colour'*"
    }

    It 'uses $env:PVE_HEALTH_CONFIG when -ConfigPath is absent' {
        $saved = $env:PVE_HEALTH_CONFIG
        try {
            $env:PVE_HEALTH_CONFIG = $script:Cfg
            (Invoke-PveHealthCheck -Environment staging).Component | Should -Be 'stg-web-01'
        } finally { $env:PVE_HEALTH_CONFIG = $saved }
    }
}

Describe 'Invoke-PveHealthCheck summary line' {
    It 'a run that ends the pipeline writes "N checks: ..." to the information stream' {
        # A statement of its own: its output goes to the caller's host (Pester drops it here).
        Invoke-PveHealthCheck -Environment prod -Exclude db-01 @script:Check -InformationVariable info
        $summary = @($info | Where-Object { $_.Tags -contains 'PveHealthSummary' })
        $summary.Count | Should -Be 1
        $summary[0].MessageData.ToString() | Should -Match '^4 checks: 3 Ok, 1 Skipped in \d+\.\d s$'
    }

    It 'is visible with 6> and absent when the results flow on down the pipeline or are captured (issue 17)' {
        $file = Join-Path $TestDrive 'info.txt'
        Invoke-PveHealthCheck -Environment staging @script:Check 6> $file
        (Get-Content -Raw $file) | Should -Match '^1 check: 1 Ok in '
        Invoke-PveHealthCheck -Environment staging @script:Check -InformationVariable info2 | Where-Object { $true } | Out-Null
        @($info2 | Where-Object { $_.Tags -contains 'PveHealthSummary' }).Count | Should -Be 0
        $r = Invoke-PveHealthCheck -Environment staging @script:Check -InformationVariable info3
        $r.Count | Should -Be 1
        @($info3 | Where-Object { $_.Tags -contains 'PveHealthSummary' }).Count | Should -Be 0
    }
}

Describe 'Invoke-PveHealthCheck -WhatIf (the dry run)' {
    BeforeAll {
        $script:TfDir = Join-Path $TestDrive 'tf-prod'
        New-Item -ItemType Directory $script:TfDir | Out-Null
        $script:TfLog = Join-Path $TestDrive 'terraform-invocations.log'
        $tfOutput = Join-Path $TestDrive 'tf-output.json'
        '{"vms": {"sensitive": false, "type": "map", "value": {"tf-web-01": {"ip": "127.0.0.41", "vmid": 401}}}}' | Set-Content $tfOutput
        $folder = (New-Item -ItemType Directory (Join-Path $TestDrive 'dry')).FullName
        $script:DryCfg = New-TestConfig -Folder $folder -Environments @{
            remote = @{ inventory = @{ source = 'terraform'; directory = $script:TfDir; timeoutSec = 30 } }
            local  = @{ inventory = @{ source = 'file'; path = (Join-Path $TestDrive 'prod.json') } }
        } -Defaults @{ exclusionPath = $script:EmptyExclusions }
        $script:ChildEnv = @{ PATH = "$($script:FakeDir)$([IO.Path]::PathSeparator)$env:PATH"; FAKE_TERRAFORM_LOG = $script:TfLog; FAKE_TERRAFORM_OUTPUT = $tfOutput }
    }

    It 'lists "What if:" for every planned check, runs nothing and does not invoke terraform' {
        $script = "`$r = Invoke-PveHealthCheck -All -ConfigPath '$($script:DryCfg)' -Exclude db-01 -WhatIf; 'RESULTS=' + ((`$r | ForEach-Object { '{0}:{1}' -f `$_.Component, `$_.Status }) -join ',')"
        $r = Invoke-FreshPwsh -Environment $script:ChildEnv -Script $script
        $r.ExitCode | Should -Be 0
        $lines = $r.Output -split "`n" | ForEach-Object Trim
        $whatIf = @($lines | Where-Object { $_ -like 'What if:*' })
        foreach ($guest in 'web-01', 'web-02', 'cache-01') {
            @($whatIf | Where-Object { $_ -like "*`"local/Ping on $guest (127.0.0.*)`"*" }).Count | Should -Be 1 -Because "the dry run lists Ping on $guest"
        }
        @($whatIf | Where-Object { $_ -like '*db-01*' -and $_ -notlike '*"Apply exclusion"*' }).Count | Should -Be 0
        @($whatIf | Where-Object { $_ -like "*`"Apply exclusion`" on target `"'db-01' (-Exclude)`"*" }).Count | Should -Be 1 -Because 'the dry run lists the exclusions in force'
        @($whatIf | Where-Object { $_ -like "*Discover guests*remote: terraform:$($script:TfDir)*" }).Count | Should -Be 1
        $results = ($lines | Where-Object { $_ -like 'RESULTS=*' }) -replace '^RESULTS=', ''
        $results | Should -Be 'db-01:Skipped'
        $results | Should -Not -Match ':(Ok|Critical|Warning|Unknown)'
        Test-Path $script:TfLog | Should -BeFalse -Because 'the dry run must not run terraform'
    }

    It 'lists the maintenance windows in force; an expired one is not applied and is a Warning row' {
        $file = Join-Path $TestDrive 'windows-whatif.conf'
        "web-01 until=2099-01-01T00:00Z reason=kernel upgrade`nweb-02 until=2020-01-01T00:00Z`n" | Set-Content $file -NoNewline
        $script = "`$r = Invoke-PveHealthCheck -Environment local -ConfigPath '$($script:DryCfg)' -ExclusionPath '$file' -WhatIf; 'RESULTS=' + ((`$r | ForEach-Object { '{0}:{1}:{2}' -f `$_.Component, `$_.Check, `$_.Status }) -join ',')"
        $r = Invoke-FreshPwsh -Environment $script:ChildEnv -Script $script
        $r.ExitCode | Should -Be 0
        $lines = $r.Output -split "`n" | ForEach-Object Trim
        $whatIf = @($lines | Where-Object { $_ -like 'What if:*' })
        @($whatIf | Where-Object { $_ -like "*`"Apply exclusion`" on target `"'web-01' ($file`:1; until 2099-01-01 00:00 UTC, kernel upgrade)`"*" }).Count | Should -Be 1
        @($whatIf | Where-Object { $_ -like '*Apply exclusion*web-02*' }).Count | Should -Be 0 -Because 'an expired window is not in force'
        @($whatIf | Where-Object { $_ -like '*"local/Ping on web-02 (*' }).Count | Should -Be 1 -Because 'the expired window no longer excludes web-02'
        ($lines | Where-Object { $_ -like 'RESULTS=*' }) | Should -Match 'exclusions:Maintenance:Warning'
    }

    It 'the same configuration without -WhatIf does run terraform (the probe works)' {
        $r = Invoke-FreshPwsh -Environment $script:ChildEnv -Script "Invoke-PveHealthCheck -Environment remote -ConfigPath '$($script:DryCfg)' | ForEach-Object { '{0}:{1}' -f `$_.Component, `$_.Status }"
        $r.ExitCode | Should -Be 0
        $r.Output.Trim() | Should -Be 'tf-web-01:Ok'
        @(Get-Content $script:TfLog).Count | Should -Be 1
    }
}

Describe 'Run policy: every command takes defaults.throttleLimit and runTimeoutSec from the configuration' {
    BeforeAll {
        $script:PolicyCfg = New-TestConfig -Folder (New-Item -ItemType Directory -Force (Join-Path $TestDrive 'policy')).FullName -Environments @{
            prod = @{ inventory = @{ source = 'file'; path = $prodInv }; checks = @('Ping') }
        } -Defaults @{ exclusionPath = $script:EmptyExclusions; throttleLimit = 3; runTimeoutSec = 120 }
        function Get-ThrottleLine([scriptblock] $Command) {
            @(& $Command 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Concurrency:*' })[0].Message
        }
    }

    It 'Test-PveVm honours defaults.throttleLimit; -ThrottleLimit wins over it' {
        Get-ThrottleLine { Test-PveVm -Name web-01 -Address 127.0.0.11 -Check Ping -ConfigPath $script:PolicyCfg -Verbose -InformationAction Ignore } | Should -BeLike '*(throttle limit 3)*'
        Get-ThrottleLine { Test-PveVm -Name web-01 -Address 127.0.0.11 -Check Ping -ConfigPath $script:PolicyCfg -ThrottleLimit 5 -Verbose -InformationAction Ignore } | Should -BeLike '*(throttle limit 5)*'
    }

    It 'Invoke-PveHealthCheck gets the same options from the same configuration' {
        Get-ThrottleLine { Invoke-PveHealthCheck -ConfigPath $script:PolicyCfg -Verbose -InformationAction Ignore } | Should -BeLike '*(throttle limit 3)*'
    }
}
