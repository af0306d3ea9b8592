# Drift against the lab (issue 14): the lab's state object in MinIO declares the guests with both providers' shapes
# (Start-PveLab -Drift, tests/Lab/PveLab.psm1 Get-LabTerraformResources) and the Proxmox simulator has the scripted
# drift: handmade-01 unmanaged, old-db-02 (VMID 120) deleted, db-01 declared running but stopped, cache-01 renamed
# (the state says cache-old), app-01's start at boot off, web-02 on another node than the state says (not drift).
# Every check run happens inside the lab's namespace; the alert is read from the lab's real Prometheus.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:DriftSkipReason = Get-LabSkipReason -Suite 'Drift lab tests' -Tool nft, curl, prometheus, prometheus-alertmanager, prometheus-node-exporter, node -NodeModule s3rver
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Lab/PveLab.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:Repo = Split-Path (Split-Path $PSScriptRoot)
    $script:RuleFile = Join-Path $script:Repo 'deploy/prometheus/health-alerts.yml'

    function Find-Row {
        param($Rows, [string] $Component, [string] $Check)
        @($Rows | Where-Object { $_.Component -eq $Component -and $_.Check -eq $Check })
    }
    # GET inside the namespace (curl); parsed JSON, $null when it fails.
    function Get-LabJson {
        param([string] $Url)
        $out = Invoke-LabNative -Lab $script:Lab -FilePath 'curl' -ArgumentList @('-sS', '--fail', '--max-time', '5', $Url) -AllowFailure
        if ($LASTEXITCODE) { return $null }
        ($out -join "`n") | ConvertFrom-Json
    }
    function Get-PromQuery {
        param([string] $Query)
        $r = Get-LabJson "$($script:Lab.Monitoring.PrometheusUrl)/api/v1/query?query=$([uri]::EscapeDataString($Query))"
        if ($r) { @($r.data.result) } else { @() }
    }
    # The gauge samples of an exported file: kind -> value.
    function Get-Gauge {
        param([string] $Text)
        $g = @{}
        foreach ($m in [regex]::Matches($Text, '(?m)^pve_health_drift_guests\{environment="lab",kind="(\w+)"\} (\S+)$')) { $g[$m.Groups[1].Value] = [double]$m.Groups[2].Value }
        $g
    }
}

Describe 'Drift: the Terraform state in the lab''s MinIO against the Proxmox simulator' -Tag 'Lab', 'Drift' -Skip:([bool]$script:DriftSkipReason) {
    BeforeAll {
        $script:Lab = Start-PveLab -GuestCount 6 -Drift -PrometheusRuleFile $RuleFile -StartTimeoutSec 60
        # The simulator's first HTTPS answer includes its start-up work (TLS, JIT): one request before the runs, so
        # the checks' own deadlines (3 s in the lab) measure the API, not the simulator's warm-up.
        $null = Invoke-PveLabApi -Lab $Lab -Path '/cluster/resources?type=vm'
        # Every run in one child pwsh inside the namespace (one module load); rows come back as plain objects.
        $script:R = Invoke-InPveLab $Lab -ModulePath (Get-PveHealthModulePath) {
            $env:PVE_HEALTH_CONFIG = $Lab.ConfigPath
            function Plain($rows) {
                foreach ($r in @($rows)) {
                    if ($r.PSObject.Properties['Check']) { [pscustomobject]@{ Component = $r.Component; Type = $r.Type; Check = $r.Check; Status = "$($r.Status)"; Detail = $r.Detail } }
                }
            }
            function Requests([string] $Pattern) {
                $n = 0
                foreach ($p in (Get-PveLabState $Lab).requests.PSObject.Properties) { if ($p.Name -like $Pattern) { $n += [int]$p.Value } }
                $n
            }
            $out = @{}
            # This child's first run loads and compiles the engine (MinIO SDK, JSON, TLS); on a loaded machine that alone
            # can take the lab's 3 s unit timeout. One run first, so the measured runs measure the lab, not the JIT.
            $out.Warm = @(Plain (Test-PveDrift 6>$null))
            $null = Invoke-PveLabApi -Lab $Lab -Path '/_lab/reset-counters' -Method POST -Token 'none' -Headers @{ 'X-Lab-Control' = $Lab.ControlToken } -Body '{}'
            $rows = @(Invoke-PveHealthCheck -Component Drift 6>$null)
            $out.Invoke = @(Plain $rows)
            $out.Resources = Requests 'GET /cluster/resources*'
            $out.Configs = Requests 'GET /nodes/*/config'
            $out.Table = ($rows | Sort-Object Component, Check | Format-Table Component, Type, Check, Status, Detail -AutoSize | Out-String -Width 260)
            $out.Test = @(Plain (Test-PveDrift 6>$null))

            # The drift metrics go where the lab's node_exporter reads them (the alert test reads them in Prometheus).
            $prom = Join-Path $Lab.Monitoring.TextfileDirectory 'pve_health.prom'
            $rows | Export-PveHealthMetrics -Path $prom 6>$null
            $out.Metrics = Get-Content -Raw $prom

            # Per-guest exclusions: the rows are Skipped with the rule, and the guests leave the gauge.
            $ex = Join-Path $Lab.Root 'drift-excluded.prom'
            $excluded = @(Invoke-PveHealthCheck -Component Drift -Exclude 'handmade-01', 'db-01:PowerState' 6>$null)
            $excluded | Export-PveHealthMetrics -Path $ex 6>$null
            $out.Excluded = @(Plain $excluded)
            $out.ExcludedMetrics = Get-Content -Raw $ex

            # States that cannot be compared, alone and next to a good one.
            $seed = Get-Content -Raw (Join-Path $Lab.Root 'stack-seed/tfstate/lab/terraform.tfstate')
            $empty = Join-Path $Lab.Root 'empty.tfstate'; Set-Content -LiteralPath $empty -Value '' -NoNewline
            $garbage = Join-Path $Lab.Root 'garbage.tfstate'; Set-Content -LiteralPath $garbage -Value '{"version": 4, "resources": [' -NoNewline
            $none = Join-Path $Lab.Root 'none.tfstate'; Set-Content -LiteralPath $none -Value '{"version": 4, "terraform_version": "1.9.8", "serial": 1, "lineage": "x", "outputs": {}, "resources": []}' -NoNewline
            $good = Join-Path $Lab.Root 'good.tfstate'; Set-Content -LiteralPath $good -Value $seed -NoNewline
            $out.Empty = @(Plain (Test-PveDrift -StatePath $empty 6>$null))
            $out.Garbage = @(Plain (Test-PveDrift -StatePath $garbage 6>$null))
            $out.None = @(Plain (Test-PveDrift -StatePath $none 6>$null))
            $out.Mixed = @(Plain (Test-PveDrift -StatePath $good, $garbage 6>$null))

            # VMID 101 declared a second time, by a Telmate resource in another module.
            $state = $seed | ConvertFrom-Json -Depth 30
            $state.resources += [pscustomobject]@{ module = 'module.legacy'; mode = 'managed'; type = 'proxmox_vm_qemu'; name = 'web'; provider = 'provider["registry.terraform.io/telmate/proxmox"]'
                instances = @([pscustomobject]@{ schema_version = 0; attributes = [pscustomobject]@{ id = 'pve1/qemu/101'; vmid = 101; name = 'web-legacy'; target_node = 'pve1'; vm_state = 'running' }; sensitive_attributes = @() }) }
            $twice = Join-Path $Lab.Root 'twice.tfstate'; Set-Content -LiteralPath $twice -Value ($state | ConvertTo-Json -Depth 30) -NoNewline
            $out.Twice = @(Plain (Test-PveDrift -StatePath $twice 6>$null))
            [pscustomobject]$out
        }
        Write-Host "Invoke-PveHealthCheck -Component Drift against the lab:`n$($R.Table)"
    }
    AfterAll { if ($script:Lab) { Stop-PveLab $script:Lab } }

    It 'reads the state object once: one Declarations row, Ok, both providers counted' {
        $d = @($R.Invoke | Where-Object Check -eq 'Declarations')
        $d.Count | Should -Be 1
        $d[0].Component | Should -Be 'tfstate/lab/terraform.tfstate'
        $d[0].Status | Should -Be 'Ok'
        $d[0].Detail | Should -Match '^8 guests declared \(bpg 4, Telmate 4\), serial 7'
    }

    It 'the deleted guest is Declared Critical naming its VMID and resource' {
        $row = Find-Row $R.Invoke 'old-db-02' 'Declared'
        $row.Count | Should -Be 1
        $row[0].Status | Should -Be 'Critical'
        $row[0].Detail | Should -Match ([regex]::Escape('declared by module.db.proxmox_virtual_environment_vm.replica[0] in tfstate/lab/terraform.tfstate but absent from the cluster: no VMID 120 in /cluster/resources'))
    }

    It 'the hand-made guest is Unmanaged Warning; the template and the guest the token cannot see are not' {
        $rows = @($R.Invoke | Where-Object Check -eq 'Unmanaged')
        $rows.Count | Should -Be 1
        $rows[0].Component | Should -Be 'handmade-01'
        $rows[0].Status | Should -Be 'Warning'
        $rows[0].Detail | Should -Match 'VMID 130, running on node pve2\) but declared in no Terraform state'
    }

    It 'the guest declared running but stopped is PowerState Critical' {
        $row = Find-Row $R.Invoke 'db-01' 'PowerState'
        $row.Count | Should -Be 1
        $row[0].Status | Should -Be 'Critical'
        $row[0].Detail | Should -Be 'declared to run (power_state = running in the state) but stopped on node pve1'
        (Find-Row $R.Invoke 'db-01' 'Declared')[0].Status | Should -Be 'Ok'
    }

    It 'the renamed guest is an Attributes Warning naming both names; start at boot off is an OnBoot Warning' {
        $row = Find-Row $R.Invoke 'cache-old' 'Attributes'
        $row.Count | Should -Be 1
        $row[0].Status | Should -Be 'Warning'
        $row[0].Detail | Should -Be "name: state 'cache-old', cluster 'cache-01'"
        $boot = Find-Row $R.Invoke 'app-01' 'OnBoot'
        $boot[0].Status | Should -Be 'Warning'
        $boot[0].Detail | Should -Be 'start at boot differs: state start_on_boot = on, cluster onboot = off'
    }

    It 'matching guests are Ok Declared rows, a node move is information, and nothing is Unknown' {
        foreach ($name in 'web-01', 'web-02', 'ci-01', 'tmpl-debian-12') {
            $row = Find-Row $R.Invoke $name 'Declared'
            $row.Count | Should -Be 1 -Because "$name is declared once"
            $row[0].Status | Should -Be 'Ok'
            $row[0].Detail | Should -Match '^matches the state: VMID \d+ '
        }
        (Find-Row $R.Invoke 'web-02' 'Declared')[0].Detail | Should -Match 'on node pve2 \(the state says pve1: a migration or HA move, not drift\)'
        @($R.Invoke | Where-Object Check -eq 'Declared').Count | Should -Be 8
        @($R.Invoke | Where-Object Status -in 'Unknown', 'Skipped') | Should -BeNullOrEmpty
        # The rows, exactly: 1 state + 8 declared + 1 unmanaged + PowerState + OnBoot + Attributes.
        $R.Invoke.Count | Should -Be 13
    }

    It 'asks the cluster once and reads each declared guest''s config at most once' {
        $R.Resources | Should -Be 1
        $R.Configs | Should -BeLessOrEqual 8
        $R.Configs | Should -BeGreaterThan 0
    }

    It 'Test-PveDrift gives the same rows as Invoke-PveHealthCheck -Component Drift' {
        $a = @($R.Invoke | ForEach-Object { "$($_.Component)|$($_.Check)|$($_.Status)" } | Sort-Object)
        $b = @($R.Test | ForEach-Object { "$($_.Component)|$($_.Check)|$($_.Status)" } | Sort-Object)
        $b | Should -Be $a
    }

    It 'exports pve_health_drift_guests by kind for the environment' {
        $g = Get-Gauge $R.Metrics
        $g['missing'] | Should -Be 1
        $g['unmanaged'] | Should -Be 1
        $g['stopped'] | Should -Be 1
        $g['attributes'] | Should -Be 2
    }

    It 'per-guest exclusions make those Drift rows Skipped and take the guests out of the gauge' {
        (Find-Row $R.Excluded 'handmade-01' 'Unmanaged')[0].Status | Should -Be 'Skipped'
        (Find-Row $R.Excluded 'handmade-01' 'Unmanaged')[0].Detail | Should -Match 'handmade-01'
        (Find-Row $R.Excluded 'db-01' 'PowerState')[0].Status | Should -Be 'Skipped'
        (Find-Row $R.Excluded 'old-db-02' 'Declared')[0].Status | Should -Be 'Critical'
        $g = Get-Gauge $R.ExcludedMetrics
        $g['unmanaged'] | Should -Be 0
        $g['stopped'] | Should -Be 0
        $g['missing'] | Should -Be 1
    }

    It 'an empty, an unreadable and a guest-less state each give one Unknown and no per-guest rows' {
        foreach ($case in @(@{ Rows = $R.Empty; Why = 'the state is empty \(0 bytes\)' }, @{ Rows = $R.Garbage; Why = 'JSON|end of|expected' }, @{ Rows = $R.None; Why = 'declares no guest of the Proxmox providers' })) {
            $rows = @($case.Rows)
            $rows.Count | Should -Be 1 -Because ($rows | Out-String)
            $rows[0].Check | Should -Be 'Declarations'
            $rows[0].Status | Should -Be 'Unknown'
            $rows[0].Detail | Should -Match $case.Why
            $rows[0].Detail | Should -Match 'no drift findings from it'
        }
    }

    It 'next to an unreadable state, the good state is compared but no guest is reported unmanaged' {
        @($R.Mixed | Where-Object { $_.Check -eq 'Declarations' -and $_.Status -eq 'Unknown' }).Count | Should -Be 1
        @($R.Mixed | Where-Object Check -eq 'Unmanaged') | Should -BeNullOrEmpty
        (Find-Row $R.Mixed 'old-db-02' 'Declared')[0].Status | Should -Be 'Critical'
    }

    It 'a VMID declared twice is one Declared Warning naming both resources, not a silent pick' {
        $rows = @($R.Twice | Where-Object { $_.Detail -match 'VMID 101 ' -or $_.Component -in 'web-01', 'web-legacy' })
        $rows.Count | Should -Be 1 -Because ($rows | Out-String)
        $rows[0].Component | Should -Be 'web-01'
        $rows[0].Check | Should -Be 'Declared'
        $rows[0].Status | Should -Be 'Warning'
        $rows[0].Detail | Should -Match 'VMID 101 is declared 2 times: '
        $rows[0].Detail | Should -Match ([regex]::Escape('module.legacy.proxmox_vm_qemu.web in '))
        $rows[0].Detail | Should -Match ([regex]::Escape('module.web.proxmox_virtual_environment_vm.web["web-01"] in '))
        @($R.Twice | Where-Object Check -eq 'Unmanaged').Count | Should -Be 1 -Because 'web-01 is declared (twice), only handmade-01 is unmanaged'
    }

    It 'EstateDriftCritical fires in the lab''s Prometheus for the missing guest; the drift panel''s query returns data' {
        # The rule file loaded unchanged, the gauge scraped through node_exporter.
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while ([DateTime]::UtcNow -lt $deadline -and -not (Get-PromQuery 'pve_health_drift_guests{kind="missing"} == 1')) { Start-Sleep -Milliseconds 500 }
        $dashboard = Get-Content -Raw (Join-Path $Repo 'deploy/grafana/health-overview.json') | ConvertFrom-Json
        $panel = @($dashboard.panels | Where-Object title -eq 'Estate drift: guests by kind')
        $panel.Count | Should -Be 1
        $series = Get-PromQuery $panel[0].targets[0].expr.Replace('$environment', '.*')
        @($series | ForEach-Object { $_.metric.kind } | Sort-Object) | Should -Be @('attributes', 'missing', 'stopped', 'unmanaged')

        # for: 1m, then firing: a bounded poll (150 s).
        $firing = $null
        $deadline = [DateTime]::UtcNow.AddSeconds(150)
        while ([DateTime]::UtcNow -lt $deadline -and -not $firing) {
            $alerts = (Get-LabJson "$($Lab.Monitoring.PrometheusUrl)/api/v1/alerts").data.alerts
            $firing = @($alerts) | Where-Object { $_.labels.alertname -eq 'EstateDriftCritical' -and $_.labels.kind -eq 'missing' -and $_.state -eq 'firing' } | Select-Object -First 1
            if (-not $firing) { Start-Sleep -Seconds 1 }
        }
        $firing | Should -Not -BeNullOrEmpty -Because 'the missing guest must page within 150 s (for: 1m)'
        Write-Host "Prometheus /api/v1/alerts: $($firing | ConvertTo-Json -Depth 5 -Compress)"
        $firing.labels.environment | Should -Be 'lab'
        $firing.labels.severity | Should -Be 'critical'
        $firing.annotations.summary | Should -Be 'lab: 1 declared guest(s) missing (Terraform state vs the cluster)'
        [double]$firing.value | Should -Be 1
    }
}
