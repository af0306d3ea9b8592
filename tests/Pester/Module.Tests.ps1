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
        $top = Get-ChildItem $script:ModulePath -Filter *.dll | ForEach-Object Name | Sort-Object
        $top | Should -Be @('PveHealth.Model.dll', 'PveHealth.PowerShell.dll')
        Test-Path (Join-Path $script:ModulePath 'dependencies/PveHealth.Model.dll') | Should -BeFalse
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

    It 'the output types are nameable from scripts: -is, casts, comparisons, one type shared with the engine' {
        $r = Invoke-FreshPwsh -Script @'
$results = @(Test-PveVm -Name local -Address 127.0.0.1 -Check Ping -InformationAction Ignore)
$r = $results[0]
'is=' + ($r -is [PveHealth.Model.CheckResult])
'status-is=' + ($r.Status -is [PveHealth.Model.CheckStatus])
'cast=' + [PveHealth.Model.CheckStatus]'Critical'
'critical=' + [int][PveHealth.Model.CheckStatus]::Critical
'compare=' + ([PveHealth.Model.CheckStatus]::Critical -gt [PveHealth.Model.CheckStatus]::Warning)
'eq=' + ($r.Status -eq [PveHealth.Model.CheckStatus]::Ok)
'guestkind=' + [PveHealth.Model.GuestKind]::Lxc
'guest-is=' + ([PveHealth.Model.Guest]::new('g', 'Vm') -is [PveHealth.Model.Guest])
'model-alc=' + [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext([PveHealth.Model.CheckResult].Assembly).Name
'model-copies=' + @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'PveHealth.Model' }).Count
'@
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $lines = $r.Output.Trim() -split "`n" | ForEach-Object Trim
        $lines | Should -Contain 'is=True'
        $lines | Should -Contain 'status-is=True'
        $lines | Should -Contain 'cast=Critical'
        $lines | Should -Contain 'compare=True'
        $lines | Should -Contain 'eq=True'
        $lines | Should -Contain 'guestkind=Lxc'
        $lines | Should -Contain 'guest-is=True'
        $lines | Should -Contain 'model-alc=Default'
        $lines | Should -Contain 'model-copies=1'
        ($lines | Where-Object { $_ -like 'critical=*' }) | Should -Match '^critical=\d+$'
    }

    It 'Remove-Module then Import-Module works in one session; OnRemove unhooks the resolver OnImport hooked' {
        $module = Get-PveHealthModulePath
        $r = Invoke-FreshPwsh -Script @"
`$flag = (Get-Module PveHealth).ImplementingAssembly.GetType('PveHealth.PowerShell.ModuleInitializer').GetProperty('IsRegistered', [Reflection.BindingFlags]'NonPublic,Static')
'imported=' + `$flag.GetValue(`$null)
`$before = @(Get-Command -Module PveHealth).Count
`$a = @(Test-PveVm -Name local -Address 127.0.0.1 -Check Ping -InformationAction Ignore)
Remove-Module PveHealth
'removed=' + `$flag.GetValue(`$null) + ' commands=' + @(Get-Command -Module PveHealth -ErrorAction Ignore).Count
Import-Module '$module'
'reimported=' + `$flag.GetValue(`$null) + ' same-commands=' + (@(Get-Command -Module PveHealth).Count -eq `$before -and `$before -gt 0)
`$b = @(Test-PveVm -Name local -Address 127.0.0.1 -Check Ping -InformationAction Ignore)
'status=' + `$b[0].Status + ' same-type=' + (`$b[0].GetType() -eq `$a[0].GetType()) + ' is=' + (`$b[0].Status -is [PveHealth.Model.CheckStatus])
'engines=' + @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'PveHealth.Engine' }).Count
"@
        $r.ExitCode | Should -Be 0 -Because $r.Output
        $lines = $r.Output.Trim() -split "`n" | ForEach-Object Trim
        $lines | Should -Contain 'imported=True'
        $lines | Should -Contain 'removed=False commands=0'
        $lines | Should -Contain 'reimported=True same-commands=True'
        $lines | Should -Contain 'status=Ok same-type=True is=True'
        $lines | Should -Contain 'engines=1'
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
