# Guest checks against the lab (tests/Lab/PveLab.psm1): a real sshd, nftables "stopped" guests and the Proxmox API
# simulator, all inside a network namespace the tests create. Ping, Ssh, Docker, ApiStatus, GuestAgent; cluster
# Quorum/Node; the API inventory; TLS pinning, a bad token, an offline node. They need root; without it they are skipped.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:LabSkipReason = Get-LabSkipReason -Suite 'Guest check lab tests' -Tool nft, ssh-keygen, curl, ip, /usr/sbin/sshd
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Lab/PveLab.psm1') -Force
    $script:ModulePath = Get-PveHealthModulePath

    function Reset-LabRequestCount {
        param($Lab)
        $r = Invoke-PveLabApi -Lab $Lab -Path '/_lab/reset-counters' -Method POST -Token 'none' -Headers @{ 'X-Lab-Control' = $Lab.ControlToken } -Body '{}'
        if ($r.Status -ne 200) { throw "reset-counters failed: $($r.Status)" }
    }
    function Get-LabRequestCount {
        param($Lab, [string] $Pattern)
        $state = Get-PveLabState $Lab
        $n = 0
        foreach ($p in $state.requests.PSObject.Properties) { if ($p.Name -like $Pattern) { $n += [int]$p.Value } }
        $n
    }
    # Results come back through Export-Clixml: the Status enum arrives as its number; give it its name again
    # (the enum is in severity order: Skipped 0, Ok 1, Warning 2, Unknown 3, Critical 4).
    function ConvertTo-PlainResult {
        param($Items)
        $names = 'Skipped', 'Ok', 'Warning', 'Unknown', 'Critical'
        foreach ($r in @($Items)) {
            if ($null -ne $r -and $r.PSObject.Properties['Check'] -and $r.PSObject.Properties['Status']) {
                $s = "$($r.Status)"
                [pscustomobject]@{ Environment = $r.Environment; Component = $r.Component; Type = $r.Type; Check = $r.Check
                    Status = $(if ($s -match '^\d$') { $names[[int]$s] } else { $s }); Detail = $r.Detail; Duration = $r.Duration; Target = $r.Target }
            }
            else { $r }
        }
    }
    function Find-Result {
        param($Results, [string] $Component, [string] $Check)
        @($Results | Where-Object { $_.Component -eq $Component -and $_.Check -eq $Check })
    }
}

Describe 'Get-PveInventory -Environment lab | Test-PveVm' -Tag 'Lab' -Skip:([bool]$script:LabSkipReason) {
    BeforeAll {
        $script:lab = Start-PveLab -GuestCount 6
        Reset-LabRequestCount $lab
        $script:run = Invoke-InPveLab $lab -ModulePath $script:ModulePath {
            $env:PVE_HEALTH_CONFIG = $Lab.ConfigPath
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $results = @(Get-PveInventory -Environment lab | Test-PveVm)
            [pscustomobject]@{ Results = $results; Seconds = $sw.Elapsed.TotalSeconds }
        }
        $script:results = @(ConvertTo-PlainResult $run.Results)
        $script:resourceRequests = Get-LabRequestCount $lab 'GET /cluster/resources*'
        $script:table = ($results | Sort-Object Component, Check | Format-Table Component, Type, Check, Status, Detail -AutoSize | Out-String -Width 220)
        Write-Host "Lab run ($([math]::Round($run.Seconds, 1)) s):`n$script:table"
    }
    AfterAll {
        if ($script:lab) { Stop-PveLab $script:lab }
    }

    It 'shows every guest with the five checks' {
        foreach ($name in 'web-01', 'web-02', 'db-01', 'app-01', 'cache-01', 'ci-01') {
            $checks = @($results | Where-Object Component -eq $name | ForEach-Object Check | Sort-Object)
            $checks -join ',' | Should -Be 'ApiStatus,Docker,GuestAgent,Ping,Ssh' -Because "$name has one result per check"
        }
    }

    It '<Component> <Check> is <Status>' -ForEach @(
        @{ Component = 'web-01'; Check = 'Ping'; Status = 'Ok' }
        @{ Component = 'web-01'; Check = 'Ssh'; Status = 'Ok' }
        @{ Component = 'web-01'; Check = 'Docker'; Status = 'Ok' }
        @{ Component = 'web-01'; Check = 'ApiStatus'; Status = 'Ok' }
        @{ Component = 'web-01'; Check = 'GuestAgent'; Status = 'Ok' }
        @{ Component = 'web-02'; Check = 'GuestAgent'; Status = 'Critical'; Detail = '*guest agent is not running*' }
        @{ Component = 'web-02'; Check = 'ApiStatus'; Status = 'Ok' }
        @{ Component = 'db-01'; Check = 'Ping'; Status = 'Critical' }
        @{ Component = 'db-01'; Check = 'Ssh'; Status = 'Critical' }
        @{ Component = 'db-01'; Check = 'ApiStatus'; Status = 'Critical'; Detail = 'stopped according to the Proxmox API (node pve1)' }
        @{ Component = 'db-01'; Check = 'GuestAgent'; Status = 'Critical'; Detail = 'VM is not running*' }
        @{ Component = 'app-01'; Check = 'Docker'; Status = 'Critical'; Detail = 'docker not active*' }
        @{ Component = 'app-01'; Check = 'GuestAgent'; Status = 'Skipped'; Detail = 'not applicable to LXC containers' }
        @{ Component = 'app-01'; Check = 'ApiStatus'; Status = 'Ok' }
        @{ Component = 'cache-01'; Check = 'Ssh'; Status = 'Critical'; Detail = 'connection refused*' }
        @{ Component = 'cache-01'; Check = 'Docker'; Status = 'Skipped'; Detail = 'skipped: SSH failed' }
        @{ Component = 'cache-01'; Check = 'GuestAgent'; Status = 'Skipped'; Detail = 'not applicable to LXC containers' }
        @{ Component = 'ci-01'; Check = 'GuestAgent'; Status = 'Skipped'; Detail = 'no QEMU guest agent configured*' }
        @{ Component = 'ci-01'; Check = 'ApiStatus'; Status = 'Ok' }
    ) {
        $r = Find-Result $results $Component $Check
        $r.Count | Should -Be 1
        "$($r[0].Status)" | Should -Be $Status -Because $r[0].Detail
        if ($Detail) { $r[0].Detail | Should -BeLike $Detail }
    }

    It 'makes one /cluster/resources request for all guests' {
        $resourceRequests | Should -Be 1
    }

    It 'finishes the black-holed guest within TimeoutSec (3 s in the lab config)' {
        foreach ($check in 'Ping', 'Ssh') {
            $r = (Find-Result $results 'db-01' $check)[0]
            $r.Duration.TotalSeconds | Should -BeLessOrEqual 6 -Because "$check of a dropped address is bounded by the 3 s timeout"
        }
        $run.Seconds | Should -BeLessThan 60
    }

    Context 'API inventory, TLS and credentials' {
        BeforeAll {
            $script:extra = Invoke-InPveLab $lab -ModulePath $script:ModulePath {
                $out = @{}
                # Inventory from the API: the lab config with inventory.source = proxmox.
                $cfg = Get-Content $Lab.ConfigPath -Raw | ConvertFrom-Json -AsHashtable
                $cfg.environments.lab.inventory = @{ source = 'proxmox'; addressFamily = 'ipv4' }
                $apiConfig = Join-Path $Lab.Root 'config-api.json'
                $cfg | ConvertTo-Json -Depth 10 | Set-Content $apiConfig
                $out.Inventory = @(Get-PveInventory -ConfigPath $apiConfig -Environment lab -Verbose 4>$null)

                $secret = (Get-Content $Lab.TokenSecretFile -Raw).Trim()
                $good = [pscredential]::new($Lab.TokenId, (ConvertTo-SecureString $secret -AsPlainText -Force))
                $bad = [pscredential]::new($Lab.TokenId, (ConvertTo-SecureString 'wrong-secret-4711-xyz' -AsPlainText -Force))
                $g = [pscustomobject]@{ Name = 'web-01'; VmId = 101; Node = 'pve1'; Kind = 'Vm'; Environment = 'adhoc' }

                $sw = [Diagnostics.Stopwatch]::StartNew()
                $out.BadToken = @($g | Test-PveVm -Check ApiStatus, GuestAgent -ProxmoxUrl $Lab.ProxmoxUrl -Credential $bad -CertificateFingerprint $Lab.Fingerprint -TimeoutSec 10 *>&1)
                $out.BadTokenSeconds = $sw.Elapsed.TotalSeconds
                $out.Pinned = @($g | Test-PveVm -Check ApiStatus -ProxmoxUrl $Lab.ProxmoxUrl -Credential $good -CertificateFingerprint ($Lab.Fingerprint -replace ':', '').ToLowerInvariant())
                $out.WrongPin = @($g | Test-PveVm -Check ApiStatus -ProxmoxUrl $Lab.ProxmoxUrl -Credential $good -CertificateFingerprint ('00' * 32))
                $out.SystemStore = @($g | Test-PveVm -Check ApiStatus -ProxmoxUrl $Lab.ProxmoxUrl -Credential $good)
                $warnings = $null
                $out.Skip = @($g | Test-PveVm -Check ApiStatus -ProxmoxUrl $Lab.ProxmoxUrl -Credential $good -SkipCertificateCheck -WarningVariable warnings -WarningAction SilentlyContinue)
                $out.SkipWarnings = @($warnings | ForEach-Object { "$_" })
                $out.Secret = $secret

                # proxmox.caFile: the lab certificate as the CA (trusted), then an unrelated CA (a TLS failure).
                $caCfg = Get-Content $Lab.ConfigPath -Raw | ConvertFrom-Json -AsHashtable
                $caCfg.environments.lab.proxmox.Remove('fingerprint')
                $caCfg.environments.lab.proxmox.caFile = $Lab.CertPath
                $caPath = Join-Path $Lab.Root 'config-ca.json'
                $caCfg | ConvertTo-Json -Depth 10 | Set-Content $caPath
                $out.CaGood = @(Test-PveVm -Name web-01 -VmId 101 -Environment lab -Check ApiStatus -ConfigPath $caPath)
                $key = [System.Security.Cryptography.ECDsa]::Create()
                $req = [System.Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=unrelated CA', $key, [System.Security.Cryptography.HashAlgorithmName]::SHA256)
                $otherCa = Join-Path $Lab.Root 'unrelated-ca.pem'
                Set-Content $otherCa $req.CreateSelfSigned([datetimeoffset]::UtcNow.AddDays(-1), [datetimeoffset]::UtcNow.AddDays(1)).ExportCertificatePem()
                $caCfg.environments.lab.proxmox.caFile = $otherCa
                $caCfg | ConvertTo-Json -Depth 10 | Set-Content $caPath
                $out.CaOther = @(Test-PveVm -Name web-01 -VmId 101 -Environment lab -Check ApiStatus -ConfigPath $caPath)

                # A changed host key: web-01's known_hosts entry holds another key.
                $keyDir = Join-Path $Lab.Root 'otherkey'
                $null = New-Item -ItemType Directory -Path $keyDir -Force
                $null = & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $keyDir 'k') 2>&1
                $other = ((Get-Content (Join-Path $keyDir 'k.pub') -Raw).Trim() -split '\s+')[0..1] -join ' '
                $web = $Lab.Guests | Where-Object Name -eq 'web-01'
                $hostPattern = if ($Lab.SshPort -eq 22) { $web.Ip } else { "[$($web.Ip)]:$($Lab.SshPort)" }
                $changed = Join-Path $keyDir 'known_hosts'
                (Get-Content $Lab.KnownHostsFile | ForEach-Object { if (($_ -split ' ')[0] -eq $hostPattern) { "$hostPattern $other" } else { $_ } }) | Set-Content $changed
                $env:PVE_HEALTH_CONFIG = $Lab.ConfigPath
                $out.HostKey = @([pscustomobject]@{ Name = 'web-01'; Address = $web.Ip; Environment = 'lab' } | Test-PveVm -Check Ssh, Docker -KnownHostsFile $changed)
                $out
            }
            foreach ($k in 'BadToken', 'Pinned', 'WrongPin', 'SystemStore', 'Skip', 'HostKey', 'CaGood', 'CaOther') { $script:extra[$k] = @(ConvertTo-PlainResult $script:extra[$k]) }
        }

        It 'lists the guests from /cluster/resources without the template and the guest the token may not see' {
            $names = @($extra.Inventory | ForEach-Object Name)
            $names | Should -Contain 'web-01'
            $names | Should -Contain 'app-01'
            $names | Should -Not -Contain 'tmpl-debian-12'
            $names | Should -Not -Contain 'secret-01'
            $names.Count | Should -Be 6
        }

        It 'reads addresses from the QEMU agent and the container interfaces; none for a stopped guest' {
            $byName = @{}; foreach ($g in $extra.Inventory) { $byName[$g.Name] = $g }
            $byName['web-01'].Address | Should -Be '127.10.0.1'
            $byName['app-01'].Address | Should -Be '127.10.0.4'
            "$($byName['app-01'].Kind)" | Should -BeIn 'Lxc', '1' -Because 'Kind Lxc (Export-Clixml turns the enum into its number 1)'
            $byName['db-01'].Address | Should -BeNullOrEmpty
            @($byName['web-01'].Tags) -join ',' | Should -Be 'web,prod'
            $byName['web-01'].Source | Should -BeLike 'proxmox:https://127.0.0.1:*'
        }

        It 'answers a bad token as authentication failed, within the timeout despite the 3 s delay' {
            $results = @($extra.BadToken | Where-Object { $_.PSObject.Properties['Check'] })
            $api = $results | Where-Object Check -eq 'ApiStatus'
            "$($api.Status)" | Should -Be 'Unknown'
            $api.Detail | Should -BeLike '*authentication failed*root@pam!pvehealth*'
            $extra.BadTokenSeconds | Should -BeLessThan 10
            ($extra.BadToken | Out-String) | Should -Not -Match 'wrong-secret-4711-xyz'
        }

        It 'trusts the lab certificate by its pinned fingerprint (hex without colons)' {
            "$($extra.Pinned[0].Status)" | Should -Be 'Ok' -Because $extra.Pinned[0].Detail
        }

        It 'names the fingerprint it saw when the pin does not match, and when the system store rejects the certificate' {
            "$($extra.WrongPin[0].Status)" | Should -Be 'Critical'
            $extra.WrongPin[0].Detail | Should -BeLike "*TLS failure*$($lab.Fingerprint)*-CertificateFingerprint*"
            "$($extra.SystemStore[0].Status)" | Should -Be 'Critical'
            $extra.SystemStore[0].Detail | Should -BeLike "*TLS failure*$($lab.Fingerprint)*"
        }

        It 'trusts a certificate signed by proxmox.caFile and rejects one that is not, naming the fingerprint' {
            "$($extra.CaGood[0].Status)" | Should -Be 'Ok' -Because $extra.CaGood[0].Detail
            "$($extra.CaOther[0].Status)" | Should -Be 'Critical'
            $extra.CaOther[0].Detail | Should -BeLike "*TLS failure*not signed by the CA in*unrelated-ca.pem*$($lab.Fingerprint)*"
        }

        It 'warns on every run with -SkipCertificateCheck' {
            "$($extra.Skip[0].Status)" | Should -Be 'Ok'
            $extra.Skip[0].Detail | Should -BeLike '*NOT verified*'
            $extra.SkipWarnings -join ' ' | Should -BeLike '*verification*OFF*'
        }

        It 'never shows the token secret' {
            foreach ($set in 'BadToken', 'Pinned', 'WrongPin', 'SystemStore', 'Skip') {
                ($extra[$set] | Out-String -Width 500) | Should -Not -Match ([regex]::Escape($extra.Secret))
            }
        }

        It 'reports a changed host key as Critical with the fingerprint seen, Docker skipped' {
            $ssh = Find-Result $extra.HostKey 'web-01' 'Ssh'
            "$($ssh[0].Status)" | Should -Be 'Critical'
            $ssh[0].Detail | Should -BeLike 'host key changed*SHA256:*'
            "$((Find-Result $extra.HostKey 'web-01' 'Docker')[0].Status)" | Should -Be 'Skipped'
        }
    }

    Context 'an offline node' {
        BeforeAll {
            Set-PveLabNode $lab -Node pve2 -Online $false
            try {
                $script:offline = Invoke-InPveLab $lab -ModulePath $script:ModulePath {
                    @(Invoke-PveHealthCheck -ConfigPath $Lab.ConfigPath -Component Cluster, Vm, Lxc -Exclude '*:Ping', '*:Ssh', '*:Docker')
                }
            }
            finally { Set-PveLabNode $lab -Node pve2 -Online $true }
            $script:offline = @(ConvertTo-PlainResult $script:offline)
        }

        It 'explains the guests of the offline node by the node' {
            foreach ($name in 'web-02', 'app-01', 'ci-01') {
                $r = (Find-Result $offline $name 'ApiStatus')[0]
                "$($r.Status)" | Should -Be 'Critical'
                $r.Detail | Should -BeLike '*node pve2 is offline*'
            }
            "$((Find-Result $offline 'web-01' 'ApiStatus')[0].Status)" | Should -Be 'Ok'
        }

        It 'reports the node Critical and the lost quorum' {
            "$((Find-Result $offline 'pve2' 'Node')[0].Status)" | Should -Be 'Critical'
            "$((Find-Result $offline 'pve1' 'Node')[0].Status)" | Should -Be 'Ok'
            $q = (Find-Result $offline 'cluster' 'Quorum')[0]
            "$($q.Status)" | Should -Be 'Critical'
            $q.Detail | Should -BeLike '*NO quorum*pve2 offline*'
        }

        It 'answers the agent of a VM on the offline node as node unreachable (595)' {
            $r = (Find-Result $offline 'web-02' 'GuestAgent')[0]
            "$($r.Status)" | Should -Be 'Critical'
            $r.Detail | Should -BeLike '*node pve2 unreachable*595*'
        }
    }
}
