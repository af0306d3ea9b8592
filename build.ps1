#requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests and demonstrates PveHealth.
.DESCRIPTION
    Tasks:
      Build  - compiles the C# projects and lays out an importable module in out/PveHealth
               (Import-Module ./out/PveHealth).
      Test   - tools/install-prerequisites.sh (as the demo: installs what is missing when root or password-less
               sudo allows, else says what to install), Build, then the xunit tests and the Pester tests (in a child pwsh); ends with
               "Tests: N passed, N failed[, N skipped]" and exits non-zero on any failure.
      Demo   - the health check against the local lab (see README).
      Package - Build, then packs out/PveHealth into out/packages/PveHealth.<version>.nupkg (Compress-PSResource),
               the package Publish-PSResource/Install-PSResource and deploy/install.sh take.
      Bench  - the benchmark at scale (not part of Test).
      Docs   - builds the MAML help from docs/en-US.
      Clean  - removes out/ and the build folders.
    Run through the pinned pwsh: dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test
.PARAMETER Task
    One or more tasks, run in order.
.PARAMETER Configuration
    Release (default) or Debug.
.PARAMETER TestFilter
    Only Pester tests whose full name matches this wildcard (the xunit tests still run unless -SkipUnit).
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Demo', 'Bench', 'Docs', 'Clean')]
    [string[]] $Task = @('Build'),
    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',
    [string] $TestFilter,
    [switch] $SkipUnit
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleOut = Join-Path $Out 'PveHealth'
$PesterVersion = '5.7.1'

function Invoke-Native {
    param([string] $Command, [string[]] $Arguments)
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

# The command line that starts a child pwsh like this one: the pinned tool runs as `dotnet pwsh.dll`.
function Get-PwshCommand {
    $self = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') { return @($self, (Join-Path $PSHOME 'pwsh.dll')) }
    @($self)
}

function Get-ModuleVersion {
    $props = [xml](Get-Content -Raw (Join-Path $Root 'Directory.Build.props'))
    $version = $props.Project.PropertyGroup.VersionPrefix | Where-Object { $_ } | Select-Object -First 1
    if (-not $version) { throw 'Directory.Build.props has no <VersionPrefix>.' }
    $version
}

function Invoke-Build {
    $version = Get-ModuleVersion
    Invoke-Native dotnet @('build', (Join-Path $Root 'src/PveHealth.PowerShell/PveHealth.PowerShell.csproj'), '-c', $Configuration, '-nologo', '-v', 'quiet', '-clp:ErrorsOnly')
    $engineBin = Join-Path $Root "src/PveHealth.Engine/bin/$Configuration/net8.0"
    $cmdletBin = Join-Path $Root "src/PveHealth.PowerShell/bin/$Configuration/net8.0"

    if (Test-Path $ModuleOut) { Remove-Item -Recurse -Force $ModuleOut }
    $deps = New-Item -ItemType Directory -Force (Join-Path $ModuleOut 'dependencies')
    New-Item -ItemType Directory -Force (Join-Path $ModuleOut 'en-US') | Out-Null

    Copy-Item (Join-Path $cmdletBin 'PveHealth.PowerShell.dll') $ModuleOut
    # The output types (no dependency but the framework) live in the default load context, beside the cmdlets.
    Copy-Item (Join-Path $cmdletBin 'PveHealth.Model.dll') $ModuleOut
    Copy-Item (Join-Path $Root 'src/PveHealth.PowerShell/PveHealth.Format.ps1xml') $ModuleOut
    Copy-Item (Join-Path $Root 'LICENSE') $ModuleOut

    # The engine and every third-party assembly go to dependencies/, loaded into the module's own
    # AssemblyLoadContext. The allow-list fails the build when an expected assembly is missing.
    $required = @('PveHealth.Engine.dll', 'Renci.SshNet.dll', 'Minio.dll', 'YamlDotNet.dll')
    foreach ($name in $required) {
        if (-not (Test-Path (Join-Path $engineBin $name))) { throw "Build output is missing $name in $engineBin." }
    }
    Get-ChildItem $engineBin -Filter *.dll | Where-Object Name -ne 'PveHealth.Model.dll' | Copy-Item -Destination $deps
    if (Test-Path (Join-Path $deps 'PveHealth.Model.dll')) { throw 'PveHealth.Model.dll must not be in dependencies/ (a second copy would be a second CheckStatus type).' }
    if (Test-Path (Join-Path $deps 'PveHealth.PowerShell.dll')) { throw 'PveHealth.PowerShell.dll must not be in dependencies/.' }
    if (Test-Path (Join-Path $ModuleOut 'System.Management.Automation.dll')) { throw 'System.Management.Automation.dll must not ship with the module.' }

    # Manifest with the version stamped from Directory.Build.props.
    $manifest = Get-Content -Raw (Join-Path $Root 'PveHealth.psd1')
    $manifest = $manifest -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$version'"
    Set-Content -Path (Join-Path $ModuleOut 'PveHealth.psd1') -Value $manifest -Encoding utf8NoBOM

    # The scheduled entry point (deploy/bin/pve-health-check.ps1) ships inside the module: <module>/bin/.
    $entryScripts = @(Get-ChildItem (Join-Path $Root 'deploy/bin') -Filter *.ps1 -ErrorAction SilentlyContinue)
    if ($entryScripts.Count -gt 0) {
        $binOut = New-Item -ItemType Directory -Force (Join-Path $ModuleOut 'bin')
        $entryScripts | Copy-Item -Destination $binOut
    }

    $docsScript = Join-Path $Root 'tools/Build-Help.ps1'
    if (Test-Path $docsScript) { & $docsScript -DocsPath (Join-Path $Root 'docs/en-US') -OutputPath (Join-Path $ModuleOut 'en-US') }
    Write-Host "Built PveHealth $version in $ModuleOut"
}

function Get-Pester {
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $psd1 = Join-Path $packages "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $psd1)) {
        Invoke-Native dotnet @('restore', (Join-Path $Root 'tools/Tools.csproj'), '-nologo', '-v', 'quiet')
    }
    if (-not (Test-Path $psd1)) { throw "Pester $PesterVersion was not restored to $psd1." }
    $psd1
}

# The Debian packages and the lab's npm install (tools/install-prerequisites.sh), as the demo does: quick when
# everything is there; installs as root or through password-less sudo, else names what is missing. The tests
# that need a missing piece are then skipped with the reason, the others still run.
function Invoke-Prerequisites {
    $script = Join-Path $Root 'tools/install-prerequisites.sh'
    if (-not $IsLinux -or -not (Test-Path $script)) { return }
    Push-Location $Root
    try {
        & bash $script
        if ($LASTEXITCODE) { Write-Warning "Some prerequisites are missing (see above; tools/install-prerequisites.sh exit $LASTEXITCODE): the tests that need them are skipped." }
    }
    finally { Pop-Location }
}

function Invoke-Test {
    Invoke-Prerequisites
    Invoke-Build
    $passed = 0; $failed = 0; $skipped = 0

    if (-not $SkipUnit) {
        $trxDir = Join-Path $Out 'TestResults'
        if (Test-Path $trxDir) { Remove-Item -Recurse -Force $trxDir }
        & dotnet test (Join-Path $Root 'tests/PveHealth.Engine.Tests/PveHealth.Engine.Tests.csproj') -c $Configuration -nologo `
            --logger 'trx;LogFileName=unit.trx' --results-directory $trxDir -v quiet
        $trx = Get-ChildItem $trxDir -Filter *.trx -Recurse | Select-Object -First 1
        if (-not $trx) { throw 'The xunit run produced no results file.' }
        $counters = ([xml](Get-Content -Raw $trx.FullName)).TestRun.ResultSummary.Counters
        $passed += [int]$counters.passed
        $failed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        $skipped += [int]$counters.notExecuted
        Write-Host "xunit: $($counters.passed) passed, $($counters.failed) failed, $($counters.notExecuted) skipped"
    }

    $pester = Get-Pester
    $resultFile = Join-Path $Out 'pester-result.json'
    if (Test-Path $resultFile) { Remove-Item $resultFile }
    $runner = Join-Path $Root 'tests/Invoke-PesterRun.ps1'
    $pwsh = Get-PwshCommand
    & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -File $runner -PesterPath $pester -ModulePath $ModuleOut -ResultPath $resultFile -Filter $TestFilter
    if (-not (Test-Path $resultFile)) {
        throw "The Pester run ended (exit code $LASTEXITCODE) without writing $resultFile."
    }
    $p = Get-Content -Raw $resultFile | ConvertFrom-Json
    $passed += $p.Passed; $failed += $p.Failed; $skipped += $p.Skipped
    $line = "Tests: $passed passed, $failed failed"
    if ($skipped -gt 0) { $line += ", $skipped skipped" }
    Write-Host $line
    if ($failed -gt 0 -or $p.Passed -eq 0) { exit 1 }
}

# The module package: what a PowerShell repository serves (Publish-PSResource -NupkgPath) and deploy/install.sh installs.
function Invoke-Package {
    Invoke-Build
    $packages = Join-Path $Out 'packages'
    if (Test-Path $packages) { Remove-Item -Recurse -Force $packages }
    $nupkg = & (Join-Path $Root 'tools/New-ModulePackage.ps1') -ModulePath $ModuleOut -DestinationPath $packages
    Write-Host "Packed $($nupkg.FullName) ($([math]::Round($nupkg.Length / 1MB, 1)) MB)"
}

function Invoke-Clean {
    foreach ($dir in @($Out) + (Get-ChildItem $Root -Recurse -Directory -Include bin, obj | Where-Object FullName -notmatch 'node_modules').FullName) {
        if ($dir -and (Test-Path $dir)) { Remove-Item -Recurse -Force $dir }
    }
}

function Invoke-Demo {
    $demo = Join-Path $Root 'tests/Lab/Start-Demo.ps1'
    if (-not (Test-Path $demo)) { throw 'The Demo task needs the local lab (tests/Lab), which is not in this version yet.' }
    Invoke-Build
    & $demo -ModulePath $ModuleOut
    if ($LASTEXITCODE) { exit $LASTEXITCODE }
}

function Invoke-Bench {
    $bench = Join-Path $Root 'bench/Invoke-Benchmark.ps1'
    if (-not (Test-Path $bench)) { throw 'The Bench task needs bench/Invoke-Benchmark.ps1, which is not in this version yet.' }
    Invoke-Build
    & $bench -ModulePath $ModuleOut
}

function Invoke-Docs {
    $docsScript = Join-Path $Root 'tools/Build-Help.ps1'
    if (-not (Test-Path $docsScript)) { throw 'The Docs task needs tools/Build-Help.ps1, which is not in this version yet.' }
    if (-not (Test-Path $ModuleOut)) { Invoke-Build; return }
    & $docsScript -DocsPath (Join-Path $Root 'docs/en-US') -OutputPath (Join-Path $ModuleOut 'en-US')
}

foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-Build }
        'Test' { Invoke-Test }
        'Package' { Invoke-Package }
        'Demo' { Invoke-Demo }
        'Bench' { Invoke-Bench }
        'Docs' { Invoke-Docs }
        'Clean' { Invoke-Clean }
    }
}
