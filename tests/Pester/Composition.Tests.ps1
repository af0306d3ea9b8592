# Cmdlets compose the same way (issue 17 item 6), against the lab: guests carry their configuration and environment
# (Get-PveInventory -ConfigPath x | Test-PveVm), Test-PveVm uses the configuration's only environment like
# Invoke-PveHealthCheck, looks a bare name up in the inventory for its address, takes several names and plain strings.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:LabSkipReason = Get-LabSkipReason -Suite 'Composition lab tests' -Tool /usr/sbin/sshd
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Lab/PveLab.psm1') -Force
    $script:ModulePath = Get-PveHealthModulePath
    function Find-Result {
        param($Results, [string] $Component, [string] $Check)
        @($Results | Where-Object { $_.Component -eq $Component -and $_.Check -eq $Check })
    }
}

Describe 'Test-PveVm composes with the configuration' -Tag 'Lab' -Skip:([bool]$script:LabSkipReason) {
    BeforeAll {
        $script:lab = Start-PveLab -GuestCount 6 -NoStack
        $script:out = Invoke-InPveLab $lab -ModulePath $script:ModulePath {
            Remove-Item Env:PVE_HEALTH_CONFIG -ErrorAction SilentlyContinue
            $ErrorActionPreference = 'Continue' # the errors are part of what is tested
            $cfg = $Lab.ConfigPath
            function Flat($items) {
                foreach ($r in @($items)) {
                    if ($r -is [System.Management.Automation.ErrorRecord]) { [pscustomobject]@{ Kind = 'Error'; Id = $r.FullyQualifiedErrorId; Text = "$r" } }
                    elseif ($r -is [System.Management.Automation.WarningRecord]) { [pscustomobject]@{ Kind = 'Warning'; Text = $r.Message } }
                    elseif ($r.PSObject.Properties['Check']) { [pscustomobject]@{ Kind = 'Result'; Environment = $r.Environment; Component = $r.Component; Check = $r.Check; Status = "$($r.Status)"; Detail = $r.Detail; Target = $r.Target } }
                }
            }
            $o = @{}
            # The guests carry the file: no -ConfigPath, no $env:PVE_HEALTH_CONFIG on Test-PveVm.
            $o.Inventory = @(Flat (Get-PveInventory -ConfigPath $cfg -Name web-01, cache-01 | Test-PveVm -Check Ssh, Docker -InformationAction Ignore *>&1))
            $o.GuestConfigPath = @(Get-PveInventory -ConfigPath $cfg -Name web-01)[0].ConfigPath
            # A CSV without an environment column: the configuration's only environment.
            $csv = Join-Path $Lab.Root 'guests.csv'
            $web = $Lab.Guests | Where-Object Name -eq 'web-01'
            "Name,Address`nweb-01,$($web.Ip)" | Set-Content $csv
            $o.Csv = @(Flat (Import-Csv $csv | Test-PveVm -ConfigPath $cfg -Check Ssh, ApiStatus -TimeoutSec 10 -InformationAction Ignore *>&1))
            # A bare name: its address, VMID and node from the inventory.
            $o.ByName = @(Flat (Test-PveVm web-01 -ConfigPath $cfg -Check Ping, ApiStatus -TimeoutSec 10 -InformationAction Ignore *>&1))
            $o.WebIp = $web.Ip
            # Several names, and plain strings from the pipeline.
            $o.Names = @(Flat (Test-PveVm web-01, web-02 -ConfigPath $cfg -Check Ping -InformationAction Ignore *>&1))
            $o.Strings = @(Flat ('web-01', 'app-01' | Test-PveVm -ConfigPath $cfg -Check Ping -InformationAction Ignore *>&1))
            # A name the inventory does not have; an environment the configuration does not have.
            $o.Ghost = @(Flat (Test-PveVm ghost -ConfigPath $cfg -Check Ping -InformationAction Ignore *>&1))
            $o.NoEnv = @(Flat (Test-PveVm web-01 -Environment nosuch -ConfigPath $cfg -Check Ping -InformationAction Ignore *>&1))
            # Two environments and none named: the same rule as Invoke-PveHealthCheck (choose one).
            $two = Get-Content $cfg -Raw | ConvertFrom-Json -AsHashtable
            $two.environments['other'] = @{ timeoutSec = 3 }
            $twoPath = Join-Path $Lab.Root 'two.json'
            $two | ConvertTo-Json -Depth 10 | Set-Content $twoPath
            $o.Two = @(Flat (Test-PveVm web-01 -ConfigPath $twoPath -Check Ping -InformationAction Ignore *>&1))
            $o.TwoNamed = @(Flat (Test-PveVm web-01 -Environment lab -ConfigPath $twoPath -Check Ping -InformationAction Ignore *>&1))
            $o
        }
    }
    AfterAll {
        if ($script:lab) { Stop-PveLab $script:lab }
    }

    It 'Get-PveInventory -ConfigPath x | Test-PveVm keeps the configuration: SSH is configured' {
        $out.GuestConfigPath | Should -Be $lab.ConfigPath
        $r = @($out.Inventory | Where-Object Kind -eq 'Result')
        (Find-Result $r 'web-01' 'Ssh')[0].Status | Should -Be 'Ok'
        (Find-Result $r 'web-01' 'Docker')[0].Status | Should -Be 'Ok'
        (Find-Result $r 'cache-01' 'Ssh')[0].Status | Should -Be 'Critical'
        (Find-Result $r 'cache-01' 'Ssh')[0].Detail | Should -BeLike 'connection refused*'
        @($r | Where-Object Detail -like '*not configured*') | Should -BeNullOrEmpty
        @($r | ForEach-Object Environment | Sort-Object -Unique) | Should -Be @('lab')
    }

    It 'Import-Csv | Test-PveVm -ConfigPath x uses the only environment of x' {
        $r = @($out.Csv | Where-Object Kind -eq 'Result')
        $r.Count | Should -Be 2
        @($r | ForEach-Object Environment | Sort-Object -Unique) | Should -Be @('lab')
        (Find-Result $r 'web-01' 'Ssh')[0].Status | Should -Be 'Ok'
        # The VMID and node came from the inventory: the API check could look.
        (Find-Result $r 'web-01' 'ApiStatus')[0].Status | Should -Be 'Ok' -Because (Find-Result $r 'web-01' 'ApiStatus')[0].Detail
    }

    It 'Test-PveVm web-01 -ConfigPath x finds the address in the inventory' {
        $r = @($out.ByName | Where-Object Kind -eq 'Result')
        $ping = (Find-Result $r 'web-01' 'Ping')[0]
        $ping.Status | Should -Be 'Ok'
        $ping.Target | Should -Be $out.WebIp
        (Find-Result $r 'web-01' 'ApiStatus')[0].Status | Should -Be 'Ok' -Because (Find-Result $r 'web-01' 'ApiStatus')[0].Detail
        @($out.ByName | Where-Object Kind -ne 'Result') | Should -BeNullOrEmpty
    }

    It 'takes several names and plain strings from the pipeline' {
        @($out.Names | Where-Object Kind -eq 'Result' | ForEach-Object Component | Sort-Object) | Should -Be @('web-01', 'web-02')
        @($out.Names | Where-Object Kind -eq 'Result' | ForEach-Object Status | Sort-Object -Unique) | Should -Be @('Ok')
        @($out.Strings | Where-Object Kind -eq 'Result' | ForEach-Object Component | Sort-Object) | Should -Be @('app-01', 'web-01')
        @($out.Strings | Where-Object Kind -eq 'Result' | ForEach-Object Status | Sort-Object -Unique) | Should -Be @('Ok')
    }

    It 'warns about a name the inventory does not have; its checks are Unknown (they could not look)' {
        @($out.Ghost | Where-Object Kind -eq 'Warning' | ForEach-Object Text) | Should -Contain 'guest ghost is not in the inventory of environment lab; give -Address (or an Address column).'
        $ping = @($out.Ghost | Where-Object Kind -eq 'Result')
        $ping.Count | Should -Be 1
        $ping[0].Status | Should -Be 'Unknown'
        $ping[0].Detail | Should -BeLike 'no address for ghost*'
    }

    It 'an environment the configuration does not have is EnvironmentNotFound, not a silent unconfigured run' {
        $e = @($out.NoEnv | Where-Object Kind -eq 'Error')
        $e.Count | Should -Be 1
        $e[0].Id | Should -BeLike 'EnvironmentNotFound*'
        $e[0].Text | Should -BeLike "guest web-01: environment 'nosuch' is not in *; configured: lab."
        @($out.NoEnv | Where-Object Kind -eq 'Result') | Should -BeNullOrEmpty
    }

    It 'with two environments and none named it asks to choose, as Invoke-PveHealthCheck does' {
        $e = @($out.Two | Where-Object Kind -eq 'Error')
        $e.Count | Should -Be 1
        $e[0].Id | Should -BeLike 'EnvironmentNotFound*'
        $e[0].Text | Should -BeLike '*defines 2 environments (lab, other): choose with -Environment or use -All.'
        $r = @($out.TwoNamed | Where-Object Kind -eq 'Result')
        $r[0].Status | Should -Be 'Ok'
        $r[0].Environment | Should -Be 'lab'
    }
}
