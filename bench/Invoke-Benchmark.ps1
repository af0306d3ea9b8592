#requires -Version 7.4
<#
.SYNOPSIS
    The PveHealth benchmark at scale: PveHealth against the shell loop an administrator would otherwise write.
.DESCRIPTION
    For each guest count it starts the local lab (tests/Lab, root: a network namespace with one sshd serving every
    guest address, an nftables drop set for the stopped guests, the Proxmox API simulator), stops
    -StoppedPercent of the guests (their addresses are black-holed, so ping and SSH time out), and then runs,
    -Repeat times in alternating order:
      - PveHealth: Invoke-PveHealthCheck -All (every guest check the module has) in a child pwsh in the
        namespace, default throttle;
      - PveHealth with -ThrottleLimit 1 (only up to -SerialMaxGuests guests);
      - the shell baseline: bench/shell-guest.sh per guest (ping -c1 -W2, one ssh command, one curl to the
        Proxmox status endpoint) through xargs -P 64.
    It measures wall time, the checker's CPU (user+sys of the checker process tree from /usr/bin/time -v), its
    peak RSS, the lab sshd's CPU (the listener's own and its reaped children's, from /proc/<pid>/stat), the
    simulator's CPU, the Proxmox API requests the simulator counted during the run (reset before each run; total and
    by endpoint), and per-check p50/p95 of the CheckResult durations; then the module import time in a fresh pwsh.
    With -RecoveryVariant each size without packet loss also runs PveHealth without the recovery groups
    (-Exclude Storage, Backups, Replication, Snapshots), alternating with the -All runs, and RESULTS.md compares the
    two (the issue-15 target: with them within 10 % of without). Writes bench/RESULTS.md (or -ResultsPath) and the raw figures as JSON next to it (-JsonPath).
    Network rule: every packet stays in the lab's own namespace. Needs root.
.EXAMPLE
    dotnet pwsh ./bench/Invoke-Benchmark.ps1 -ModulePath ./out/PveHealth
.EXAMPLE
    dotnet pwsh ./bench/Invoke-Benchmark.ps1 -ModulePath ./out/PveHealth -GuestCount 10 -Repeat 1 -SkipImport -ResultsPath /tmp/r.md
.EXAMPLE
    dotnet pwsh ./bench/Invoke-Benchmark.ps1 -ModulePath ./out/PveHealth -GuestCount 1000 -RecoveryVariant -SkipSerial -SkipImport
.EXAMPLE
    dotnet pwsh -NoProfile -c '& ./bench/Invoke-Benchmark.ps1 -ModulePath ./out/PveHealth -GuestCount 1000 -Repeat 5 -ShellRepeat 2 -LossPercent 0,2 -RecoveryVariant'

    Lists (-GuestCount 100,1000, -LossPercent 0,2) need -c as here: with pwsh -File (the form above) "0,2" arrives as
    one string and is read as the number 2, so only the 2 % variant would run.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [ValidateRange(1, 5000)] [int[]] $GuestCount = @(100, 1000),
    [ValidateRange(1, 9)] [int] $Repeat = 3,
    [ValidateRange(0, 50)] [double] $StoppedPercent = 10,
    [ValidateRange(0.5, 30)] [double] $TimeoutSec = 2,
    # Loss variants: for each value above 0 the lab also drops that percentage of every guest's packets at random
    # (nftables numgen random, both directions: to and from the guest addresses), e.g. -LossPercent 0, 2.
    [ValidateRange(0, 20)] [double[]] $LossPercent = @(0),
    # PveHealth -ThrottleLimit 1 runs only for guest counts up to this.
    [int] $SerialMaxGuests = 100,
    # Repetitions of the -ThrottleLimit 1 run (0: as -Repeat). With 0, a first serial run longer than
    # -SerialBudgetSec is not repeated (the 15-minute budget of the whole benchmark) and RESULTS.md says so.
    [int] $SerialRepeat = 0,
    [int] $SerialBudgetSec = 90,
    [ValidateRange(1, 512)] [int] $ShellParallel = 64,
    # CPU niceness of the lab's sshd (Start-PveLab -SshdNice); 0 keeps it level with the checkers.
    [ValidateRange(0, 19)] [int] $SshdNice = 0,
    # Repetitions of the shell baseline (0: as -Repeat). The shell loop is the slow reference (about a minute at
    # 1,000 guests); its wall time varies little, so one or two runs bound it while PveHealth repeats -Repeat times.
    [ValidateRange(0, 9)] [int] $ShellRepeat = 0,
    [switch] $SkipShell,
    [switch] $SkipSerial,
    [switch] $SkipImport,
    # Also run PveHealth without the recovery groups (Storage, Backups, Replication, Snapshots) at each size without
    # packet loss, alternating with the -All runs, and compare the two in RESULTS.md.
    [switch] $RecoveryVariant,
    [ValidateRange(1, 15)] [int] $ImportRepeat = 5,
    [string] $ResultsPath = (Join-Path $PSScriptRoot 'RESULTS.md'),
    [string] $JsonPath,
    # Upper bound of each measured child process (it is killed after this).
    [int] $RunTimeoutSec = 600
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$repo = Split-Path $PSScriptRoot
$ModulePath = (Resolve-Path $ModulePath).Path
if (-not $JsonPath) { $JsonPath = [IO.Path]::ChangeExtension($ResultsPath, '.json') }
if (-not $IsLinux -or (& id -u) -ne '0') { throw 'The benchmark needs root on Linux: the lab makes a network namespace and an nftables drop set (nothing leaves it).' }
if (-not (Test-Path /usr/bin/time)) { throw 'The benchmark needs /usr/bin/time (apt-get install time) to measure the checker process tree.' }
Import-Module (Join-Path $repo 'tests/Lab/PveLab.psm1') -Force
$inv = [cultureinfo]::InvariantCulture
$clockTicks = [double](& getconf CLK_TCK)
$cores = [Environment]::ProcessorCount
$budget = [Diagnostics.Stopwatch]::StartNew()
$script:RunLoads = [System.Collections.Generic.List[double]]::new()
# The recovery groups of issue 15 (the groups of src/PveHealth.Engine/Checks/Recovery), left out by -RecoveryVariant.
$RecoveryGroups = @('Storage', 'Backups', 'Replication', 'Snapshots')

function Get-PwshCommand {
    $self = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') { return @($self, (Join-Path $PSHOME 'pwsh.dll')) }
    @($self)
}

function Get-ProcCpu {
    <# CPU seconds of a process: own (utime+stime) and own plus reaped children (cutime+cstime). #>
    param([int] $ProcessId)
    $s = [IO.File]::ReadAllText("/proc/$ProcessId/stat")
    $f = $s.Substring($s.LastIndexOf(')') + 2).Split(' ')
    # after ')': state(3) ... utime(14) stime(15) cutime(16) cstime(17) -> indices 11..14
    $own = ([double]$f[11] + [double]$f[12]) / $clockTicks
    [pscustomobject]@{ Own = $own; Tree = $own + ([double]$f[13] + [double]$f[14]) / $clockTicks }
}

function Read-TimeV {
    <# User, system and max RSS from a /usr/bin/time -v report. #>
    param([string] $Path)
    $t = Get-Content -Raw $Path
    $get = { param($label) if ($t -match "$([regex]::Escape($label)):\s*([\d.]+)") { [double]::Parse($Matches[1], $inv) } else { 0 } }
    [pscustomobject]@{ User = & $get 'User time (seconds)'; Sys = & $get 'System time (seconds)'; MaxRssKb = & $get 'Maximum resident set size (kbytes)' }
}

function Invoke-Measured {
    <#
    Runs a command inside the lab's namespace under /usr/bin/time -v (bounded by timeout), with the lab's sshd and
    simulator CPU read before and after. Returns wall seconds, checker CPU and RSS, server CPU.
    #>
    param($Lab, [string] $Name, [string[]] $Command, [hashtable] $Environment = @{}, [string] $StdIn = '/dev/null')
    $work = Join-Path $Lab.Root 'bench'
    $tag = "$Name-" + [guid]::NewGuid().ToString('n').Substring(0, 6)
    $timeFile = Join-Path $work "$tag.time"; $log = Join-Path $work "$tag.log"
    $full = @('timeout', '-k', '5', "$RunTimeoutSec", 'ip', 'netns', 'exec', $Lab.Namespace, '/usr/bin/time', '-v', '-o', $timeFile) + $Command
    foreach ($k in $Environment.Keys) { [Environment]::SetEnvironmentVariable($k, $Environment[$k]) }
    $load = [double]::Parse((Get-Content /proc/loadavg).Split(' ')[0], $inv)
    $script:RunLoads.Add($load)
    Reset-PveLabRequestCount $Lab
    $sshd0 = Get-ProcCpu $Lab.Processes['sshd']; $sim0 = Get-ProcCpu $Lab.Processes['proxmox']
    $sw = [Diagnostics.Stopwatch]::StartNew()
    try {
        $null = & /bin/sh -c 'i=$1; shift; exec "$@" >"$0" 2>&1 <"$i"' $log $StdIn @full
        $code = $LASTEXITCODE
    }
    finally { foreach ($k in $Environment.Keys) { [Environment]::SetEnvironmentVariable($k, $null) } }
    $wall = $sw.Elapsed.TotalSeconds
    Start-Sleep -Milliseconds 500   # sshd reaps the last connections' processes
    $sshd1 = Get-ProcCpu $Lab.Processes['sshd']; $sim1 = Get-ProcCpu $Lab.Processes['proxmox']
    $requests = Get-PveLabRequestCount $Lab
    if ($code -ne 0 -and $Name -notlike 'shell*') { throw "bench: $Name exited with code ${code}: $((Get-Content -Raw $log -ErrorAction SilentlyContinue))" }
    $tv = Read-TimeV $timeFile
    [pscustomobject]@{
        Name = $Name; Wall = $wall; ExitCode = $code; Log = $log; LoadAtStart = $load
        CheckerCpu = $tv.User + $tv.Sys; CheckerUser = $tv.User; CheckerSys = $tv.Sys; RssMb = $tv.MaxRssKb / 1024
        SshdCpu = $sshd1.Tree - $sshd0.Tree; SimulatorCpu = $sim1.Own - $sim0.Own
        ApiRequests = [int](($requests.Values | Measure-Object -Sum).Sum); Requests = $requests
    }
}

function Get-RequestPattern {
    <# A counted request ("GET /nodes/pve1/qemu/101/snapshot") as its endpoint ("GET /nodes/{node}/{type}/{vmid}/snapshot"). #>
    param([string] $Key)
    $Key -replace '/nodes/[^/?]+', '/nodes/{node}' -replace '/(qemu|lxc)/\d+', '/{type}/{vmid}' -replace '/storage/[^/?]+/content', '/storage/{storage}/content' -replace '/tasks/UPID:[^/?]+', '/tasks/{upid}' -replace '=\d{6,}', '={time}'
}

function Get-RequestBreakdown {
    <# Requests of one run by endpoint: Endpoint, Requests, Paths (distinct paths counted). #>
    param($Requests)
    @($Requests.GetEnumerator() | Group-Object { Get-RequestPattern $_.Key } | Sort-Object Name | ForEach-Object {
        [pscustomobject]@{ Endpoint = $_.Name; Requests = [int](($_.Group | ForEach-Object Value | Measure-Object -Sum).Sum); Paths = $_.Count }
    })
}

function Invoke-PveHealthRun {
    param($Lab, [string] $ConfigPath, [int] $ThrottleLimit, [string] $Component, [string[]] $Exclude)
    $name = if ($ThrottleLimit -gt 0) { "pvehealth-t$ThrottleLimit" } elseif ($Exclude) { 'pvehealth-norecovery' } else { 'pvehealth' }
    $json = Join-Path $Lab.Root "bench/$name-$([guid]::NewGuid().ToString('n').Substring(0, 6)).json"
    $cmd = @(Get-PwshCommand) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Checker.ps1'),
        '-ModulePath', $ModulePath, '-ConfigPath', $ConfigPath, '-OutFile', $json, '-TimeoutSec', $TimeoutSec.ToString($inv), '-ThrottleLimit', "$ThrottleLimit")
    if ($Component) { $cmd += @('-Component', $Component) }
    if ($Exclude) { $cmd += @('-Exclude', ($Exclude -join ',')) }
    $m = Invoke-Measured -Lab $Lab -Name $name -Command $cmd
    $data = Get-Content -Raw $json | ConvertFrom-Json
    $m | Add-Member -NotePropertyMembers @{ Run = $data.runSeconds; RunCpu = $data.runCpuSeconds; Import = $data.importSeconds; Results = @($data.results); Concurrency = "$($data.concurrency)"; WrongList = @(Get-WrongVerdicts -Lab $Lab -Results @($data.results)) }
    $m | Add-Member -NotePropertyName Wrong -NotePropertyValue $m.WrongList.Count
    if ($m.Wrong) { Write-Host "bench:   wrong: $(($m.WrongList | Select-Object -First 8) -join '; ')" }
    $recoveryWrong = @(if (-not $Exclude) { Get-WrongRecoveryVerdicts -Lab $Lab -Results $m.Results })
    $m | Add-Member -NotePropertyName RecoveryWrong -NotePropertyValue $recoveryWrong.Count
    $m | Add-Member -NotePropertyName RecoveryWrongList -NotePropertyValue @($recoveryWrong | Select-Object -First 50)
    if ($recoveryWrong.Count) { Write-Host "bench:   wrong recovery rows: $(($recoveryWrong | Select-Object -First 8) -join '; ')" }
    $m
}

function Get-ShortDetail {
    <# A result's detail for the wrong-verdict lists: one line, at most 160 characters. #>
    param([string] $Detail)
    $d = ($Detail -replace '\s+', ' ').Trim()
    if ($d.Length -gt 160) { $d.Substring(0, 157) + '...' } else { $d }
}

function Get-WrongVerdicts {
    <# Ping, Ssh, Docker, ApiStatus and GuestAgent results that contradict the lab's truth (a healthy guest reported failing, or the reverse). #>
    param($Lab, [object[]] $Results)
    $truth = @{}
    foreach ($g in $Lab.Guests) {
        $up = $g.Status -eq 'running'
        $truth["$($g.Name)/Ping"] = $up
        $truth["$($g.Name)/Ssh"] = $up -and $g.Ssh -eq 'open'
        $truth["$($g.Name)/Docker"] = $up -and $g.Ssh -eq 'open' -and $g.Docker -eq 'active'
        $truth["$($g.Name)/ApiStatus"] = $up
        $truth["$($g.Name)/GuestAgent"] = $up -and $g.Type -eq 'qemu' -and $g.Agent -eq 'up'
    }
    # Ok and Warning both mean "it works" (pve_health_check_success 1, no page): a Ping Warning for packet loss the
    # lab really injected is a true verdict; Critical/Unknown for a healthy guest, or Ok/Warning for a down one, are wrong.
    @($Results | Where-Object { $truth.ContainsKey("$($_.component)/$($_.check)") -and (($_.status -in 'Ok', 'Warning') -ne $truth["$($_.component)/$($_.check)"]) } |
        ForEach-Object { "$($_.component)/$($_.check) $($_.status) $([math]::Round($_.ms)) ms: $(Get-ShortDetail $_.detail)" })
}

function Get-WrongRecoveryVerdicts {
    <#
    Recovery rows that contradict the lab: every filler guest (guest-NNNN; the six scripted guests carry the scripted
    faults) is in the enabled daily job, has a 20 h old PBS backup and no snapshot, so its Coverage, BackupAge and
    Snapshot rows must be Ok; anything else (a timeout, a missing row) is wrong. Empty when the run had no recovery rows.
    #>
    param($Lab, [object[]] $Results)
    $checks = 'Coverage', 'BackupAge', 'Snapshot'
    $rows = @($Results | Where-Object { $_.check -in $checks })
    if (-not $rows.Count) { return }
    $seen = @{}
    foreach ($r in $rows) { $seen["$($r.component)/$($r.check)"] = $r }
    foreach ($g in $Lab.Guests | Where-Object Name -like 'guest-*') {
        foreach ($c in $checks) {
            $r = $seen["$($g.Name)/$c"]
            if (-not $r) { "$($g.Name)/$c no row" }
            elseif ($r.status -ne 'Ok') { "$($g.Name)/$c $($r.status): $(Get-ShortDetail $r.detail)" }
        }
    }
}

function Invoke-ShellRun {
    param($Lab, [string] $GuestList, [hashtable] $ShellEnv)
    $cmd = @('xargs', '-P', "$ShellParallel", '-L', '1', (Join-Path $PSScriptRoot 'shell-guest.sh'))
    $m = Invoke-Measured -Lab $Lab -Name 'shell' -Command $cmd -Environment $ShellEnv -StdIn $GuestList
    $lines = @(Get-Content $m.Log | Where-Object { $_ -match '^\S+ ping=' })
    $byIp = @{}; foreach ($g in $Lab.Guests) { $byIp[$g.Ip] = $g }
    $m | Add-Member -NotePropertyMembers @{
        Run = $m.Wall; Lines = $lines.Count
        PingFailed = @($lines | Where-Object { $_ -notmatch 'ping=0 ' }).Count
        SshFailed = @($lines | Where-Object { $_ -notmatch 'ssh=0 ' }).Count
        Wrong = @($lines | Where-Object {
            $g = $byIp[($_ -split ' ')[0]]
            $pingOk = $_ -match 'ping=0 '; $sshOk = $_ -match 'ssh=0 '
            ($pingOk -ne ($g.Status -eq 'running')) -or ($sshOk -ne ($g.Status -eq 'running' -and $g.Ssh -eq 'open' -and $g.Docker -eq 'active')) -or ($_ -notmatch 'api=200$')
        }).Count
        ApiOk = @($lines | Where-Object { $_ -match 'api=200$' }).Count
    }
    $m
}

function Get-Median { param([double[]] $Values) $v = @($Values | Sort-Object); if (-not $v.Count) { return [double]::NaN }; if ($v.Count % 2) { $v[[math]::Floor($v.Count / 2)] } else { ($v[$v.Count / 2 - 1] + $v[$v.Count / 2]) / 2 } }
function Get-Percentile { param([double[]] $Values, [double] $P) $v = @($Values | Sort-Object); if (-not $v.Count) { return [double]::NaN }; $v[[math]::Max(0, [math]::Ceiling($P / 100 * $v.Count) - 1)] }
function F { param([double] $x, [string] $fmt = '0.00') if ([double]::IsNaN($x)) { 'n/a' } else { $x.ToString($fmt, $inv) } }

function Get-Summary {
    param([object[]] $Runs, [int] $N)
    if (-not $Runs) { return $null }
    [pscustomobject]@{
        Name = $Runs[0].Name; Count = $Runs.Count
        Wall = Get-Median @($Runs.Wall); WallMin = ($Runs.Wall | Measure-Object -Minimum).Minimum; WallMax = ($Runs.Wall | Measure-Object -Maximum).Maximum
        Run = Get-Median @($Runs.Run)
        CheckerCpu = Get-Median @($Runs.CheckerCpu); CpuPerGuestMs = 1000 * (Get-Median @($Runs.CheckerCpu)) / $N
        RunCpuPerGuestMs = if ($Runs[0].PSObject.Properties['RunCpu']) { 1000 * (Get-Median @($Runs.RunCpu)) / $N } else { [double]::NaN }
        RssMb = Get-Median @($Runs.RssMb); RssMaxMb = ($Runs.RssMb | Measure-Object -Maximum).Maximum
        SshdCpu = Get-Median @($Runs.SshdCpu); Floor = (Get-Median @($Runs.SshdCpu)) / $cores
        SimulatorCpu = Get-Median @($Runs.SimulatorCpu)
        # Everything the lab and the checker must compute on the same cores, spread over all of them.
        MachineFloor = (Get-Median @($Runs | ForEach-Object { $_.SshdCpu + $_.SimulatorCpu + $_.CheckerCpu })) / $cores
        Wrong = if ($Runs[0].PSObject.Properties['Wrong']) { ($Runs.Wrong | Measure-Object -Maximum).Maximum } else { [double]::NaN }
        ApiRequests = Get-Median @($Runs.ApiRequests); ApiRequestsMin = ($Runs.ApiRequests | Measure-Object -Minimum).Minimum; ApiRequestsMax = ($Runs.ApiRequests | Measure-Object -Maximum).Maximum
        Results = if ($Runs[0].PSObject.Properties['Results']) { Get-Median @($Runs | ForEach-Object { $_.Results.Count }) } else { [double]::NaN }
    }
}

function Write-LabBenchConfig {
    <# The lab's config with the benchmark's timeouts (-TimeoutSec everywhere, a run deadline that never cuts a run short). #>
    param($Lab)
    $c = Get-Content -Raw $Lab.ConfigPath | ConvertFrom-Json -AsHashtable
    $c.defaults.timeoutSec = $TimeoutSec
    $c.defaults.runTimeoutSec = $RunTimeoutSec
    foreach ($e in $c.environments.Values) {
        $e.timeoutSec = $TimeoutSec
        if ($e.Contains('proxmox')) { $e.proxmox.timeoutSec = $TimeoutSec }
        $e.Remove('monitoring'); $e.Remove('minio')
    }
    $path = Join-Path $Lab.Root 'bench-config.json'
    [IO.File]::WriteAllText($path, ($c | ConvertTo-Json -Depth 10))
    $path
}

# ---------------------------------------------------------------------------------------------------
$machine = [ordered]@{
    Cores = $cores
    Cpu = ((Get-Content /proc/cpuinfo | Where-Object { $_ -match '^model name' } | Select-Object -First 1) -replace '^model name\s*:\s*', '')
    Kernel = (& uname -r)
    Date = [DateTime]::UtcNow.ToString('yyyy-MM-dd HH:mm', $inv) + ' UTC'
    LoadAtStart = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
    Commit = (& git -C $repo rev-parse --short HEAD 2>$null)
    Pwsh = $PSVersionTable.PSVersion.ToString()
}
Write-Host "bench: $($machine.Cores) cores, $($machine.Cpu), load $($machine.LoadAtStart)"
$all = [ordered]@{ Machine = $machine; Sizes = [System.Collections.Generic.List[object]]::new(); Import = $null }

foreach ($n in $GuestCount) {
  foreach ($loss in $LossPercent) {
    $stopped = [int][math]::Round($n * $StoppedPercent / 100)
    $lab = Start-PveLab -GuestCount $n -StoppedCount $stopped -NoStack -StartTimeoutSec 120 -SshdNice $SshdNice
    try {
        if (-not $lab.Namespace) { throw 'bench: the lab has no network namespace.' }
        if ($loss -gt 0) {
            # A random share of every guest's packets dropped in the lab namespace (a busy or flaky network).
            $per10k = [int][math]::Round($loss * 100)
            $lossRules = "table inet pvelabloss {`n    chain input {`n        type filter hook input priority -5; policy accept;`n        ip daddr 127.10.0.0/16 numgen random mod 10000 < $per10k drop`n        ip saddr 127.10.0.0/16 numgen random mod 10000 < $per10k drop`n    }`n}`n"
            $lossFile = Join-Path $lab.Root 'loss.nft'
            [IO.File]::WriteAllText($lossFile, $lossRules)
            $null = Invoke-LabNative -Lab $lab -FilePath 'nft' -ArgumentList @('-f', $lossFile)
        }
        $null = New-Item -ItemType Directory -Force (Join-Path $lab.Root 'bench')
        $config = Write-LabBenchConfig -Lab $lab
        $stoppedCount = @($lab.Guests | Where-Object Status -eq 'stopped').Count
        $guestList = Join-Path $lab.Root 'bench/guests.txt'
        [IO.File]::WriteAllLines($guestList, [string[]]@($lab.Guests | ForEach-Object { "$($_.Ip) $($_.Node) $($_.Type) $($_.VmId)" }))
        $authFile = Join-Path $lab.Root 'bench/auth-header'
        [IO.File]::WriteAllText($authFile, "Authorization: PVEAPIToken=$($lab.TokenId)=$((Get-Content -Raw $lab.TokenSecretFile).Trim())`n")
        [IO.File]::SetUnixFileMode($authFile, [IO.UnixFileMode]'UserRead, UserWrite')
        $shellEnv = @{ BENCH_KEY = $lab.KeyFile; BENCH_KNOWN_HOSTS = $lab.KnownHostsFile; BENCH_USER = $lab.SshUser; BENCH_CERT = $lab.CertPath; BENCH_API = $lab.ProxmoxUrl; BENCH_AUTH_HEADER = $authFile }
        Write-Host "bench: N = $n ($stoppedCount stopped, $loss % random loss), lab up in $($lab.StartupSeconds) s"

        $variants = [System.Collections.Generic.List[string]]::new()
        $variants.Add('pvehealth')
        if (-not $SkipSerial -and $n -le $SerialMaxGuests) { $variants.Add('serial') }
        if (-not $SkipShell) { $variants.Add('shell') }
        if ($RecoveryVariant -and $loss -eq 0) { $variants.Add('norecovery') }
        $serialReps = if ($SerialRepeat -gt 0) { [math]::Min($SerialRepeat, $Repeat) } else { $Repeat }
        $shellReps = if ($ShellRepeat -gt 0) { [math]::Min($ShellRepeat, $Repeat) } else { $Repeat }
        $runs = @{ pvehealth = [System.Collections.Generic.List[object]]::new(); serial = [System.Collections.Generic.List[object]]::new(); shell = [System.Collections.Generic.List[object]]::new(); norecovery = [System.Collections.Generic.List[object]]::new() }
        # A warm-up on the first guests (page cache, the simulator's JIT, sshd's first forks), not measured.
        $null = Invoke-PveHealthRun -Lab $lab -ConfigPath $config -ThrottleLimit 0 -Component 'web-0*'
        for ($r = 1; $r -le $Repeat; $r++) {
            $order = if ($r % 2) { @($variants) } else { @($variants)[($variants.Count - 1)..0] }
            foreach ($v in $order) {
                if ($v -eq 'serial' -and $runs.serial.Count -ge $serialReps) { continue }
                if ($v -eq 'shell' -and $runs.shell.Count -ge $shellReps) { continue }
                if ($v -eq 'serial' -and $SerialRepeat -eq 0 -and $runs.serial.Count -ge 1 -and $runs.serial[0].Wall -gt $SerialBudgetSec) { continue }
                $m = switch ($v) {
                    'pvehealth' { Invoke-PveHealthRun -Lab $lab -ConfigPath $config -ThrottleLimit 0 }
                    'serial' { Invoke-PveHealthRun -Lab $lab -ConfigPath $config -ThrottleLimit 1 }
                    'shell' { Invoke-ShellRun -Lab $lab -GuestList $guestList -ShellEnv $shellEnv }
                    'norecovery' { Invoke-PveHealthRun -Lab $lab -ConfigPath $config -ThrottleLimit 0 -Exclude $RecoveryGroups }
                }
                $runs[$v].Add($m)
                if ($m.PSObject.Properties['Concurrency']) { Write-Host "bench:   $($m.Concurrency)" }
                Write-Host ("bench: N = {0} run {1} {2,-20} wall {3,7} s  checker CPU {4,6} s  sshd CPU {5,6} s  RSS {6,5} MB  API requests {7,5}  wrong verdicts {8}" -f $n, $r, $m.Name, (F $m.Wall), (F $m.CheckerCpu), (F $m.SshdCpu), (F $m.RssMb 0), $m.ApiRequests, $m.Wrong)
            }
        }

        # Per-check durations and statuses (pooled over the default-throttle runs).
        $checks = [System.Collections.Generic.List[object]]::new()
        $pooled = @($runs.pvehealth | ForEach-Object { $_.Results })
        foreach ($g in $pooled | Group-Object check | Sort-Object Name) {
            $ms = @($g.Group | Where-Object status -ne 'Skipped' | ForEach-Object { [double]$_.ms })
            $statuses = ($g.Group | Group-Object status | Sort-Object Name | ForEach-Object { "$($_.Name) $([math]::Round($_.Count / $runs.pvehealth.Count))" }) -join ', '
            $checks.Add([pscustomobject]@{ Check = $g.Name; PerRun = [math]::Round($g.Count / $runs.pvehealth.Count); P50 = Get-Percentile $ms 50; P95 = Get-Percentile $ms 95; Max = ($ms | Measure-Object -Maximum).Maximum; Statuses = $statuses })
        }
        $shellSummary = Get-Summary @($runs.shell) $n
        $size = [ordered]@{
            N = $n; Loss = $loss; Stopped = $stoppedCount; Namespace = $lab.Namespace; LabStartSeconds = $lab.StartupSeconds
            PveHealth = Get-Summary @($runs.pvehealth) $n
            Serial = Get-Summary @($runs.serial) $n
            Shell = $shellSummary
            NoRecovery = Get-Summary @($runs.norecovery) $n
            RequestBreakdown = @(if ($runs.pvehealth.Count) { Get-RequestBreakdown $runs.pvehealth[-1].Requests })
            ShellCounts = if ($runs.shell.Count) { [ordered]@{ Lines = $runs.shell[-1].Lines; PingFailed = $runs.shell[-1].PingFailed; SshFailed = $runs.shell[-1].SshFailed; ApiOk = $runs.shell[-1].ApiOk } } else { $null }
            Checks = $checks
            ResultsPerRun = if ($runs.pvehealth.Count) { $runs.pvehealth[0].Results.Count } else { 0 }
            Raw = [ordered]@{
                pvehealth = @($runs.pvehealth | Select-Object * -ExcludeProperty Results, Log, Requests); serial = @($runs.serial | Select-Object * -ExcludeProperty Results, Log, Requests)
                shell = @($runs.shell | Select-Object * -ExcludeProperty Log, Requests); norecovery = @($runs.norecovery | Select-Object * -ExcludeProperty Results, Log, Requests)
            }
        }
        $all.Sizes.Add($size)
    }
    finally { Stop-PveLab $lab }
  }
}

# ---------------------------------------------------------------------------------------------------
# Module import time: fresh pwsh, median of -ImportRepeat, alternating with a bare pwsh.
if (-not $SkipImport) {
    $pwsh = Get-PwshCommand
    $bare = [System.Collections.Generic.List[double]]::new(); $with = [System.Collections.Generic.List[double]]::new(); $inside = [System.Collections.Generic.List[double]]::new()
    $importScript = "`$s=[Diagnostics.Stopwatch]::StartNew(); Import-Module '$ModulePath'; [Console]::Out.WriteLine(`$s.Elapsed.TotalSeconds.ToString([cultureinfo]::InvariantCulture))"
    $null = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -c '$null'   # warm the page cache
    for ($i = 0; $i -lt $ImportRepeat; $i++) {
        $pair = if ($i % 2) { @('import', 'bare') } else { @('bare', 'import') }
        foreach ($kind in $pair) {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            if ($kind -eq 'bare') {
                $null = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -c '$null'
                $bare.Add($sw.Elapsed.TotalSeconds)
            }
            else {
                $o = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -c $importScript
                $with.Add($sw.Elapsed.TotalSeconds)
                $inside.Add([double]::Parse((@($o)[-1]).Trim(), $inv))
            }
        }
    }
    $all.Import = [ordered]@{ Bare = Get-Median $bare; WithImport = Get-Median $with; Extra = (Get-Median $with) - (Get-Median $bare); Inside = Get-Median $inside; Repeat = $ImportRepeat }
    Write-Host "bench: import $(F $all.Import.Inside '0.000') s inside, pwsh $(F $all.Import.Bare) s bare vs $(F $all.Import.WithImport) s with Import-Module"
}
$machine.LoadAtEnd = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
$machine.BenchSeconds = [math]::Round($budget.Elapsed.TotalSeconds)

# ---------------------------------------------------------------------------------------------------
# RESULTS.md
$md = [System.Collections.Generic.List[string]]::new()
$md.Add('# PveHealth benchmark results')
$md.Add('')
$md.Add("Written by ``bench/Invoke-Benchmark.ps1`` (``build.ps1 -Task Bench``); raw figures in ``$(Split-Path -Leaf $JsonPath)``.")
$md.Add('')
$md.Add("- Machine: $($machine.Cores) cores, $($machine.Cpu), Linux $($machine.Kernel), pwsh $($machine.Pwsh)")
$md.Add("- Date: $($machine.Date), commit $($machine.Commit); the whole benchmark took $($machine.BenchSeconds) s")
$md.Add("- Load average (1/5/15 min) at start: $($machine.LoadAtStart); at end: $($machine.LoadAtEnd); 1-min load at the start of the measured runs: $(F (($script:RunLoads | Measure-Object -Minimum).Minimum)) to $(F (($script:RunLoads | Measure-Object -Maximum).Maximum)) (a lagging average: it includes the previous run's own processes, e.g. the shell baseline's 64 parallel ssh; the other sessions' load is what is left when the benchmark is not running)")
$md.Add("- Setup: lab in its own network namespace (one sshd for every guest address$(if ($SshdNice) { " at nice $SshdNice" }), nftables drops the stopped guests, Proxmox API simulator), $StoppedPercent % of the guests stopped (black-holed: they time out), ``-TimeoutSec $TimeoutSec``, every guest check PveHealth has; wall is the median of each row's runs (the N× in its name; PveHealth $Repeat, the shell baseline $(if ($ShellRepeat -gt 0) { [math]::Min($ShellRepeat, $Repeat) } else { $Repeat })) in alternating order (min-max in brackets), the other figures are medians too.")
$md.Add('- Checker CPU: user+sys of the checker process tree (``/usr/bin/time -v``: the child pwsh including its start-up and Import-Module; the xargs tree with every ping/ssh/curl for the shell); "run only" is the pwsh process CPU during Invoke-PveHealthCheck. sshd CPU: the lab sshd listener and every connection process it reaped (including the forced command a guest runs); floor = sshd CPU / cores; the shared-cores floor adds the CPU of the simulator and of the checker itself (all of them share these cores), so no run on this machine can beat it. Simulator CPU: the Proxmox API simulator process. Wrong verdicts (worst run): Ping/Ssh/Docker/ApiStatus/GuestAgent results that contradict the lab (a healthy guest reported failing, i.e. Critical or Unknown (a page), e.g. timed out, or a down one reported Ok/Warning); for the shell, guests whose ping or ssh exit status is wrong or whose status request did not get HTTP 200. API requests: Proxmox API requests the simulator counted during the run (median; counters reset before each run).')
foreach ($s in $all.Sizes) {
    $md.Add('')
    $md.Add("## N = $($s.N) guests ($($s.Stopped) stopped)$(if ($s.Loss -gt 0) { ", $($s.Loss) % of every guest's packets dropped at random" })")
    $md.Add('')
    $md.Add('| run | wall s | checker CPU s | CPU ms/guest | run-only CPU ms/guest | peak RSS MB | sshd CPU s | sshd floor s | simulator CPU s | wall / shell | wall / floor | shared-cores floor s | wall / shared floor | wrong verdicts | API requests |')
    $md.Add('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    foreach ($pair in @(@('PveHealth (default throttle)', $s.PveHealth), @('PveHealth -ThrottleLimit 1', $s.Serial), @("shell (xargs -P $ShellParallel)", $s.Shell))) {
        $x = $pair[1]
        if (-not $x) { continue }
        $vsShell = if ($s.Shell -and $x -ne $s.Shell) { F ($x.Wall / $s.Shell.Wall) } else { '' }
        $md.Add("| $($pair[0]) ($($x.Count)×) | $(F $x.Wall) ($(F $x.WallMin)-$(F $x.WallMax)) | $(F $x.CheckerCpu) | $(F $x.CpuPerGuestMs 0.0) | $(F $x.RunCpuPerGuestMs 0.0) | $(F $x.RssMb 0) | $(F $x.SshdCpu) | $(F $x.Floor) | $(F $x.SimulatorCpu) | $vsShell | $(F ($x.Wall / [math]::Max(0.001, $x.Floor))) | $(F $x.MachineFloor) | $(F ($x.Wall / [math]::Max(0.001, $x.MachineFloor))) | $(F $x.Wrong 0) | $(F $x.ApiRequests 0) |")
    }
    $md.Add('')
    $md.Add("Wrong verdicts in each run: PveHealth $(@($s.Raw.pvehealth | ForEach-Object { $_.Wrong }) -join ', ')$(if ($s.Raw.shell.Count) { "; shell $(@($s.Raw.shell | ForEach-Object { $_.Wrong }) -join ', ')" }).")
    if ($s.Raw.pvehealth.Count) {
        $md.Add('')
        $md.Add("Recovery rows that contradict the lab in each run (every filler guest's Coverage, BackupAge and Snapshot must be Ok; a timeout or a missing row is wrong): $(@($s.Raw.pvehealth | ForEach-Object { $_.RecoveryWrong }) -join ', ').")
    }
    if ($s.Serial -and $s.Serial.Count -lt $Repeat) {
        $md.Add('')
        $md.Add("The -ThrottleLimit 1 run ran $($s.Serial.Count)× only: its first run took $(F $s.Serial.WallMax) s, over the $SerialBudgetSec s allowed for repeating it (the whole benchmark must stay under 15 minutes).")
    }
    $md.Add('')
    $md.Add("Per check (PveHealth, default throttle, $($s.ResultsPerRun) results a run, durations pooled over its runs):")
    $md.Add('')
    $md.Add('| check | per run | p50 ms | p95 ms | max ms | statuses a run |')
    $md.Add('|---|---|---|---|---|---|')
    foreach ($c in $s.Checks) { $md.Add("| $($c.Check) | $($c.PerRun) | $(F $c.P50 0) | $(F $c.P95 0) | $(F $c.Max 0) | $($c.Statuses) |") }
    if (@($s.RequestBreakdown).Count) {
        $md.Add('')
        $md.Add("Proxmox API requests of a PveHealth run (default throttle, last run: $(($s.RequestBreakdown | Measure-Object Requests -Sum).Sum) requests; ``{node}``, ``{vmid}`` ... stand for the values; a count equal to the guests' grows with them):")
        $md.Add('')
        $md.Add('| endpoint | requests | distinct paths |')
        $md.Add('|---|---|---|')
        foreach ($b in $s.RequestBreakdown) { $md.Add("| ``$($b.Endpoint)`` | $($b.Requests) | $($b.Paths) |") }
    }
    if ($s.NoRecovery -and $s.PveHealth) {
        $with = $s.PveHealth; $without = $s.NoRecovery
        $md.Add('')
        $md.Add("Recovery groups ($($RecoveryGroups -join ', ')): the default-throttle run with them (``-All``) and without (``-All -Exclude $($RecoveryGroups -join ', ')``), alternating:")
        $md.Add('')
        $md.Add('| run | wall s | in Invoke-PveHealthCheck s | checker CPU s | API requests | results a run |')
        $md.Add('|---|---|---|---|---|---|')
        foreach ($pair in @(@('with recovery groups', $with), @('without', $without))) {
            $x = $pair[1]
            $md.Add("| $($pair[0]) ($($x.Count)×) | $(F $x.Wall) ($(F $x.WallMin)-$(F $x.WallMax)) | $(F $x.Run) | $(F $x.CheckerCpu) | $(F $x.ApiRequests 0) | $(F $x.Results 0) |")
        }
        $md.Add('')
        $md.Add("With / without: wall $(F ($with.Wall / $without.Wall)) ×, in Invoke-PveHealthCheck $(F ($with.Run / [math]::Max(0.001, $without.Run))) ×, checker CPU $(F ($with.CheckerCpu / [math]::Max(0.001, $without.CheckerCpu))) ×. Within 10 % (median wall): $(if ($with.Wall -le 1.1 * $without.Wall) { 'met' } else { 'MISSED' }).")
    }
    if ($s.ShellCounts) {
        $md.Add('')
        $md.Add("Shell baseline answers (last run): $($s.ShellCounts.Lines) guests, ping failed $($s.ShellCounts.PingFailed), ssh command not 0 (includes Docker inactive and SSH refused) $($s.ShellCounts.SshFailed), API 200 $($s.ShellCounts.ApiOk).")
    }
    if ($s.PveHealth) {
        $md.Add('')
        $md.Add("Stopped guests: $($s.Stopped) × 2 units (Ping, Ssh) × $TimeoutSec s = $(F ($s.Stopped * 2 * $TimeoutSec) 0) s of timeouts if waited for one after another; the default-throttle run took $(F $s.PveHealth.Run) s in Invoke-PveHealthCheck.")
    }
}
$big = $all.Sizes | Sort-Object N | Select-Object -Last 1
if ($big -and $big.PveHealth) {
    $p = $big.PveHealth
    $mark = { param([bool] $ok) if ($ok) { 'met' } else { 'MISSED' } }
    $md.Add('')
    $md.Add("## Targets at N = $($big.N)")
    $md.Add('')
    $md.Add('| target | measured | |')
    $md.Add('|---|---|---|')
    if ($big.Shell) { $md.Add("| wall ≤ 0.7 × shell | $(F ($p.Wall / $big.Shell.Wall)) × | $(& $mark ($p.Wall -le 0.7 * $big.Shell.Wall)) |") }
    $md.Add("| wall ≤ 1.15 × sshd floor | $(F ($p.Wall / [math]::Max(0.001, $p.Floor))) × | $(& $mark ($p.Wall -le 1.15 * $p.Floor)) |")
    $md.Add("| checker CPU ≤ 15 ms per guest | $(F $p.CpuPerGuestMs 0.0) ms | $(& $mark ($p.CpuPerGuestMs -le 15)) |")
    $md.Add("| peak RSS ≤ 300 MB | $(F $p.RssMaxMb 0) MB (largest run) | $(& $mark ($p.RssMaxMb -le 300)) |")
    $md.Add("| stopped guests cost one timeout in parallel | $($big.Stopped) stopped × 2 units × $TimeoutSec s = $(F ($big.Stopped * 2 * $TimeoutSec) 0) s in series; whole run $(F $p.Run) s | $(& $mark ($p.Run -lt $big.Stopped * 2 * $TimeoutSec / 4)) |")
    $md.Add("| every verdict true | $(F $p.Wrong 0) wrong guest verdicts (worst run) | $(& $mark ($p.Wrong -eq 0)) |")
    $bigRecovery = $all.Sizes | Where-Object { $_.N -eq $big.N -and $_.NoRecovery -and $_.PveHealth } | Select-Object -First 1
    if ($bigRecovery) {
        $md.Add("| with recovery groups ≤ 1.10 × without (median wall) | $(F ($bigRecovery.PveHealth.Wall / $bigRecovery.NoRecovery.Wall)) × ($(F $bigRecovery.PveHealth.Wall) s / $(F $bigRecovery.NoRecovery.Wall) s) | $(& $mark ($bigRecovery.PveHealth.Wall -le 1.1 * $bigRecovery.NoRecovery.Wall)) |")
    }
}
if ($all.Import) {
    $md.Add('')
    $md.Add("## Module import (fresh pwsh, median of $($all.Import.Repeat))")
    $md.Add('')
    $md.Add('| Import-Module inside the child s | pwsh -c ''$null'' s | pwsh -c ''Import-Module ...'' s | extra wall s |')
    $md.Add('|---|---|---|---|')
    $md.Add("| $(F $all.Import.Inside '0.000') | $(F $all.Import.Bare) | $(F $all.Import.WithImport) | $(F $all.Import.Extra) |")
    $md.Add('')
    $md.Add("Target: ≤ 0.5 s beyond pwsh's own start: $(if ($all.Import.Extra -le 0.5) { 'met' } else { 'MISSED' }).")
}
$dir = Split-Path $ResultsPath
if ($dir -and -not (Test-Path $dir)) { $null = New-Item -ItemType Directory -Force $dir }
[IO.File]::WriteAllText($ResultsPath, ($md -join "`n") + "`n")
[IO.File]::WriteAllText($JsonPath, ($all | ConvertTo-Json -Depth 8))
Write-Host "bench: wrote $ResultsPath and $JsonPath in $($machine.BenchSeconds) s"
