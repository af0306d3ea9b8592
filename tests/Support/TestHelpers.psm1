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

# Runs a script block in a fresh pwsh with the module imported; returns stdout, stderr and the exit code.
function Invoke-FreshPwsh {
    param([Parameter(Mandatory)] [string] $Script, [hashtable] $Environment = @{}, [int] $TimeoutSec = 120)
    $module = Get-PveHealthModulePath
    $pwsh = Get-PwshCommand
    $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
    foreach ($a in @($pwsh | Select-Object -Skip 1)) { $psi.ArgumentList.Add($a) }
    foreach ($a in @('-NoProfile', '-NonInteractive', '-Command', "Import-Module '$module'; $Script")) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $p = [System.Diagnostics.Process]::Start($psi)
    $out = $p.StandardOutput.ReadToEndAsync()
    $err = $p.StandardError.ReadToEndAsync()
    if (-not $p.WaitForExit($TimeoutSec * 1000)) { $p.Kill($true); throw "fresh pwsh did not finish within $TimeoutSec s" }
    [pscustomobject]@{ Output = $out.Result; Error = $err.Result; ExitCode = $p.ExitCode }
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

Export-ModuleMember -Function Get-PwshCommand, Get-PveHealthModulePath, Invoke-FreshPwsh, New-TestConfig
