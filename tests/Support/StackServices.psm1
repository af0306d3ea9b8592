# Real monitoring-stack and S3 services for the tests (and later the lab, inside its network namespace):
#   prometheus (scrapes itself, node_exporter and one dead target), prometheus-node-exporter,
#   two prometheus-alertmanager instances clustered with each other, and tests/Lab/standins.js
#   (s3rver behind MinIO's health routes, Grafana's /api/health stand-in, a hung TCP endpoint).
# Every service binds -Address on a port free at start; every wait is bounded; Stop-PveStackServices
# kills every process it started and checks that each is gone.
# Nothing here assumes the host namespace: run it inside `ip netns exec` with -Address 127.x.y.z.

Set-StrictMode -Version 3.0

$script:LabDir = Join-Path (Split-Path $PSScriptRoot) 'Lab'

function Get-StackFreePort {
    param([Parameter(Mandatory)] [string] $Address)
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Parse($Address), 0)
    try {
        $listener.Start()
        $listener.LocalEndpoint.Port
    } finally {
        $listener.Stop()
    }
}

function Start-StackProcess {
    # Starts a program with stdout+stderr in a log file (through `sh -c exec`, so the PID is the program's own).
    param([string] $Name, [string] $FilePath, [string[]] $Arguments, [string] $LogPath, [switch] $KeepStdin)
    $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
    $psi.ArgumentList.Add('-c')
    $psi.ArgumentList.Add('log=$1; shift; exec "$@" >"$log" 2>&1')
    $psi.ArgumentList.Add('stack-service')
    $psi.ArgumentList.Add($LogPath)
    $psi.ArgumentList.Add($FilePath)
    foreach ($a in $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardInput = [bool]$KeepStdin
    $p = [System.Diagnostics.Process]::Start($psi)
    [pscustomobject]@{ Name = $Name; Process = $p; Log = $LogPath }
}

function Wait-StackCondition {
    # Polls $Test until it returns $true, at most $TimeoutSec; throws with the service log on failure.
    param([string] $What, [scriptblock] $Test, [double] $TimeoutSec = 30, [object] $Service)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ([DateTime]::UtcNow -lt $deadline) {
        if ($Service -and $Service.Process.HasExited) {
            $log = if (Test-Path $Service.Log) { (Get-Content -Raw $Service.Log) } else { '' }
            throw "$($Service.Name) exited with code $($Service.Process.ExitCode) while waiting for $What. Log: $log"
        }
        try { if (& $Test) { return } } catch { }
        Start-Sleep -Milliseconds 200
    }
    $log = if ($Service -and (Test-Path $Service.Log)) { Get-Content -Raw $Service.Log } else { '' }
    throw "timed out after $TimeoutSec s waiting for $What. $log"
}

function Test-StackHttp {
    param([string] $Url, [int] $Status = 200)
    try {
        $r = Invoke-WebRequest -Uri $Url -TimeoutSec 2 -SkipHttpErrorCheck -NoProxy
        return $r.StatusCode -eq $Status
    } catch { return $false }
}

<#
.SYNOPSIS
    Writes the Terraform state fixtures the MinIO tests read: a valid state v4 with guests on 127.x,
    a truncated state, an empty object and a stale lock, as <Path>/<bucket>/<key> files.
.DESCRIPTION
    The lock's JSON "Created" is -LockAgeMinutes in the past: the Lock check reads the age from that
    field (what Terraform wrote when it took the lock), not from the object's LastModified, which
    s3rver sets to the upload time.
#>
function New-PveStackStateFixtures {
    param([Parameter(Mandatory)] [string] $Path, [string] $Bucket = 'tfstate', [int] $LockAgeMinutes = 180, [int] $Serial = 42)
    $dir = Join-Path $Path $Bucket
    New-Item -ItemType Directory -Force (Join-Path $dir 'lab') | Out-Null
    New-Item -ItemType Directory -Force (Join-Path $dir 'broken') | Out-Null
    $state = [ordered]@{
        version           = 4
        terraform_version = '1.9.8'
        serial            = $Serial
        lineage           = '3f2b8d1e-6a0c-4c59-9d1e-0b7f5c2a9e11'
        outputs           = [ordered]@{
            vms = [ordered]@{
                value = @(
                    [ordered]@{ name = 'web-01'; vmid = 101; node = 'pve1'; ip = '127.0.10.1'; tags = @('web') }
                    [ordered]@{ name = 'db-01'; vmid = 102; node = 'pve1'; ip = '127.0.10.2'; tags = @('db') }
                )
                type  = @('list', @('object', [ordered]@{ name = 'string' }))
            }
            lxc_containers = [ordered]@{
                value = @(
                    [ordered]@{ name = 'dns-01'; vmid = 201; node = 'pve2'; ip = '127.0.20.1' }
                )
                type  = @('list', @('object', [ordered]@{ name = 'string' }))
            }
        }
        resources         = @()
        check_results     = $null
    }
    $json = $state | ConvertTo-Json -Depth 20
    [IO.File]::WriteAllText((Join-Path $dir 'lab/terraform.tfstate'), $json)
    # Cut in the middle of the outputs: invalid JSON at a known line.
    $lines = $json -split "`n"
    [IO.File]::WriteAllText((Join-Path $dir 'broken/truncated.tfstate'), (($lines | Select-Object -First 9) -join "`n"))
    [IO.File]::WriteAllText((Join-Path $dir 'broken/empty.tfstate'), '')
    $lock = [ordered]@{
        ID        = '9d8e7f6a-1b2c-3d4e-5f60-718293a4b5c6'
        Operation = 'OperationTypeApply'
        Info      = ''
        Who       = 'deploy@ci-runner-07'
        Version   = '1.9.8'
        Created   = [DateTimeOffset]::UtcNow.AddMinutes(-$LockAgeMinutes).ToString('yyyy-MM-ddTHH:mm:ss.fffffffZ')
        Path      = "$Bucket/lab/terraform.tfstate"
    }
    [IO.File]::WriteAllText((Join-Path $dir 'lab/terraform.tfstate.tflock'), ($lock | ConvertTo-Json))
    [pscustomobject]@{ Path = $Path; Bucket = $Bucket; Serial = $Serial; Lock = [pscustomobject]$lock; TruncatedLines = 9 }
}

<#
.SYNOPSIS
    Starts prometheus, node_exporter, two clustered alertmanagers and the stand-ins under -Root.
.OUTPUTS
    An object with the URLs (PrometheusUrl, AlertmanagerUrl, Alertmanager2Url, NodeExporterUrl,
    GrafanaUrl, MinioUrl, HungUrl, ControlUrl), DeadTarget ("address:port" nobody listens on),
    the fixtures, and the processes; pass it to Stop-PveStackServices.
#>
function Start-PveStackServices {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] [string] $Root,
        [string] $Address = '127.0.0.1',
        [double] $TimeoutSec = 60,
        [string] $Seed,
        # node_exporter's textfile folder (default <Root>/textfile): where pve_health.prom goes.
        [string] $TextfileDirectory,
        # Prometheus rule files to load (rule_files); evaluated every -EvaluationInterval.
        [string[]] $RuleFile = @(),
        [string] $EvaluationInterval = '1s'
    )
    $null = [System.Net.IPAddress]::Parse($Address)
    foreach ($exe in 'prometheus', 'prometheus-node-exporter', 'prometheus-alertmanager', 'node') {
        if (-not (Get-Command $exe -ErrorAction Ignore)) { throw "$exe is not installed: run tools/install-prerequisites.sh." }
    }
    if (-not (Test-Path (Join-Path $script:LabDir 'node_modules/s3rver'))) {
        throw "s3rver is not installed in $($script:LabDir): run tools/install-prerequisites.sh (npm ci there)."
    }
    New-Item -ItemType Directory -Force $Root | Out-Null
    $started = [System.Collections.Generic.List[object]]::new()
    $s = [pscustomobject]@{
        Root = $Root; Address = $Address; Services = $started
        PrometheusUrl = $null; NodeExporterUrl = $null; AlertmanagerUrl = $null; Alertmanager2Url = $null
        GrafanaUrl = $null; MinioUrl = $null; HungUrl = $null; ControlUrl = $null; DeadTarget = $null; Fixtures = $null
        TextfileDirectory = $null
    }
    try {
        # Stand-ins first: they choose their own ports (no race) and report them on stdout.
        if (-not $Seed) {
            $s.Fixtures = New-PveStackStateFixtures -Path (Join-Path $Root 'seed')
            $Seed = $s.Fixtures.Path
        }
        $standins = Start-StackProcess -Name 'standins' -FilePath 'node' -KeepStdin -LogPath (Join-Path $Root 'standins.log') -Arguments @(
            (Join-Path $script:LabDir 'standins.js'), '--address', $Address, '--dir', (Join-Path $Root 's3rver'), '--seed', $Seed)
        $started.Add($standins)
        Wait-StackCondition -What 'the stand-ins to listen' -TimeoutSec $TimeoutSec -Service $standins -Test {
            (Test-Path $standins.Log) -and ((Get-Content -Raw $standins.Log) -match '^\{.*"control"')
        }
        $ports = (Get-Content $standins.Log | Where-Object { $_ -match '^\{' } | Select-Object -First 1) | ConvertFrom-Json
        $hostPart = if ($Address.Contains(':')) { "[$Address]" } else { $Address }
        $s.MinioUrl = "http://${hostPart}:$($ports.minio)"
        $s.GrafanaUrl = "http://${hostPart}:$($ports.grafana)"
        $s.HungUrl = "http://${hostPart}:$($ports.hung)"
        $s.ControlUrl = "http://${hostPart}:$($ports.control)"

        $nodePort = Get-StackFreePort $Address
        if (-not $TextfileDirectory) { $TextfileDirectory = Join-Path $Root 'textfile' }
        $textfiles = New-Item -ItemType Directory -Force $TextfileDirectory
        $s.TextfileDirectory = $textfiles.FullName
        $node = Start-StackProcess -Name 'node_exporter' -FilePath 'prometheus-node-exporter' -LogPath (Join-Path $Root 'node_exporter.log') -Arguments @(
            "--web.listen-address=${hostPart}:$nodePort", "--collector.textfile.directory=$($textfiles.FullName)",
            '--collector.disable-defaults', '--collector.textfile', '--collector.loadavg', '--collector.time')
        $started.Add($node)
        $s.NodeExporterUrl = "http://${hostPart}:$nodePort"

        # A port nobody listens on: connection refused on every scrape.
        $s.DeadTarget = "${hostPart}:$(Get-StackFreePort $Address)"
        $promPort = Get-StackFreePort $Address
        # Alertmanager ports first: Prometheus sends its alerts to both (as an HA pair is configured).
        $web = @((Get-StackFreePort $Address), (Get-StackFreePort $Address))
        $gossip = @((Get-StackFreePort $Address), (Get-StackFreePort $Address))
        $promConfig = Join-Path $Root 'prometheus.yml'
        $rules = if ($RuleFile) { "rule_files:`n" + (($RuleFile | ForEach-Object { "  - '$((Resolve-Path -LiteralPath $_).Path)'" }) -join "`n") } else { '' }
        @"
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: $EvaluationInterval
$rules
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['${hostPart}:$($web[0])', '${hostPart}:$($web[1])']
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['${hostPart}:$promPort']
  - job_name: node
    static_configs:
      - targets: ['${hostPart}:$nodePort']
  - job_name: dead
    static_configs:
      - targets: ['$($s.DeadTarget)']
"@ | Set-Content -Path $promConfig -Encoding utf8NoBOM
        $prom = Start-StackProcess -Name 'prometheus' -FilePath 'prometheus' -LogPath (Join-Path $Root 'prometheus.log') -Arguments @(
            "--config.file=$promConfig", "--storage.tsdb.path=$(Join-Path $Root 'tsdb')", "--web.listen-address=${hostPart}:$promPort")
        $started.Add($prom)
        $s.PrometheusUrl = "http://${hostPart}:$promPort"

        $amConfig = Join-Path $Root 'alertmanager.yml'
        "route:`n  receiver: none`nreceivers:`n  - name: none`n" | Set-Content -Path $amConfig -Encoding utf8NoBOM
        $am = @()
        foreach ($i in 0, 1) {
            $peer = $gossip[1 - $i]
            $am += Start-StackProcess -Name "alertmanager$($i + 1)" -FilePath 'prometheus-alertmanager' -LogPath (Join-Path $Root "alertmanager$($i + 1).log") -Arguments @(
                "--config.file=$amConfig", "--storage.path=$(Join-Path $Root "alertmanager$($i + 1)")", "--web.listen-address=${hostPart}:$($web[$i])",
                "--cluster.listen-address=${hostPart}:$($gossip[$i])", "--cluster.advertise-address=${hostPart}:$($gossip[$i])",
                "--cluster.peer=${hostPart}:$peer", '--cluster.settle-timeout=5s')
            $started.Add($am[$i])
        }
        $s.AlertmanagerUrl = "http://${hostPart}:$($web[0])"
        $s.Alertmanager2Url = "http://${hostPart}:$($web[1])"

        Wait-StackCondition -What 'node_exporter /metrics' -TimeoutSec $TimeoutSec -Service $node -Test { Test-StackHttp "$($s.NodeExporterUrl)/metrics" }
        Wait-StackCondition -What 'prometheus /-/ready' -TimeoutSec $TimeoutSec -Service $prom -Test { Test-StackHttp "$($s.PrometheusUrl)/-/ready" }
        # Every target scraped at least once: the dead one is "down" with its error, the others "up".
        Wait-StackCondition -What 'prometheus to scrape every target' -TimeoutSec $TimeoutSec -Service $prom -Test {
            $t = (Invoke-RestMethod -Uri "$($s.PrometheusUrl)/api/v1/targets?state=active" -TimeoutSec 2 -NoProxy).data.activeTargets
            @($t).Count -eq 3 -and -not ($t | Where-Object { $_.health -eq 'unknown' }) -and ($t | Where-Object { $_.labels.job -eq 'dead' -and $_.lastError })
        }
        foreach ($i in 0, 1) {
            $url = if ($i -eq 0) { $s.AlertmanagerUrl } else { $s.Alertmanager2Url }
            Wait-StackCondition -What "alertmanager$($i + 1) cluster ready" -TimeoutSec $TimeoutSec -Service $am[$i] -Test {
                $st = Invoke-RestMethod -Uri "$url/api/v2/status" -TimeoutSec 2 -NoProxy
                $st.cluster.status -eq 'ready' -and @($st.cluster.peers).Count -eq 2
            }
        }
        Wait-StackCondition -What 'the Grafana stand-in' -TimeoutSec $TimeoutSec -Service $standins -Test { Test-StackHttp "$($s.GrafanaUrl)/api/health" }
        $s
    } catch {
        $err = $_
        Stop-PveStackServices $s -ErrorAction Continue
        throw $err
    }
}

<#
.SYNOPSIS
    Switches a stand-in: -Grafana ok|failing, -Minio ok|busy.
#>
function Set-PveStackStandin {
    param([Parameter(Mandatory)] $Services, [ValidateSet('ok', 'failing')] [string] $Grafana, [ValidateSet('ok', 'busy')] [string] $Minio)
    if ($Grafana) { $null = Invoke-RestMethod -Method Post -Uri "$($Services.ControlUrl)/grafana/$Grafana" -TimeoutSec 5 -NoProxy }
    if ($Minio) { $null = Invoke-RestMethod -Method Post -Uri "$($Services.ControlUrl)/minio/$Minio" -TimeoutSec 5 -NoProxy }
}

<#
.SYNOPSIS
    Kills every process Start-PveStackServices started and verifies each is gone (throws if one survives).
#>
function Stop-PveStackServices {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] $Services)
    if (-not $Services) { return }
    $survivors = @()
    foreach ($svc in @($Services.Services)) {
        $p = $svc.Process
        $id = $p.Id
        try {
            if ($p.StartInfo.RedirectStandardInput) { try { $p.StandardInput.Close() } catch { } }
            if (-not $p.HasExited) { $p.Kill($true) }
            $null = $p.WaitForExit(10000)
        } catch [System.InvalidOperationException] {
            # already exited and reaped
        }
        # Gone means: exited, reaped (no /proc entry left, not even a zombie).
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while ((Test-Path "/proc/$id") -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
        if (-not $p.HasExited -or (Test-Path "/proc/$id")) { $survivors += "$($svc.Name) (pid $id)" }
        $p.Dispose()
    }
    $Services.Services.Clear()
    if ($survivors) { throw "stack services still running after kill: $($survivors -join ', ')" }
}

Export-ModuleMember -Function Start-PveStackServices, Stop-PveStackServices, Set-PveStackStandin, New-PveStackStateFixtures, Get-StackFreePort
