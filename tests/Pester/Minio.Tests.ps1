# Test-PveMinio, Invoke-PveHealthCheck -Component Monitoring,Minio and Get-PveInventory from minio-state,
# against s3rver (the real S3 API for the Minio SDK) behind MinIO's health routes, on 127.0.0.1.
# Fixtures (New-PveStackStateFixtures): tfstate/lab/terraform.tfstate (valid, serial 42) with a lock
# created 3 h ago by deploy@ci-runner-07, tfstate/broken/truncated.tfstate (cut after line 9),
# tfstate/broken/empty.tfstate (0 bytes). s3rver accepts the keys S3RVER/S3RVER.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Support/StackServices.psm1') -Force
    Import-Module (Get-PveHealthModulePath) -Force
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "pvehealth-minio-$PID"
    Remove-Item -Recurse -Force $script:Root -ErrorAction Ignore
    $script:Stack = Start-PveStackServices -Root $script:Root
    $script:Cred = [pscredential]::new('S3RVER', (ConvertTo-SecureString 'S3RVER' -AsPlainText -Force))
    $script:Fix = $script:Stack.Fixtures
    'S3RVER' | Set-Content (Join-Path $script:Root 'access-key')
    'S3RVER' | Set-Content (Join-Path $script:Root 'secret-key')
    $script:LabEnv = @{
        monitoring = @{ prometheus = @{ url = $script:Stack.PrometheusUrl }; grafana = @{ url = $script:Stack.GrafanaUrl }; alertmanager = @{ url = $script:Stack.AlertmanagerUrl } }
        minio      = @{
            endpoint          = $script:Stack.MinioUrl
            accessKey         = @{ file = (Join-Path $script:Root 'access-key') }
            secretKey         = @{ file = (Join-Path $script:Root 'secret-key') }
            buckets           = @('tfstate')
            stateObjects      = @('tfstate/lab/terraform.tfstate')
            maxStateAgeHours  = 24
            maxLockAgeMinutes = 60
        }
        inventory  = @{ source = 'minio-state'; stateObject = 'tfstate/lab/terraform.tfstate' }
    }
    $script:Config = New-TestConfig -Folder $script:Root -Environments @{ lab = $script:LabEnv }
}

AfterAll {
    if ($script:Stack) { Stop-PveStackServices $script:Stack }
    Remove-Item -Recurse -Force $script:Root -ErrorAction Ignore
}

Describe 'Test-PveMinio: health routes' {
    AfterEach { Set-PveStackStandin $Stack -Minio ok }

    It 'reports live, ready and cluster Ok without credentials' {
        $r = @(Test-PveMinio -Endpoint $Stack.MinioUrl)
        $r.Check | Should -Be @('Live', 'Ready', 'Cluster')
        $r.Status | Select-Object -Unique | Should -Be 'Ok'
        ($r | Where-Object Check -eq 'Cluster').Detail | Should -Be 'write quorum'
    }

    It 'reports 503 answers as Critical' {
        Set-PveStackStandin $Stack -Minio busy
        $r = @(Test-PveMinio -Endpoint $Stack.MinioUrl)
        $r.Status | Select-Object -Unique | Should -Be 'Critical'
        ($r | Where-Object Check -eq 'Cluster').Detail | Should -Be 'no write quorum: /minio/health/cluster: HTTP 503 Service Unavailable'
    }
}

Describe 'Test-PveMinio: Terraform state objects' {
    BeforeAll {
        $script:R = @(Test-PveMinio -Endpoint $Stack.MinioUrl -Credential $Cred -Bucket tfstate, no-such-bucket `
                -StateObject tfstate/lab/terraform.tfstate, 'tfstate/broken/*.tfstate', tfstate/missing/terraform.tfstate -MaxLockAgeMinutes 60)
        function script:Row([string] $Component, [string] $Check) { $R | Where-Object { $_.Component -eq $Component -and $_.Check -eq $Check } }
    }

    It 'accepts the keys' {
        (Row 'minio' 'Credentials').Status | Should -Be 'Ok'
    }

    It 'reports configured buckets that exist and that do not' {
        (Row 'tfstate' 'Bucket').Status | Should -Be 'Ok'
        (Row 'no-such-bucket' 'Bucket').Status | Should -Be 'Critical'
        (Row 'no-such-bucket' 'Bucket').Detail | Should -Be 'bucket no-such-bucket does not exist'
    }

    It 'reports the valid state Ok with its serial and age' {
        $s = Row 'tfstate/lab/terraform.tfstate' 'State'
        $s.Type | Should -Be 'TerraformState'
        $s.Status | Should -Be 'Ok'
        $s.Detail | Should -Match "^serial $($Fix.Serial), age \d+ (s|min), terraform 1\.9\.8, lineage 3f2b8d1e-"
    }

    It 'reports the truncated state Critical with the line and byte where it breaks' {
        $s = Row 'tfstate/broken/truncated.tfstate' 'State'
        $s.Status | Should -Be 'Critical'
        $s.Detail | Should -Match "^invalid JSON at line $($Fix.TruncatedLines), byte \d+: "
    }

    It 'reports the empty object Critical' {
        $s = Row 'tfstate/broken/empty.tfstate' 'State'
        $s.Status | Should -Be 'Critical'
        $s.Detail | Should -BeLike 'the object is empty (0 bytes*'
    }

    It 'reports a missing state object Critical' {
        $s = Row 'tfstate/missing/terraform.tfstate' 'State'
        $s.Status | Should -Be 'Critical'
        $s.Detail | Should -Be 'state object not found: tfstate/missing/terraform.tfstate'
    }

    # Issue 12 items 4/7: a wildcard that matches no object is one clear State result, never an internal-error row
    # (before: a Lock row "internal error: the check ended without reporting a result").
    It 'reports a state wildcard that matches no object as one State Critical and nothing else' {
        $r = @(Test-PveMinio -Endpoint $Stack.MinioUrl -Credential $Cred -StateObject 'tfstate/nothing-here/*.tfstate')
        $mine = @($r | Where-Object Component -eq 'tfstate/nothing-here/*.tfstate')
        Write-Host "wildcard matching nothing: $(($r | ForEach-Object { "$($_.Component)/$($_.Check) $($_.Status): $($_.Detail)" }) -join ' | ')"
        $mine.Count | Should -Be 1 -Because ($r | Out-String)
        $mine[0].Check | Should -Be 'State'
        $mine[0].Status | Should -Be 'Critical'
        $mine[0].Detail | Should -Be "no object in bucket tfstate matches 'nothing-here/*.tfstate'"
        $r | Where-Object Check -eq 'Lock' | Should -BeNullOrEmpty
        $r | Where-Object Detail -like '*internal error*' | Should -BeNullOrEmpty
        $r | Where-Object Status -eq 'Unknown' | Should -BeNullOrEmpty
    }

    It 'reports the stale lock as a Warning naming who holds it and since when (from the lock JSON)' {
        $l = Row 'tfstate/lab/terraform.tfstate' 'Lock'
        $l.Status | Should -Be 'Warning'
        $created = ([DateTimeOffset]::Parse($Fix.Lock.Created, [cultureinfo]::InvariantCulture)).ToUniversalTime().ToString('yyyy-MM-dd HH:mm:ss')
        $l.Detail | Should -BeLike "stale lock older than 60 min: held by deploy@ci-runner-07 since ${created}Z (3 h;*"
        (Row 'tfstate/broken/truncated.tfstate' 'Lock').Detail | Should -Be 'not locked'
    }

    It 'treats the same lock as a run in progress under a larger limit' {
        $l = Test-PveMinio -Endpoint $Stack.MinioUrl -Credential $Cred -StateObject tfstate/lab/terraform.tfstate -MaxLockAgeMinutes 600 |
            Where-Object Check -eq 'Lock'
        $l.Status | Should -Be 'Ok'
        $l.Detail | Should -BeLike 'locked: held by deploy@ci-runner-07 since *'
    }

    It 'warns about a state older than -MaxStateAgeHours' {
        $s = Test-PveMinio -Endpoint $Stack.MinioUrl -Credential $Cred -StateObject tfstate/lab/terraform.tfstate -MaxStateAgeHours 0.0001 |
            Where-Object Check -eq 'State'
        $s.Status | Should -Be 'Warning'
        $s.Detail | Should -BeLike 'not written for * (limit 0 s): serial 42*'
    }
}

Describe 'Test-PveMinio: failures' {
    BeforeAll {
        # The S3 checks alone (the health routes excluded) of the lab's minio section against -Endpoint, at -TimeoutSec 5.
        function script:Invoke-S3Only([string] $Endpoint, [string] $Name) {
            $envCfg = $LabEnv.Clone()
            $envCfg.minio = $LabEnv.minio.Clone()
            $envCfg.minio.endpoint = $Endpoint
            $envCfg.Remove('monitoring'); $envCfg.Remove('inventory')
            $folder = New-Item -ItemType Directory -Force (Join-Path $Root $Name)
            $cfg = New-TestConfig -Folder $folder -Environments @{ lab = $envCfg }
            Invoke-PveHealthCheck -ConfigPath $cfg -Component Minio -Exclude 'minio:Live', 'minio:Ready', 'minio:Cluster' -ExclusionPath /dev/null -TimeoutSec 5 -InformationAction Ignore -WarningAction SilentlyContinue
        }
    }

    It 'reports wrong keys as access denied and never shows the secret in any stream' {
        $secret = 'Wr0ng-Secret-Value-8472'
        $script = @"
`$VerbosePreference = 'Continue'; `$DebugPreference = 'Continue'; `$InformationPreference = 'Continue'
`$cred = [pscredential]::new('NOT-A-KEY-19', (ConvertTo-SecureString '$secret' -AsPlainText -Force))
Test-PveMinio -Endpoint '$($Stack.MinioUrl)' -Credential `$cred -StateObject tfstate/lab/terraform.tfstate -Verbose *>&1 | Format-List * | Out-String -Width 400
`$Error | Format-List * -Force | Out-String -Width 400
"@
        $run = Invoke-FreshPwsh -Script $script
        $run.ExitCode | Should -Be 0
        $run.Output | Should -Match 'Credentials'
        $run.Output | Should -Match 'access denied: check accessKey/secretKey references'
        "$($run.Output)$($run.Error)" | Should -Not -Match ([regex]::Escape($secret))
        "$($run.Output)$($run.Error)" | Should -Not -Match 'NOT-A-KEY-19'
    }

    It 'reports wrong keys from the configuration the same way, without the secret' {
        $secret = 'Another-Wrong-Secret-5530'
        $envCfg = $LabEnv.Clone()
        $envCfg.minio = $LabEnv.minio.Clone()
        $envCfg.minio.accessKey = @{ env = 'PVEH_TEST_AK' }
        $envCfg.minio.secretKey = @{ env = 'PVEH_TEST_SK' }
        $folder = New-Item -ItemType Directory -Force (Join-Path $Root 'wrong-keys')
        $cfg = New-TestConfig -Folder $folder -Environments @{ lab = $envCfg }
        $run = Invoke-FreshPwsh -Environment @{ PVEH_TEST_AK = 'NOT-A-KEY-77'; PVEH_TEST_SK = $secret } -Script @"
Invoke-PveHealthCheck -ConfigPath '$cfg' -Component Minio -ExclusionPath /dev/null -Verbose *>&1 | Format-List * | Out-String -Width 400
`$Error | Format-List * -Force | Out-String -Width 400
"@
        $run.Output | Should -Match 'access denied: check accessKey/secretKey references'
        "$($run.Output)$($run.Error)" | Should -Not -Match ([regex]::Escape($secret))
    }

    It 'reports an S3 endpoint that is down as Critical "connection refused"' {
        $port = Get-StackFreePort '127.0.0.1'
        $r = @(Test-PveMinio -Endpoint "http://127.0.0.1:$port" -Credential $Cred -StateObject tfstate/lab/terraform.tfstate)
        # The health route (HttpEndpointClient) and the S3 call confirm a refused connection once, in the same words.
        ($r | Where-Object Check -eq 'Live').Detail | Should -Be "connection refused by 127.0.0.1:$port; the same on a second attempt 0.5 s later"
        ($r | Where-Object Check -eq 'Credentials').Status | Should -Be 'Critical'
        ($r | Where-Object Check -eq 'Credentials').Detail | Should -Be "connection refused by 127.0.0.1:$port; the same on a second attempt 0.5 s later"
        ($r | Where-Object Check -eq 'State').Status | Should -Be 'Skipped'
    }

    # Issue 12 item 2: confirmation before Critical for the S3 calls (Clients.Confirmation, the rule of Ssh and the HTTP
    # checks). tests/Support/reset-proxy.js resets the first connections and forwards the later ones to the real s3rver; the
    # health routes are excluded, so every connection the proxy counts is an S3 call's.
    It 'confirms a reset before Critical: S3 behind a port that resets the first connection is Ok, after 2 connections' {
        $proxy = Start-ResetProxy -Resets 1 -To ([uri]$Stack.MinioUrl).Port
        try {
            $r = @(Invoke-S3Only -Endpoint "http://127.0.0.1:$($proxy.Port)" -Name 'reset-once')
            Write-Host "S3 reset once: $(($r | ForEach-Object { "$($_.Component)/$($_.Check) $($_.Status): $($_.Detail)" }) -join ' | '); connections: $(Get-ResetProxyCount $proxy)"
            ($r | Where-Object Check -eq 'Credentials').Status | Should -Be 'Ok' -Because ($r | Out-String)
            ($r | Where-Object Check -eq 'Bucket').Status | Should -Be 'Ok'
            ($r | Where-Object Check -eq 'State').Status | Should -Be 'Ok'
            Get-ResetProxyCount $proxy | Should -Be 2
        } finally { Stop-ResetProxy $proxy }
    }

    It 'an S3 port that keeps resetting is Critical after exactly two connections, within the timeout, the rest Skipped' {
        $proxy = Start-ResetProxy -Resets 1000
        try {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $r = @(Invoke-S3Only -Endpoint "http://127.0.0.1:$($proxy.Port)" -Name 'reset-always')
            $clock.Stop()
            $c = $r | Where-Object Check -eq 'Credentials'
            $c.Status | Should -Be 'Critical'
            $c.Detail | Should -Be "connection reset by 127.0.0.1:$($proxy.Port); the same on a second attempt 0.5 s later"
            @($r | Where-Object Check -in 'Bucket', 'State', 'Lock' | ForEach-Object Status | Sort-Object -Unique) | Should -Be 'Skipped'
            Get-ResetProxyCount $proxy | Should -Be 2
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5 -Because 'both attempts run inside the one timeout (-TimeoutSec 5)'
        } finally { Stop-ResetProxy $proxy }
    }

    It 'finishes within -TimeoutSec against an endpoint that accepts and never answers' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $r = @(Test-PveMinio -Endpoint $Stack.HungUrl -Credential $Cred -StateObject tfstate/lab/terraform.tfstate -TimeoutSec 2)
        $clock.Stop()
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        ($r | Where-Object Check -eq 'Live').Detail | Should -BeLike "no answer from $($Stack.HungUrl)/minio/health/live within * s"
        ($r | Where-Object Check -eq 'Credentials').Status | Should -Be 'Critical'
        ($r | Where-Object Check -eq 'Credentials').Detail | Should -BeLike 'no answer from * within * s (list buckets)'
    }

    It 'needs -Credential for -StateObject' {
        { Test-PveMinio -Endpoint $Stack.MinioUrl -StateObject tfstate/x -ErrorAction Stop } | Should -Throw -ErrorId 'CredentialRequired,PveHealth.PowerShell.Cmdlets.TestPveMinioCommand'
    }
}

Describe 'Invoke-PveHealthCheck -Component Monitoring,Minio' {
    BeforeAll {
        $script:All = @(Invoke-PveHealthCheck -ConfigPath $Config -Component Monitoring, Minio -ExclusionPath /dev/null)
        $table = $script:All | Sort-Object Type, Component, Check | Format-Table Component, Type, Check, Status, Detail -AutoSize | Out-String -Width 300
        Write-Host $table
    }

    It 'shows the dead scrape target Critical with its error' {
        $d = $All | Where-Object Type -eq 'ScrapeTarget'
        $d.Status | Should -Be 'Critical'
        $d.Detail | Should -BeLike '*connection refused*'
    }

    It 'shows Grafana and Alertmanager Ok' {
        ($All | Where-Object Type -eq 'Grafana').Status | Should -Be 'Ok'
        ($All | Where-Object Type -eq 'Alertmanager').Status | Select-Object -Unique | Should -Be 'Ok'
    }

    It 'shows the state Ok with its serial and age, the stale lock, and MinIO healthy' {
        $s = $All | Where-Object { $_.Type -eq 'TerraformState' -and $_.Check -eq 'State' }
        $s.Status | Should -Be 'Ok'
        $s.Detail | Should -BeLike 'serial 42, age *'
        ($All | Where-Object { $_.Type -eq 'TerraformState' -and $_.Check -eq 'Lock' }).Status | Should -Be 'Warning'
        ($All | Where-Object Type -eq 'Minio').Status | Select-Object -Unique | Should -Be 'Ok'
        $All.Environment | Select-Object -Unique | Should -Be 'lab'
    }

    It 'lists the Monitoring and Minio checks in a dry run without running them' {
        $run = Invoke-FreshPwsh -Script "Invoke-PveHealthCheck -ConfigPath '$Config' -Component Monitoring, Minio -ExclusionPath /dev/null -WhatIf"
        $run.ExitCode | Should -Be 0
        $run.Output | Should -Match 'What if: .*lab/Targets on prometheus'
        $run.Output | Should -Match 'What if: .*lab/State on minio'
        $run.Output | Should -Not -Match 'Critical|Ok '
    }
}

Describe 'Get-PveInventory from the state in MinIO' {
    It 'reads the guests from the outputs of the state object' {
        $g = @(Get-PveInventory -ConfigPath $Config)
        $g.Name | Sort-Object | Should -Be @('db-01', 'dns-01', 'web-01')
        ($g | Where-Object Name -eq 'dns-01').Kind | Should -Be 'Lxc'
        ($g | Where-Object Name -eq 'web-01').Address | Should -Be '127.0.10.1'
        ($g | Where-Object Name -eq 'web-01').Source | Should -Be "minio-state:$($Stack.MinioUrl)/tfstate/lab/terraform.tfstate"
    }

    It 'fails with an actionable message when the state object is missing' {
        $envCfg = $LabEnv.Clone()
        $envCfg.inventory = @{ source = 'minio-state'; stateObject = 'tfstate/nope/terraform.tfstate' }
        $folder = New-Item -ItemType Directory -Force (Join-Path $Root 'inv-missing')
        $cfg = New-TestConfig -Folder $folder -Environments @{ lab = $envCfg }
        { Get-PveInventory -ConfigPath $cfg -ErrorAction Stop } | Should -Throw '*tfstate/nope/terraform.tfstate*not found*'
    }
}
