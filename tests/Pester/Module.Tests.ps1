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

    It 'runs an SSH and an S3 code path with SSH.NET and Minio loaded only in the module''s own context' {
        $temp = Join-Path ([IO.Path]::GetTempPath()) "pvehealth-alc-$([guid]::NewGuid().ToString('n'))"
        New-Item -ItemType Directory $temp | Out-Null
        try {
            & ssh-keygen -q -t ed25519 -N '' -f "$temp/key"
            $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $l.Start(); $closed = $l.LocalEndpoint.Port; $l.Stop()
            $r = Invoke-FreshPwsh -Script @"
`$ssh = Test-PveVm -Name alc -Address 127.0.0.1 -Check Ssh -KeyFile '$temp/key' -KnownHostsFile /dev/null -SshPort $closed -InformationAction Ignore
`$cred = [pscredential]::new('AKIA', (ConvertTo-SecureString 'not-a-secret' -AsPlainText -Force))
`$s3 = Test-PveMinio -Endpoint http://127.0.0.1:$closed -Credential `$cred -Bucket tfstate -TimeoutSec 3 -InformationAction Ignore
'ssh=' + `$ssh.Detail
's3=' + ((`$s3 | Where-Object Check -eq Credentials).Detail)
foreach (`$name in 'Renci.SshNet', 'Minio') {
    `$a = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq `$name }
    "`$name in " + [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$a).Name
}
'default=' + @([System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies | Where-Object { `$_.GetName().Name -in 'Renci.SshNet', 'Minio' }).Count
"@
            $lines = $r.Output.Trim() -split "`n" | ForEach-Object Trim
            $lines | Should -Contain 'Renci.SshNet in PveHealth'
            $lines | Should -Contain 'Minio in PveHealth'
            $lines | Should -Contain 'default=0'
            ($lines | Where-Object { $_ -like 'ssh=*' }) | Should -BeLike 'ssh=connection refused*'
            ($lines | Where-Object { $_ -like 's3=*' }) | Should -Match 'refused|unreachable|no answer'
        }
        finally { Remove-Item -Recurse -Force $temp -ErrorAction SilentlyContinue }
    }
}
