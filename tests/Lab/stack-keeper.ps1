<#
.SYNOPSIS
    Lab helper: runs tests/Support/StackServices.psm1 inside the lab's network namespace and keeps it alive.
.DESCRIPTION
    Started by Start-PveLab as a lab process (`ip netns exec <ns> pwsh -File stack-keeper.ps1 ...`), so every service
    Start-PveStackServices starts lives in the namespace. This process has to stay alive while the lab runs: the
    stand-ins (node) exit when their stdin, a pipe owned by this process, closes.
    1. Start-PveStackServices -Root -Address -Seed -TextfileDirectory -RuleFile.
    2. Writes the URLs (no process objects) to -ResultPath (Export-Clixml to a temp file, renamed), or the error
       text to <ResultPath>.error and exits 1.
    3. Waits (bounded by -MaxLifetimeSec) until -StopPath exists, then Stop-PveStackServices (which checks every
       process is gone) and exits 0. Stop-PveLab kills whatever is left in the namespace after that anyway.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Root,
    [Parameter(Mandatory)] [string] $Address,
    [Parameter(Mandatory)] [string] $ResultPath,
    [Parameter(Mandatory)] [string] $StopPath,
    [string] $Seed,
    [string] $TextfileDirectory,
    [string[]] $RuleFile = @(),
    [double] $TimeoutSec = 25,
    [double] $MaxLifetimeSec = 6 * 3600
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$stack = $null
try {
    Import-Module $ModulePath -Force
    $params = @{ Root = $Root; Address = $Address; TimeoutSec = $TimeoutSec }
    if ($Seed) { $params.Seed = $Seed }
    if ($TextfileDirectory) { $params.TextfileDirectory = $TextfileDirectory }
    # pwsh -File passes an array as one comma-joined string.
    $rules = @($RuleFile | ForEach-Object { $_ -split ',' } | Where-Object { $_ })
    if ($rules) { $params.RuleFile = $rules }
    $stack = Start-PveStackServices @params
    $info = [ordered]@{ KeeperPid = $PID }
    foreach ($p in $stack.PSObject.Properties) { if ($p.Name -notin 'Services', 'Fixtures') { $info[$p.Name] = $p.Value } }
    $info.Pids = @($stack.Services | ForEach-Object { $_.Process.Id })
    [pscustomobject]$info | Export-Clixml -Path "$ResultPath.tmp"
    Move-Item -LiteralPath "$ResultPath.tmp" -Destination $ResultPath -Force
}
catch {
    [IO.File]::WriteAllText("$ResultPath.error", "$($_.Exception.Message)")
    exit 1
}
$deadline = [DateTime]::UtcNow.AddSeconds($MaxLifetimeSec)
while (-not (Test-Path -LiteralPath $StopPath) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
try { Stop-PveStackServices $stack } catch { [Console]::Error.WriteLine("stack-keeper: $($_.Exception.Message)"); exit 1 }
exit 0
