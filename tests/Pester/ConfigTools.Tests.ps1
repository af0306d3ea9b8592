# Configuration tooling (issue 17 item 8): New-PveHealthConfig writes a starting file, Test-PveHealthConfig validates a
# file without contacting anything and returns typed findings, Get-PveHealthConfig shows the configuration in effect
# with secrets as references only. Offline: everything lives in TestDrive.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Get-PveHealthModulePath) -Force
    $script:SecretValue = 'tok-4711-never-shown-' + [guid]::NewGuid().ToString('n')
    function New-Folder([string] $Name) { (New-Item -ItemType Directory -Force (Join-Path $TestDrive $Name)).FullName }
}

Describe 'New-PveHealthConfig' {
    BeforeAll {
        $script:dir = New-Folder 'new'
        $script:tf = Join-Path $dir 'tf.json'
        @{ guests = @{ sensitive = $false; type = 'x'; value = @{ 'web-01' = @{ ip = '127.0.0.5'; vmid = 101; node = 'pve1'; type = 'qemu' }; 'db-01' = @{ ip = '127.0.0.6'; vmid = 102; node = 'pve1'; type = 'qemu' } } } } |
            ConvertTo-Json -Depth 10 | Set-Content $tf
        $script:secrets = New-Folder 'new/secrets'
        $script:path = Join-Path $dir 'config.json'
        $script:file = New-PveHealthConfig $path -Environment lab -TerraformOutputPath $tf -SecretFolder $secrets -ProxmoxUrl https://127.0.0.1:8006
        $script:text = Get-Content $path -Raw
    }

    It 'writes a commented file seeded from the terraform output that the run accepts' {
        $file | Should -BeOfType System.IO.FileInfo
        $file.FullName | Should -Be $path
        $text | Should -BeLike "*// Seeded from ${tf}: 2 guests (*web-01*"
        $text | Should -BeLike '*"source": "terraform-output", "path": *'
        $text | Should -Match '(?m)^\s*//'
        # The inventory it names is the one Get-PveInventory reads from the configuration.
        @(Get-PveInventory -ConfigPath $path | ForEach-Object Name | Sort-Object) | Should -Be @('db-01', 'web-01')
        Invoke-PveHealthCheck -ConfigPath $path -WhatIf -InformationAction Ignore 6>$null | Should -BeNullOrEmpty
    }

    It 'Test-PveHealthConfig names the referenced files that do not exist yet; with them in place it passes' {
        $findings = @(Test-PveHealthConfig -ConfigPath $path -InformationAction Ignore)
        $findings | ForEach-Object { $_.GetType().FullName | Should -Be 'PveHealth.Planning.ConfigFinding' }
        @($findings | ForEach-Object Location | Sort-Object) | Should -Be @(
            '$.environments.lab.proxmox.tokenSecret.file', '$.environments.lab.ssh.keyFile', '$.environments.lab.ssh.knownHostsFile')
        @($findings | ForEach-Object { "$($_.Severity)" } | Sort-Object -Unique) | Should -Be @('Error')
        ($findings | Where-Object Location -like '*tokenSecret*').Message | Should -Be "secret file $secrets/lab-pve-token does not exist."
        Test-PveHealthConfig -ConfigPath $path -Quiet | Should -BeFalse
        Set-Content (Join-Path $secrets 'lab-pve-token') $SecretValue
        Set-Content (Join-Path $secrets 'id_ed25519') 'key'
        Set-Content (Join-Path $secrets 'known_hosts') ''
        @(Test-PveHealthConfig -ConfigPath $path -InformationAction Ignore) | Should -BeNullOrEmpty
        Test-PveHealthConfig -ConfigPath $path -Quiet | Should -BeTrue
    }

    It 'does not overwrite without -Force (ConfigFileExists); -WhatIf writes nothing' {
        { New-PveHealthConfig $path -ErrorAction Stop } | Should -Throw -ErrorId 'ConfigFileExists*'
        $other = Join-Path $dir 'whatif.json'
        New-PveHealthConfig $other -WhatIf | Should -BeNullOrEmpty
        Test-Path $other | Should -BeFalse
        (New-PveHealthConfig $path -Force -Environment prod).FullName | Should -Be $path
        (Get-Content $path -Raw) | Should -BeLike '*"prod": {*'
        (Get-Content $path -Raw) | Should -BeLike '*"source": "proxmox"*'
    }

    It 'stops with the reader''s error for a terraform output file that is not one' {
        $bad = Join-Path $dir 'bad.json'
        Set-Content $bad '{ "guests": '
        { New-PveHealthConfig (Join-Path $dir 'x.json') -TerraformOutputPath $bad -ErrorAction Stop } | Should -Throw -ErrorId 'Inventory*'
        Test-Path (Join-Path $dir 'x.json') | Should -BeFalse
    }
}

Describe 'Test-PveHealthConfig' {
    BeforeAll {
        $script:dir = New-Folder 'test'
        $script:token = Join-Path $dir 'token'
        Set-Content $token $SecretValue
        function New-Config([hashtable] $Env, [hashtable] $Defaults, [string] $Name = 'c') {
            $folder = New-Folder "test/$Name"
            New-TestConfig -Folder $folder -Environments @{ prod = $Env } -Defaults $Defaults
        }
    }

    It 'a file that does not parse is one Error with the JSON path, and no exception' {
        $p = Join-Path (New-Folder 'test/broken') 'config.json'
        Set-Content $p '{ "environments": { "prod": { "timeoutSec": "ten" } } }'
        $f = @(Test-PveHealthConfig -ConfigPath $p -InformationAction Ignore)
        $f.Count | Should -Be 1
        "$($f[0].Severity)" | Should -Be 'Error'
        $f[0].Location | Should -Be '$.environments.prod.timeoutSec'
        $f[0].ConfigPath | Should -Be $p
    }

    It 'a missing file is an Error, not a crash' {
        $f = @(Test-PveHealthConfig -ConfigPath (Join-Path $dir 'nope.json') -InformationAction Ignore)
        $f.Count | Should -Be 1
        $f[0].Message | Should -BeLike 'configuration file not found*'
    }

    It 'an unknown check name is an Error; an unknown key is a Warning with its path' {
        $p = New-Config -Name checks @{ checks = @('Ping', 'Pong'); colour = 'blue' }
        $f = @(Test-PveHealthConfig -ConfigPath $p -InformationAction Ignore)
        ($f | Where-Object Location -eq '$.environments.prod.checks[1]').Message | Should -BeLike "expected one of *; found 'Pong'."
        $p2 = New-Config -Name unknown @{ colour = 'blue' }
        $w = @(Test-PveHealthConfig -ConfigPath $p2 -InformationAction Ignore)
        $w.Count | Should -Be 1
        "$($w[0].Severity)" | Should -Be 'Warning'
        $w[0].Location | Should -Be '$.environments.prod.colour'
        Test-PveHealthConfig -ConfigPath $p2 -Quiet | Should -BeTrue
    }

    It 'referenced files: missing, a directory, an unset variable; a secret file is never read into the output' {
        $p = New-Config -Name refs @{
            proxmox = @{ url = 'https://127.0.0.1:8006'; tokenId = 'a@pve!b'; tokenSecret = @{ file = $token }; caFile = $dir }
            ssh     = @{ keyFile = (Join-Path $dir 'missing-key'); passphrase = @{ env = 'PVEH_TEST_UNSET_VARIABLE_17' } }
        }
        $f = @(Test-PveHealthConfig -ConfigPath $p -InformationAction Ignore)
        ($f | Where-Object Location -eq '$.environments.prod.proxmox.caFile').Message | Should -Be "file $dir is a directory, expected a file."
        ($f | Where-Object Location -eq '$.environments.prod.ssh.keyFile').Message | Should -Be "secret file $(Join-Path $dir 'missing-key') does not exist."
        $var = $f | Where-Object Location -eq '$.environments.prod.ssh.passphrase.env'
        "$($var.Severity)" | Should -Be 'Warning'
        $var.Reference | Should -Be 'PVEH_TEST_UNSET_VARIABLE_17'
        @($f | Where-Object Location -like '*tokenSecret*') | Should -BeNullOrEmpty
        ($f | Out-String -Width 300) | Should -Not -Match ([regex]::Escape($SecretValue))
    }

    It 'exclusion patterns: a bad line is an Error at its file and line, an expired window a Warning' {
        $ex = Join-Path $dir 'exclusions.conf'
        Set-Content $ex "web-*`nweb-01:`nold-* until=2020-01-01T00:00Z reason=done"
        $p = New-Config -Name excl @{ timeoutSec = 3 } -Defaults @{ exclusionPath = $ex }
        $f = @(Test-PveHealthConfig -ConfigPath $p -InformationAction Ignore)
        $bad = @($f | Where-Object Location -eq "${ex}:2")
        $bad.Count | Should -Be 1
        "$($bad[0].Severity)" | Should -Be 'Error'
        $old = @($f | Where-Object Location -eq "${ex}:3")
        "$($old[0].Severity)" | Should -Be 'Warning'
        $old[0].Message | Should -BeLike "the maintenance window of 'old-*' ended 2020-01-01*"
        Remove-Item $ex
        $gone = @(Test-PveHealthConfig -ConfigPath $p -InformationAction Ignore)
        ($gone | Where-Object Location -eq '$.defaults.exclusionPath').Message | Should -Be "file $ex does not exist."
    }

    It 'Invoke-PveHealthCheck -WhatIf warns about a referenced secret or CA file that does not exist' {
        $missing = Join-Path $dir 'no-such-token'
        $p = New-Config -Name whatif @{ proxmox = @{ url = 'https://127.0.0.1:8006'; tokenId = 'a@pve!b'; tokenSecret = @{ file = $missing }; caFile = (Join-Path $dir 'no-ca.pem') } }
        $null = Invoke-PveHealthCheck -ConfigPath $p -WhatIf -WarningVariable w -WarningAction SilentlyContinue -InformationAction Ignore 6>$null
        @($w | ForEach-Object { "$_" }) | Should -Contain "`$.environments.prod.proxmox.tokenSecret.file: secret file $missing does not exist."
        @($w | ForEach-Object { "$_" }) | Should -Contain "`$.environments.prod.proxmox.caFile: file $(Join-Path $dir 'no-ca.pem') does not exist."
    }

    It 'counts the findings on the information stream' {
        $p = New-Config -Name info @{ colour = 'blue' }
        $null = Test-PveHealthConfig -ConfigPath $p -InformationVariable info -InformationAction SilentlyContinue
        "$($info[-1])" | Should -Be "${p}: 0 errors, 1 warning (checked without contacting any host)."
    }
}

Describe 'Get-PveHealthConfig' {
    BeforeAll {
        $script:dir = New-Folder 'get'
        $script:token = Join-Path $dir 'token'
        Set-Content $token $SecretValue
        $script:cfg = New-TestConfig -Folder $dir -Environments @{
            prod = @{ proxmox = @{ url = 'https://127.0.0.1:8006'; tokenId = 'a@pve!b'; tokenSecret = @{ file = $token } }; inventory = @{ source = 'file'; path = 'inv.yaml' }; timeoutSec = 4; secretish = $SecretValue }
            lab  = @{ ssh = @{ keyFile = '/k'; passphrase = @{ env = 'PVEH_PASS' } } }
        } -Defaults @{ timeoutSec = 7 }
    }

    It 'one object per environment with the values in effect' {
        $all = @(Get-PveHealthConfig -ConfigPath $cfg -WarningAction SilentlyContinue)
        @($all | ForEach-Object Environment) | Should -Be @('lab', 'prod')
        $prod = $all | Where-Object Environment -eq 'prod'
        $prod.TimeoutSec | Should -Be 4
        ($all | Where-Object Environment -eq 'lab').TimeoutSec | Should -Be 7
        $prod.Inventory.path | Should -Be (Join-Path $dir 'inv.yaml')
        $prod.ConfigPath | Should -Be $cfg
        @((Get-PveHealthConfig lab -ConfigPath $cfg -WarningAction SilentlyContinue)).Count | Should -Be 1
    }

    It 'shows secrets as references only, never their values (objects and -AsJson)' {
        $prod = Get-PveHealthConfig prod -ConfigPath $cfg -WarningAction SilentlyContinue
        $prod.Proxmox.tokenSecret | Should -Be "file:$token"
        (Get-PveHealthConfig lab -ConfigPath $cfg -WarningAction SilentlyContinue).Ssh.passphrase | Should -Be 'env:PVEH_PASS'
        $shown = (Get-PveHealthConfig -ConfigPath $cfg -WarningAction SilentlyContinue | Format-List * | Out-String -Width 400) + (Get-PveHealthConfig -ConfigPath $cfg -AsJson -WarningAction SilentlyContinue)
        $shown | Should -Not -Match ([regex]::Escape($SecretValue))
        $json = Get-PveHealthConfig -ConfigPath $cfg -AsJson -WarningAction SilentlyContinue | ConvertFrom-Json
        $json.environments.prod.proxmox.tokenSecret.file | Should -Be $token
    }

    It 'an environment that is not configured stops with EnvironmentNotFound' {
        { Get-PveHealthConfig nosuch -ConfigPath $cfg -WarningAction SilentlyContinue -ErrorAction Stop } | Should -Throw -ErrorId 'EnvironmentNotFound*'
    }
}
