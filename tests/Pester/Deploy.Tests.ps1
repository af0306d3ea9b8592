# deploy/: alert rules (promtool), Telegram route (amtool), systemd units (systemd-analyze), install.sh,
# and the Grafana dashboard evaluated against a real node_exporter + Prometheus on 127.0.0.1.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:ModulePath = Get-PveHealthModulePath
    Import-Module $script:ModulePath -Force
    $script:Deploy = (Resolve-Path (Join-Path $PSScriptRoot '../../deploy')).Path
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "pvehealth-deploy-$([guid]::NewGuid().ToString('N'))")).FullName

    # The programs run through TestHelpers' Invoke-Program, echoed for the CI log.
    function script:Invoke-Program { TestHelpers\Invoke-Program @args -Echo }
}

AfterAll {
    if ($script:Work -and (Test-Path $script:Work)) { Remove-Item -Recurse -Force $script:Work -ErrorAction SilentlyContinue }
}

Describe 'Prometheus alert rules (deploy/prometheus)' {
    It 'promtool check rules is clean' {
        $r = Invoke-Program -File 'promtool' -Arguments @('check', 'rules', (Join-Path $script:Deploy 'prometheus/health-alerts.yml'))
        $r.ExitCode | Should -Be 0
        $rules = ([regex]::Matches((Get-Content -Raw (Join-Path $script:Deploy 'prometheus/health-alerts.yml')), '(?m)^\s+- alert: ')).Count
        $rules | Should -BeGreaterOrEqual 4
        $r.Output | Should -Match "SUCCESS: $rules rules found"
    }

    It 'promtool test rules passes (alerts that fire and that stay quiet)' {
        $r = Invoke-Program -File 'promtool' -Arguments @('test', 'rules', (Join-Path $script:Deploy 'prometheus/health-alerts.test.yml'))
        $r.ExitCode | Should -Be 0
        $r.Output | Should -Match 'SUCCESS'
    }

    It 'the federation example (deploy/prometheus/federation.yml) passes promtool check config, with the unchanged rules' {
        $r = Invoke-Program -File 'promtool' -Arguments @('check', 'config', (Join-Path $script:Deploy 'prometheus/federation.yml'))
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $r.Output | Should -Match 'SUCCESS: .*federation\.yml is valid prometheus config file syntax'
        $r.Output | Should -Match 'Checking .*health-alerts\.yml'
        $text = Get-Content -Raw (Join-Path $script:Deploy 'prometheus/federation.yml')
        $text | Should -Match '(?m)^\s+honor_labels: true'
        $text | Should -Match '(?m)^\s+metrics_path: /federate'
    }

    It 'the rule tests fail when the rule changes (InfraHealthCheckFailed without its for:)' {
        $dir = New-Item -ItemType Directory -Force (Join-Path $script:Work 'rules-mutant')
        (Get-Content -Raw (Join-Path $script:Deploy 'prometheus/health-alerts.yml')) -replace '(?m)^(\s+expr: pve_health_check_success == 0\r?\n)\s+for: 1m\r?\n', '$1' |
            Set-Content (Join-Path $dir 'health-alerts.yml') -NoNewline
        Copy-Item (Join-Path $script:Deploy 'prometheus/health-alerts.test.yml') $dir
        $r = Invoke-Program -File 'promtool' -Arguments @('test', 'rules', (Join-Path $dir 'health-alerts.test.yml'))
        $r.ExitCode | Should -Not -Be 0
        $r.Output + $r.Error | Should -Match 'InfraHealthCheckFailed'
    }
}

Describe 'Alertmanager Telegram route (deploy/alertmanager/telegram.yml)' {
    It 'amtool check-config accepts it' {
        $r = Invoke-Program -File 'amtool' -Arguments @('check-config', (Join-Path $script:Deploy 'alertmanager/telegram.yml'))
        $r.ExitCode | Should -Be 0
        $r.Output | Should -Match 'SUCCESS'
        $r.Output | Should -Match '2 receivers'
    }

    It 'routes every PveHealth alert to the telegram_configs receiver' {
        $text = Get-Content -Raw (Join-Path $script:Deploy 'alertmanager/telegram.yml')
        $text | Should -Match '(?m)^\s+telegram_configs:'
        $alerts = [regex]::Matches((Get-Content -Raw (Join-Path $script:Deploy 'prometheus/health-alerts.yml')), '(?m)^\s+- alert: (\w+)') | ForEach-Object { $_.Groups[1].Value }
        $alerts | Should -Contain 'CertificateExpiresSoon'
        foreach ($alert in $alerts) {
            $r = Invoke-Program -File 'amtool' -Arguments @('config', 'routes', 'test', '--config.file', (Join-Path $script:Deploy 'alertmanager/telegram.yml'), "alertname=$alert", 'environment=prod')
            $r.ExitCode | Should -Be 0
            $r.Output.Trim() | Should -Be 'telegram'
        }
    }

    It 'uses bot_token because Alertmanager 0.25 has no bot_token_file (checked with this amtool)' {
        $copy = Join-Path $script:Work 'telegram-file.yml'
        (Get-Content -Raw (Join-Path $script:Deploy 'alertmanager/telegram.yml')) -replace 'bot_token: REPLACE_WITH_BOT_TOKEN', 'bot_token_file: /etc/prometheus/telegram-bot-token' | Set-Content $copy
        $r = Invoke-Program -File 'amtool' -Arguments @('check-config', $copy)
        $r.ExitCode | Should -Not -Be 0
        $r.Output + $r.Error | Should -Match 'bot_token_file not found'
    }
}

# Issue 12, one page per cause when the Proxmox API fails: the shipped inhibit rules in a real Alertmanager (its Telegram
# receiver replaced by one that sends nowhere), fed through its API with alerts labelled as health-alerts.yml labels them
# (status "critical" for a finding, "unknown" for a check that could not look).
Describe 'Alertmanager inhibit rules against a real Alertmanager (deploy/alertmanager/telegram.yml)' {
    BeforeAll {
        $folder = (New-Item -ItemType Directory -Force (Join-Path $script:Work 'alertmanager')).FullName
        $shipped = Get-Content -Raw (Join-Path $script:Deploy 'alertmanager/telegram.yml')
        $config = Join-Path $folder 'alertmanager.yml'
        $shipped.Substring(0, ([regex]::Match($shipped, '(?m)^receivers:')).Index) + "receivers:`n  - name: `"null`"`n  - name: telegram`n" |
            Set-Content -LiteralPath $config -Encoding utf8NoBOM
        $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop()
        $script:AmUrl = "http://127.0.0.1:$port"
        # No cluster listener: this Alertmanager talks to nobody.
        $script:Am = Start-Process -FilePath 'prometheus-alertmanager' -PassThru -ArgumentList @(
            "--config.file=$config", "--storage.path=$(Join-Path $folder 'data')", "--web.listen-address=127.0.0.1:$port", '--cluster.listen-address=') `
            -RedirectStandardOutput (Join-Path $folder 'am.out') -RedirectStandardError (Join-Path $folder 'am.err')
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        do {
            try { $null = Invoke-RestMethod "$AmUrl/-/ready" -TimeoutSec 2; $script:AmReady = $true }
            catch { $script:AmReady = $false; Start-Sleep -Milliseconds 200 }
        } until ($AmReady -or [DateTime]::UtcNow -gt $deadline)
    }
    AfterAll {
        if ($script:Am) {
            Stop-Process -Id $script:Am.Id -ErrorAction SilentlyContinue
            $null = $script:Am.WaitForExit(5000)
        }
    }

    It 'an API that did not answer pages once (Quorum); the guests that could not look are held back, findings and Ping still page' {
        $AmReady | Should -BeTrue -Because (Get-Content -Raw (Join-Path $script:Work 'alertmanager/am.err') -ErrorAction SilentlyContinue)
        $ends = [DateTimeOffset]::UtcNow.AddHours(1).ToString('o')
        $alerts = @(
            # environment, component, type, check, status
            @('prod', 'cluster', 'Cluster', 'Quorum', 'critical'),      # the API did not answer: the one page
            @('prod', 'web-01', 'Vm', 'ApiStatus', 'unknown'),          # could not look
            @('prod', 'web-01', 'Vm', 'GuestAgent', 'unknown'),
            @('prod', 'web-01', 'Vm', 'BackupAge', 'unknown'),
            @('prod', 'web-01', 'Vm', 'Ping', 'critical'),              # really down: its own evidence, not from the API
            @('prod', 'db-01', 'Vm', 'ApiStatus', 'critical'),          # stopped (read before the API failed): a finding
            @('prod', 'db-01', 'Vm', 'Ssh', 'critical'),                # what a stopped guest fails
            @('lab', 'app-01', 'Lxc', 'ApiStatus', 'unknown')           # another environment, whose Quorum does not fail
        ) | ForEach-Object {
            @{ labels = [ordered]@{ alertname = 'InfraHealthCheckFailed'; severity = 'critical'; status = $_[4]; environment = $_[0]; component = $_[1]; type = $_[2]; check = $_[3] }; endsAt = $ends }
        }
        Invoke-RestMethod -Method Post -Uri "$AmUrl/api/v2/alerts" -ContentType 'application/json' -Body (ConvertTo-Json -Depth 5 -InputObject @($alerts)) -TimeoutSec 10
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        do {
            # Invoke-RestMethod writes a JSON array as one object: ForEach-Object unrolls it.
            $all = @(Invoke-RestMethod "$AmUrl/api/v2/alerts?active=true&inhibited=true&silenced=true&unprocessed=true" -TimeoutSec 10 | ForEach-Object { $_ })
            $done = $all.Count -eq $alerts.Count -and -not ($all | Where-Object { $_.status.state -eq 'unprocessed' })
            if (-not $done) { Start-Sleep -Milliseconds 200 }
        } until ($done -or [DateTime]::UtcNow -gt $deadline)
        $states = [ordered]@{}
        foreach ($a in $all | Sort-Object { "$($_.labels.environment)/$($_.labels.component)/$($_.labels.check)" }) {
            $states["$($a.labels.environment)/$($a.labels.component)/$($a.labels.check)"] = $a.status.state
            if ($a.status.state -eq 'suppressed') { @($a.status.inhibitedBy).Count | Should -BeGreaterThan 0 }
        }
        Write-Host "Alertmanager states: $(($states.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)" }) -join '; ')"
        ($states.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)" }) | Should -Be @(
            'lab/app-01/ApiStatus active'
            'prod/cluster/Quorum active'
            'prod/db-01/ApiStatus active'
            'prod/db-01/Ssh suppressed'
            'prod/web-01/ApiStatus suppressed'
            'prod/web-01/BackupAge suppressed'
            'prod/web-01/GuestAgent suppressed'
            'prod/web-01/Ping active'
        )
    }

    It 'an API that answered the cluster but not many guests pages once (ProxmoxApiUnanswered); Quorum holds that back too' {
        $AmReady | Should -BeTrue
        $ends = [DateTimeOffset]::UtcNow.AddHours(1).ToString('o')
        $rows = @(
            # environment, component, type, check, status
            @('stage', 'web-01', 'Vm', 'GuestAgent', 'unknown'),        # could not look: held back by ProxmoxApiUnanswered
            @('stage', 'web-02', 'Vm', 'GuestAgent', 'unknown'),
            @('stage', 'web-03', 'Vm', 'ApiStatus', 'unknown'),
            @('stage', 'web-04', 'Vm', 'GuestAgent', 'critical'),       # a finding: still pages
            @('stage', 'web-05', 'Vm', 'Ping', 'critical'),             # not from the API: still pages
            @('dev', 'app-01', 'Lxc', 'GuestAgent', 'unknown'),         # another environment: still pages
            @('qa', 'cluster', 'Cluster', 'Quorum', 'critical')         # the API failed altogether in qa
        ) | ForEach-Object {
            @{ labels = [ordered]@{ alertname = 'InfraHealthCheckFailed'; severity = 'critical'; status = $_[4]; environment = $_[0]; component = $_[1]; type = $_[2]; check = $_[3] }; endsAt = $ends }
        }
        $api = 'stage', 'qa' | ForEach-Object { @{ labels = [ordered]@{ alertname = 'ProxmoxApiUnanswered'; severity = 'critical'; environment = $_ }; endsAt = $ends } }
        $alerts = @($rows) + @($api)
        Invoke-RestMethod -Method Post -Uri "$AmUrl/api/v2/alerts" -ContentType 'application/json' -Body (ConvertTo-Json -Depth 5 -InputObject @($alerts)) -TimeoutSec 10
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        do {
            $all = @(Invoke-RestMethod "$AmUrl/api/v2/alerts?active=true&inhibited=true&silenced=true&unprocessed=true" -TimeoutSec 10 | ForEach-Object { $_ } |
                Where-Object { $_.labels.environment -in 'stage', 'dev', 'qa' })
            $done = $all.Count -eq $alerts.Count -and -not ($all | Where-Object { $_.status.state -eq 'unprocessed' })
            if (-not $done) { Start-Sleep -Milliseconds 200 }
        } until ($done -or [DateTime]::UtcNow -gt $deadline)
        $states = foreach ($a in $all) { "$($a.labels.environment)/$($a.labels.alertname)/$($a.labels.component)/$($a.labels.check) $($a.status.state)" }
        Write-Host "Alertmanager states: $(($states | Sort-Object) -join '; ')"
        $states | Sort-Object | Should -Be @(
            'dev/InfraHealthCheckFailed/app-01/GuestAgent active'
            'qa/InfraHealthCheckFailed/cluster/Quorum active'
            'qa/ProxmoxApiUnanswered// suppressed'
            'stage/InfraHealthCheckFailed/web-01/GuestAgent suppressed'
            'stage/InfraHealthCheckFailed/web-02/GuestAgent suppressed'
            'stage/InfraHealthCheckFailed/web-03/ApiStatus suppressed'
            'stage/InfraHealthCheckFailed/web-04/GuestAgent active'
            'stage/InfraHealthCheckFailed/web-05/Ping active'
            'stage/ProxmoxApiUnanswered// active'
        )
    }
}

Describe 'systemd units (deploy/systemd)' {
    BeforeAll {
        $script:Service = Get-Content -Raw (Join-Path $script:Deploy 'systemd/pve-health-check.service')
        $script:Timer = Get-Content -Raw (Join-Path $script:Deploy 'systemd/pve-health-check.timer')
    }

    It 'the service has the required settings' {
        foreach ($line in 'Type=oneshot', 'TimeoutStartSec=15min', 'User=pve-health', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/prometheus/node-exporter',
            'NoNewPrivileges=yes', 'AmbientCapabilities=CAP_NET_RAW', 'CapabilityBoundingSet=CAP_NET_RAW', 'StateDirectory=pve-health') {
            $script:Service | Should -Match "(?m)^$([regex]::Escape($line))\s*$"
        }
        $script:Service | Should -Match '(?m)^ExecStart=/opt/pve-health/tools/pwsh -NoProfile -NonInteractive -File /usr/local/share/powershell/Modules/PveHealth/bin/pve-health-check\.ps1 '
        $script:Timer | Should -Match '(?m)^Persistent=true\s*$'
        $script:Timer | Should -Match '(?m)^RandomizedDelaySec=\S+'
    }

    It 'systemd-analyze verify passes with the ExecStart binary present, and fails on the shipped path where pwsh is not installed' {
        $dir = New-Item -ItemType Directory -Force (Join-Path $script:Work 'units')
        # Only the binary changes (to one that exists here); everything else is the shipped unit.
        $script:Service.Replace('ExecStart=/opt/pve-health/tools/pwsh ', "ExecStart=$([Environment]::ProcessPath) ") | Set-Content (Join-Path $dir 'pve-health-check.service') -NoNewline
        Set-Content (Join-Path $dir 'pve-health-check.timer') $script:Timer -NoNewline
        $r = Invoke-Program -File 'systemd-analyze' -Arguments @('verify', (Join-Path $dir 'pve-health-check.service'), (Join-Path $dir 'pve-health-check.timer'))
        $r.ExitCode | Should -Be 0
        # verify only warns (exit 0) about bad lines: any output is a finding.
        "$($r.Output)$($r.Error)".Trim() | Should -BeNullOrEmpty
        if (-not (Test-Path '/opt/pve-health/tools/pwsh')) {
            $shipped = New-Item -ItemType Directory -Force (Join-Path $script:Work 'units-shipped')
            Copy-Item (Join-Path $script:Deploy 'systemd/*') $shipped
            $s = Invoke-Program -File 'systemd-analyze' -Arguments @('verify', (Join-Path $shipped 'pve-health-check.service'))
            $s.ExitCode | Should -Not -Be 0
            $s.Error | Should -Match '/opt/pve-health/tools/pwsh is not executable'
        }
    }

    It 'the templated pair pve-health-check@.service/.timer is the single unit with the environment from the instance name' {
        $template = Get-Content -Raw (Join-Path $script:Deploy 'systemd/pve-health-check@.service')
        $templateTimer = Get-Content -Raw (Join-Path $script:Deploy 'systemd/pve-health-check@.timer')
        $template | Should -Match '(?m)^ExecStart=/opt/pve-health/tools/pwsh -NoProfile -NonInteractive -File /usr/local/share/powershell/Modules/PveHealth/bin/pve-health-check\.ps1 -Environment %i -ConfigPath /etc/pve-health/config\.json\s*$'
        $template | Should -Match '(?m)^Environment=PVE_HEALTH_TEXTFILE=/var/lib/prometheus/node-exporter/pve_health_%i\.prom\s*$'
        # Every other setting (hardening, user, timeouts) is the single unit's, line for line: the two cannot drift.
        $settings = { param($text) @($text -split "`r?`n" | Where-Object { $_ -match '^\w+=' -and $_ -notmatch '^(Description|ExecStart|Environment=PVE_HEALTH_TEXTFILE)=' }) }
        & $settings $template | Should -Be (& $settings $script:Service)
        & $settings $templateTimer | Should -Be (& $settings $script:Timer | Where-Object { $_ -notlike 'Unit=*' })
        $templateTimer | Should -Not -Match '(?m)^Unit='
    }

    It 'systemd-analyze verify passes for the instances lab and lab-b of the template' {
        $dir = New-Item -ItemType Directory -Force (Join-Path $script:Work 'units-template')
        (Get-Content -Raw (Join-Path $script:Deploy 'systemd/pve-health-check@.service')).Replace('ExecStart=/opt/pve-health/tools/pwsh ', "ExecStart=$([Environment]::ProcessPath) ") |
            Set-Content (Join-Path $dir 'pve-health-check@.service') -NoNewline
        Copy-Item (Join-Path $script:Deploy 'systemd/pve-health-check@.timer') $dir
        foreach ($instance in 'lab', 'lab-b') {
            $r = Invoke-Program -File 'systemd-analyze' -Arguments @('verify', (Join-Path $dir "pve-health-check@$instance.service"), (Join-Path $dir "pve-health-check@$instance.timer"))
            $r.ExitCode | Should -Be 0
            "$($r.Output)$($r.Error)".Trim() | Should -BeNullOrEmpty
        }
    }

    It 'OnCalendar elapses every 4 hours' {
        $calendar = [regex]::Match($script:Timer, '(?m)^OnCalendar=(.+?)\s*$').Groups[1].Value
        $calendar | Should -Not -BeNullOrEmpty
        $r = Invoke-Program -File 'systemd-analyze' -Arguments @('calendar', '--iterations=7', $calendar) -Environment @{ TZ = 'UTC' }
        $r.ExitCode | Should -Be 0
        $times = @([regex]::Matches($r.Output, '(?m)^\s*(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)') |
            ForEach-Object { [datetime]::ParseExact($_.Groups[1].Value, 'yyyy-MM-dd HH:mm:ss', [Globalization.CultureInfo]::InvariantCulture) })
        $times.Count | Should -Be 7
        for ($i = 1; $i -lt $times.Count; $i++) { ($times[$i] - $times[$i - 1]).TotalHours | Should -Be 4 }
        $times[0].Hour % 4 | Should -Be 0
    }
}

Describe 'deploy/install.sh' {
    It 'puts the module, units, example config and exclusions under DESTDIR and never overwrites an existing config' {
        $dest = Join-Path $script:Work 'dest'
        $r = Invoke-Program -File 'bash' -Arguments @((Join-Path $script:Deploy 'install.sh'), '--skip-pwsh', '--module', $script:ModulePath) -Environment @{ DESTDIR = $dest }
        $r.ExitCode | Should -Be 0 -Because $r.Error
        foreach ($f in 'usr/local/share/powershell/Modules/PveHealth/PveHealth.psd1', 'usr/local/share/powershell/Modules/PveHealth/PveHealth.PowerShell.dll', 'usr/local/share/powershell/Modules/PveHealth/PveHealth.Model.dll',
            'usr/local/share/powershell/Modules/PveHealth/dependencies/PveHealth.Engine.dll', 'usr/local/share/powershell/Modules/PveHealth/bin/pve-health-check.ps1',
            'etc/systemd/system/pve-health-check.service', 'etc/systemd/system/pve-health-check.timer',
            'etc/systemd/system/pve-health-check@.service', 'etc/systemd/system/pve-health-check@.timer',
            'etc/pve-health/config.json', 'etc/pve-health/exclusions.conf',
            'opt/pve-health/share/prometheus/health-alerts.yml', 'opt/pve-health/share/alertmanager/telegram.yml', 'opt/pve-health/share/grafana/health-overview.json') {
            Test-Path (Join-Path $dest $f) | Should -BeTrue -Because "$f should be installed"
        }
        Get-Content -Raw (Join-Path $dest 'etc/pve-health/config.json') | Should -Be (Get-Content -Raw (Join-Path $script:Deploy '../examples/config.json')) -Because 'the example configuration is what install.sh puts in place'

        Set-Content (Join-Path $dest 'etc/pve-health/config.json') '{ "mine": true }'
        Set-Content (Join-Path $dest 'etc/pve-health/exclusions.conf') 'web-*'
        $again = Invoke-Program -File 'bash' -Arguments @((Join-Path $script:Deploy 'install.sh'), '--skip-pwsh', '--module', $script:ModulePath) -Environment @{ DESTDIR = $dest }
        $again.ExitCode | Should -Be 0
        $again.Output | Should -Match 'kept existing .*config\.json'
        (Get-Content -Raw (Join-Path $dest 'etc/pve-health/config.json')).Trim() | Should -Be '{ "mine": true }'
        (Get-Content -Raw (Join-Path $dest 'etc/pve-health/exclusions.conf')).Trim() | Should -Be 'web-*'
    }

    It 'the installed entry script runs with the installed module' {
        $dest = Join-Path $script:Work 'dest'
        $folder = New-Item -ItemType Directory -Force (Join-Path $script:Work 'installed-run')
        $tf = Join-Path $folder 'tf.json'
        '{"guests":{"sensitive":false,"type":"list","value":[{"name":"web-01","address":"127.0.0.1"}]}}' | Set-Content $tf
        $config = New-TestConfig -Folder $folder -Environments @{ lab = @{ inventory = @{ source = 'terraform-output'; path = $tf }; checks = @('Ping') } }
        $pwsh = @(Get-PwshCommand)
        $entry = Join-Path $dest 'usr/local/share/powershell/Modules/PveHealth/bin/pve-health-check.ps1'
        $metrics = Join-Path $folder 'pve_health.prom'
        $r = Invoke-Program -File $pwsh[0] -Arguments (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command',
                "& '$entry' -ConfigPath '$config' -ExclusionPath /dev/null -MetricsPath '$metrics'; `"module: `$((Get-Module PveHealth).ModuleBase)`"; exit `$LASTEXITCODE"))
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $r.Output | Should -Match "module: $([regex]::Escape((Join-Path $dest 'usr/local/share/powershell/Modules/PveHealth')))"
        Test-Path $metrics | Should -BeTrue
    }

    It 'refuses to run without a built module' {
        $r = Invoke-Program -File 'bash' -Arguments @((Join-Path $script:Deploy 'install.sh'), '--skip-pwsh', '--module', (Join-Path $script:Work 'nothing')) -Environment @{ DESTDIR = (Join-Path $script:Work 'dest2') }
        $r.ExitCode | Should -Be 1
        $r.Error | Should -Match 'no built module'
        Test-Path (Join-Path $script:Work 'dest2') | Should -BeFalse
    }
}

Describe 'Grafana dashboard (deploy/grafana)' {
    BeforeAll {
        $script:DashboardText = Get-Content -Raw (Join-Path $script:Deploy 'grafana/health-overview.json')
        $script:Dashboard = $script:DashboardText | ConvertFrom-Json
    }

    It 'has a fixed uid, a datasource template variable and no import inputs' {
        $script:Dashboard.uid | Should -Be 'pve-health-overview'
        $script:DashboardText | Should -Not -Match 'DS_PROMETHEUS'
        $script:Dashboard.PSObject.Properties.Name | Should -Not -Contain '__inputs'
        $ds = @($script:Dashboard.templating.list | Where-Object name -eq 'datasource')
        $ds.Count | Should -Be 1
        $ds[0].type | Should -Be 'datasource'
        $ds[0].query | Should -Be 'prometheus'
        foreach ($panel in $script:Dashboard.panels) {
            $panel.datasource.uid | Should -Be '${datasource}'
            foreach ($t in $panel.targets) { $t.datasource.uid | Should -Be '${datasource}' }
        }
    }

    It 'has the current status, history (state timeline), check durations and last-run age panels' {
        $types = $script:Dashboard.panels | ForEach-Object { "$($_.type):$($_.title)" }
        $types | Should -Contain 'table:Status per component (current)'
        $types | Should -Contain 'state-timeline:History'
        $types | Should -Contain 'timeseries:Check durations'
        $types | Should -Contain 'stat:Last run age'
        $types | Should -Contain 'timeseries:Estate drift: guests by kind'
    }

    It 'provisioning examples point at the dashboard folder and a Prometheus data source' {
        Get-Content -Raw (Join-Path $script:Deploy 'grafana/provisioning/dashboards.yml') | Should -Match '(?m)^\s+path: /var/lib/grafana/dashboards/pve-health'
        Get-Content -Raw (Join-Path $script:Deploy 'grafana/provisioning/datasources.yml') | Should -Match '(?m)^\s+type: prometheus'
    }
}

Describe 'Dashboard and alert expressions against a real node_exporter and Prometheus' {
    BeforeAll {
        $script:Stack = New-Item -ItemType Directory -Force (Join-Path $script:Work 'stack')
        $textfiles = New-Item -ItemType Directory -Force (Join-Path $script:Stack 'textfile')
        $ok = Test-PveVm -Name 'web-01' -Address 127.0.0.1 -Environment lab -Check Ping -InformationAction Ignore
        $odd = Test-PveVm -Name "db `"main`" ü\x" -Address 127.0.0.1 -Environment lab -Check Ping -InformationAction Ignore
        $ghost = Test-PveVm -Name 'ghost' -Environment lab -Check Ping -InformationAction Ignore
        # The node health and recovery panels' rows (Ok, so the failure alerts below stay about the ghost only).
        $zfs = [PveHealth.Model.CheckResult]::new('lab', 'pve1/rpool', 'ZfsPool', 'Zfs', [PveHealth.Model.CheckStatus]::Ok, 'pool rpool ONLINE', [TimeSpan]::Zero, $null, $null)
        $backup = [PveHealth.Model.CheckResult]::new('lab', 'web-01', 'Vm', 'BackupAge', [PveHealth.Model.CheckStatus]::Ok, 'last good backup 3 h ago', [TimeSpan]::Zero, $null, $null)
        $ok, $odd, $ghost, $zfs, $backup | Export-PveHealthMetrics -Path (Join-Path $textfiles 'pve_health.prom')
        # The capacity panel's series, as the Storage group exports them (a second file: node_exporter merges them).
        "# HELP pve_health_storage_used_ratio Used fraction.`n# TYPE pve_health_storage_used_ratio gauge`npve_health_storage_used_ratio{environment=`"lab`",node=`"pve1`",storage=`"local-lvm`"} 0.93`n" |
            Set-Content -LiteralPath (Join-Path $textfiles 'storage.prom') -NoNewline -Encoding utf8NoBOM
        # The certificate panel's series, as NodeCertificate exports it: 20 days left, so CertificateExpiresSoon stays quiet.
        $notAfter = [DateTimeOffset]::UtcNow.AddDays(20).ToUnixTimeSeconds()
        "# HELP pve_health_certificate_expiry_seconds notAfter.`n# TYPE pve_health_certificate_expiry_seconds gauge`npve_health_certificate_expiry_seconds{environment=`"lab`",component=`"pve1/pve-ssl.pem`",type=`"Certificate`",check=`"NodeCertificate`"} $notAfter`n" |
            Set-Content -LiteralPath (Join-Path $textfiles 'certificates.prom') -NoNewline -Encoding utf8NoBOM

        # The drift panel's and alerts' series, as the Drift group exports them: one guest missing, nothing else.
        "# HELP pve_health_drift_guests Drifted guests.`n# TYPE pve_health_drift_guests gauge`n" + (@('attributes', 'missing', 'stopped', 'unmanaged') | ForEach-Object { "pve_health_drift_guests{environment=`"lab`",kind=`"$_`"} $(if ($_ -eq 'missing') { 1 } else { 0 })`n" }) -join '' |
            Set-Content -LiteralPath (Join-Path $textfiles 'drift.prom') -NoNewline -Encoding utf8NoBOM

        # The backup-age panel's series, as BackupAge exports it: the last good backup 3 hours ago.
        $lastBackup = [DateTimeOffset]::UtcNow.AddHours(-3).ToUnixTimeSeconds()
        "# HELP pve_health_backup_last_timestamp_seconds Last good backup.`n# TYPE pve_health_backup_last_timestamp_seconds gauge`npve_health_backup_last_timestamp_seconds{environment=`"lab`",guest=`"web-01`",vmid=`"101`"} $lastBackup`n" |
            Set-Content -LiteralPath (Join-Path $textfiles 'backups.prom') -NoNewline -Encoding utf8NoBOM

        $script:Prometheus = Start-TestPrometheus -Folder (Join-Path $script:Stack 'prometheus') -TextfileDirectory $textfiles -RuleFile (Join-Path $script:Deploy 'prometheus/health-alerts.yml')
        $script:Prom = $script:Prometheus.Url
        function script:Invoke-PromQuery([string] $Query, [switch] $Range) { Invoke-TestPromQuery $script:Prometheus $Query -Range:$Range }
        # Bounded wait (90 s) until Prometheus has scraped the textfile series at least a few times.
        $script:Ready = Wait-TestPrometheus $script:Prometheus 'pve_health_check_success{component="web-01"}'
    }

    AfterAll {
        Stop-TestPrometheus $script:Prometheus
        foreach ($p in @($script:Prometheus.Procs)) {
            if ($p) { Get-Process -Id $p.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty -Because "process $($p.Id) must be gone" }
        }
    }

    It 'Prometheus scraped the exported series through node_exporter' {
        $script:Ready | Should -BeTrue -Because (Get-Content -Raw (Join-Path $script:Stack 'prometheus/prom.err') -ErrorAction SilentlyContinue)
        $r = Invoke-PromQuery 'node_textfile_scrape_error'
        [double]$r.data.result[0].value[1] | Should -Be 0
        $odd = Invoke-PromQuery 'pve_health_check_success{component=~"db.*"}'
        $odd.data.result[0].metric.component | Should -Be "db `"main`" ü\x"
    }

    It 'every panel expression of the dashboard returns data' {
        $script:Ready | Should -BeTrue
        $dashboard = Get-Content -Raw (Join-Path $script:Deploy 'grafana/health-overview.json') | ConvertFrom-Json
        $checked = 0
        foreach ($q in Get-DashboardQuery (Join-Path $script:Deploy 'grafana/health-overview.json')) {
            $q.Expr | Should -Not -Match '\$' -Because "every variable in '$($q.Source)' is replaced"
            $r = Invoke-PromQuery $q.Expr -Range:$q.Range
            $r.status | Should -Be 'success'
            $r.data.result.Count | Should -BeGreaterThan 0 -Because "panel '$($q.Panel)' ($($q.Expr)) must return data"
            $checked++
        }
        $checked | Should -Be @($dashboard.panels.targets).Count
        $checked | Should -BeGreaterOrEqual 8
    }

    It 'the rules are loaded and every alert expression evaluates: failures fire, staleness and textfile errors stay quiet' {
        $script:Ready | Should -BeTrue
        $rules = (Invoke-RestMethod -Uri "$($script:Prom)/api/v1/rules" -TimeoutSec 10).data.groups
        $group = @($rules | Where-Object name -eq 'health-alerts')
        $group.Count | Should -Be 1
        $byName = @{}
        foreach ($rule in $group[0].rules) {
            $r = Invoke-PromQuery $rule.query
            $r.status | Should -Be 'success'
            $byName[$rule.name] = $r.data.result
        }
        foreach ($name in 'CertificateExpiresSoon', 'EstateDriftCritical', 'EstateDriftWarning', 'HealthCheckStale', 'HealthCheckTextfileError', 'InfraHealthCheckFailed', 'StorageFullWithin7Days') { $byName.Keys | Should -Contain $name }
        @($byName['EstateDriftCritical']).Count | Should -Be 1 -Because 'one guest is missing; stopped is 0'
        $byName['EstateDriftCritical'][0].metric.kind | Should -Be 'missing'
        @($byName['EstateDriftWarning']).Count | Should -Be 0 -Because 'unmanaged and attributes are 0'
        @($byName['InfraHealthCheckFailed']).Count | Should -Be 1
        $byName['InfraHealthCheckFailed'][0].metric.component | Should -Be 'ghost'
        $byName['InfraHealthCheckFailed'][0].metric.environment | Should -Be 'lab'
        $byName['InfraHealthCheckFailed'][0].metric.check | Should -Be 'Ping'
        $byName['InfraHealthCheckFailed'][0].metric.type | Should -Be 'Vm'
        @($byName['HealthCheckStale']).Count | Should -Be 0
        @($byName['HealthCheckTextfileError']).Count | Should -Be 0
        @($byName['CertificateExpiresSoon']).Count | Should -Be 0 -Because 'the exported certificate has 20 days left, more than the rule''s 14'
        @($byName['StorageFullWithin7Days']).Count | Should -Be 0   # a storage at a steady 93 % (seconds of history) is no forecast

        # The alert itself reaches pending (for: 1m) within a bounded wait.
        $alert = $null
        for ($i = 0; $i -lt 40 -and -not $alert; $i++) {
            $alert = (Invoke-RestMethod -Uri "$($script:Prom)/api/v1/alerts" -TimeoutSec 10).data.alerts | Where-Object { $_.labels.alertname -eq 'InfraHealthCheckFailed' -and $_.labels.component -eq 'ghost' }
            if (-not $alert) { Start-Sleep -Milliseconds 500 }
        }
        $alert | Should -Not -BeNullOrEmpty
        $alert.state | Should -BeIn @('pending', 'firing')
    }
}
