# Test-PveMonitoring against real prometheus (with a dead target), node_exporter and two clustered
# alertmanagers, and the Grafana /api/health stand-in, all on 127.0.0.1 (tests/Support/StackServices.psm1).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/StackServices.psm1') -Force
    Import-Module (Get-PveHealthModulePath) -Force
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "pvehealth-monitoring-$PID"
    Remove-Item -Recurse -Force $script:Root -ErrorAction Ignore
    $script:Stack = Start-PveStackServices -Root $script:Root
}

AfterAll {
    if ($script:Stack) { Stop-PveStackServices $script:Stack }
    Remove-Item -Recurse -Force $script:Root -ErrorAction Ignore
}

Describe 'Test-PveMonitoring against the real Prometheus and Alertmanager' {
    BeforeAll {
        $script:Results = @(Test-PveMonitoring -PrometheusUrl $Stack.PrometheusUrl -AlertmanagerUrl $Stack.AlertmanagerUrl -GrafanaUrl $Stack.GrafanaUrl -TimeoutSec 10)
    }

    It 'reports Prometheus ready' {
        $r = $Results | Where-Object { $_.Type -eq 'Prometheus' -and $_.Check -eq 'Ready' }
        $r.Status | Should -Be 'Ok'
        $r.Target | Should -Be "$($Stack.PrometheusUrl)/"
    }

    It 'reports the dead scrape target as Critical with its lastError and the time since its last scrape' {
        $dead = @($Results | Where-Object Type -eq 'ScrapeTarget')
        $dead.Count | Should -Be 1
        $dead[0].Component | Should -Be "dead/$($Stack.DeadTarget)"
        $dead[0].Check | Should -Be 'Targets'
        $dead[0].Status | Should -Be 'Critical'
        $dead[0].Detail | Should -BeLike "down: Get ""http://$($Stack.DeadTarget)/metrics"": dial tcp $($Stack.DeadTarget): connect: connection refused; last scrape * s ago"
        $dead[0].Target | Should -Be "http://$($Stack.DeadTarget)/metrics"
    }

    It 'gives the targets that are up no result of their own' {
        $Results | Where-Object { $_.Component -like 'node/*' -or $_.Component -like 'prometheus/*' } | Should -BeNullOrEmpty
    }

    It 'reports Alertmanager ready and its cluster peers' {
        ($Results | Where-Object { $_.Type -eq 'Alertmanager' -and $_.Check -eq 'Ready' }).Status | Should -Be 'Ok'
        $peers = $Results | Where-Object { $_.Type -eq 'Alertmanager' -and $_.Check -eq 'Peers' }
        $peers.Status | Should -Be 'Ok'
        $peers.Detail | Should -BeLike 'cluster ready, 2 peers: *'
    }

    It 'reports Grafana Ok with its version' {
        $g = $Results | Where-Object Type -eq 'Grafana'
        $g.Check | Should -Be 'Health'
        $g.Status | Should -Be 'Ok'
        $g.Detail | Should -Be 'database ok, version 10.4.2'
    }

    It 'reports all targets up with one Ok summary when the dead job is not scraped' {
        # A second Prometheus scraping only itself and node_exporter.
        $port = Get-StackFreePort '127.0.0.1'
        $cfg = Join-Path $Root 'prometheus-ok.yml'
        "global:`n  scrape_interval: 1s`nscrape_configs:`n  - job_name: node`n    static_configs:`n      - targets: ['$(([uri]$Stack.NodeExporterUrl).Authority)']`n" | Set-Content $cfg
        $psi = [Diagnostics.ProcessStartInfo]::new('prometheus')
        foreach ($a in "--config.file=$cfg", "--storage.tsdb.path=$(Join-Path $Root 'tsdb-ok')", "--web.listen-address=127.0.0.1:$port") { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardError = $true; $psi.RedirectStandardOutput = $true
        $p = [Diagnostics.Process]::Start($psi)
        $p.BeginErrorReadLine(); $p.BeginOutputReadLine()
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            do {
                Start-Sleep -Milliseconds 300
                $r = @(Test-PveMonitoring -PrometheusUrl "http://127.0.0.1:$port" -TimeoutSec 5 | Where-Object Check -eq 'Targets')
            } until (($r.Count -eq 1 -and $r[0].Status -eq 'Ok') -or [DateTime]::UtcNow -gt $deadline)
            $r.Count | Should -Be 1
            $r[0].Component | Should -Be 'prometheus'
            $r[0].Status | Should -Be 'Ok'
            $r[0].Detail | Should -Be '1 targets up (1 jobs)'
        } finally {
            $p.Kill($true); $p.WaitForExit(10000) | Out-Null
            $p.HasExited | Should -BeTrue
        }
    }
}

Describe 'Test-PveMonitoring: Grafana switched to failing' {
    AfterEach { Set-PveStackStandin $Stack -Grafana ok }

    It 'reports Critical with the database state and version' {
        Set-PveStackStandin $Stack -Grafana failing
        $g = Test-PveMonitoring -GrafanaUrl $Stack.GrafanaUrl
        $g.Status | Should -Be 'Critical'
        $g.Detail | Should -Be 'HTTP 503: database failing, version 10.4.2'
    }
}

Describe 'Test-PveMonitoring: endpoints that do not answer' {
    It 'reports a closed port as Critical "connection refused" and skips the targets' {
        $port = Get-StackFreePort '127.0.0.1'
        $r = @(Test-PveMonitoring -PrometheusUrl "http://127.0.0.1:$port")
        ($r | Where-Object Check -eq 'Ready').Status | Should -Be 'Critical'
        ($r | Where-Object Check -eq 'Ready').Detail | Should -Be "connection refused by 127.0.0.1:$port; the same on a second attempt 0.5 s later"
        ($r | Where-Object Check -eq 'Targets').Status | Should -Be 'Skipped'
    }

    # Issue 12 item 3: confirmation before Critical for the HTTP checks (Clients.Confirmation, the rule Ssh uses).
    # tests/Support/reset-proxy.js resets the first connections and forwards the later ones to the real Prometheus.
    It 'confirms a reset before Critical: Prometheus behind a port that resets the first connection is Ok, after 2 connections' {
        $proxy = Start-ResetProxy -Resets 1 -To ([uri]$Stack.PrometheusUrl).Port
        try {
            $r = @(Test-PveMonitoring -PrometheusUrl "http://127.0.0.1:$($proxy.Port)" -TimeoutSec 5)
            ($r | Where-Object Check -eq 'Ready').Status | Should -Be 'Ok' -Because ($r | Out-String)
            ($r | Where-Object Check -eq 'Ready').Detail | Should -Be 'ready'
            # The real Prometheus answered the targets over the confirming connection: its dead target is there.
            @($r | Where-Object Type -eq 'ScrapeTarget').Count | Should -Be 1
            Get-ResetProxyCount $proxy | Should -Be 2
        } finally { Stop-ResetProxy $proxy }
    }

    It 'a port that keeps resetting is Critical after exactly two connections, within the timeout, Targets Skipped' {
        $proxy = Start-ResetProxy -Resets 1000
        try {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $r = @(Test-PveMonitoring -PrometheusUrl "http://127.0.0.1:$($proxy.Port)" -TimeoutSec 5)
            $clock.Stop()
            ($r | Where-Object Check -eq 'Ready').Status | Should -Be 'Critical'
            ($r | Where-Object Check -eq 'Ready').Detail | Should -Be "connection reset by 127.0.0.1:$($proxy.Port); the same on a second attempt 0.5 s later"
            ($r | Where-Object Check -eq 'Targets').Status | Should -Be 'Skipped'
            Get-ResetProxyCount $proxy | Should -Be 2
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'both attempts run inside the one timeout (-TimeoutSec 5)'
        } finally { Stop-ResetProxy $proxy }
    }

    It 'finishes within -TimeoutSec against an endpoint that accepts and never answers, as a client-side timeout' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $r = @(Test-PveMonitoring -GrafanaUrl $Stack.HungUrl -AlertmanagerUrl $Stack.HungUrl -TimeoutSec 2)
        $clock.Stop()
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        $r.Count | Should -Be 3
        $g = $r | Where-Object Type -eq 'Grafana'
        $g.Status | Should -Be 'Critical'
        $g.Detail | Should -BeLike "no answer from $($Stack.HungUrl)/api/health within * s"
        $g.Detail | Should -Not -Match 'HTTP \d{3}'
    }

    It 'warns on every run with -SkipCertificateCheck' {
        $null = Test-PveMonitoring -GrafanaUrl $Stack.GrafanaUrl -SkipCertificateCheck -WarningVariable w -WarningAction SilentlyContinue
        $w | Should -Not -BeNullOrEmpty
        "$w" | Should -BeLike '*NOT verified*'
    }

    It 'rejects a URL that is not http(s) with a stable error id' {
        { Test-PveMonitoring -PrometheusUrl 'ftp://127.0.0.1/' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidUrl,PveHealth.PowerShell.Cmdlets.TestPveMonitoringCommand'
    }
}

Describe 'Test-PveMonitoring from the configuration' {
    It 'checks the endpoints of the monitoring section, with a bearer token read from a file' {
        $token = Join-Path $Root 'token'
        'not-a-real-token-3141' | Set-Content $token
        $cfg = New-TestConfig -Folder $Root -Environments @{
            lab = @{ monitoring = @{
                    prometheus   = @{ url = $Stack.PrometheusUrl; bearerToken = @{ file = $token } }
                    grafana      = @{ url = $Stack.GrafanaUrl }
                    alertmanager = @{ url = $Stack.AlertmanagerUrl }
                } }
        }
        $r = @(Test-PveMonitoring -ConfigPath $cfg)
        ($r | Where-Object { $_.Type -eq 'Prometheus' -and $_.Check -eq 'Ready' }).Status | Should -Be 'Ok'
        ($r | Where-Object Type -eq 'ScrapeTarget').Status | Should -Be 'Critical'
        ($r | Where-Object Type -eq 'Grafana').Status | Should -Be 'Ok'
        $r.Environment | Select-Object -Unique | Should -Be 'lab'
    }

    It 'reports a missing token file as Unknown naming the reference, not a value' {
        $cfg = New-TestConfig -Folder $Root -Environments @{
            lab = @{ monitoring = @{ grafana = @{ url = $Stack.GrafanaUrl; bearerToken = @{ file = (Join-Path $Root 'no-such-token') } } } }
        }
        $r = Test-PveMonitoring -ConfigPath $cfg
        $r.Status | Should -Be 'Unknown'
        $r.Detail | Should -BeLike '*bearerToken: file */no-such-token does not exist.'
    }
}
