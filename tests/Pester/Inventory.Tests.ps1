BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Get-PveHealthModulePath) -Force
    $script:Examples = Join-Path $PSScriptRoot '../../examples'
    $script:FakeDir = (Resolve-Path (Join-Path $PSScriptRoot '../Support/fake-terraform')).Path
    $script:FakeTerraform = Join-Path $script:FakeDir 'terraform'
    $script:Secret = 'Sup3r-Secret-Value-42'

    $script:OutputFile = Join-Path $TestDrive 'output.json'
    @'
{
  "vms": { "sensitive": false, "type": "map", "value": {
    "web-01": { "ip": "127.0.0.11/8", "vmid": 101, "node": "pve1", "tags": "web;frontend" },
    "db-01":  { "ip": "127.0.0.12", "vmid": 102, "node": "pve2", "tags": ["db"] } } },
  "containers": { "sensitive": false, "type": "list", "value": [
    { "hostname": "cache-01", "ipv4_address": "127.0.0.21", "vmid": 201 } ] },
  "guest_ips": { "sensitive": false, "type": "map", "value": { "app-01": "127.0.0.31/24" } },
  "bpg_vms": { "sensitive": false, "type": "map", "value": {
    "mon-01": { "vm_id": 301, "node_name": "pve3", "ipv4_addresses": [["127.0.0.1"], [], ["127.0.0.41"]] } } },
  "db_password": { "sensitive": true, "type": "string", "value": "SECRET_PLACEHOLDER" },
  "secret_hosts": { "sensitive": true, "type": "map", "value": { "vault-01": { "ip": "127.0.0.51", "vmid": { "token": "SECRET_PLACEHOLDER" } } } }
}
'@.Replace('SECRET_PLACEHOLDER', $script:Secret) | Set-Content -Path $script:OutputFile -Encoding utf8NoBOM

    $script:StateFile = Join-Path $TestDrive 'terraform.tfstate'
    @{
        version = 4; terraform_version = '1.9.5'; serial = 7; lineage = 'b0c1'; resources = @(); check_results = $null
        outputs = @{ guests = @{ type = 'list'; value = @(@{ name = 'st-01'; address = '127.0.0.61'; type = 'lxc'; vmid = 'pve1/lxc/601' }) } }
    } | ConvertTo-Json -Depth 10 | Set-Content -Path $script:StateFile -Encoding utf8NoBOM
}

Describe 'Get-PveInventory -Path' {
    It 'reads terraform output -json text in all three shapes, skipping sensitive outputs' {
        $guests = Get-PveInventory -Path $script:OutputFile
        ($guests.Name | Sort-Object) | Should -Be @('app-01', 'cache-01', 'db-01', 'mon-01', 'web-01')
        $web = $guests | Where-Object Name -eq 'web-01'
        $web.Address | Should -Be '127.0.0.11'
        $web.VmId | Should -Be 101
        $web.Node | Should -Be 'pve1'
        $web.Kind.ToString() | Should -Be 'Vm'
        $web.Tags | Should -Be @('web', 'frontend')
        $web.Source | Should -Be $script:OutputFile
        ($guests | Where-Object Name -eq 'cache-01').Kind.ToString() | Should -Be 'Lxc'
        ($guests | Where-Object Name -eq 'app-01').Address | Should -Be '127.0.0.31'
        ($guests | Where-Object Name -eq 'mon-01').Address | Should -Be '127.0.0.41'
        $guests.Name | Should -Not -Contain 'vault-01'
    }

    It 'reads a sensitive output only when named, and never prints its values' {
        $err = $null
        try { Get-PveInventory -Path $script:OutputFile -OutputName secret_hosts -ErrorAction Stop } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'InventoryInvalid,*'
        $err.ToString() | Should -BeLike "*`$.secret_hosts.value.vault-01.vmid*"
        ($err | Out-String) | Should -Not -Match $script:Secret
        $err.Exception.ToString() | Should -Not -Match $script:Secret
    }

    It '-OutputName and -DefaultKind choose outputs and the kind' {
        $g = Get-PveInventory -Path $script:OutputFile -OutputName guest_ips -DefaultKind Lxc
        $g.Name | Should -Be 'app-01'
        $g.Kind.ToString() | Should -Be 'Lxc'
    }

    It 'reads the outputs of a Terraform state v4 file' {
        $g = Get-PveInventory -Path $script:StateFile -Environment prod
        $g.Name | Should -Be 'st-01'
        $g.Kind.ToString() | Should -Be 'Lxc'
        $g.VmId | Should -Be 601
        $g.Environment | Should -Be 'prod'
    }

    It 'reads YAML and JSON inventory files, grouped or not' {
        $yaml = Get-PveInventory -Path (Join-Path $script:Examples 'inventory.yaml')
        ($yaml.Name | Sort-Object) | Should -Be @('cache-01', 'web-01', 'web-stg-01')
        ($yaml | Where-Object Name -eq 'web-stg-01').Environment | Should -Be 'staging'
        (Get-PveInventory -Path (Join-Path $script:Examples 'inventory.yaml') -Environment st*).Name | Should -Be 'web-stg-01'
        $json = Get-PveInventory -Path (Join-Path $script:Examples 'inventory.json')
        $json.Count | Should -Be 3
        ($json | Where-Object Name -eq 'cache-01').Source | Should -BeLike 'inventory:*inventory.json'
    }

    It '-Kind and -Name filter the guests' {
        (Get-PveInventory -Path $script:OutputFile -Kind Lxc).Name | Should -Be 'cache-01'
        (Get-PveInventory -Path $script:OutputFile -Name 'web-*', 'DB-0?' | ForEach-Object Name | Sort-Object) | Should -Be @('db-01', 'web-01')
        { Get-PveInventory -Path $script:OutputFile -Kind Toaster } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }

    It 'names the file and the JSON path or line of malformed input' {
        $bad = Join-Path $TestDrive 'bad.json'
        "{`n  `"vms`": { `"value`": [ }`n}" | Set-Content $bad
        $e = { Get-PveInventory -Path $bad } | Should -Throw -ErrorId 'InventoryInvalid,*' -PassThru
        $e.ToString() | Should -BeLike "$bad`: invalid JSON at line 2*"

        $typed = Join-Path $TestDrive 'typed.yaml'
        "guests:`n  - name: a`n    vmid: many`n" | Set-Content $typed
        $e = { Get-PveInventory -Path $typed } | Should -Throw -ErrorId 'InventoryInvalid,*' -PassThru
        $e.ToString() | Should -Be "$typed`: `$.guests[0]: the VMID must be a positive whole number (line 2)."
    }

    It 'reports a missing file as InventoryUnreadable' {
        { Get-PveInventory -Path (Join-Path $TestDrive 'nope.json') } | Should -Throw -ErrorId 'InventoryUnreadable,*'
    }
}

Describe 'Get-PveInventory from the pipeline' {
    It 'reads terraform output -json text piped line by line' {
        $g = Get-Content $script:OutputFile | Get-PveInventory -Environment lab -Name web-01
        $g.Name | Should -Be 'web-01'
        $g.Environment | Should -Be 'lab'
        $g.Source | Should -Be 'pipeline'
    }

    It 'rejects text that is not JSON with the line' {
        { 'not json' | Get-PveInventory } | Should -Throw -ErrorId 'InventoryInvalid,*' -ExpectedMessage 'pipeline: invalid JSON at line 1*'
    }
}

Describe 'Get-PveInventory -TerraformDirectory' {
    BeforeAll {
        $script:TfDir = Join-Path $TestDrive 'tf'
        New-Item -ItemType Directory $script:TfDir | Out-Null
        $script:Log = Join-Path $TestDrive 'terraform-calls.log'
        $script:ChildEnv = @{ PATH = "$($script:FakeDir)$([IO.Path]::PathSeparator)$env:PATH"; FAKE_TERRAFORM_LOG = $script:Log; FAKE_TERRAFORM_OUTPUT = $script:OutputFile }
    }

    It 'runs terraform output -json in the folder (terraform found on PATH)' {
        $r = Invoke-FreshPwsh -Environment $script:ChildEnv -Script "Get-PveInventory -TerraformDirectory '$($script:TfDir)' -Environment prod | ForEach-Object { '{0}|{1}|{2}' -f `$_.Name, `$_.Address, `$_.Environment }"
        $r.ExitCode | Should -Be 0
        ($r.Output.Trim() -split "`n" | ForEach-Object Trim | Sort-Object) | Should -Be @('app-01|127.0.0.31|prod', 'cache-01|127.0.0.21|prod', 'db-01|127.0.0.12|prod', 'mon-01|127.0.0.41|prod', 'web-01|127.0.0.11|prod')
        @(Get-Content $script:Log)[-1] | Should -Be "$($script:TfDir)`toutput -json"
        $r.Output + $r.Error | Should -Not -Match $script:Secret
    }

    It '-TerraformExecutable runs the given program' {
        $g = Get-PveInventory -TerraformDirectory $script:TfDir -TerraformExecutable $script:FakeTerraform -Name cache-01
        $g.Name | Should -Be 'cache-01'
        $g.Source | Should -BeLike 'terraform output -json in *'
    }

    It 'a failing terraform is TerraformFailed with its stderr' {
        $envs = $script:ChildEnv.Clone(); $envs.FAKE_TERRAFORM_EXIT = '1'; $envs.FAKE_TERRAFORM_STDERR = 'Error: Failed to load state: AccessDenied'
        $r = Invoke-FreshPwsh -Environment $envs -Script "try { Get-PveInventory -TerraformDirectory '$($script:TfDir)' -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.ToString() }"
        $r.Output | Should -Match 'TerraformFailed,'
        $r.Output | Should -Match 'exit code 1: Error: Failed to load state: AccessDenied'
    }

    It '-TimeoutSec stops a hanging terraform: TerraformTimeout' {
        $envs = $script:ChildEnv.Clone(); $envs.FAKE_TERRAFORM_SLEEP = '60'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $r = Invoke-FreshPwsh -Environment $envs -Script "try { Get-PveInventory -TerraformDirectory '$($script:TfDir)' -TimeoutSec 1 -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.ToString() }"
        $clock.Stop()
        $r.Output | Should -Match 'TerraformTimeout,'
        $r.Output | Should -Match 'did not finish within 1 s'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 45
    }

    It 'runs tofu when terraform is not on PATH' {
        $tofuDir = (New-Item -ItemType Directory (Join-Path $TestDrive 'tofu-only')).FullName
        New-Item -ItemType SymbolicLink -Path (Join-Path $tofuDir 'tofu') -Target $script:FakeTerraform | Out-Null
        $envs = $script:ChildEnv.Clone(); $envs.PATH = "$tofuDir$([IO.Path]::PathSeparator)/usr/bin$([IO.Path]::PathSeparator)/bin"
        $r = Invoke-FreshPwsh -Environment $envs -Script "(Get-PveInventory -TerraformDirectory '$($script:TfDir)' -Name web-01).Source"
        $r.ExitCode | Should -Be 0
        $r.Output.Trim() | Should -Be "tofu output -json in $($script:TfDir)"
    }

    It 'without terraform or tofu on PATH: TerraformNotFound' {
        $r = Invoke-FreshPwsh -Environment @{ PATH = '/nonexistent' } -Script "try { Get-PveInventory -TerraformDirectory '$($script:TfDir)' -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.ToString() }"
        $r.Output | Should -Match 'TerraformNotFound,'
        $r.Output | Should -Match 'neither terraform nor tofu is on PATH'
    }
}

Describe 'Get-PveInventory from the configuration' {
    BeforeAll {
        $script:Cfg = New-TestConfig -Folder $TestDrive -Environments @{
            prod    = @{ inventory = @{ source = 'terraform-output'; path = $script:OutputFile; outputs = @('vms') } }
            staging = @{ inventory = @{ source = 'file'; path = (Resolve-Path (Join-Path $script:Examples 'inventory.yaml')).Path } }
            state   = @{ inventory = @{ source = 'terraform-state'; path = $script:StateFile } }
        }
    }

    It 'reads every environment, or the ones -Environment names' {
        (Get-PveInventory -ConfigPath $script:Cfg | ForEach-Object Name | Sort-Object) | Should -Be @('db-01', 'st-01', 'web-01', 'web-stg-01')
        (Get-PveInventory -ConfigPath $script:Cfg -Environment staging).Name | Should -Be 'web-stg-01'
        (Get-PveInventory -ConfigPath $script:Cfg -Environment 'p*', state | ForEach-Object Environment | Sort-Object -Unique) | Should -Be @('prod', 'state')
    }

    It 'an unknown environment is EnvironmentNotFound, the same record as every other command' {
        $e = { Get-PveInventory -ConfigPath $script:Cfg -Environment qa } | Should -Throw -ErrorId 'EnvironmentNotFound,*' -PassThru
        $e.TargetObject | Should -Be 'qa'
        $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $e.ToString() | Should -BeLike "environment 'qa' is not in *; configured: *"
        $i = { Invoke-PveHealthCheck -ConfigPath $script:Cfg -Environment qa -WhatIf } | Should -Throw -ErrorId 'EnvironmentNotFound,*' -PassThru
        $i.ToString() | Should -Be $e.ToString()
        $i.TargetObject | Should -Be 'qa'
    }

    It 'uses $env:PVE_HEALTH_CONFIG without -ConfigPath' {
        $saved = $env:PVE_HEALTH_CONFIG
        try {
            $env:PVE_HEALTH_CONFIG = $script:Cfg
            (Get-PveInventory -Environment state).Name | Should -Be 'st-01'
        } finally { $env:PVE_HEALTH_CONFIG = $saved }
    }

    It 'a malformed configuration is ConfigInvalid naming file and JSON path' {
        $bad = Join-Path $TestDrive 'bad-config.json'
        '{ "environments": { "prod": { "inventory": { "source": 5 } } } }' | Set-Content $bad
        { Get-PveInventory -ConfigPath $bad } | Should -Throw -ErrorId 'ConfigInvalid,*' -ExpectedMessage "$bad`: `$.environments.prod.inventory.source: *"
    }

    It 'one unreadable environment is a non-terminating error; the others still come' {
        $cfg = New-TestConfig -Folder (New-Item -ItemType Directory (Join-Path $TestDrive 'partial')).FullName -Environments @{
            good = @{ inventory = @{ source = 'terraform-state'; path = $script:StateFile } }
            gone = @{ inventory = @{ source = 'file'; path = (Join-Path $TestDrive 'missing.yaml') } }
        }
        $guests = Get-PveInventory -ConfigPath $cfg -ErrorVariable errs -ErrorAction SilentlyContinue
        $guests.Name | Should -Be 'st-01'
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'InventoryUnreadable,*'
    }
}
