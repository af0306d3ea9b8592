# Helpers shared by the Pester tests (not part of the module).

function Get-PveHealthModulePath {
    if ($env:PVEHEALTH_MODULE) { return $env:PVEHEALTH_MODULE }
    Join-Path (Split-Path (Split-Path $PSScriptRoot)) 'out/PveHealth'
}

# The command line that starts a child pwsh like this one: the pinned tool runs as `dotnet pwsh.dll`.
function Get-PwshCommand {
    $self = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') { return @($self, (Join-Path $PSHOME 'pwsh.dll')) }
    @($self)
}

# Runs a program with a deadline (NO_COLOR set, so output is plain); returns Output, Error and ExitCode.
# -Echo writes the command line and its output to the host, so CI logs show what a test ran.
function Invoke-Program {
    param([Parameter(Mandatory)] [string] $File, [string[]] $Arguments = @(), [hashtable] $Environment = @{}, [int] $TimeoutSec = 120, [switch] $Echo)
    $psi = [System.Diagnostics.ProcessStartInfo]::new($File)
    foreach ($a in $Arguments) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $psi.Environment['NO_COLOR'] = '1'
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $p = [System.Diagnostics.Process]::Start($psi)
    $out = $p.StandardOutput.ReadToEndAsync()
    $err = $p.StandardError.ReadToEndAsync()
    if (-not $p.WaitForExit($TimeoutSec * 1000)) { $p.Kill($true); throw "$File did not finish within $TimeoutSec s" }
    $p.WaitForExit()
    $r = [pscustomobject]@{ Output = $out.Result; Error = $err.Result; ExitCode = $p.ExitCode }
    if ($Echo) {
        Write-Host ("    $ {0} {1} -> exit {2}`n{3}" -f $File, ($Arguments -join ' '), $r.ExitCode, (("$($r.Output)$($r.Error)".TrimEnd() -split "`n" | ForEach-Object { "      $_" }) -join "`n"))
    }
    $r
}

# Runs a script in a fresh pwsh with the module imported; returns stdout, stderr and the exit code.
function Invoke-FreshPwsh {
    param([Parameter(Mandatory)] [string] $Script, [hashtable] $Environment = @{}, [int] $TimeoutSec = 120)
    $module = Get-PveHealthModulePath
    $pwsh = Get-PwshCommand
    $arguments = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', "Import-Module '$module'; $Script")
    Invoke-Program -File $pwsh[0] -Arguments $arguments -Environment $Environment -TimeoutSec $TimeoutSec
}

# Writes a config file for tests; $Environments is a hashtable converted to JSON.
function New-TestConfig {
    param([Parameter(Mandatory)] [string] $Folder, [Parameter(Mandatory)] [hashtable] $Environments, [hashtable] $Defaults)
    $config = [ordered]@{ environments = $Environments }
    if ($Defaults) { $config.defaults = $Defaults }
    $path = Join-Path $Folder 'config.json'
    $config | ConvertTo-Json -Depth 20 | Set-Content -Path $path -Encoding utf8NoBOM
    $path
}

function Start-TestPrometheus {
    <#
    A real node_exporter (textfile collector only) and Prometheus scraping it every second, on free ports of 127.0.0.1,
    with optional rule files. Returns { Url; Procs; Folder }. Wait-TestPrometheus waits for a series; Stop-TestPrometheus
    ends both processes (by their ids).
    #>
    param([Parameter(Mandatory)] [string] $Folder, [Parameter(Mandatory)] [string] $TextfileDirectory, [string[]] $RuleFile = @())
    function Get-FreePort {
        $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop(); $port
    }
    $null = New-Item -ItemType Directory -Force $Folder
    $nodePort = Get-FreePort
    $promPort = Get-FreePort
    $config = Join-Path $Folder 'prometheus.yml'
    $rules = if ($RuleFile.Count) { "rule_files:`n" + (($RuleFile | ForEach-Object { "  - $_" }) -join "`n") + "`n" } else { '' }
    @"
global:
  scrape_interval: 1s
  evaluation_interval: 1s
$rules
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:$nodePort']
"@ | Set-Content $config -Encoding utf8NoBOM
    $procs = @()
    $procs += Start-Process -FilePath 'prometheus-node-exporter' -PassThru -ArgumentList @(
        "--web.listen-address=127.0.0.1:$nodePort", '--collector.disable-defaults', '--collector.textfile',
        "--collector.textfile.directory=$TextfileDirectory") -RedirectStandardOutput (Join-Path $Folder 'node.out') -RedirectStandardError (Join-Path $Folder 'node.err')
    $procs += Start-Process -FilePath 'prometheus' -PassThru -ArgumentList @(
        "--config.file=$config", "--storage.tsdb.path=$(Join-Path $Folder 'data')", "--web.listen-address=127.0.0.1:$promPort") `
        -RedirectStandardOutput (Join-Path $Folder 'prom.out') -RedirectStandardError (Join-Path $Folder 'prom.err')
    [pscustomobject]@{ Url = "http://127.0.0.1:$promPort"; Procs = $procs; Folder = $Folder }
}

function Invoke-TestPromQuery {
    <# An instant query, or with -Range the last 60 s at 1 s steps. #>
    param([Parameter(Mandatory)] $Prometheus, [Parameter(Mandatory)] [string] $Query, [switch] $Range)
    if ($Range) {
        $now = [DateTimeOffset]::UtcNow.ToUnixTimeSeconds()
        Invoke-RestMethod -Uri "$($Prometheus.Url)/api/v1/query_range" -Body @{ query = $Query; start = $now - 60; end = $now; step = '1' } -TimeoutSec 10
    }
    else { Invoke-RestMethod -Uri "$($Prometheus.Url)/api/v1/query" -Body @{ query = $Query } -TimeoutSec 10 }
}

function Wait-TestPrometheus {
    <# Bounded wait (-TimeoutSec, default 90) until $Series has been scraped at least 3 times; $true when it has. #>
    param([Parameter(Mandatory)] $Prometheus, [Parameter(Mandatory)] [string] $Series, [double] $TimeoutSec = 90)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
    while ([DateTime]::UtcNow -lt $deadline) {
        try {
            $r = Invoke-TestPromQuery $Prometheus "count_over_time($Series[1m])"
            if ($r.data.result.Count -gt 0 -and [double]$r.data.result[0].value[1] -ge 3) { return $true }
        }
        catch { }
        Start-Sleep -Milliseconds 500
    }
    $false
}

function Stop-TestPrometheus {
    <# Ends the processes Start-TestPrometheus started (by id). #>
    param($Prometheus)
    foreach ($p in @($Prometheus.Procs)) {
        if ($p -and -not $p.HasExited) { $p.Kill($true); $p.WaitForExit(10000) | Out-Null }
    }
}

function Get-DashboardQuery {
    <#
    The dashboard's panel expressions with its variables replaced for a direct query: [pscustomobject]{ Panel; Expr; Range }
    ($environment → .*, intervals → fixed values). -Title picks panels by wildcard.
    #>
    param([Parameter(Mandatory)] [string] $Path, [string] $Title = '*')
    $dashboard = Get-Content -Raw $Path | ConvertFrom-Json
    foreach ($panel in $dashboard.panels | Where-Object title -like $Title) {
        foreach ($t in $panel.targets) {
            [pscustomobject]@{
                Panel = $panel.title
                Source = $t.expr
                Expr  = $t.expr.Replace('$environment', '.*').Replace('$__rate_interval', '1m').Replace('$__interval', '15s').Replace('$__range', '1h')
                Range = -not ($t.PSObject.Properties.Name -contains 'instant' -and $t.instant)
            }
        }
    }
}

# Why a lab test file cannot run on this machine, or $null (and then it runs): Linux, root, optionally a namespace that
# can really be made, the programs it names (a command name or an absolute path) and the lab's npm modules it names.
# Used in BeforeDiscovery so that a file's lab Describe blocks are skipped with the reason, never half-run.
function Get-LabSkipReason {
    param([Parameter(Mandatory)] [string] $Suite, [string[]] $Tool = @(), [string[]] $NodeModule = @(), [switch] $ProbeNamespace)
    $reason = $null
    if (-not $IsLinux) { $reason = 'the lab needs Linux network namespaces' }
    elseif ((& id -u) -ne '0') { $reason = 'the lab needs root to create a network namespace (ip netns add); run the tests as root' }
    if (-not $reason -and $ProbeNamespace) {
        $probe = 'pvelab-probe-' + (Get-Random -Maximum 99999)
        $null = & ip netns add $probe 2>&1
        if ($LASTEXITCODE) { $reason = 'ip netns add failed here; the lab cannot make its namespace' }
        else { $null = & ip netns delete $probe 2>&1 }
    }
    foreach ($t in $Tool) {
        if ($reason) { break }
        if ($t -eq '/usr/sbin/sshd') { if (-not (Test-Path $t)) { $reason = 'openssh-server is not installed (tools/install-prerequisites.sh)' } }
        elseif (-not (Get-Command $t -CommandType Application -ErrorAction Ignore)) { $reason = "$t is not installed (tools/install-prerequisites.sh)" }
    }
    foreach ($m in $NodeModule) {
        if (-not $reason -and -not (Test-Path (Join-Path $PSScriptRoot "../Lab/node_modules/$m"))) { $reason = "$m is not installed (tools/install-prerequisites.sh runs npm ci in tests/Lab)" }
    }
    if ($reason) { Write-Warning "$Suite skipped: $reason" }
    $reason
}

# The reset proxy (reset-proxy.js, loopback only): resets the first -Resets connections, holds the next -Mute open
# without a word, forwards later ones to -To (each -DelayMs late; with -Pair two at a time, the first held until the
# second comes); its port, and its connection count on request. Needs node.
function Start-ResetProxy {
    param([int] $Resets, [int] $To = 0, [int] $Mute = 0, [int] $DelayMs = 0, [switch] $Pair)
    $psi = [Diagnostics.ProcessStartInfo]::new('node')
    foreach ($a in @((Join-Path $PSScriptRoot 'reset-proxy.js'), '--reset', "$Resets", '--mute', "$Mute", '--delay', "$DelayMs", '--to', "$To")) { $psi.ArgumentList.Add($a) }
    if ($Pair) { $psi.ArgumentList.Add('--pair') }
    $psi.RedirectStandardInput = $true; $psi.RedirectStandardOutput = $true; $psi.UseShellExecute = $false
    $proc = [Diagnostics.Process]::Start($psi)
    $line = $proc.StandardOutput.ReadLineAsync()
    if (-not $line.Wait(10000)) { $proc.Kill(); throw 'reset-proxy did not start within 10 s' }
    [pscustomobject]@{ Process = $proc; Port = [int]($line.Result | ConvertFrom-Json).port }
}
function Get-ResetProxyCount {
    param($Proxy)
    $Proxy.Process.StandardInput.WriteLine('count'); $Proxy.Process.StandardInput.Flush()
    $line = $Proxy.Process.StandardOutput.ReadLineAsync()
    if (-not $line.Wait(5000)) { throw 'reset-proxy did not answer count within 5 s' }
    [int]($line.Result | ConvertFrom-Json).connections
}
function Stop-ResetProxy {
    param($Proxy)
    if (-not $Proxy) { return }
    $Proxy.Process.StandardInput.Close()
    if (-not $Proxy.Process.WaitForExit(5000)) { $Proxy.Process.Kill() }
}

Export-ModuleMember -Function Get-LabSkipReason, Start-ResetProxy, Get-ResetProxyCount, Stop-ResetProxy, Start-TestPrometheus, Invoke-TestPromQuery, Wait-TestPrometheus, Stop-TestPrometheus, Get-DashboardQuery, Invoke-Program, Get-PwshCommand, Get-PveHealthModulePath, Invoke-FreshPwsh, New-TestConfig
