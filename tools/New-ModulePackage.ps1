<#
.SYNOPSIS
    Packs a built module folder (out/PveHealth) into <DestinationPath>/PveHealth.<version>.nupkg.
.DESCRIPTION
    The one packing step: build.ps1 -Task Package and the package tests (tests/Pester/Package.Tests.ps1) both
    use it. Compress-PSResource (PSResourceGet, shipped with PowerShell 7.4+) validates the manifest and writes
    the nuspec from it (ProjectUri, LicenseUri, Tags, ReleaseNotes): what Publish-PSResource -NupkgPath sends to a
    repository and deploy/install.sh --package installs. Nothing here contacts a repository. Returns the file.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $DestinationPath
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$manifest = Import-PowerShellDataFile (Join-Path $ModulePath 'PveHealth.psd1')
foreach ($key in 'ProjectUri', 'LicenseUri', 'ReleaseNotes') {
    if (-not $manifest.PrivateData.PSData[$key]) { throw "The manifest has no PrivateData.PSData.$key (a gallery needs it)." }
}
New-Item -ItemType Directory -Force $DestinationPath | Out-Null
$nupkg = Join-Path $DestinationPath "PveHealth.$($manifest.ModuleVersion).nupkg"
if (Test-Path $nupkg) { Remove-Item -Force $nupkg }
Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
Compress-PSResource -Path $ModulePath -DestinationPath $DestinationPath
if (-not (Test-Path $nupkg)) { throw "Compress-PSResource did not write $nupkg." }
Get-Item $nupkg
