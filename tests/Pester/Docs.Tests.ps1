# Drift tests: the help in docs/en-US and the cmdlets must agree, and the built help must work.
BeforeDiscovery {
    $script:Root = Split-Path (Split-Path $PSScriptRoot)
    $manifest = Import-PowerShellDataFile (Join-Path $script:Root 'PveHealth.psd1')
    $script:CmdletCases = $manifest.CmdletsToExport | ForEach-Object { @{ Name = $_ } }
    # Examples marked 'Runnable: offline' (docs/en-US/README.md) are run by the tests below.
    $parsed = & (Join-Path $script:Root 'tools/Build-Help.ps1') -DocsPath (Join-Path $script:Root 'docs/en-US') -ParseOnly
    $script:RunnableCases = @(foreach ($d in $parsed) {
            foreach ($e in $d.Examples) { if ($e.Runnable -eq 'offline') { @{ Name = $d.Name; Title = $e.Title; Code = $e.Code } } }
        })
    $script:LabRunnableCases = @(foreach ($d in $parsed) {
            foreach ($e in $d.Examples) { if ($e.Runnable -eq 'lab') { @{ Name = $d.Name; Title = $e.Title; Code = $e.Code } } }
        })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Get-PveHealthModulePath) -Force
    $script:Root = Split-Path (Split-Path $PSScriptRoot)
    $script:Converter = Join-Path $script:Root 'tools/Build-Help.ps1'
    $script:Docs = @{}
    foreach ($d in (& $script:Converter -DocsPath (Join-Path $script:Root 'docs/en-US') -ParseOnly)) { $script:Docs[$d.Name] = $d }
    $script:Common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

    function Get-TypeLabel([type] $Type) {
        $inner = [Nullable]::GetUnderlyingType($Type)
        if ($inner) { $Type = $inner }
        $Type.Name
    }
    function Get-PipelineLabel($Parameter) {
        $attrs = $Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
        $kinds = @()
        if ($attrs | Where-Object ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
        if ($attrs | Where-Object ValueFromPipeline) { $kinds += 'ByValue' }
        if ($kinds.Count -eq 0) { 'False' } else { "True ($($kinds -join ', '))" }
    }
}

Describe 'Help for <Name>' -ForEach $script:CmdletCases {
    BeforeAll {
        $script:Command = Get-Command $Name
        $script:Doc = $script:Docs[$Name]
    }

    It 'has docs/en-US/<Name>.md' {
        $script:Doc | Should -Not -BeNullOrEmpty -Because "every exported cmdlet is documented"
    }

    It 'documents every parameter with the type, mandatory and pipeline settings of the cmdlet' {
        $script:Doc | Should -Not -BeNullOrEmpty
        $actual = $script:Command.Parameters.Values | Where-Object { $_.Name -notin $script:Common -or $_.Name -in 'WhatIf', 'Confirm' }
        foreach ($p in $actual) {
            $documented = $script:Doc.Parameters | Where-Object Name -eq $p.Name
            $documented | Should -Not -BeNullOrEmpty -Because "-$($p.Name) of $Name must be documented"
            $meta = $documented.Meta[0]
            $meta['Type'] | Should -Be (Get-TypeLabel $p.ParameterType) -Because "the documented type of -$($p.Name)"
            $mandatory = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.Mandatory })
            ($documented.Meta | ForEach-Object { $_['Required'] -eq 'True' }) -contains $true | Should -Be $mandatory -Because "-$($p.Name) Required"
            $meta['Accept pipeline input'] | Should -Be (Get-PipelineLabel $p) -Because "-$($p.Name) pipeline input"
        }
    }

    It 'documents no parameter the cmdlet lacks' {
        $script:Doc | Should -Not -BeNullOrEmpty
        foreach ($d in $script:Doc.Parameters) {
            $script:Command.Parameters.ContainsKey($d.Name) | Should -BeTrue -Because "-$($d.Name) is documented for $Name"
        }
    }

    It 'has examples that parse' {
        $script:Doc | Should -Not -BeNullOrEmpty
        $script:Doc.Examples.Count | Should -BeGreaterThan 0
        foreach ($e in $script:Doc.Examples) {
            $errors = $null
            [System.Management.Automation.Language.Parser]::ParseInput($e.Code, [ref]$null, [ref]$errors) | Out-Null
            $errors | Should -BeNullOrEmpty -Because "example '$($e.Title)' of $Name must parse"
            $e.Code | Should -Match ([regex]::Escape($Name)) -Because 'an example shows the cmdlet'
        }
    }

    It 'shows the documented synopsis and examples through Get-Help in a fresh pwsh' {
        $script:Doc | Should -Not -BeNullOrEmpty
        $r = Invoke-FreshPwsh -Script "Get-Help $Name -Full | Out-String -Width 200"
        $r.ExitCode | Should -Be 0
        $r.Output | Should -Match ([regex]::Escape($script:Doc.Synopsis.Substring(0, [Math]::Min(40, $script:Doc.Synopsis.Length))))
        $r.Output | Should -Match 'Example 1'
    }
}

Describe 'about_PveHealth' {
    It 'is found by Get-Help' {
        $r = Invoke-FreshPwsh -Script 'Get-Help about_PveHealth | Out-String'
        $r.Output | Should -Match 'Health checks for a Proxmox VE estate'
    }
}

Describe 'The markdown to MAML converter' {
    BeforeAll {
        $script:Temp = Join-Path ([IO.Path]::GetTempPath()) "pvehealth-docs-$([guid]::NewGuid().ToString('n'))"
        New-Item -ItemType Directory $script:Temp | Out-Null
    }
    AfterAll { Remove-Item -Recurse -Force $script:Temp -ErrorAction SilentlyContinue }

    It 'writes valid MAML with one command per document' {
        $out = Join-Path $script:Temp 'out'
        & $script:Converter -DocsPath (Join-Path $script:Root 'docs/en-US') -OutputPath $out
        $xml = [xml](Get-Content -Raw (Join-Path $out 'PveHealth.PowerShell.dll-Help.xml'))
        $ns = [System.Xml.XmlNamespaceManager]::new($xml.NameTable)
        $ns.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')
        $names = $xml.SelectNodes('//command:command/command:details/command:name', $ns) | ForEach-Object InnerText
        $names | Should -Be ($script:Docs.Keys | Sort-Object)
    }

    It 'stops with the file and line when a section is missing' {
        $bad = Join-Path $script:Temp 'bad'
        New-Item -ItemType Directory $bad | Out-Null
        Set-Content (Join-Path $bad 'Get-Thing.md') "---`nexternal help file: X.dll-Help.xml`nModule Name: X`nschema: 2.0.0`n---`n`n# Get-Thing`n`n## SYNOPSIS`nDoes it.`n"
        { & $script:Converter -DocsPath $bad -OutputPath (Join-Path $bad 'out') } | Should -Throw "*Get-Thing.md:*missing section '## SYNTAX'*"
    }

    It 'stops when a parameter has no yaml block' {
        $bad = Join-Path $script:Temp 'bad2'
        New-Item -ItemType Directory $bad | Out-Null
        $doc = Get-Content -Raw (Join-Path $script:Root 'docs/en-US/Invoke-PveHealthCheck.md')
        $doc = $doc -replace '(?s)(### -All\r?\n.*?)```yaml.*?```', '$1'
        Set-Content (Join-Path $bad 'Invoke-PveHealthCheck.md') $doc
        { & $script:Converter -DocsPath $bad -OutputPath (Join-Path $bad 'out') } | Should -Throw '*parameter -All has no yaml block*'
    }

    It 'keeps the Runnable marker out of the help and rejects an unknown marker' {
        $out = Join-Path $script:Temp 'out-runnable'
        & $script:Converter -DocsPath (Join-Path $script:Root 'docs/en-US') -OutputPath $out
        $xml = Get-Content -Raw (Join-Path $out 'PveHealth.PowerShell.dll-Help.xml')
        $xml | Should -Match 'Example 6: The dry run of the example configuration'
        $xml | Should -Not -Match 'Runnable:'
        $bad = Join-Path $script:Temp 'bad3'
        New-Item -ItemType Directory $bad | Out-Null
        $doc = (Get-Content -Raw (Join-Path $script:Root 'docs/en-US/Invoke-PveHealthCheck.md')) -replace 'Runnable: offline', 'Runnable: sometimes'
        Set-Content (Join-Path $bad 'Invoke-PveHealthCheck.md') $doc
        { & $script:Converter -DocsPath $bad -OutputPath (Join-Path $bad 'out') } | Should -Throw "*expected 'Runnable: offline' or 'Runnable: lab'*"
    }
}


Describe 'Help examples marked Runnable: offline' {
    It 'some examples are marked runnable' -ForEach @(@{ Count = $script:RunnableCases.Count }) {
        $Count | Should -BeGreaterThan 0 -Because 'docs/en-US/README.md asks for offline examples where they exist'
    }

    It '<Name>: <Title> runs from the repository root in a fresh pwsh without error records' -ForEach $script:RunnableCases {
        # The example runs as written, its output rendered (so formatting errors count too); every error record,
        # terminating or not, fails the test and is printed.
        $root = $script:Root -replace "'", "''"
        $script = @"
Set-Location -LiteralPath '$root'
`$Error.Clear()
try { & {
$Code
} | Out-String -Width 200 | Out-Null }
catch { }
if (`$Error.Count) { foreach (`$e in `$Error) { [Console]::Error.WriteLine("ERROR RECORD: `$(`$e.FullyQualifiedErrorId): `$e") }; exit 1 }
exit 0
"@
        $r = Invoke-FreshPwsh -Script $script -TimeoutSec 120
        $r.Error | Should -Not -Match 'ERROR RECORD' -Because "example '$Title' of $Name must not write errors"
        $r.ExitCode | Should -Be 0 -Because "example '$Title' of $Name must succeed: $($r.Error)"
    }
}

Describe 'Help examples marked Runnable: lab' -Skip:((& id -u) -ne '0') {
    # Run inside the lab's namespace, with $env:PVE_HEALTH_CONFIG pointing at the lab's configuration, as an
    # administrator's shell would have it. Without root there is no lab: skipped.
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot '../Lab/PveLab.psm1') -Force
        $script:DocLab = Start-PveLab -Drift   # the Drift examples (Test-PveDrift) need the scripted drift; the others do not mind it
    }
    AfterAll { if ($script:DocLab) { Stop-PveLab $script:DocLab } }

    It 'some examples are marked for the lab' -ForEach @(@{ Count = $script:LabRunnableCases.Count }) {
        $Count | Should -BeGreaterThan 0
    }

    It '<Name>: <Title> runs in the lab without error records' -ForEach $script:LabRunnableCases {
        $r = Invoke-InPveLab -Lab $script:DocLab -ModulePath (Get-PveHealthModulePath) -ArgumentList @($Code, $script:Root) -ScriptBlock {
            param($Code, $Root)
            $env:PVE_HEALTH_CONFIG = $Lab.ConfigPath
            Set-Location -LiteralPath $Root
            $Error.Clear()
            $text = try { & ([scriptblock]::Create($Code)) 6>&1 3>&1 | Out-String -Width 200 } catch { "threw: $_" }
            [pscustomobject]@{ Errors = @($Error | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" }); Text = $text }
        }
        $r.Errors | Should -BeNullOrEmpty -Because "example '$Title' of $Name must run in the lab without errors"
        $r.Text | Should -Not -BeNullOrEmpty -Because 'the example shows something'
    }
}

Describe 'Help: the operator guide docs/HEALTH-CHECKS.md' {
    BeforeAll {
        $script:Guide = Get-Content -Raw -ErrorAction Stop (Join-Path $script:Root 'docs/HEALTH-CHECKS.md')
        # The engine loads into the module's own AssemblyLoadContext on first use.
        Get-PveInventory -Path (Join-Path $script:Root 'examples/inventory.yaml') | Out-Null
        $engine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'PveHealth.Engine' } | Select-Object -First 1
        $script:ConfigRoot = $engine.GetType('PveHealth.Configuration.PveHealthConfig', $true)

        # Every JSON key of the configuration classes, as a dotted path: environments.<name>.proxmox.tokenSecret.file
        function Get-ConfigKey([type] $Type, [string] $Prefix, [int] $Depth = 0) {
            if ($Depth -gt 6) { throw "configuration classes nest deeper than expected at $Prefix" }
            $section = $Type.Assembly.GetType('PveHealth.Configuration.ConfigSection', $true)
            foreach ($p in $Type.GetProperties([Reflection.BindingFlags]'Public, Instance')) {
                if ($p.Name -eq 'UnknownKeys') { continue }
                if ($p.GetCustomAttributes($true) | Where-Object { $_ -is [System.Text.Json.Serialization.JsonIgnoreAttribute] }) { continue }
                $named = $p.GetCustomAttributes($true) | Where-Object { $_ -is [System.Text.Json.Serialization.JsonPropertyNameAttribute] }
                $json = if ($named) { $named.Name } else { [System.Text.Json.JsonNamingPolicy]::CamelCase.ConvertName($p.Name) }
                $path = if ($Prefix) { "$Prefix.$json" } else { $json }
                $t = $p.PropertyType
                if ($t.IsGenericType -and $t.GetGenericTypeDefinition() -eq [System.Collections.Generic.Dictionary`2]) {
                    Get-ConfigKey $t.GetGenericArguments()[1] "$path.<name>" ($Depth + 1)
                }
                elseif ($t.Name -eq 'SecretReference') { $path }   # a secret reference: its keys get their own rows below
                elseif ($section.IsAssignableFrom($t)) {
                    Get-ConfigKey $t $path ($Depth + 1)
                }
                else { $path }
            }
        }
        $script:ConfigKeys = @(Get-ConfigKey $script:ConfigRoot '')
        $script:ConfigKeys += @(Get-ConfigKey $engine.GetType('PveHealth.Configuration.SecretReference', $true) '<secret>')
    }

    It 'finds the configuration keys by reflection' {
        $script:ConfigKeys | Should -Contain 'defaults.timeoutSec'
        $script:ConfigKeys | Should -Contain 'environments.<name>.proxmox.tokenSecret'
        $script:ConfigKeys | Should -Contain '<secret>.file'
        $script:ConfigKeys.Count | Should -BeGreaterThan 40
    }

    It 'has a configuration reference row for every key of the configuration classes' {
        $missing = @($script:ConfigKeys | Where-Object { $script:Guide -notmatch ('(?m)^\|\s*`' + [regex]::Escape($_) + '`\s*\|') })
        $missing | Should -BeNullOrEmpty -Because 'docs/HEALTH-CHECKS.md documents every configuration key in its reference table'
    }

    It 'names every metric series the exporter writes' {
        $writer = Get-Content -Raw (Join-Path $script:Root 'src/PveHealth.Engine/Metrics/PrometheusTextWriter.cs')
        $series = @([regex]::Matches($writer, 'Family\(sb, "(\w+)"') | ForEach-Object { $_.Groups[1].Value } | Sort-Object -Unique)
        $series.Count | Should -BeGreaterThan 0
        $missing = @($series | Where-Object { $script:Guide -notmatch ('(?m)^\|\s*`' + [regex]::Escape($_) + '`\s*\|') })
        $missing | Should -BeNullOrEmpty -Because 'docs/HEALTH-CHECKS.md has a row in its metrics table for every series'
    }
}
