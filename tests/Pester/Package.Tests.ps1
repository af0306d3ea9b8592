# The module package: packed by tools/New-ModulePackage.ps1 (build.ps1 -Task Package), published to a PowerShell
# repository that is a local folder, installed with Install-PSResource into a clean module path and used from a
# fresh pwsh. No network: each child pwsh gets its own PSResourceGet store (XDG_DATA_HOME) with PSGallery
# unregistered, and every command names the local repository.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:ModulePath = Get-PveHealthModulePath
    $script:Root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "pvehealth-package-$([guid]::NewGuid().ToString('N'))")).FullName
    # The child's HOME: PSResourceGet keeps its repository store under XDG_DATA_HOME and installs -Scope CurrentUser
    # under HOME/.local/share/powershell/Modules, so both point into this test's folder.
    $script:ChildHome = (New-Item -ItemType Directory (Join-Path $script:Work 'home')).FullName
    $script:Data = (New-Item -ItemType Directory -Force (Join-Path $script:ChildHome '.local/share')).FullName
    # NuGet (inside PSResourceGet) keeps NuGet/NuGet.Config under ~/.config; were it missing, .NET would give it an
    # empty folder and the file would land in the current directory (the repository).
    $null = New-Item -ItemType Directory -Force (Join-Path $script:ChildHome '.config')
    $script:Repo = (New-Item -ItemType Directory (Join-Path $script:Work 'repo')).FullName
    $script:Version = (Import-PowerShellDataFile (Join-Path $script:ModulePath 'PveHealth.psd1')).ModuleVersion
    # The package, as build.ps1 -Task Package makes it (the same script).
    $script:Nupkg = (& (Join-Path $script:Root 'tools/New-ModulePackage.ps1') -ModulePath $script:ModulePath -DestinationPath (Join-Path $script:Work 'pack')).FullName

    # A pwsh with nothing of this session: its own PSResourceGet store and module path.
    function script:Invoke-CleanPwsh {
        param([string] $Script, [hashtable] $Environment = @{})
        $pwsh = @(Get-PwshCommand)
        $envs = @{ HOME = $script:ChildHome; XDG_DATA_HOME = $script:Data; PSModulePath = "$(Join-Path $script:Data 'powershell/Modules')$([IO.Path]::PathSeparator)$(Join-Path $PSHOME 'Modules')" }
        foreach ($k in $Environment.Keys) { $envs[$k] = $Environment[$k] }
        Invoke-Program -File $pwsh[0] -Arguments (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', "`$ErrorActionPreference = 'Stop'; $Script")) -Environment $envs -TimeoutSec 180 -Echo
    }
}

AfterAll {
    if ($script:Work -and (Test-Path $script:Work)) { Remove-Item -Recurse -Force $script:Work -ErrorAction SilentlyContinue }
}

Describe 'Module package (Publish-PSResource / Install-PSResource round trip)' {
    BeforeAll {
        # Publish and install once; the tests below read what happened and use the installed module.
        $script:Installed = Invoke-CleanPwsh -Script @"
if (-not [Environment]::GetFolderPath('UserProfile').StartsWith('$($script:Work)')) { throw 'HOME is not the test folder: not installing.' }
Unregister-PSResourceRepository -Name PSGallery -ErrorAction SilentlyContinue
Register-PSResourceRepository -Name PveHealthLocal -Uri '$($script:Repo)' -Trusted
Publish-PSResource -NupkgPath '$($script:Nupkg)' -Repository PveHealthLocal
'published=' + (Get-ChildItem '$($script:Repo)' -Filter *.nupkg).Name
'found=' + ((Find-PSResource -Name PveHealth -Repository PveHealthLocal) | ForEach-Object { "`$(`$_.Name) `$(`$_.Version)" })
`$i = Install-PSResource -Name PveHealth -Repository PveHealthLocal -TrustRepository -Scope CurrentUser -PassThru
'installed=' + `$i.Name + ' ' + `$i.Version + ' in ' + `$i.InstalledLocation
'repositories=' + ((Get-PSResourceRepository).Name -join ',')
"@
    }

    It 'packs a .nupkg whose nuspec carries the gallery metadata from the manifest' {
        Split-Path -Leaf $script:Nupkg | Should -Be "PveHealth.$($script:Version).nupkg"
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($script:Nupkg)
        try {
            $entries = $zip.Entries.FullName
            $reader = [IO.StreamReader]::new($zip.GetEntry('PveHealth.nuspec').Open())
            $nuspec = [xml]$reader.ReadToEnd(); $reader.Dispose()
        }
        finally { $zip.Dispose() }
        foreach ($f in 'PveHealth.psd1', 'PveHealth.PowerShell.dll', 'PveHealth.Model.dll', 'LICENSE', 'bin/pve-health-check.ps1', 'dependencies/PveHealth.Engine.dll', 'en-US/PveHealth.PowerShell.dll-Help.xml') {
            $entries | Should -Contain $f
        }
        $m = $nuspec.package.metadata
        $m.projectUrl | Should -Be 'https://github.com/pvehealth/PveHealth'
        $m.licenseUrl | Should -Match '^https://github\.com/pvehealth/PveHealth/.+/LICENSE$'
        $m.releaseNotes | Should -Not -BeNullOrEmpty
        $m.tags -split ' ' | Should -Contain 'Proxmox'
    }

    It 'publishes to a local file repository and installs into a clean module path' {
        $r = $script:Installed
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $lines = $r.Output -split "`n" | ForEach-Object Trim
        $lines | Should -Contain "published=PveHealth.$($script:Version).nupkg"
        $lines | Should -Contain "found=PveHealth $($script:Version)"
        $lines | Should -Contain 'repositories=PveHealthLocal'
        ($lines | Where-Object { $_ -like 'installed=*' }) | Should -Be "installed=PveHealth $($script:Version) in $(Join-Path $script:Data 'powershell/Modules')"
        Test-Path (Join-Path $script:Data "powershell/Modules/PveHealth/$($script:Version)/bin/pve-health-check.ps1") | Should -BeTrue
        Test-Path (Join-Path $script:ChildHome '.config/NuGet/NuGet.Config') | Should -BeTrue -Because 'NuGet keeps its settings in the child HOME'
        Test-Path (Join-Path $script:Root 'NuGet') | Should -BeFalse -Because 'nothing is written into the repository'
    }

    It 'a fresh pwsh imports the installed module by name; Get-Help, Get-Help -Online and a -WhatIf run work' {
        $tf = Join-Path $script:Work 'tf.json'
        '{"guests":{"sensitive":false,"type":"list","value":[{"name":"web-01","address":"127.0.0.1"}]}}' | Set-Content $tf
        $config = New-TestConfig -Folder $script:Work -Environments @{ lab = @{ inventory = @{ source = 'terraform-output'; path = $tf }; checks = @('Ping') } }
        # Get-Help -Online hands the URI to xdg-open: a stand-in first on PATH records it instead of starting a browser.
        $bin = New-Item -ItemType Directory -Force (Join-Path $script:Work 'bin')
        $opened = Join-Path $script:Work 'opened.txt'
        Set-Content (Join-Path $bin 'xdg-open') "#!/bin/sh`necho `"`$1`" >> '$opened'`n"
        & chmod +x (Join-Path $bin 'xdg-open')
        $r = Invoke-CleanPwsh -Environment @{ PATH = "$bin$([IO.Path]::PathSeparator)$env:PATH" } -Script @"
Import-Module PveHealth
'base=' + (Get-Module PveHealth).ModuleBase
`$help = Get-Help Invoke-PveHealthCheck -Full
'synopsis=' + `$help.Synopsis
'examples=' + @(`$help.examples.example).Count
Get-Help Invoke-PveHealthCheck -Online
`$results = @(Invoke-PveHealthCheck -ConfigPath '$config' -All -ExclusionPath /dev/null -WhatIf)
'results=' + `$results.Count
"@
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $lines = $r.Output -split "`n" | ForEach-Object Trim
        $lines | Should -Contain "base=$(Join-Path $script:Data "powershell/Modules/PveHealth/$($script:Version)")"
        ($lines | Where-Object { $_ -like 'synopsis=*' }) | Should -Not -Be 'synopsis='
        ($lines | Where-Object { $_ -like 'synopsis=*' }) | Should -Not -Match 'Invoke-PveHealthCheck \['
        [int](($lines | Where-Object { $_ -like 'examples=*' }) -replace 'examples=') | Should -BeGreaterThan 0
        (Get-Content $opened).Trim() | Should -Be 'https://github.com/pvehealth/PveHealth/blob/main/docs/en-US/Invoke-PveHealthCheck.md'
        # The dry run lists the planned check, contacts nothing and returns no result.
        $lines | Should -Contain 'What if: Performing the operation "Ping" on target "lab/Ping on web-01 (127.0.0.1)".'
        $lines | Should -Contain 'What if: 1 check planned in lab.'
        $lines | Should -Contain 'results=0'
    }
}

Describe 'deploy/install.sh --package' {
    It 'installs the module from the package (not from a build folder) and refuses a missing one' {
        $dest = Join-Path $script:Work 'dest'
        $r = Invoke-Program -File 'bash' -Arguments @((Join-Path $script:Root 'deploy/install.sh'), '--skip-pwsh', '--package', $script:Nupkg) -Environment @{ DESTDIR = $dest } -Echo
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $r.Output | Should -Match "package $([regex]::Escape($script:Nupkg))"
        $moddir = Join-Path $dest 'usr/local/share/powershell/Modules/PveHealth'
        (Get-ChildItem $moddir).Name | Sort-Object | Should -Be (Get-ChildItem $script:ModulePath).Name
        Get-FileHash (Join-Path $moddir 'PveHealth.PowerShell.dll') | ForEach-Object Hash | Should -Be (Get-FileHash (Join-Path $script:ModulePath 'PveHealth.PowerShell.dll')).Hash
        $bad = Invoke-Program -File 'bash' -Arguments @((Join-Path $script:Root 'deploy/install.sh'), '--skip-pwsh', '--package', (Join-Path $script:Work 'none.nupkg')) -Environment @{ DESTDIR = (Join-Path $script:Work 'dest3') }
        $bad.ExitCode | Should -Be 1
        $bad.Error | Should -Match 'no package .*build\.ps1 -Task Package'
    }
}
