# The end-to-end proof (issue 6, T016): guest stops -> scheduled run -> textfile -> node_exporter -> Prometheus
# (the SHIPPED deploy/prometheus/health-alerts.yml, unchanged, for: 1m) -> Alertmanager; guest starts -> resolved.
# Everything runs in the lab's network namespace (tests/Lab/PveLab.psm1): real node_exporter, Prometheus (scrape and
# rule evaluation every 1 s) and two clustered Alertmanagers (Prometheus sends to both), the scheduled entry script
# out/PveHealth/bin/pve-health-check.ps1 run as its own process, exactly as the systemd unit runs it.
# The timeline (guest stopped -> check done -> metric scraped -> pending -> firing -> received -> resolved) is printed
# with Write-Host so CI logs show it. Waits are bounded polls; the bounds are generous (the alert's for: is 60 s).

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:E2ESkipReason = Get-LabSkipReason -Suite 'End-to-end test' -Tool nft, curl, prometheus, prometheus-alertmanager, prometheus-node-exporter, node -NodeModule s3rver
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Lab/PveLab.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:Repo = Split-Path (Split-Path $PSScriptRoot)
    $script:RuleFile = Join-Path $Repo 'deploy/prometheus/health-alerts.yml'
    $script:Entry = Join-Path (Get-PveHealthModulePath) 'bin/pve-health-check.ps1'
    $script:Guest = 'web-01'
    $script:Timeline = [System.Collections.Generic.List[object]]::new()
    $script:T0 = $null

    function Add-Event {
        param([string] $What, [string] $Detail = '', [DateTimeOffset] $At = [DateTimeOffset]::UtcNow)
        $since = if ($script:T0) { ($At - $script:T0).TotalSeconds } else { 0 }
        $script:Timeline.Add([pscustomobject]@{ At = $At.ToString('HH:mm:ss.fff'); Seconds = [math]::Round($since, 1); Event = $What; Detail = $Detail })
    }
    function Show-Timeline {
        Write-Host ''
        Write-Host "End-to-end timeline (guest $Guest; seconds since the guest was stopped / started; UTC):"
        foreach ($e in $script:Timeline) { Write-Host ('  {0}  {1,7:0.0} s  {2}{3}' -f $e.At, $e.Seconds, $e.Event, $(if ($e.Detail) { "  ($($e.Detail))" })) }
        Write-Host ''
    }
    # GET inside the namespace (curl); parsed JSON.
    function Get-LabJson {
        param([string] $Url)
        $out = Invoke-LabNative -Lab $script:Lab -FilePath 'curl' -ArgumentList @('-sS', '--fail', '--max-time', '5', $Url) -AllowFailure
        if ($LASTEXITCODE) { return $null }
        ($out -join "`n") | ConvertFrom-Json
    }
    # The scheduled entry point as its own process inside the namespace, as pve-health-check.service runs it.
    function Invoke-EntryScript {
        $pwsh = @(Get-PwshCommand)
        $argv = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $script:Entry, '-ConfigPath', $script:Lab.ConfigPath, '-MetricsPath', $script:Prom)
        $out = Invoke-LabNative -Lab $script:Lab -FilePath $pwsh[0] -ArgumentList $argv -AllowFailure
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($out -join "`n") }
    }
    function Get-GuestSeries {
        # pve_health_check_success of the guest's Ping check as Prometheus has it now ($null when absent).
        $q = [uri]::EscapeDataString("pve_health_check_success{environment=`"lab`",component=`"$Guest`",check=`"Ping`"}")
        $r = Get-LabJson "$($Lab.Monitoring.PrometheusUrl)/api/v1/query?query=$q"
        if ($r -and @($r.data.result).Count) { $r.data.result[0].value[1] } else { $null }
    }
    function Get-GuestSampleTime {
        # When Prometheus scraped the guest's current Ping sample (timestamp()), as HH:mm:ss.fff UTC.
        $q = [uri]::EscapeDataString("timestamp(pve_health_check_success{environment=`"lab`",component=`"$Guest`",check=`"Ping`"})")
        $r = Get-LabJson "$($Lab.Monitoring.PrometheusUrl)/api/v1/query?query=$q"
        if ($r -and @($r.data.result).Count) { [DateTimeOffset]::FromUnixTimeMilliseconds([long]([double]$r.data.result[0].value[1] * 1000)).ToString('HH:mm:ss.fff') } else { '?' }
    }
    function Get-PromAlert {
        param([string] $Component = $Guest, [string] $Check = 'Ping')
        $r = Get-LabJson "$($Lab.Monitoring.PrometheusUrl)/api/v1/alerts"
        if (-not $r) { return $null }
        @($r.data.alerts) | Where-Object { $_.labels.alertname -eq 'InfraHealthCheckFailed' -and $_.labels.component -eq $Component -and $_.labels.check -eq $Check } | Select-Object -First 1
    }
    function Get-AmAlert {
        param([string] $Url = $Lab.Monitoring.AlertmanagerUrl, [string] $Check = 'Ping')
        $r = Get-LabJson "$Url/api/v2/alerts"
        # Active means: listed and endsAt not in the past (a resolved alert is kept until it is garbage-collected).
        @($r) | Where-Object { $_ -and $_.labels.alertname -eq 'InfraHealthCheckFailed' -and $_.labels.component -eq $Guest -and $_.labels.check -eq $Check -and
            (-not $_.endsAt -or [DateTimeOffset]::Parse($_.endsAt) -gt [DateTimeOffset]::UtcNow) } | Select-Object -First 1
    }
    function Wait-For {
        param([string] $What, [double] $TimeoutSec, [scriptblock] $Condition)
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
        while ([DateTime]::UtcNow -lt $deadline) {
            $v = & $Condition
            if ($v) { return $v }
            Start-Sleep -Milliseconds 250
        }
        throw "end-to-end: $What did not happen within $TimeoutSec s"
    }
}

Describe 'End to end: a stopped guest pages through node_exporter, Prometheus and Alertmanager' -Tag 'Lab', 'EndToEnd' -Skip:([bool]$script:E2ESkipReason) {
    BeforeAll {
        Test-Path $Entry | Should -BeTrue -Because 'the build copies deploy/bin/pve-health-check.ps1 to out/PveHealth/bin'
        $script:Lab = Start-PveLab -GuestCount 6 -PrometheusRuleFile $RuleFile
        $script:Prom = Join-Path $Lab.Monitoring.TextfileDirectory 'pve_health.prom'
        Write-Host "Lab with the monitoring stack up in $($Lab.StartupSeconds) s (namespace $($Lab.Namespace))"
        # All guests up: the lab's scripted stopped guest is started too.
        foreach ($g in $Lab.Guests | Where-Object Status -ne 'running') { Set-PveLabGuest -Lab $Lab -Name $g.Name -State running }
    }
    AfterAll {
        if ($script:Timeline.Count) { Show-Timeline }
        if ($script:Lab) { Stop-PveLab $script:Lab }
    }

    It 'Prometheus loaded the shipped rule file, unchanged, and sends to both Alertmanagers' {
        $groups = (Get-LabJson "$($Lab.Monitoring.PrometheusUrl)/api/v1/rules").data.groups
        $g = $groups | Where-Object name -eq 'health-alerts'
        $g.file | Should -Be (Resolve-Path $RuleFile).Path
        $rule = $g.rules | Where-Object name -eq 'InfraHealthCheckFailed'
        $rule.query | Should -Be 'pve_health_check_success == 0'
        $rule.duration | Should -Be 60
        @((Get-LabJson "$($Lab.Monitoring.PrometheusUrl)/api/v1/alertmanagers").data.activeAlertmanagers).Count | Should -Be 2
    }

    It 'all guests up: the scheduled run exports success 1 for the guest, and nothing alerts for it' {
        $run = Invoke-EntryScript
        $run.Output | Should -Match ([regex]::Escape("metrics written to $Prom"))
        $run.ExitCode | Should -BeIn @(0, 1, 2) -Because "the run itself works: $($run.Output)"
        Wait-For -What "the guest's Ping series = 1 in Prometheus" -TimeoutSec 20 -Condition { (Get-GuestSeries) -eq '1' } | Should -BeTrue
        # The rule is live: a failure the lab scripts (app-01's Docker is inactive) goes pending meanwhile ...
        Wait-For -What 'InfraHealthCheckFailed pending for app-01 Docker' -TimeoutSec 20 -Condition { Get-PromAlert -Component 'app-01' -Check 'Docker' } | Should -Not -BeNullOrEmpty
        # ... while the healthy guest has no alert at all.
        Get-PromAlert | Should -BeNullOrEmpty
        Get-AmAlert | Should -BeNullOrEmpty
    }

    It 'guest stopped: InfraHealthCheckFailed with its environment, component, type and check reaches Alertmanager' {
        $script:T0 = [DateTimeOffset]::UtcNow
        Set-PveLabGuest -Lab $Lab -Name $Guest -State stopped
        Add-Event 'guest stopped' "Set-PveLabGuest -State stopped: API stopped, $(($Lab.Guests | Where-Object Name -eq $Guest).Ip) dropped"
        $run = Invoke-EntryScript
        Add-Event 'scheduled check done' "pve-health-check.ps1 exit $($run.ExitCode)"
        $run.Output | Should -Match "CRITICAL lab/$Guest Vm Ping"
        $run.ExitCode | Should -Be 2
        # Nagios first line; its counts agree with the failure lines that follow, which come sorted.
        $lines = @($run.Output -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ })
        Write-Host "    first line: $($lines[0])"
        $first = [regex]::Match($lines[0], '^CRITICAL: (\d+) of (\d+) checks failed \| ok=(\d+) warning=(\d+) critical=(\d+) unknown=(\d+) skipped=(\d+) duration=\d+\.\ds$')
        $first.Success | Should -BeTrue -Because "the first line is the Nagios status line: $($lines[0])"
        $n = @($first.Groups | ForEach-Object Value)
        [int]$n[1] | Should -Be ([int]$n[4] + [int]$n[5] + [int]$n[6])
        [int]$n[2] | Should -Be ([int]$n[3] + [int]$n[4] + [int]$n[5] + [int]$n[6] + [int]$n[7])
        $failures = @($lines | Select-Object -Skip 1 | Where-Object { $_ -match '^(WARNING|CRITICAL|UNKNOWN) ' })
        $failures.Count | Should -Be ([int]$n[1])
        $keys = @($failures | ForEach-Object { $m = [regex]::Match($_, '^\S+ ([^/]+)/(\S+) \S+ ([^:]+):'); "$($m.Groups[1].Value)`0$($m.Groups[2].Value)`0$($m.Groups[3].Value)" })
        $sorted = [string[]]$keys.Clone(); [Array]::Sort($sorted, [StringComparer]::Ordinal)
        $keys | Should -Be $sorted
        $null = Wait-For -What "the guest's Ping series = 0 in Prometheus" -TimeoutSec 20 -Condition { (Get-GuestSeries) -eq '0' }
        Add-Event 'metric scraped' "pve_health_check_success{component=`"$Guest`",check=`"Ping`"} = 0 in Prometheus, sample scraped at $(Get-GuestSampleTime)"

        # One bounded loop records the first sighting of each state: pending, firing (Prometheus), received (Alertmanager).
        $pending = $firing = $received = $null
        $deadline = [DateTime]::UtcNow.AddSeconds(150)   # for: 60 s + evaluation + send, with a wide margin
        while (-not $received -and [DateTime]::UtcNow -lt $deadline) {
            $a = Get-PromAlert
            if ($a -and -not $pending) { $pending = $a; Add-Event 'alert pending' "Prometheus activeAt $(([DateTimeOffset]::Parse($a.activeAt)).ToString('HH:mm:ss.fff'))" }
            if ($a -and $a.state -eq 'firing' -and -not $firing) { $firing = $a; Add-Event 'alert firing' 'Prometheus state firing (for: 1m elapsed)' }
            $am = Get-AmAlert
            if ($am) { $received = $am; Add-Event 'received by Alertmanager' "startsAt $(([DateTimeOffset]::Parse($am.startsAt)).ToString('HH:mm:ss.fff')), state $($am.status.state)" }
            else { Start-Sleep -Milliseconds 250 }
        }
        $received | Should -Not -BeNullOrEmpty -Because 'the alert must reach Alertmanager within 150 s'
        $pending | Should -Not -BeNullOrEmpty
        $received.labels.environment | Should -Be 'lab'
        $received.labels.component | Should -Be $Guest
        $received.labels.type | Should -Be 'Vm'
        $received.labels.check | Should -Be 'Ping'
        $received.labels.severity | Should -Be 'critical'
        $received.annotations.summary | Should -Be "lab: $Guest (Vm) failed its Ping check"
        # Prometheus sends to both Alertmanagers of the HA pair.
        Wait-For -What 'the alert on the second Alertmanager' -TimeoutSec 20 -Condition { Get-AmAlert -Url $Lab.Monitoring.Alertmanager2Url } | Should -Not -BeNullOrEmpty
        # Fired only after for: (60 s) of pending (startsAt is whole seconds: a little margin for the rounding).
        ([DateTimeOffset]::Parse($received.startsAt) - [DateTimeOffset]::Parse($pending.activeAt)).TotalSeconds | Should -BeGreaterOrEqual 55
    }

    It 'guest started again: the next scheduled run resolves the alert' {
        $script:T0 = [DateTimeOffset]::UtcNow
        Set-PveLabGuest -Lab $Lab -Name $Guest -State running
        Add-Event 'guest started' 'Set-PveLabGuest -State running'
        $run = Invoke-EntryScript
        Add-Event 'scheduled check done' "pve-health-check.ps1 exit $($run.ExitCode)"
        $run.Output | Should -Not -Match "lab/$Guest Vm Ping"
        $null = Wait-For -What "the guest's Ping series = 1 in Prometheus" -TimeoutSec 20 -Condition { (Get-GuestSeries) -eq '1' }
        Add-Event 'metric scraped' "pve_health_check_success{component=`"$Guest`",check=`"Ping`"} = 1 in Prometheus, sample scraped at $(Get-GuestSampleTime)"
        $null = Wait-For -What 'the alert gone from Prometheus' -TimeoutSec 30 -Condition { -not (Get-PromAlert) }
        Add-Event 'alert inactive in Prometheus' 'gone from /api/v1/alerts'
        $null = Wait-For -What 'the alert resolved in Alertmanager' -TimeoutSec 60 -Condition { -not (Get-AmAlert) -and -not (Get-AmAlert -Url $Lab.Monitoring.Alertmanager2Url) }
        Add-Event 'resolved in Alertmanager' 'no active InfraHealthCheckFailed for the guest on either Alertmanager'
        Get-AmAlert | Should -BeNullOrEmpty
    }
}

Describe 'Two runners: pve-health-check@lab and @lab-b write their own textfiles, served side by side by node_exporter' -Tag 'Lab', 'EndToEnd' -Skip:([bool]$script:E2ESkipReason) {
    BeforeAll {
        $script:Lab2 = Start-PveLab -GuestCount 6 -SecondEnvironment
        $script:Textfiles = $Lab2.Monitoring.TextfileDirectory
        # The instance's command line and textfile come from the shipped template unit, %i = the instance name;
        # only the configuration and the textfile folder are the lab's.
        $script:Template = Get-Content -Raw (Join-Path $script:Repo 'deploy/systemd/pve-health-check@.service')
        function script:Invoke-Instance {
            param([string] $Instance)
            $exec = [regex]::Match($script:Template, '(?m)^ExecStart=\S+ .*?-File \S+ (.+?)\s*$').Groups[1].Value
            $textfile = [regex]::Match($script:Template, '(?m)^Environment=PVE_HEALTH_TEXTFILE=(\S+)\s*$').Groups[1].Value
            $unitArgs = @($exec.Replace('%i', $Instance) -split ' ')
            $unitArgs[[Array]::IndexOf($unitArgs, '-ConfigPath') + 1] = $Lab2.ConfigPath
            $metrics = Join-Path $script:Textfiles (Split-Path -Leaf $textfile.Replace('%i', $Instance))
            $pwsh = @(Get-PwshCommand)
            $argv = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $script:Entry) + $unitArgs + @('-MetricsPath', $metrics)
            $out = Invoke-LabNative -Lab $Lab2 -FilePath $pwsh[0] -ArgumentList $argv -AllowFailure
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($out -join "`n"); Metrics = $metrics }
        }
        function script:Get-NodeExporterMetrics {
            (Invoke-LabNative -Lab $Lab2 -FilePath 'curl' -ArgumentList @('-sS', '--fail', '--max-time', '5', "$($Lab2.Monitoring.NodeExporterUrl)/metrics")) -join "`n"
        }
    }
    AfterAll {
        if ($script:Lab2) { Stop-PveLab $script:Lab2 }
    }

    It 'each instance checks only its environment and writes pve_health_<environment>.prom; node_exporter serves both, no scrape error' {
        $a = Invoke-Instance -Instance 'lab'
        $b = Invoke-Instance -Instance 'lab-b'
        Write-Host "    pve-health-check@lab:   $(@($a.Output -split "`n")[0])"
        Write-Host "    pve-health-check@lab-b: $(@($b.Output -split "`n")[0])"
        $a.ExitCode | Should -BeIn @(0, 1, 2) -Because $a.Output
        $b.ExitCode | Should -BeIn @(0, 1, 2) -Because $b.Output
        Split-Path -Leaf $a.Metrics | Should -Be 'pve_health_lab.prom'
        Split-Path -Leaf $b.Metrics | Should -Be 'pve_health_lab-b.prom'
        $a.Output | Should -Match ([regex]::Escape("metrics written to $($a.Metrics)"))
        # Each file holds its own environment only.
        Get-Content -Raw $a.Metrics | Should -Not -Match 'environment="lab-b"'
        Get-Content -Raw $b.Metrics | Should -Match 'environment="lab-b"'
        Get-Content -Raw $b.Metrics | Should -Not -Match 'environment="lab"'

        $m = Get-NodeExporterMetrics
        $m | Should -Match '(?m)^node_textfile_mtime_seconds\{file="[^"]*pve_health_lab\.prom"\} '
        $m | Should -Match '(?m)^node_textfile_mtime_seconds\{file="[^"]*pve_health_lab-b\.prom"\} '
        $m | Should -Match '(?m)^node_textfile_scrape_error 0$'
        $m | Should -Match '(?m)^pve_health_last_run_timestamp_seconds\{environment="lab"\} '
        $m | Should -Match '(?m)^pve_health_last_run_timestamp_seconds\{environment="lab-b"\} '
        $m | Should -Match '(?m)^pve_health_checks\{environment="lab-b",status="ok"\} [1-9]'
    }

    It 'a second run of one instance replaces its own file only: the other is byte for byte the same, no temp file is left' {
        $before = Get-FileHash (Join-Path $script:Textfiles 'pve_health_lab-b.prom')
        $beforeTime = (Get-Item (Join-Path $script:Textfiles 'pve_health_lab-b.prom')).LastWriteTimeUtc
        $labBefore = (Get-Item (Join-Path $script:Textfiles 'pve_health_lab.prom')).LastWriteTimeUtc
        $again = Invoke-Instance -Instance 'lab'
        $again.ExitCode | Should -BeIn @(0, 1, 2) -Because $again.Output
        (Get-Item (Join-Path $script:Textfiles 'pve_health_lab.prom')).LastWriteTimeUtc | Should -BeGreaterThan $labBefore
        (Get-FileHash (Join-Path $script:Textfiles 'pve_health_lab-b.prom')).Hash | Should -Be $before.Hash
        (Get-Item (Join-Path $script:Textfiles 'pve_health_lab-b.prom')).LastWriteTimeUtc | Should -Be $beforeTime
        @(Get-ChildItem -Force $script:Textfiles -Filter '.*.tmp') | Should -BeNullOrEmpty
        $files = @((Get-ChildItem $script:Textfiles -Filter 'pve_health*.prom').Name)
        $files.Count | Should -Be 2
        $files | Should -Contain 'pve_health_lab.prom'
        $files | Should -Contain 'pve_health_lab-b.prom'
        Get-NodeExporterMetrics | Should -Match '(?m)^node_textfile_scrape_error 0$'
    }
}

# Issue 12 item 5, one page per cause: the same real chain, with both Alertmanagers running the SHIPPED
# deploy/alertmanager/telegram.yml (route and inhibit_rules unchanged; only the Telegram receiver is replaced by an
# empty one, so nothing leaves the namespace). A stopped guest (db-01, pve1) and an offline node (pve2, whose guests
# are unreachable as well) fail many checks; Alertmanager must show exactly one active alert per cause, the others
# suppressed with inhibitedBy set. The checks themselves keep reporting every failure (the metrics say 0).
Describe 'End to end: one page per cause (Alertmanager inhibit rules)' -Tag 'Lab', 'EndToEnd' -Skip:([bool]$script:E2ESkipReason) {
    BeforeAll {
        $script:Lab = Start-PveLab -GuestCount 6 -PrometheusRuleFile $RuleFile
        $script:Prom = Join-Path $Lab.Monitoring.TextfileDirectory 'pve_health.prom'
        $script:AmUrls = @($Lab.Monitoring.AlertmanagerUrl, $Lab.Monitoring.Alertmanager2Url)
        # The shipped file with a receiver that sends nowhere (the real one posts to api.telegram.org).
        $shipped = Get-Content -Raw (Join-Path $Repo 'deploy/alertmanager/telegram.yml')
        $head = $shipped.Substring(0, ([regex]::Match($shipped, '(?m)^receivers:')).Index)
        $config = $head + "receivers:`n  - name: `"null`"`n  - name: telegram`n"
        Set-Content -LiteralPath (Join-Path $Lab.StackServices.Root 'alertmanager.yml') -Value $config -Encoding utf8NoBOM
        foreach ($url in $AmUrls) {
            $null = Invoke-LabNative -Lab $Lab -FilePath 'curl' -ArgumentList @('-sS', '--fail', '--max-time', '5', '-X', 'POST', "$url/-/reload")
        }
        $script:Inhibits = @((Get-LabJson "$($AmUrls[0])/api/v2/status").config.original -split "`n" | Where-Object { $_ -match '^\s*-?\s*source_matchers:' }).Count
        # The causes: db-01 stopped (the lab's scripted stopped guest, on pve1); pve2 offline, its guests gone from the network.
        Set-PveLabNode -Lab $Lab -Node 'pve2' -Online $false
        $script:Pve2Guests = @($Lab.Guests | Where-Object Node -eq 'pve2')
        $null = Invoke-LabNative -Lab $Lab -FilePath 'nft' -ArgumentList @('add', 'element', 'inet', 'pvelab', 'stopped', "{ $(($Pve2Guests.Ip) -join ', ') }")

        function Get-AmAlerts {
            param([string] $Url)
            @(Get-LabJson "$Url/api/v2/alerts?active=true&inhibited=true&silenced=true&unprocessed=true") |
                Where-Object { $_ -and $_.labels.alertname -eq 'InfraHealthCheckFailed' -and [DateTimeOffset]::Parse($_.endsAt) -gt [DateTimeOffset]::UtcNow }
        }
    }
    AfterAll {
        if ($script:Lab) { Stop-PveLab $script:Lab }
    }

    It 'both Alertmanagers run the shipped inhibit rules' {
        $Inhibits | Should -Be 6 -Because "textfile error, stopped guest, offline node, API failed (Quorum), ProxmoxApiUnanswered, and Quorum over ProxmoxApiUnanswered"
        foreach ($url in $AmUrls) {
            (Get-LabJson "$url/api/v2/status").config.original | Should -Match 'check\s*=\s*"?ApiStatus'
        }
    }

    It 'a stopped guest and an offline node: one active alert per cause, every other alert of theirs inhibited' {
        $run = Invoke-EntryScript
        $run.ExitCode | Should -Be 2 -Because $run.Output
        # The checks still report the truth: every failure of the two causes is in the metrics file, with its node.
        $metrics = Get-Content -Raw $Prom
        $failed = @([regex]::Matches($metrics, '(?m)^pve_health_check_success\{environment="lab",component="([^"]+)",type="([^"]+)",check="([^"]+)",node="([^"]*)"\} 0$') |
            ForEach-Object { [pscustomobject]@{ Component = $_.Groups[1].Value; Type = $_.Groups[2].Value; Check = $_.Groups[3].Value; Node = $_.Groups[4].Value } })
        $mine = @($failed | Where-Object { $_.Component -eq 'db-01' -or $_.Node -eq 'pve2' })
        $mine | Where-Object { $_.Component -eq 'db-01' -and $_.Check -eq 'ApiStatus' } | Should -Not -BeNullOrEmpty
        $mine | Where-Object { $_.Component -eq 'db-01' -and $_.Check -eq 'Ping' -and $_.Node -eq 'pve1' } | Should -Not -BeNullOrEmpty
        $mine | Where-Object { $_.Component -eq 'pve2' -and $_.Type -eq 'Node' -and $_.Check -eq 'Node' } | Should -Not -BeNullOrEmpty -Because "$($run.Output)`n$((($metrics -split "`n") -match 'pve2|Quorum') -join "`n")"
        foreach ($g in $Pve2Guests) {
            $mine | Where-Object { $_.Component -eq $g.Name -and $_.Check -eq 'Ping' } | Should -Not -BeNullOrEmpty -Because "$($g.Name) on the offline pve2 does not answer"
        }
        Write-Host "Failed checks of the two causes in the metrics file: $($mine.Count) ($(($mine | ForEach-Object { "$($_.Component)/$($_.Check)" }) -join ', '))"

        # Every one of them reaches both Alertmanagers (for: 1m in the shipped rules).
        $key = { param($l) "$($l.component)|$($l.type)|$($l.check)" }
        $want = @($mine | ForEach-Object { "$($_.Component)|$($_.Type)|$($_.Check)" })
        # A cause of its own, on the node that stays online: cache-01 refuses SSH (the lab's script).
        $failed | Where-Object { $_.Component -eq 'cache-01' -and $_.Check -eq 'Ssh' } | Should -Not -BeNullOrEmpty
        $want += 'cache-01|Lxc|Ssh'
        foreach ($url in $AmUrls) {
            $null = Wait-For -What "all $($want.Count) alerts of the two causes on $url" -TimeoutSec 180 -Condition {
                $have = @(Get-AmAlerts -Url $url | ForEach-Object { & $key $_.labels })
                -not ($want | Where-Object { $_ -notin $have })
            }
        }
        # Inhibition is computed when the API is asked: wait until no alert of the causes is still unprocessed.
        $null = Wait-For -What 'every alert processed' -TimeoutSec 30 -Condition { -not (Get-AmAlerts -Url $AmUrls[0] | Where-Object { $_.status.state -eq 'unprocessed' }) }

        $text = Invoke-LabNative -Lab $Lab -FilePath 'amtool' -ArgumentList @('alert', 'query', '--alertmanager.url', $AmUrls[0], '-o', 'extended', 'alertname=InfraHealthCheckFailed', 'component=~db-01|pve2|web-02|app-01|ci-01')
        Write-Host "amtool alert query (active only):`n$($text -join "`n")"
        $text = Invoke-LabNative -Lab $Lab -FilePath 'amtool' -ArgumentList @('alert', 'query', '--alertmanager.url', $AmUrls[0], '--inhibited', '-o', 'extended', 'alertname=InfraHealthCheckFailed', 'component=~db-01|pve2|web-02|app-01|ci-01')
        Write-Host "amtool alert query --inhibited:`n$($text -join "`n")"

        foreach ($url in $AmUrls) {
            $all = @(Get-AmAlerts -Url $url)
            $summary = $all | Sort-Object { & $key $_.labels } | ForEach-Object { '{0,-9} {1}/{2}/{3} node={4}' -f $_.status.state, $_.labels.component, $_.labels.type, $_.labels.check, $_.labels.node }
            Write-Host "Alertmanager $url, InfraHealthCheckFailed:`n$($summary -join "`n")"
            # Cause 1, the stopped guest: its ApiStatus alert is the one page for it being stopped; Ping, Ssh and
            # GuestAgent (what a stopped guest fails because it is stopped) are held back by it.
            $db = @($all | Where-Object { $_.labels.component -eq 'db-01' })
            $dbSuppressed = @($db | Where-Object { $_.status.state -eq 'suppressed' })
            @($dbSuppressed | ForEach-Object { $_.labels.check } | Sort-Object) | Should -Be @('GuestAgent', 'Ping', 'Ssh')
            $dbSuppressed | ForEach-Object { @($_.status.inhibitedBy).Count | Should -BeGreaterThan 0 }
            # Its missing backup is another cause (the lab's db-01 has no recent backup): BackupAge still pages.
            @($db | Where-Object { $_.status.state -eq 'active' } | ForEach-Object { $_.labels.check } | Sort-Object) | Should -Be @('ApiStatus', 'BackupAge')
            # Cause 2, the offline node: its Node alert is the one page; every alert of its guests is held back.
            $node = @($all | Where-Object { $_.labels.node -eq 'pve2' })
            @($node | Where-Object { $_.status.state -eq 'active' } | ForEach-Object { "$($_.labels.component)/$($_.labels.check)" }) | Should -Be @('pve2/Node')
            $guests = @($node | Where-Object { $_.labels.type -in 'Vm', 'Lxc' })
            $guests.Count | Should -BeGreaterOrEqual (3 * $Pve2Guests.Count) -Because 'ApiStatus, Ping and Ssh at least for each of its guests'
            $guests | ForEach-Object { $_.status.state | Should -Be 'suppressed' -Because "$($_.labels.component)/$($_.labels.check) is on the offline node" }
            # Other causes still page: cache-01 (pve1, SSH refused) is not held back by either rule.
            @($all | Where-Object { $_.labels.component -eq 'cache-01' -and $_.labels.check -eq 'Ssh' }).status.state | Should -Be 'active'
        }
    }
}
