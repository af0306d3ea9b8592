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

Describe 'Status severity order' {
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
