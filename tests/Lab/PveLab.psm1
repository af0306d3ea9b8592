# PveLab: the local lab of PveHealth (test support; not part of the PveHealth module).
#
# Start-PveLab creates a network namespace (pvelab-<random>), brings up lo, and runs every lab process in it:
# one OpenSSH sshd serving every guest address (127.10.x.y), the Proxmox API simulator over HTTPS, and an
# nftables table that drops the addresses of stopped guests (ping and SSH time out, as with a stopped VM)
# and resets SSH connections of the guest that refuses SSH. It writes a PveHealth config (config.json),
# a recorded `terraform output -json` and the key material into a private temp folder.
# Stop-PveLab kills every recorded process, deletes the namespace and removes the folder.
# Network rule: traffic goes only to loopback inside the lab's own namespace. Without root the lab runs
# on 127.0.0.1 of the host only (every guest at 127.0.0.1, no stopped-guest emulation) and says so.

Set-StrictMode -Version 3.0

$script:LabSource = $PSScriptRoot
$script:RepoRoot = Split-Path (Split-Path $PSScriptRoot)
$script:ActiveLabs = [System.Collections.Generic.List[object]]::new()
$script:Keepers = @{}   # lab root -> the stack keeper's Process (not on the lab object: that is serialized for Invoke-InPveLab)
$script:DockerCommand = 'systemctl is-active docker'
# The monitoring stack and MinIO side listen here (inside the namespace; apart from the guests' 127.10.x.y and
# the simulator's 127.0.0.1, so no port can collide).
$script:StackAddress = '127.20.0.1'

# ---------------------------------------------------------------------------------------------------
# Guests

function Get-PveLabGuestPlan {
    <# The deterministic guest list: the first six carry the scripted failures; more are healthy fillers. #>
    param([int] $GuestCount = 6, [int] $StoppedCount = 0)
    $scripted = @(
        @{ Name = 'web-01';   Type = 'qemu'; Node = 'pve1'; Status = 'running'; Agent = 'up';   Docker = 'active';   Ssh = 'open';    Tags = @('web', 'prod') }
        @{ Name = 'web-02';   Type = 'qemu'; Node = 'pve2'; Status = 'running'; Agent = 'down'; Docker = 'active';   Ssh = 'open';    Tags = @('web') }
        @{ Name = 'db-01';    Type = 'qemu'; Node = 'pve1'; Status = 'stopped'; Agent = 'up';   Docker = 'active';   Ssh = 'open';    Tags = @('db') }
        @{ Name = 'app-01';   Type = 'lxc';  Node = 'pve2'; Status = 'running'; Agent = 'none'; Docker = 'inactive'; Ssh = 'open';    Tags = @('app') }
        @{ Name = 'cache-01'; Type = 'lxc';  Node = 'pve1'; Status = 'running'; Agent = 'none'; Docker = 'active';   Ssh = 'refused'; Tags = @() }
        @{ Name = 'ci-01';    Type = 'qemu'; Node = 'pve2'; Status = 'running'; Agent = 'none'; Docker = 'active';   Ssh = 'open';    Tags = @('ci') }
    )
    $guests = [System.Collections.Generic.List[object]]::new()
    for ($i = 0; $i -lt $GuestCount; $i++) {
        $spec = if ($i -lt $scripted.Count) { $scripted[$i].Clone() } else {
            $lxc = ($i % 2) -eq 1
            @{ Name = ('guest-{0:d4}' -f ($i + 1)); Type = $(if ($lxc) { 'lxc' } else { 'qemu' }); Node = $(if ($i % 2) { 'pve2' } else { 'pve1' })
               Status = 'running'; Agent = $(if ($lxc) { 'none' } else { 'up' }); Docker = 'active'; Ssh = 'open'; Tags = @('filler') }
        }
        $spec.VmId = 101 + $i
        $spec.OnBoot = $true
        $spec.Ip = '127.10.{0}.{1}' -f [math]::Floor($i / 250), (($i % 250) + 1)
        $guests.Add([pscustomobject]$spec)
    }
    # -StoppedCount (the benchmark): stop filler guests, spread evenly, until that many guests are stopped.
    $extra = $StoppedCount - @($guests | Where-Object Status -eq 'stopped').Count
    $fillers = @($guests | Select-Object -Skip $scripted.Count)
    if ($extra -gt 0 -and $fillers.Count -gt 0) {
        $extra = [math]::Min($extra, $fillers.Count)
        for ($k = 0; $k -lt $extra; $k++) { $fillers[[math]::Floor($k * $fillers.Count / $extra)].Status = 'stopped' }
    }
    $guests
}

# ---------------------------------------------------------------------------------------------------
# Process helpers

function Invoke-LabNative {
    <# Runs a program (inside the namespace when the lab has one) and returns its output; throws on a non-zero exit unless -AllowFailure. #>
    param([Parameter(Mandatory)] $Lab, [Parameter(Mandatory)] [string] $FilePath, [string[]] $ArgumentList = @(), [switch] $AllowFailure, [string] $InputText)
    $cmd = if ($Lab.Namespace) { @('ip', 'netns', 'exec', $Lab.Namespace, $FilePath) + $ArgumentList } else { @($FilePath) + $ArgumentList }
    $out = if ($PSBoundParameters.ContainsKey('InputText')) { $InputText | & $cmd[0] @($cmd | Select-Object -Skip 1) 2>&1 } else { & $cmd[0] @($cmd | Select-Object -Skip 1) 2>&1 }
    $code = $LASTEXITCODE
    if ($code -and -not $AllowFailure) { throw "lab: '$($cmd -join ' ')' failed with exit code ${code}: $(($out | Out-String).Trim())" }
    $out | ForEach-Object { "$_" }
}

function Start-LabProcess {
    <# Starts a long-running lab process (in the namespace), output to a log file; records its PID on the lab. #>
    param([Parameter(Mandatory)] $Lab, [Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string[]] $Command)
    $log = Join-Path $Lab.Root "logs/$Name.log"
    $full = if ($Lab.Namespace) { @('ip', 'netns', 'exec', $Lab.Namespace) + $Command } else { $Command }
    # sh execs the command, and `ip netns exec` execs it too: the PID we get is the service's own.
    $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
    foreach ($a in @('-c', 'exec "$@" >>"$0" 2>&1 </dev/null', $log) + $full) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $p = [System.Diagnostics.Process]::Start($psi)
    $Lab.Pids.Add($p.Id)
    $Lab.Processes[$Name] = $p.Id
    $p
}

function Wait-LabCondition {
    <# Waits (bounded) until the script block returns true; throws with $What on timeout. #>
    param([Parameter(Mandatory)] [scriptblock] $Condition, [Parameter(Mandatory)] [string] $What, [double] $TimeoutSec = 20, [System.Diagnostics.Process] $Process, [string] $Log)
    $sw = [Diagnostics.Stopwatch]::StartNew()
    while ($sw.Elapsed.TotalSeconds -lt $TimeoutSec) {
        if (& $Condition) { return }
        if ($Process -and $Process.HasExited) {
            $tail = if ($Log -and (Test-Path $Log)) { (Get-Content $Log -Tail 15) -join "`n" } else { '' }
            throw "lab: $What failed: the process exited with code $($Process.ExitCode). $tail"
        }
        Start-Sleep -Milliseconds 100
    }
    $tail = if ($Log -and (Test-Path $Log)) { (Get-Content $Log -Tail 15) -join "`n" } else { '' }
    throw "lab: $What not ready within $TimeoutSec s. $tail"
}

function Test-LabTcpPort {
    param($Lab, [string] $Address, [int] $Port)
    $null = Invoke-LabNative -Lab $Lab -FilePath 'timeout' -ArgumentList @('2', 'bash', '-c', "exec 3<>/dev/tcp/$Address/$Port") -AllowFailure
    $LASTEXITCODE -eq 0
}

function Get-LabFreePort {
    <# A free TCP port on 127.0.0.1 (of the host; inside a fresh namespace every port is free). #>
    $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $l.Start(); try { $l.LocalEndpoint.Port } finally { $l.Stop() }
}

function New-LabSecret { [Convert]::ToHexString([System.Security.Cryptography.RandomNumberGenerator]::GetBytes(16)).ToLowerInvariant() }

function Write-LabFile {
    param([string] $Path, [string] $Text, [string] $Mode = '600')
    [IO.File]::WriteAllText($Path, $Text, [Text.UTF8Encoding]::new($false))
    # No chmod process per file: a 1,000-guest lab writes 1,000 files.
    if ($IsLinux) { [IO.File]::SetUnixFileMode($Path, [IO.UnixFileMode][Convert]::ToInt32($Mode, 8)) }
}

# ---------------------------------------------------------------------------------------------------
# The simulator build (cached under out/lab)

function Get-PveLabSimulator {
    <# Builds the Proxmox simulator once (Release) into out/lab/ProxmoxSimulator and returns the DLL path. #>
    $project = Join-Path $script:LabSource 'ProxmoxSimulator'
    $outDir = Join-Path $script:RepoRoot 'out/lab/ProxmoxSimulator'
    $dll = Join-Path $outDir 'ProxmoxSimulator.dll'
    $newest = Get-ChildItem $project -File | Where-Object Extension -in '.cs', '.csproj' | Sort-Object LastWriteTimeUtc -Descending | Select-Object -First 1
    if ((Test-Path $dll) -and (Get-Item $dll).LastWriteTimeUtc -ge $newest.LastWriteTimeUtc) { return $dll }
    $log = & dotnet build $project -c Release -o $outDir --nologo -v q 2>&1
    if ($LASTEXITCODE) { throw "lab: building the Proxmox simulator failed:`n$(($log | Select-Object -Last 20) -join "`n")" }
    (Get-Item $dll).LastWriteTimeUtc = [DateTime]::UtcNow
    $dll
}

# ---------------------------------------------------------------------------------------------------
# Start / stop

function Get-PveLabMissingPrerequisite {
    <#
    .SYNOPSIS
        The programs and files the lab needs that are not there, each as "name (where it was looked for)".
    .DESCRIPTION
        Start-PveLab checks these before it starts anything, so a missing one is named (with what installs it)
        instead of surfacing as a failure half-way through the start-up. A name is looked up on PATH, a path is
        tested as such. -Path overrides where one is looked for (the tests point one at a path that does not exist).
    #>
    param([switch] $NoStack, [switch] $Namespace, [hashtable] $Path = @{})
    $wanted = [ordered]@{ 'ssh-keygen' = 'ssh-keygen'; sshd = '/usr/sbin/sshd'; dotnet = 'dotnet' }
    if ($Namespace) { $wanted.ip = 'ip'; $wanted.nft = 'nft' }
    if (-not $NoStack) {
        foreach ($p in 'prometheus', 'prometheus-node-exporter', 'prometheus-alertmanager', 'node') { $wanted[$p] = $p }
        $wanted.s3rver = Join-Path $script:LabSource 'node_modules/s3rver'
    }
    foreach ($k in $Path.Keys) { if (-not $wanted.Contains($k)) { throw "lab: no prerequisite named '$k' (known: $($wanted.Keys -join ', '))" } ; $wanted[$k] = $Path[$k] }
    foreach ($name in $wanted.Keys) {
        $where = $wanted[$name]
        $found = if ([IO.Path]::IsPathRooted($where)) { Test-Path -LiteralPath $where } else { [bool](Get-Command $where -CommandType Application -ErrorAction Ignore) }
        if (-not $found) { if ([IO.Path]::IsPathRooted($where)) { "$name ($where does not exist)" } else { "$name (not on PATH)" } }
    }
}

function Start-PveLab {
    <#
    .SYNOPSIS
        Starts the lab; returns the lab object (pass it to Stop-PveLab in a finally block).
    .PARAMETER FailAt
        Test hook: throw after the named stage (namespace, ssh, simulator, stack, config) to prove the cleanup.
    .PARAMETER NoStack
        Guests and Proxmox only: no monitoring stack and MinIO side (start-up about 1 s instead of several).
    .PARAMETER InventorySource
        terraform-output (default: the recorded terraform-output.json) or minio-state (the state object in the lab's MinIO).
    .PARAMETER TextfileDirectory
        node_exporter's textfile folder (default <lab>/stack/textfile); Prometheus scrapes node_exporter every second.
    .PARAMETER PrometheusRuleFile
        Rule files the lab's Prometheus loads (evaluated every second; alerts go to both Alertmanagers).
    .PARAMETER SecondEnvironment
        Adds environment lab-b to the configuration: the same simulator on a second port, which serves a clean node
        health estate without HA and without Ceph (the issue-16 "Ceph absent on another environment" case).
    .PARAMETER SshdNice
        CPU niceness of the lab's sshd and every guest session it starts (0 to 19; default 0, and the benchmark's
        default). In an estate the guests' sshd do not share the checker's CPUs; here one sshd serves every guest on the
        same cores. Measured at 1,000 guests: 19 starves the shell baseline's sshd behind its 64 ssh clients (888 of
        1,000 shell verdicts wrong), so the benchmark keeps 0 and the option is for experiments only.
    .PARAMETER Drift
        The drift scenario (issue 14; needs the MinIO side): the state object declares the lab's guests with both
        providers' shapes (Get-LabTerraformResources), the simulator adds the unmanaged guest handmade-01 (130) and
        app-01's start at boot is off, and the configuration gets drift.stateObjects. Without it nothing changes.
    .PARAMETER ProxmoxCertificateDays
        Remaining life of the simulator's TLS certificate (default 20: inside the TlsCertificate Warning window).
    #>
    [CmdletBinding()]
    param(
        [ValidateRange(1, 5000)] [int] $GuestCount = 6,
        # Filler guests stopped in addition to the scripted db-01, up to this many stopped in all (the benchmark).
        [ValidateRange(0, 5000)] [int] $StoppedCount = 0,
        [string] $Root,
        [switch] $NoNamespace,
        [ValidateSet('', 'namespace', 'ssh', 'simulator', 'stack', 'config')] [string] $FailAt = '',
        [double] $StartTimeoutSec = 30,
        [switch] $NoStack,
        [ValidateSet('terraform-output', 'minio-state')] [string] $InventorySource = 'terraform-output',
        [string] $TextfileDirectory,
        [string[]] $PrometheusRuleFile = @(),
        [switch] $SecondEnvironment,
        [switch] $Drift,
        [ValidateRange(-30, 3650)] [double] $ProxmoxCertificateDays = 20,
        [ValidateRange(0, 19)] [int] $SshdNice = 0,
        # The monitoring stack + MinIO side module.
        [string] $StackModulePath = (Join-Path $script:RepoRoot 'tests/Support/StackServices.psm1'),
        # Test hook: look a prerequisite up elsewhere (name -> path; see Get-PveLabMissingPrerequisite).
        [hashtable] $PrerequisitePath = @{}
    )
    if ($NoStack -and $Drift) { throw 'lab: -Drift reads the state object in the lab''s MinIO; do not combine it with -NoStack.' }
    if ($NoStack -and $InventorySource -eq 'minio-state') { throw 'lab: -InventorySource minio-state needs the MinIO side; do not combine it with -NoStack.' }
    if (-not $NoStack -and -not (Test-Path -LiteralPath $StackModulePath)) { throw "lab: the stack module $StackModulePath is missing (use -NoStack for guests and Proxmox only)." }
    if ($TextfileDirectory) { $TextfileDirectory = [IO.Path]::GetFullPath($TextfileDirectory) }
    $willNamespace = -not $NoNamespace -and $IsLinux -and ((& id -u) -eq '0')
    $missing = @(Get-PveLabMissingPrerequisite -NoStack:$NoStack -Namespace:$willNamespace -Path $PrerequisitePath)
    if ($missing.Count) {
        throw "lab: missing prerequisite$(if ($missing.Count -gt 1) { 's' }): $($missing -join '; '). Run tools/install-prerequisites.sh (as root, or with password-less sudo; it also runs npm ci in tests/Lab for s3rver), or start the lab with -NoStack for guests and Proxmox only."
    }
    $simulatorDll = Get-PveLabSimulator    # built once and cached (out/lab); not part of the start-up time
    $sw = [Diagnostics.Stopwatch]::StartNew()
    if (-not $Root) { $Root = Join-Path ([IO.Path]::GetTempPath()) ("pvelab-" + (New-LabSecret).Substring(0, 10)) }
    $isRoot = $IsLinux -and ((& id -u) -eq '0')
    $lab = [pscustomobject]@{
        PSTypeName      = 'PveLab'
        Root            = $Root
        Namespace       = $null
        Pids            = [System.Collections.Generic.List[int]]::new()
        Processes       = @{}
        Guests          = @()
        ConfigPath      = Join-Path $Root 'config.json'
        ProxmoxUrl      = $null
        ProxmoxPort     = 0
        ProxmoxPort2    = 0
        CertificateDays = $ProxmoxCertificateDays
        SecondEnvironment = [bool]$SecondEnvironment
        Drift           = [bool]$Drift
        ControlToken    = $null
        CertPath        = Join-Path $Root 'proxmox-cert.pem'
        Fingerprint     = $null
        SshPort         = 22
        SshUser         = [Environment]::UserName
        KeyFile         = Join-Path $Root 'ssh/id_ed25519'
        KnownHostsFile  = Join-Path $Root 'ssh/known_hosts'
        Mode            = 'namespace'
        Note            = $null
        StartupSeconds  = 0
        Monitoring      = $null
        StackServices   = $null
        StackKeeperPid  = 0
        ReaperPid       = 0
    }
    $ok = $false
    $script:ActiveLabs.Add($lab)
    try {
        $null = New-Item -ItemType Directory -Path $Root -Force
        if ($IsLinux) { & chmod 700 $Root }
        foreach ($d in 'ssh', 'guests', 'logs') { $null = New-Item -ItemType Directory -Path (Join-Path $Root $d) -Force }

        # 1. namespace
        if (-not $NoNamespace -and $isRoot) {
            $ns = 'pvelab-' + (New-LabSecret).Substring(0, 8)
            $out = & ip netns add $ns 2>&1
            if ($LASTEXITCODE) { throw "lab: cannot create the network namespace ${ns}: $out" }
            $lab.Namespace = $ns
            $null = Invoke-LabNative -Lab $lab -FilePath 'ip' -ArgumentList @('link', 'set', 'lo', 'up')
        }
        else {
            $lab.Mode = 'loopback'
            $lab.Note = if ($NoNamespace) { 'lab without a namespace (-NoNamespace)' } else { 'not root, so no network namespace: the lab runs on 127.0.0.1 of this host only (every guest at 127.0.0.1 behind one sshd on a free port; a stopped guest is stopped in the API but still answers ping). Run as root for the full lab.' }
            Write-Warning "PveLab: $($lab.Note)"
        }
        # The watchdog tears the lab down if this pwsh dies without running Stop-PveLab (SIGTERM, SIGKILL).
        if ($IsLinux) {
            $reaperArgs = @('bash', (Join-Path $PSScriptRoot 'reaper.sh'), "$PID", $Root) + @(if ($lab.Namespace) { $lab.Namespace })
            $reaper = Start-Process -FilePath setsid -ArgumentList $reaperArgs -PassThru -RedirectStandardOutput '/dev/null' -RedirectStandardError (Join-Path ([IO.Path]::GetTempPath()) "pvelab-reaper-$PID.log")
            $lab.ReaperPid = $reaper.Id
        }
        if ($FailAt -eq 'namespace') { throw "lab: forced failure after the namespace (test hook; namespace $($lab.Namespace))" }

        # 2. guests, nftables, sshd
        $plan = @(Get-PveLabGuestPlan -GuestCount $GuestCount -StoppedCount $StoppedCount)
        if ($lab.Mode -eq 'loopback') {
            foreach ($g in $plan) { $g.Ip = '127.0.0.1' }
            $lab.SshPort = Get-LabFreePort
        }
        $lab.Guests = $plan
        # The drift scenario: app-01 no longer starts at boot (its state says start_on_boot = true).
        if ($Drift) { foreach ($g in $plan | Where-Object Name -eq 'app-01') { $g.OnBoot = $false } }
        foreach ($g in $plan) { Write-LabFile -Path (Join-Path $Root "guests/$($g.Ip).docker") -Text "$($g.Docker)`n" -Mode 644 }
        if ($lab.Namespace) { Initialize-LabFirewall -Lab $lab }
        # The monitoring stack starts now, in parallel with sshd and the simulator (Prometheus readiness dominates).
        if (-not $NoStack) {
            Start-LabStackServices -Lab $lab -Module $StackModulePath -TextfileDirectory $TextfileDirectory -RuleFile $PrometheusRuleFile `
                -TimeoutSec ([math]::Max(5, $StartTimeoutSec - $sw.Elapsed.TotalSeconds - 2))
        }
        Start-LabSshd -Lab $lab -Nice $SshdNice
        if ($FailAt -eq 'ssh') { throw "lab: forced failure after sshd (test hook; namespace $($lab.Namespace))" }

        # 3. Proxmox simulator
        Start-LabSimulator -Lab $lab -Dll $simulatorDll
        if ($FailAt -eq 'simulator') { throw "lab: forced failure after the simulator (test hook; namespace $($lab.Namespace))" }

        # 4. the monitoring stack + MinIO side (started above): wait for its URLs, bounded by what is left of the start-up time
        if ($lab.StackKeeperPid) {
            Wait-LabStackServices -Lab $lab -TimeoutSec ([math]::Max(1, $StartTimeoutSec - $sw.Elapsed.TotalSeconds))
        }
        if ($FailAt -eq 'stack') { throw "lab: forced failure after the stack (test hook; namespace $($lab.Namespace))" }

        # 5. config
        Write-LabConfig -Lab $lab -InventorySource $InventorySource
        if ($FailAt -eq 'config') { throw "lab: forced failure after the config (test hook; namespace $($lab.Namespace))" }

        # readiness: sshd on a running guest, and the simulator's ready file
        $first = $plan | Where-Object { $_.Status -eq 'running' -and $_.Ssh -eq 'open' } | Select-Object -First 1
        if ($first) {
            $left = [math]::Max(1, $StartTimeoutSec - $sw.Elapsed.TotalSeconds)
            Wait-LabCondition -What 'sshd' -TimeoutSec $left -Log (Join-Path $Root 'logs/sshd.log') -Condition { Test-LabTcpPort -Lab $lab -Address $first.Ip -Port $lab.SshPort }
        }
        $lab.StartupSeconds = [math]::Round($sw.Elapsed.TotalSeconds, 2)
        if ($sw.Elapsed.TotalSeconds -gt $StartTimeoutSec) { throw "lab: start-up took $($lab.StartupSeconds) s, more than $StartTimeoutSec s" }
        $ok = $true
        $lab
    }
    finally {
        if (-not $ok) { Stop-PveLab -Lab $lab }
    }
}

function Initialize-LabFirewall {
    param($Lab)
    $stopped = @($Lab.Guests | Where-Object Status -ne 'running' | ForEach-Object Ip)
    $refused = @($Lab.Guests | Where-Object Ssh -eq 'refused' | ForEach-Object Ip)
    $el = { param($a) if ($a.Count) { "elements = { $($a -join ', ') }" } else { '' } }
    # Stopped guests: dropped silently on INPUT only (no ICMP, no reset), so ping and SSH time out as with a stopped
    # VM. Not on output: a packet dropped in the output hook makes the sender's sendmsg fail with EPERM (measured:
    # .NET Ping then reports "ICMP is not permitted" instead of a timeout). The refusing guest answers port 22 with
    # a TCP reset: connection refused, while ping still works.
    $rules = @"
table inet pvelab {
    set stopped { type ipv4_addr; $(& $el $stopped) }
    set refused { type ipv4_addr; $(& $el $refused) }
    chain input {
        type filter hook input priority 0; policy accept;
        ip daddr @stopped drop
        ip daddr @refused tcp dport 22 reject with tcp reset
    }
}
"@
    $file = Join-Path $Lab.Root 'nftables.conf'
    Write-LabFile -Path $file -Text $rules -Mode 644
    $null = Invoke-LabNative -Lab $Lab -FilePath 'nft' -ArgumentList @('-f', $file)
}

function Start-LabSshd {
    param($Lab, [int] $Nice = 0)
    $ssh = Join-Path $Lab.Root 'ssh'
    $hostKey = Join-Path $ssh 'ssh_host_ed25519_key'
    $null = & ssh-keygen -q -t ed25519 -N '' -C 'pvelab-host' -f $hostKey 2>&1
    if ($LASTEXITCODE) { throw 'lab: ssh-keygen failed for the host key' }
    $null = & ssh-keygen -q -t ed25519 -N '' -C 'pvelab-client' -f $Lab.KeyFile 2>&1
    if ($LASTEXITCODE) { throw 'lab: ssh-keygen failed for the client key' }
    $hostPub = (Get-Content "$hostKey.pub" -Raw).Trim() -replace '\s+pvelab-host$', ''
    $known = foreach ($g in $Lab.Guests | Sort-Object Ip -Unique) {
        $h = if ($Lab.SshPort -eq 22) { $g.Ip } else { "[$($g.Ip)]:$($Lab.SshPort)" }
        "$h $hostPub"
    }
    Write-LabFile -Path $Lab.KnownHostsFile -Text (($known -join "`n") + "`n") -Mode 644
    Write-LabFile -Path (Join-Path $ssh 'authorized_keys') -Text ((Get-Content "$($Lab.KeyFile).pub" -Raw).Trim() + "`n")

    # The guest's answer: the dialled address is the third field of SSH_CONNECTION.
    $guestCommand = Join-Path $ssh 'guest-command.sh'
    $guestsDir = Join-Path $Lab.Root 'guests'
    $script = @"
#!/bin/bash
# PveLab forced command: answers per guest, keyed by the address the client dialled.
addr=`$(echo "`$SSH_CONNECTION" | awk '{print `$3}')
cmd="`${SSH_ORIGINAL_COMMAND:-}"
if [ "`$cmd" = "$($script:DockerCommand)" ]; then
    state=`$(cat "$guestsDir/`$addr.docker" 2>/dev/null || echo unknown)
    echo "`$state"
    [ "`$state" = active ] && exit 0
    exit 3
fi
if [ -z "`$cmd" ]; then echo "pvelab guest `$addr"; exit 0; fi
exec /bin/bash -c "`$cmd"
"@
    Write-LabFile -Path $guestCommand -Text $script -Mode 755
    $listen = if ($Lab.Mode -eq 'namespace') { '0.0.0.0' } else { '127.0.0.1' }
    $config = @"
Port $($Lab.SshPort)
ListenAddress $listen
HostKey $hostKey
PidFile $(Join-Path $ssh 'sshd.pid')
AuthorizedKeysFile $(Join-Path $ssh 'authorized_keys')
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers $($Lab.SshUser)
MaxStartups 1000:30:2000
MaxSessions 1000
MaxAuthTries 6
LoginGraceTime 20
UseDNS no
PrintMotd no
X11Forwarding no
AllowTcpForwarding no
ForceCommand $guestCommand
LogLevel ERROR
"@
    $cfg = Join-Path $ssh 'sshd_config'
    Write-LabFile -Path $cfg -Text $config -Mode 600
    if (-not (Test-Path /run/sshd)) { $null = New-Item -ItemType Directory /run/sshd -Force }
    $null = & /usr/sbin/sshd -t -f $cfg 2>&1
    if ($LASTEXITCODE) { throw "lab: sshd rejects its generated config: $(& /usr/sbin/sshd -t -f $cfg 2>&1)" }
    $sshd = @('/usr/sbin/sshd', '-D', '-e', '-f', $cfg)
    # bash sources ~/.bashrc when sshd starts it (Debian builds it with SSH_SOURCE_BASHRC), so every guest command
    # would run this host's ~/.bashrc (here: pyenv init, about 125 ms of CPU per command, most of the lab sshd's cost
    # per connection). A guest is not this host: in the namespace, sshd runs in its own mount namespace where an
    # empty file is bound over the login user's ~/.bashrc. The host's file is not touched.
    $homeDir = ((& getent passwd $Lab.SshUser) -split ':')[5]
    if ($Lab.Namespace -and $homeDir -and (Test-Path -LiteralPath (Join-Path $homeDir '.bashrc') -PathType Leaf) -and (Test-Path /usr/bin/unshare)) {
        $emptyRc = Join-Path $ssh 'guest-bashrc'
        Write-LabFile -Path $emptyRc -Text "# PveLab: the lab's guests do not run the host's ~/.bashrc`n" -Mode 644
        $sshd = @('/usr/bin/unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', 'mount --bind "$1" "$0/.bashrc" || exit 1; shift; exec "$@"', $homeDir, $emptyRc) + $sshd
    }
    if ($Nice -gt 0) { $sshd = @('/usr/bin/nice', '-n', "$Nice") + $sshd }
    $null = Start-LabProcess -Lab $Lab -Name 'sshd' -Command $sshd
}

function Start-LabSimulator {
    param($Lab, [string] $Dll)
    $Lab.ControlToken = New-LabSecret
    $tokenSecret = [guid]::NewGuid().ToString()
    $tokenFile = Join-Path $Lab.Root 'proxmox-token-secret'
    Write-LabFile -Path $tokenFile -Text "$tokenSecret`n"
    Write-LabFile -Path (Join-Path $Lab.Root 'lab-control-token') -Text "$($Lab.ControlToken)`n"
    $guests = [System.Collections.Generic.List[object]]::new()
    foreach ($g in $Lab.Guests) {
        $guests.Add([ordered]@{ vmId = $g.VmId; name = $g.Name; node = $g.Node; type = $g.Type; status = $g.Status; agent = $g.Agent; tags = @($g.Tags); ip = $g.Ip; onBoot = [bool]$g.OnBoot })
    }
    $guests.Add([ordered]@{ vmId = 9000; name = 'tmpl-debian-12'; node = 'pve1'; type = 'qemu'; status = 'stopped'; agent = 'up'; template = $true; ip = '127.10.255.1' })
    # The drift scenario's unmanaged guest: made by hand, declared in no state (not in $Lab.Guests: no address, no SSH).
    if ($Lab.Drift) { $guests.Add([ordered]@{ vmId = 130; name = 'handmade-01'; node = 'pve2'; type = 'qemu'; status = 'running'; agent = 'up'; tags = @('adhoc'); ip = '127.10.255.3'; onBoot = $true }) }
    $guests.Add([ordered]@{ vmId = 9901; name = 'secret-01'; node = 'pve1'; type = 'qemu'; status = 'running'; agent = 'up'; restricted = $true; ip = '127.10.255.2' })
    $state = [ordered]@{
        clusterName = 'lab'; tokenId = 'root@pam!pvehealth'; tokenSecret = $tokenSecret; controlToken = $Lab.ControlToken
        nodes = @([ordered]@{ name = 'pve1'; online = $true }, [ordered]@{ name = 'pve2'; online = $true })
        guests = $guests
    }
    $statePath = Join-Path $Lab.Root 'proxmox-state.json'
    Write-LabFile -Path $statePath -Text ($state | ConvertTo-Json -Depth 6)
    $Lab.ProxmoxPort = if ($Lab.Namespace) { Get-Random -Minimum 20000 -Maximum 60000 } else { Get-LabFreePort }
    $Lab.ProxmoxUrl = "https://127.0.0.1:$($Lab.ProxmoxPort)"
    $Lab | Add-Member -NotePropertyName TokenId -NotePropertyValue 'root@pam!pvehealth' -Force
    $Lab | Add-Member -NotePropertyName TokenSecretFile -NotePropertyValue $tokenFile -Force
    $sans = (@($Lab.Guests | ForEach-Object Ip | Select-Object -Unique -First 200) -join ',')
    if (-not $sans) { $sans = '127.0.0.1' }
    $dotnet = (Get-Command dotnet -CommandType Application | Select-Object -First 1).Source
    $simArgs = @($dotnet, $Dll, '--state', $statePath, '--listen', '127.0.0.1', '--port', "$($Lab.ProxmoxPort)", '--out', $Lab.Root, '--san', $sans,
        '--cert-days', ([string]$Lab.CertificateDays))
    if ($Lab.SecondEnvironment) {
        $Lab.ProxmoxPort2 = if ($Lab.Namespace) { $Lab.ProxmoxPort + 1 } else { Get-LabFreePort }
        $simArgs += @('--port2', "$($Lab.ProxmoxPort2)")
    }
    $p = Start-LabProcess -Lab $Lab -Name 'proxmox' -Command $simArgs
    $ready = Join-Path $Lab.Root 'proxmox-ready'
    Wait-LabCondition -What 'the Proxmox simulator' -TimeoutSec 20 -Process $p -Log (Join-Path $Lab.Root 'logs/proxmox.log') -Condition { Test-Path $ready }
    $Lab.Fingerprint = (Get-Content (Join-Path $Lab.Root 'proxmox-fingerprint.txt') -Raw).Trim()
}

function Start-LabStackServices {
    <#
    The monitoring stack and the MinIO side (tests/Support/StackServices.psm1): started by a keeper pwsh
    (stack-keeper.ps1) that runs inside the namespace as a lab process, so every service lives there, on
    $script:StackAddress. Returns at once; Wait-LabStackServices collects the URLs (start-up runs in parallel
    with sshd and the simulator). The tfstate bucket is seeded with a Terraform state v4 whose outputs are the
    lab's guests (the same value as terraform-output.json), so inventory.source "minio-state" works too.
    #>
    param($Lab, [string] $Module, [string] $TextfileDirectory, [string[]] $RuleFile, [double] $TimeoutSec)
    $stackRoot = Join-Path $Lab.Root 'stack'
    $seed = Join-Path $Lab.Root 'stack-seed'
    $stateDir = Join-Path $seed 'tfstate/lab'
    $null = New-Item -ItemType Directory -Path $stateDir -Force
    $state = [ordered]@{
        version = 4; terraform_version = '1.9.8'; serial = 7; lineage = '5d0c2a47-2f1e-4b0a-9c3d-7e6f8a9b0c1d'
        outputs = (Get-LabTerraformOutputs -Lab $Lab); resources = @(if ($Lab.Drift) { Get-LabTerraformResources -Lab $Lab }); check_results = $null
    }
    Write-LabFile -Path (Join-Path $stateDir 'terraform.tfstate') -Text ($state | ConvertTo-Json -Depth 10) -Mode 644
    # s3rver's fixed credentials, as file references (the config never holds a secret inline).
    Write-LabFile -Path (Join-Path $Lab.Root 'minio-access-key') -Text "S3RVER`n"
    Write-LabFile -Path (Join-Path $Lab.Root 'minio-secret-key') -Text "S3RVER`n"
    $result = Join-Path $Lab.Root 'stack.xml'
    $keeper = @(Get-LabPwshCommand) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $script:LabSource 'stack-keeper.ps1'),
        '-ModulePath', $Module, '-Root', $stackRoot, '-Address', $script:StackAddress, '-Seed', $seed,
        '-ResultPath', $result, '-StopPath', (Join-Path $Lab.Root 'stack.stop'), '-TimeoutSec', "$TimeoutSec")
    if ($TextfileDirectory) { $keeper += @('-TextfileDirectory', $TextfileDirectory) }
    if ($RuleFile) { $keeper += @('-RuleFile', (@($RuleFile | ForEach-Object { (Resolve-Path -LiteralPath $_).Path }) -join ',')) }
    $p = Start-LabProcess -Lab $Lab -Name 'stack-keeper' -Command $keeper
    $script:Keepers[$Lab.Root] = $p
    $Lab.StackKeeperPid = $p.Id
}

function Wait-LabStackServices {
    param($Lab, [double] $TimeoutSec)
    $result = Join-Path $Lab.Root 'stack.xml'
    $p = $script:Keepers[$Lab.Root]
    $sw = [Diagnostics.Stopwatch]::StartNew()
    while (-not (Test-Path $result)) {
        if (Test-Path "$result.error") { throw "lab: the monitoring stack did not start: $(Get-Content "$result.error" -Raw)" }
        if ($p.HasExited) { throw "lab: the stack keeper exited with code $($p.ExitCode): $((Get-Content (Join-Path $Lab.Root 'logs/stack-keeper.log') -Tail 15 -ErrorAction SilentlyContinue) -join "`n")" }
        if ($sw.Elapsed.TotalSeconds -gt $TimeoutSec) { throw "lab: the monitoring stack was not ready within $([math]::Round($TimeoutSec, 1)) s (see $(Join-Path $Lab.Root 'stack'))" }
        Start-Sleep -Milliseconds 100
    }
    $s = Import-Clixml $result
    foreach ($id in @($s.Pids)) { $Lab.Pids.Add([int]$id) }
    $Lab.StackServices = $s
    $Lab.Monitoring = [pscustomobject]@{ PrometheusUrl = $s.PrometheusUrl; GrafanaUrl = $s.GrafanaUrl; AlertmanagerUrl = $s.AlertmanagerUrl; Alertmanager2Url = $s.Alertmanager2Url
        NodeExporterUrl = $s.NodeExporterUrl; MinioUrl = $s.MinioUrl; ControlUrl = $s.ControlUrl; DeadTarget = $s.DeadTarget; TextfileDirectory = $s.TextfileDirectory }
}

function Stop-LabStackServices {
    <# Asks the keeper to stop the stack (Stop-PveStackServices checks each process is gone); bounded wait. #>
    param($Lab)
    $id = $Lab.StackKeeperPid
    $null = $script:Keepers.Remove($Lab.Root)
    # Still starting (no result yet): nothing to stop gracefully; Stop-PveLab kills the namespace's processes.
    if (-not (Test-LabPidAlive $id) -or -not (Test-Path (Join-Path $Lab.Root 'stack.xml'))) { return }
    Write-LabFile -Path (Join-Path $Lab.Root 'stack.stop') -Text "stop`n" -Mode 644
    $deadline = [DateTime]::UtcNow.AddSeconds(15)
    while ((Test-LabPidAlive $id) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
    if (Test-LabPidAlive $id) { Write-Warning 'PveLab: the stack keeper did not stop within 15 s; its processes are killed with the namespace.' }
}

function Get-LabTerraformOutputs {
    <# The lab guests as Terraform outputs ({ guests = { value = { name = {...} }, type, sensitive } }). #>
    param($Lab)
    $value = [ordered]@{}
    foreach ($g in $Lab.Guests) { $value[$g.Name] = [ordered]@{ ip = $g.Ip; vmid = $g.VmId; node = $g.Node; type = $g.Type } }
    $tfType = @('map', @('object', [ordered]@{ ip = 'string'; node = 'string'; type = 'string'; vmid = 'number' }))
    [ordered]@{ guests = [ordered]@{ sensitive = $false; type = $tfType; value = $value } }
}

function Get-LabTerraformResources {
    <#
    The drift scenario's state resources (ESTATE-FACTS.md section 1): the lab's guests declared with both providers'
    shapes, in modules and with count/for_each, plus a data source and a resource of another type (both ignored).
      web-01  bpg VM (module.web, for_each)            matches
      web-02  Telmate v3.0.1 proxmox_vm_qemu (count)    state says node pve1, the cluster pve2: a move, not drift
      db-01   Telmate v3.0.2 power_state = "running"    stopped in the lab: PowerState Critical
      app-01  bpg container, start_on_boot = true       onboot off in the lab: OnBoot Warning
      cache-old Telmate proxmox_lxc, VMID 105           renamed to cache-01 in the cluster: Attributes Warning
      ci-01   Telmate v2 proxmox_vm_qemu (module.ci)    matches (v2 has no power intent: oncreate)
      old-db-02 bpg VM, VMID 120 (module.db, count)     deleted from the cluster: Declared Critical
      tmpl-debian-12 bpg VM template                    matches
      guest-NNNN fillers bpg VM/container (module.fleet, for_each)  match
    #>
    param($Lab)
    $bpg = 'provider["registry.terraform.io/bpg/proxmox"]'
    $tm = 'provider["registry.terraform.io/telmate/proxmox"]'
    function Inst($attrs, $key) {
        $i = [ordered]@{}
        if ($null -ne $key) { $i.index_key = $key }
        $i.schema_version = 0; $i.attributes = $attrs; $i.sensitive_attributes = @(); $i.private = 'bnVsbA=='
        $i
    }
    function Res($type, $name, $provider, $instances, $module) {
        $r = [ordered]@{}
        if ($module) { $r.module = $module }
        $r.mode = 'managed'; $r.type = $type; $r.name = $name; $r.provider = $provider; $r.instances = @($instances)
        $r
    }
    function BpgVm($g, [bool] $template = $false) {
        [ordered]@{ id = "$($g.VmId)"; vm_id = $g.VmId; node_name = $g.Node; name = $g.Name; started = (-not $template); on_boot = (-not $template)
            template = $template; tags = @($g.Tags | Sort-Object); pool_id = $null; agent = @([ordered]@{ enabled = ($g.Agent -ne 'none'); timeout = '15m'; trim = $false; type = 'virtio' })
            ipv4_addresses = @(@('127.0.0.1'), @($g.Ip)); network_interface_names = @('lo', 'eth0'); cpu = @([ordered]@{ cores = 2 }); memory = @([ordered]@{ dedicated = 2048 }) }
    }
    function BpgCt($g) {
        [ordered]@{ id = "$($g.VmId)"; vm_id = $g.VmId; node_name = $g.Node; started = $true; start_on_boot = $true; template = $false
            tags = @($g.Tags | Sort-Object); pool_id = $null; initialization = @([ordered]@{ hostname = $g.Name; ip_config = @() }); unprivileged = $true }
    }
    $by = @{}; foreach ($g in $Lab.Guests) { $by[$g.Name] = $g }
    $res = [System.Collections.Generic.List[object]]::new()
    if ($by['web-01']) { $res.Add((Res 'proxmox_virtual_environment_vm' 'web' $bpg @(Inst (BpgVm $by['web-01']) 'web-01') 'module.web')) }
    if ($g = $by['web-02']) {
        $res.Add((Res 'proxmox_vm_qemu' 'web2' $tm @(Inst ([ordered]@{ id = "pve1/qemu/$($g.VmId)"; vmid = $g.VmId; name = $g.Name; target_node = 'pve1'; current_node = 'pve1'
            vm_state = 'running'; onboot = $true; agent = 1; tags = ($g.Tags -join ';'); pool = ''; description = 'web tier'; default_ipv4_address = $g.Ip }) 0)))
    }
    if ($g = $by['db-01']) {
        $res.Add((Res 'proxmox_vm_qemu' 'db' $tm @(Inst ([ordered]@{ id = "pve1/qemu/$($g.VmId)"; vmid = $g.VmId; name = $g.Name; target_node = 'pve1'; current_node = 'pve1'
            power_state = 'running'; start_at_node_boot = $true; agent = 1; tags = ($g.Tags -join ';'); pool = ''; description = 'database' }) $null)))
    }
    if ($by['app-01']) { $res.Add((Res 'proxmox_virtual_environment_container' 'app' $bpg @(Inst (BpgCt $by['app-01']) $null))) }
    if ($g = $by['cache-01']) {
        $res.Add((Res 'proxmox_lxc' 'cache' $tm @(Inst ([ordered]@{ id = "pve1/lxc/$($g.VmId)"; vmid = $g.VmId; hostname = 'cache-old'; target_node = 'pve1'
            onboot = $true; start = $true; tags = ''; pool = ''; unprivileged = $true }) $null)))
    }
    if ($g = $by['ci-01']) {
        $res.Add((Res 'proxmox_vm_qemu' 'ci' $tm @(Inst ([ordered]@{ id = "pve2/qemu/$($g.VmId)"; vmid = $g.VmId; name = $g.Name; target_node = 'pve2'
            oncreate = $true; onboot = $true; agent = 0; tags = ($g.Tags -join ';'); pool = ''; desc = 'CI runner' }) $null) 'module.ci'))
    }
    $res.Add((Res 'proxmox_virtual_environment_vm' 'replica' $bpg @(Inst (BpgVm ([pscustomobject]@{ VmId = 120; Node = 'pve1'; Name = 'old-db-02'; Tags = @('db'); Agent = 'up'; Ip = '127.10.0.120' })) 0) 'module.db'))
    $res.Add((Res 'proxmox_virtual_environment_vm' 'template' $bpg @(Inst (BpgVm ([pscustomobject]@{ VmId = 9000; Node = 'pve1'; Name = 'tmpl-debian-12'; Tags = @(); Agent = 'up'; Ip = '' }) -template $true) $null)))
    $fillers = @($Lab.Guests | Select-Object -Skip 6)
    $vms = @($fillers | Where-Object Type -eq 'qemu' | ForEach-Object { Inst (BpgVm $_) $_.Name })
    $cts = @($fillers | Where-Object Type -eq 'lxc' | ForEach-Object { Inst (BpgCt $_) $_.Name })
    if ($vms.Count) { $res.Add((Res 'proxmox_virtual_environment_vm' 'filler' $bpg $vms 'module.fleet')) }
    if ($cts.Count) { $res.Add((Res 'proxmox_virtual_environment_container' 'filler' $bpg $cts 'module.fleet')) }
    # Never declarations: a data source of the guests, and a resource of another type.
    $data = Res 'proxmox_virtual_environment_vms' 'all' $bpg @(Inst ([ordered]@{ id = 'vms'; vms = @([ordered]@{ vm_id = 999; name = 'not-a-declaration'; node_name = 'pve1' }) }) $null)
    $data.mode = 'data'
    $res.Add($data)
    $res.Add((Res 'proxmox_virtual_environment_download_file' 'debian' $bpg @(Inst ([ordered]@{ id = 'local:iso/debian-12.iso'; node_name = 'pve1'; vm_id = 777 }) $null)))
    $res
}

function Write-LabConfig {
    param($Lab, [string] $InventorySource = 'terraform-output')
    # The recorded `terraform output -json` of the lab's guests.
    $tf = Get-LabTerraformOutputs -Lab $Lab
    $tfPath = Join-Path $Lab.Root 'terraform-output.json'
    Write-LabFile -Path $tfPath -Text ($tf | ConvertTo-Json -Depth 10) -Mode 644
    $exclusions = Join-Path $Lab.Root 'exclusions.conf'
    Write-LabFile -Path $exclusions -Text "# lab: no exclusions`n" -Mode 644

    $envConfig = [ordered]@{
        inventory = [ordered]@{ source = 'terraform-output'; path = $tfPath }
        proxmox   = [ordered]@{ url = $Lab.ProxmoxUrl; tokenId = $Lab.TokenId; tokenSecret = @{ file = $Lab.TokenSecretFile }; fingerprint = $Lab.Fingerprint; timeoutSec = 5 }
        ssh       = [ordered]@{ user = $Lab.SshUser; port = $Lab.SshPort; keyFile = $Lab.KeyFile; knownHostsFile = $Lab.KnownHostsFile; dockerCommand = $script:DockerCommand }
        timeoutSec = 3
        nodeHealth = [ordered]@{ stateDirectory = (Join-Path $Lab.Root 'state') }
    }
    $s = $Lab.StackServices
    if ($s) {
        $envConfig.monitoring = [ordered]@{
            prometheus   = @{ url = $s.PrometheusUrl }
            grafana      = @{ url = $s.GrafanaUrl }
            alertmanager = @{ url = $s.AlertmanagerUrl }
        }
        $envConfig.minio = [ordered]@{
            endpoint          = $s.MinioUrl
            accessKey         = @{ file = (Join-Path $Lab.Root 'minio-access-key') }
            secretKey         = @{ file = (Join-Path $Lab.Root 'minio-secret-key') }
            buckets           = @('tfstate')
            stateObjects      = @('tfstate/lab/terraform.tfstate')
            maxLockAgeMinutes = 60
        }
    }
    if ($Lab.Drift) {
        $envConfig.drift = [ordered]@{ stateObjects = @('tfstate/lab/terraform.tfstate'); maxStateAgeHours = 24 }
    }
    if ($InventorySource -eq 'minio-state') {
        if (-not $s) { throw 'lab: -InventorySource minio-state needs the MinIO side (do not use -NoStack).' }
        $envConfig.inventory = [ordered]@{ source = 'minio-state'; stateObject = 'tfstate/lab/terraform.tfstate' }
    }
    $config = [ordered]@{
        defaults     = [ordered]@{ timeoutSec = 3; runTimeoutSec = 120; throttleLimit = 64; exclusionPath = $exclusions }
        environments = [ordered]@{ lab = $envConfig }
    }
    if ($Lab.ProxmoxPort2) {
        # The second environment: another cluster (the simulator's second port), no guests, clean node health, no Ceph.
        $config.environments['lab-b'] = [ordered]@{
            proxmox    = [ordered]@{ url = "https://127.0.0.1:$($Lab.ProxmoxPort2)"; tokenId = $Lab.TokenId; tokenSecret = @{ file = $Lab.TokenSecretFile }; fingerprint = $Lab.Fingerprint; timeoutSec = 5 }
            timeoutSec = 3
            nodeHealth = [ordered]@{ stateDirectory = (Join-Path $Lab.Root 'state') }
        }
    }
    Write-LabFile -Path $Lab.ConfigPath -Text ($config | ConvertTo-Json -Depth 10) -Mode 644
}

function Stop-PveLab {
    <# Stops every lab process, deletes the namespace and removes the lab folder. Safe to call twice. #>
    [CmdletBinding()]
    param([Parameter(Mandatory, ValueFromPipeline)] $Lab)
    process {
        if ($Lab.PSObject.Properties['StackKeeperPid'] -and $Lab.StackKeeperPid) { Stop-LabStackServices -Lab $Lab }
        $ids = [System.Collections.Generic.List[int]]::new()
        foreach ($id in $Lab.Pids) { $ids.Add($id) }
        if ($Lab.Namespace) {
            # Anything still inside our own namespace is ours (children of sshd, child pwsh).
            $inNs = & ip netns pids $Lab.Namespace 2>$null
            foreach ($id in @($inNs)) { if ("$id" -match '^\d+$') { $ids.Add([int]$id) } }
        }
        foreach ($id in $ids | Select-Object -Unique) { $null = & kill -TERM $id 2>$null }
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        foreach ($id in $ids | Select-Object -Unique) {
            while ((Test-LabPidAlive $id) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            if (Test-LabPidAlive $id) { $null = & kill -KILL $id 2>$null }
        }
        if ($Lab.Namespace) {
            # A process started while we were killing (the stack keeper mid-start) would outlive the namespace:
            # sweep until the namespace is empty (bounded).
            for ($round = 0; $round -lt 5; $round++) {
                $left = @(& ip netns pids $Lab.Namespace 2>$null | Where-Object { "$_" -match '^\d+$' } | ForEach-Object { [int]"$_" } | Where-Object { Test-LabPidAlive $_ })
                if (-not $left.Count) { break }
                foreach ($id in $left) { $null = & kill -KILL $id 2>$null }
                Start-Sleep -Milliseconds 200
            }
            $null = & ip netns delete $Lab.Namespace 2>&1
        }
        if ($Lab.Root -and (Test-Path $Lab.Root)) { Remove-Item -LiteralPath $Lab.Root -Recurse -Force -ErrorAction SilentlyContinue }
        # Clean teardown done: the watchdog has nothing left to do.
        if ($Lab.PSObject.Properties['ReaperPid'] -and $Lab.ReaperPid) {
            $null = & kill -KILL $Lab.ReaperPid 2>$null
            $Lab.ReaperPid = 0
        }
        $null = $script:ActiveLabs.Remove($Lab)
    }
}

function Test-LabPidAlive {
    param([int] $ProcessId)
    # A zombie (exited, not yet reaped) counts as gone.
    $stat = "/proc/$ProcessId/stat"
    if (-not (Test-Path $stat)) { return $false }
    try { $s = [IO.File]::ReadAllText($stat) } catch { return $false }
    $state = $s.Substring($s.LastIndexOf(')') + 2, 1)
    $state -ne 'Z'
}

# ---------------------------------------------------------------------------------------------------
# Running things inside the lab

function Invoke-InPveLab {
    <#
    .SYNOPSIS
        Runs a script block in a child pwsh inside the lab's namespace, with the lab module (and -ModulePath) imported
        and $Lab defined; returns its output (through Export-Clixml). -NoCapture lets it write to this terminal instead.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Lab,
        [Parameter(Mandatory)] [scriptblock] $ScriptBlock,
        [object[]] $ArgumentList = @(),
        [string] $ModulePath,
        [switch] $NoCapture,
        [int] $TimeoutSec = 300
    )
    $work = Join-Path $Lab.Root ("invoke-" + (New-LabSecret).Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $work
    try {
        $Lab | Export-Clixml -Path (Join-Path $work 'lab.xml')
        @{ Items = @($ArgumentList) } | Export-Clixml -Path (Join-Path $work 'args.xml')
        Write-LabFile -Path (Join-Path $work 'block.ps1') -Text $ScriptBlock.ToString()
        $outFile = Join-Path $work 'out.xml'
        $runner = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$(Join-Path $script:LabSource 'PveLab.psm1')' -Force
$(if ($ModulePath) { "Import-Module '$ModulePath'" })
`$Lab = Import-Clixml '$(Join-Path $work 'lab.xml')'
`$argsIn = @((Import-Clixml '$(Join-Path $work 'args.xml')').Items)
`$block = [scriptblock]::Create((Get-Content -Raw '$(Join-Path $work 'block.ps1')'))
$(if ($NoCapture) { "& `$block @argsIn | Out-Host" } else { "& `$block @argsIn | Export-Clixml -Depth 5 -Path '$outFile'" })
"@
        $runnerPath = Join-Path $work 'runner.ps1'
        Write-LabFile -Path $runnerPath -Text $runner
        $pwsh = @(Get-LabPwshCommand) + @('-NoProfile', '-NonInteractive', '-File', $runnerPath)
        $full = if ($Lab.Namespace) { @('ip', 'netns', 'exec', $Lab.Namespace) + $pwsh } else { $pwsh }
        # --foreground with the terminal: the child stays in the terminal's process group, so Ctrl+C reaches it.
        $full = if ($NoCapture) { @('timeout', '--foreground', '-k', '5', "$TimeoutSec") + $full } else { @('timeout', '-k', '5', "$TimeoutSec") + $full }
        if ($NoCapture) {
            & $full[0] @($full | Select-Object -Skip 1)
            if ($LASTEXITCODE) { throw "lab: the child pwsh failed with exit code $LASTEXITCODE" }
            return
        }
        # Output goes to a file, not a pipe: a service the block starts may inherit the descriptors and outlive it.
        $log = Join-Path $work 'child.log'
        $null = & /bin/sh -c 'exec "$@" >"$0" 2>&1 </dev/null' $log @full
        $code = $LASTEXITCODE
        if ($code) { throw "lab: the child pwsh failed with exit code ${code}: $((Get-Content $log -Raw -ErrorAction SilentlyContinue).Trim())" }
        if (Test-Path $outFile) { Import-Clixml $outFile }
    }
    finally {
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
}

function Get-LabPwshCommand {
    $self = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') { return @($self, (Join-Path $PSHOME 'pwsh.dll')) }
    @($self)
}

function Invoke-PveLabApi {
    <#
    .SYNOPSIS
        One HTTPS request to the lab's Proxmox simulator (curl inside the namespace, certificate verified against the lab cert).
        Returns Status, Reason, Body (parsed JSON or $null), Raw and Seconds.
    .PARAMETER Token
        good (the lab token), none, or any other text used as the whole Authorization header.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Lab,
        [Parameter(Mandatory)] [string] $Path,
        [ValidateSet('GET', 'POST', 'PUT')] [string] $Method = 'GET',
        [string] $Token = 'good',
        [string] $Body,
        [hashtable] $Headers = @{},
        [int] $TimeoutSec = 15
    )
    $url = if ($Path -match '^/_lab/') { "$($Lab.ProxmoxUrl)$Path" } else { "$($Lab.ProxmoxUrl)/api2/json$Path" }
    $headerFile = Join-Path $Lab.Root ("hdr-" + (New-LabSecret).Substring(0, 8))
    $curlArgs = @('-sS', '--max-time', "$TimeoutSec", '--cacert', $Lab.CertPath, '-X', $Method, '-D', $headerFile, '-w', '\n%{time_total}')
    $auth = switch ($Token) {
        'good' { "PVEAPIToken=$($Lab.TokenId)=$((Get-Content $Lab.TokenSecretFile -Raw).Trim())" }
        'none' { $null }
        default { $Token }
    }
    if ($auth) { $curlArgs += @('-H', "Authorization: $auth") }
    foreach ($k in $Headers.Keys) { $curlArgs += @('-H', "${k}: $($Headers[$k])") }
    if ($PSBoundParameters.ContainsKey('Body')) { $curlArgs += @('-H', 'Content-Type: application/json', '--data-binary', $Body) }
    try {
        $out = @(Invoke-LabNative -Lab $Lab -FilePath 'curl' -ArgumentList ($curlArgs + $url))
        $seconds = [double]::Parse($out[-1], [cultureinfo]::InvariantCulture)
        $raw = ($out | Select-Object -SkipLast 1) -join "`n"
        $statusLine = (Get-Content $headerFile | Where-Object { $_ -match '^HTTP/' } | Select-Object -Last 1)
        $null = $statusLine -match '^HTTP/\S+\s+(\d{3})\s?(.*)$'
        $parsed = $null
        if ($raw.Trim()) { try { $parsed = $raw | ConvertFrom-Json -Depth 20 } catch { $parsed = $null } }
        [pscustomobject]@{ Status = [int]$Matches[1]; Reason = $Matches[2].Trim(); Body = $parsed; Raw = $raw; Seconds = $seconds }
    }
    finally { Remove-Item -LiteralPath $headerFile -Force -ErrorAction SilentlyContinue }
}

function Invoke-LabControl {
    param($Lab, [string] $Path, [hashtable] $Body)
    $r = Invoke-PveLabApi -Lab $Lab -Path "/_lab/$Path" -Method POST -Token 'none' -Headers @{ 'X-Lab-Control' = $Lab.ControlToken } -Body ($Body | ConvertTo-Json -Compress -Depth 10)
    if ($r.Status -ne 200) { throw "lab: control call /_lab/$Path failed: HTTP $($r.Status) $($r.Raw)" }
    $r.Body
}

function Get-PveLabState {
    <# The simulator's current state (nodes and guests, secrets left out). #>
    param([Parameter(Mandatory)] $Lab)
    (Invoke-PveLabApi -Lab $Lab -Path '/_lab/state' -Token 'none' -Headers @{ 'X-Lab-Control' = $Lab.ControlToken }).Body
}

function Reset-PveLabRequestCount {
    <# Clears the simulator's Proxmox API request counters (POST /_lab/reset-counters). #>
    param([Parameter(Mandatory)] $Lab)
    $null = Invoke-LabControl -Lab $Lab -Path 'reset-counters' -Body @{}
}

function Get-PveLabRequestCount {
    <# The Proxmox API requests the simulator counted since the last reset: an ordered map "METHOD /path?query" -> count. #>
    param([Parameter(Mandatory)] $Lab)
    $map = [ordered]@{}
    foreach ($p in (Get-PveLabState $Lab).requests.PSObject.Properties) { $map[$p.Name] = [int]$p.Value }
    $map
}

function Set-PveLabGuest {
    <#
    .SYNOPSIS
        Scripts a guest: -State running|stopped (the API and the network: a stopped guest's address is dropped),
        -Agent up|down|none, -Docker active|inactive.
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory)] $Lab,
        [Parameter(Mandatory)] [string] $Name,
        [ValidateSet('running', 'stopped')] [string] $State,
        [ValidateSet('up', 'down', 'none')] [string] $Agent,
        [ValidateSet('active', 'inactive')] [string] $Docker
    )
    $g = $Lab.Guests | Where-Object Name -eq $Name | Select-Object -First 1
    if (-not $g) { throw "lab: no guest named '$Name' (guests: $(($Lab.Guests.Name) -join ', '))" }
    $body = @{}
    if ($State) { $body.status = $State }
    if ($Agent) { $body.agent = $Agent }
    if ($body.Count) { $null = Invoke-LabControl -Lab $Lab -Path "guest/$($g.VmId)" -Body $body }
    if ($State -and $Lab.Namespace) {
        $verb = if ($State -eq 'stopped') { 'add' } else { 'delete' }
        $present = (Invoke-LabNative -Lab $Lab -FilePath 'nft' -ArgumentList @('list', 'set', 'inet', 'pvelab', 'stopped')) -join ' '
        $has = $present -match ('(\s|\{|,)' + [regex]::Escape($g.Ip) + '(\s|\}|,)')
        if (($verb -eq 'add' -and -not $has) -or ($verb -eq 'delete' -and $has)) {
            $null = Invoke-LabNative -Lab $Lab -FilePath 'nft' -ArgumentList @($verb, 'element', 'inet', 'pvelab', 'stopped', "{ $($g.Ip) }")
        }
    }
    if ($State) { $g.Status = $State }
    if ($Agent) { $g.Agent = $Agent }
    if ($Docker) {
        Write-LabFile -Path (Join-Path $Lab.Root "guests/$($g.Ip).docker") -Text "$Docker`n" -Mode 644
        $g.Docker = $Docker
    }
}

function Set-PveLabNode {
    <# Takes a Proxmox node offline (-Online:$false: 595 for its routes, status unknown for its guests) or back online. #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Lab, [Parameter(Mandatory)] [string] $Node, [Parameter(Mandatory)] [bool] $Online)
    $null = Invoke-LabControl -Lab $Lab -Path "node/$Node" -Body @{ online = $Online }
}

function Set-PveLabNodeHealth {
    <#
    .SYNOPSIS
        Scripts the node health the simulator serves (tests/Lab/ProxmoxSimulator/NodeHealthRoutes.cs): the keys given
        replace the current ones: certificateDays (@{ 'pve1/pveproxy-ssl.pem' = 5 }), pools (@{ 'pve2/tank' = 'DEGRADED' }),
        disks, haServices (@(@{ sid = 'vm:101'; node = 'pve1'; crmState = 'freeze'; state = 'freeze'; requestState = 'started' })),
        haQuorate, ceph (HEALTH_OK, HEALTH_WARN, HEALTH_ERR, absent), runningKernel (@{ pve1 = '6.8.12-2-pve' }), updates
        ($null: 403 for want of Sys.Modify; a list of package names otherwise). Returns the new node health state.
    #>
    [CmdletBinding()]
    param([Parameter(Mandatory)] $Lab, [Parameter(Mandatory)] [hashtable] $Settings)
    Invoke-LabControl -Lab $Lab -Path 'nodehealth' -Body $Settings
}

function Stop-AllPveLabs {
    <# Stops every lab this session started (used on engine exit). #>
    foreach ($l in @($script:ActiveLabs)) { try { Stop-PveLab -Lab $l } catch { Write-Warning "PveLab: $_" } }
}

# Labs left running when pwsh exits are stopped; Ctrl+C inside a script runs its finally blocks.
$null = Register-EngineEvent -SourceIdentifier PowerShell.Exiting -SupportEvent -Action { Stop-AllPveLabs }
$ExecutionContext.SessionState.Module.OnRemove = { Stop-AllPveLabs }

Export-ModuleMember -Function Start-PveLab, Get-PveLabMissingPrerequisite, Stop-PveLab, Invoke-InPveLab, Invoke-PveLabApi, Get-PveLabState, Reset-PveLabRequestCount, Get-PveLabRequestCount, Set-PveLabGuest, Set-PveLabNode, Set-PveLabNodeHealth, Get-PveLabGuestPlan, Get-PveLabSimulator, Invoke-LabNative, Test-LabPidAlive, Stop-AllPveLabs
