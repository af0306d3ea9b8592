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

Export-ModuleMember -Function Invoke-Program, Get-PwshCommand, Get-PveHealthModulePath, Invoke-FreshPwsh, New-TestConfig
