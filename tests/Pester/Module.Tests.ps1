BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:ModulePath = Get-PveHealthModulePath
    Import-Module $script:ModulePath -Force
}

Describe 'Module layout' {
    It 'exports exactly the cmdlets the manifest lists' {
        $manifest = Import-PowerShellDataFile (Join-Path $script:ModulePath 'PveHealth.psd1')
        $exported = (Get-Module PveHealth).ExportedCmdlets.Keys | Sort-Object
        $exported | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'stamps the version from Directory.Build.props into the built manifest' {
        $props = [xml](Get-Content -Raw (Join-Path $PSScriptRoot '../../Directory.Build.props'))
        $expected = @($props.Project.PropertyGroup.VersionPrefix | Where-Object { $_ })[0]
        (Get-Module PveHealth).Version.ToString() | Should -Be $expected
    }

    It 'ships third-party assemblies only under dependencies/' {
        $top = Get-ChildItem $script:ModulePath -Filter *.dll | ForEach-Object Name
        $top | Should -Be @('PveHealth.PowerShell.dll')
        Test-Path (Join-Path $script:ModulePath 'dependencies/Renci.SshNet.dll') | Should -BeTrue
        Test-Path (Join-Path $script:ModulePath 'dependencies/Minio.dll') | Should -BeTrue
    }

    It 'loads the engine into its own AssemblyLoadContext, not the default one' {
        $r = Invoke-FreshPwsh -Script @'
Test-PveVm -Name local -Address 127.0.0.1 -Check Ping | Out-Null
$engine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'PveHealth.Engine' }
[System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($engine).Name
([System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies | Where-Object { $_.GetName().Name -match '^(PveHealth.Engine|Renci.SshNet|Minio|YamlDotNet)$' }).Count
'@
        $r.ExitCode | Should -Be 0
        $lines = $r.Output.Trim() -split "`n" | ForEach-Object Trim
        $lines[0] | Should -Be 'PveHealth'
        $lines[1] | Should -Be '0'
    }
}
