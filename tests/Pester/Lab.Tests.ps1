# Tests of the local lab itself (tests/Lab/PveLab.psm1): each service answers, the Proxmox simulator's JSON
# has the shapes DESIGN.md lists, the control API changes what the API, ping and SSH see, and teardown leaves
# nothing behind. They need root (a network namespace); without it they are skipped, never run elsewhere.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:LabSkipReason = Get-LabSkipReason -Suite 'Lab tests' -Tool nft, ssh, ssh-keygen, curl, ping, /usr/sbin/sshd -ProbeNamespace
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Lab/PveLab.psm1') -Force

    function Invoke-LabSsh {
        param($Lab, [string] $Address, [string] $Command = 'systemctl is-active docker', [int] $ConnectTimeoutSec = 3)
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $sshArgs = @('-o', 'BatchMode=yes', '-o', "UserKnownHostsFile=$($Lab.KnownHostsFile)", '-o', 'StrictHostKeyChecking=yes',
            '-o', "ConnectTimeout=$ConnectTimeoutSec", '-o', 'LogLevel=ERROR', '-i', $Lab.KeyFile, '-p', "$($Lab.SshPort)", "$($Lab.SshUser)@$Address", $Command)
        $out = Invoke-LabNative -Lab $Lab -FilePath 'ssh' -ArgumentList $sshArgs -AllowFailure
        [pscustomobject]@{ Output = ($out -join "`n").Trim(); ExitCode = $LASTEXITCODE; Seconds = $sw.Elapsed.TotalSeconds }
    }
    function Invoke-LabPing {
        param($Lab, [string] $Address)
        $null = Invoke-LabNative -Lab $Lab -FilePath 'ping' -ArgumentList @('-c', '1', '-W', '1', $Address) -AllowFailure
        $LASTEXITCODE
    }
    function Get-LabGuest { param($Lab, [string] $Name) $Lab.Guests | Where-Object Name -eq $Name | Select-Object -First 1 }
    # Processes whose command line mentions the lab folder (sshd config, simulator state, child pwsh).
    function Get-ProcessMentioning {
        param([string] $Text)
        foreach ($d in Get-ChildItem /proc -Directory -ErrorAction SilentlyContinue | Where-Object Name -match '^\d+$') {
            try { $cmd = [IO.File]::ReadAllText("$($d.FullName)/cmdline") -replace "`0", ' ' } catch { continue }
            if ($cmd.Contains($Text) -and [int]$d.Name -ne $PID) { [pscustomobject]@{ Id = [int]$d.Name; CommandLine = $cmd } }
        }
    }
}

Describe 'The lab' -Tag 'Lab' -Skip:([bool]$script:LabSkipReason) {
    BeforeAll {
        $script:lab = Start-PveLab -GuestCount 6
        $script:web01 = Get-LabGuest $lab 'web-01'
        $script:db01 = Get-LabGuest $lab 'db-01'
        $script:app01 = Get-LabGuest $lab 'app-01'
        $script:cache01 = Get-LabGuest $lab 'cache-01'
    }
    AfterAll {
        if ($script:lab) { Stop-PveLab $script:lab }
    }

    Context 'start-up and configuration' {
        It 'runs in its own network namespace and starts within 30 s' {
            $lab.Namespace | Should -Match '^pvelab-[0-9a-f]{8}$'
            (& ip netns list) -join "`n" | Should -Match ([regex]::Escape($lab.Namespace))
            $lab.StartupSeconds | Should -BeLessOrEqual 30
        }
        It 'puts every guest on a 127.x address and has the scripted guests' {
            $lab.Guests.Count | Should -Be 6
            foreach ($g in $lab.Guests) { $g.Ip | Should -Match '^127\.' }
            @($lab.Guests | Where-Object Status -eq 'stopped').Count | Should -Be 1
            @($lab.Guests | Where-Object Type -eq 'lxc').Count | Should -BeGreaterThan 0
            @($lab.Guests | Where-Object Node -eq 'pve2').Count | Should -BeGreaterThan 0
        }
        It 'writes a config the engine format knows, with the inventory, Proxmox and SSH sections' {
            $c = Get-Content $lab.ConfigPath -Raw | ConvertFrom-Json
            $e = $c.environments.lab
            $e.inventory.source | Should -Be 'terraform-output'
            Test-Path $e.inventory.path | Should -BeTrue
            $e.proxmox.url | Should -Be $lab.ProxmoxUrl
            $e.proxmox.tokenSecret.file | Should -Exist
            $e.proxmox.fingerprint | Should -Match '^([0-9A-F]{2}:){31}[0-9A-F]{2}$'
            $e.ssh.dockerCommand | Should -Be 'systemctl is-active docker'
            $e.ssh.keyFile | Should -Exist
            $e.ssh.knownHostsFile | Should -Exist
            (Get-Content $lab.ConfigPath -Raw) | Should -Not -Match ([regex]::Escape((Get-Content $e.proxmox.tokenSecret.file -Raw).Trim()))
        }
        It 'loads in PveHealth: Get-PveInventory reads the lab guests from the recorded terraform output' {
            $guests = @(Invoke-InPveLab -Lab $lab -ModulePath $env:PVEHEALTH_MODULE -ScriptBlock {
                Get-PveInventory -ConfigPath $Lab.ConfigPath -Environment lab | Select-Object Name, Address, @{ n = 'Kind'; e = { "$($_.Kind)" } }
            })
            $guests.Count | Should -Be 6
            ($guests | Where-Object Name -eq 'app-01').Kind | Should -Be 'Lxc'
            ($guests | Where-Object Name -eq 'db-01').Address | Should -Be $db01.Ip
        }
        It 'records a terraform output -json with every guest' {
            $tf = Get-Content (Join-Path $lab.Root 'terraform-output.json') -Raw | ConvertFrom-Json
            $tf.guests.sensitive | Should -BeFalse
            @($tf.guests.value.PSObject.Properties).Count | Should -Be 6
            $tf.guests.value.'web-01'.vmid | Should -Be 101
        }
        It 'has a known_hosts entry for every guest address' {
            $lines = Get-Content $lab.KnownHostsFile
            foreach ($g in $lab.Guests) { $lines | Where-Object { $_ -like "$($g.Ip) ssh-ed25519 *" } | Should -Not -BeNullOrEmpty }
        }
    }

    Context 'SSH (real OpenSSH sshd)' {
        It 'accepts the lab key on a running guest and answers the Docker question (active, exit 0)' {
            $r = Invoke-LabSsh $lab $web01.Ip
            $r.Output | Should -Be 'active'
            $r.ExitCode | Should -Be 0
        }
        It 'answers inactive with exit code 3 for the guest whose Docker is down' {
            $r = Invoke-LabSsh $lab $app01.Ip
            $r.Output | Should -Be 'inactive'
            $r.ExitCode | Should -Be 3
        }
        It 'runs other commands normally and knows which guest was dialled' {
            $r = Invoke-LabSsh $lab $web01.Ip -Command 'echo $SSH_CONNECTION'
            $r.ExitCode | Should -Be 0
            ($r.Output -split ' ')[2] | Should -Be $web01.Ip
        }
        It 'times out on the stopped guest (dropped, not refused)' {
            $r = Invoke-LabSsh $lab $db01.Ip -ConnectTimeoutSec 2
            $r.ExitCode | Should -Be 255
            $r.Output | Should -Match 'timed out'
            $r.Seconds | Should -BeGreaterOrEqual 1.5
        }
        It 'refuses SSH on the guest that refuses SSH, while it still answers ping' {
            $r = Invoke-LabSsh $lab $cache01.Ip
            $r.ExitCode | Should -Be 255
            $r.Output | Should -Match 'Connection refused'
            Invoke-LabPing $lab $cache01.Ip | Should -Be 0
        }
        It 'rejects a key it does not know' {
            $other = Join-Path $lab.Root 'other_key'
            $null = & ssh-keygen -q -t ed25519 -N '' -f $other
            $sshArgs = @('-o', 'BatchMode=yes', '-o', "UserKnownHostsFile=$($lab.KnownHostsFile)", '-o', 'StrictHostKeyChecking=yes', '-o', 'IdentitiesOnly=yes',
                '-i', $other, "$($lab.SshUser)@$($web01.Ip)", 'true')
            $out = Invoke-LabNative -Lab $lab -FilePath 'ssh' -ArgumentList $sshArgs -AllowFailure
            $LASTEXITCODE | Should -Be 255
            ($out -join ' ') | Should -Match 'Permission denied'
        }
    }

    Context 'ping' {
        It 'a running guest replies and the stopped guest does not' {
            Invoke-LabPing $lab $web01.Ip | Should -Be 0
            Invoke-LabPing $lab $db01.Ip | Should -Not -Be 0
        }
    }

    Context 'Proxmox API simulator: shapes' {
        It 'serves /version over HTTPS with the lab certificate, whose SHA-256 matches the written fingerprint' {
            $r = Invoke-PveLabApi $lab '/version'
            $r.Status | Should -Be 200
            $r.Body.data.version | Should -Not -BeNullOrEmpty
            $pem = Get-Content $lab.CertPath -Raw
            $cert = [Security.Cryptography.X509Certificates.X509Certificate2]::CreateFromPem($pem)
            $fp = ([Security.Cryptography.SHA256]::HashData($cert.RawData) | ForEach-Object { $_.ToString('X2') }) -join ':'
            $fp | Should -Be $lab.Fingerprint
        }
        It '/cluster/status has a quorate cluster entry and online nodes as 0/1 integers' {
            $d = (Invoke-PveLabApi $lab '/cluster/status').Body.data
            $cluster = $d | Where-Object type -eq 'cluster'
            $cluster.quorate | Should -Be 1
            $cluster.quorate | Should -BeOfType [long]
            $nodes = @($d | Where-Object type -eq 'node')
            $nodes.Count | Should -Be 2
            $nodes | ForEach-Object { $_.online | Should -Be 1 }
        }
        It '/cluster/resources?type=vm lists guests with id, vmid, type, node, name, status, template, tags' {
            $d = @((Invoke-PveLabApi $lab '/cluster/resources?type=vm').Body.data)
            $w = $d | Where-Object vmid -eq 101
            $w.id | Should -Be 'qemu/101'
            $w.type | Should -Be 'qemu'
            $w.node | Should -Be 'pve1'
            $w.name | Should -Be 'web-01'
            $w.status | Should -Be 'running'
            $w.template | Should -Be 0
            $w.tags | Should -Be 'web;prod'
            ($d | Where-Object vmid -eq 103).status | Should -Be 'stopped'
            ($d | Where-Object vmid -eq 104).type | Should -Be 'lxc'
            ($d | Where-Object template -eq 1).name | Should -Be 'tmpl-debian-12'
            $d | Where-Object type -eq 'node' | Should -BeNullOrEmpty
            $d | Where-Object vmid -eq 9901 | Should -BeNullOrEmpty -Because 'the token may not see that guest'
        }
        It 'status/current for qemu has status, qmpstatus and agent; for lxc type lxc' {
            $q = (Invoke-PveLabApi $lab '/nodes/pve1/qemu/101/status/current').Body.data
            $q.status | Should -Be 'running'
            $q.qmpstatus | Should -Be 'running'
            $q.agent | Should -Be 1
            $q.name | Should -Be 'web-01'
            $q.uptime | Should -BeGreaterThan 0
            $ci = (Invoke-PveLabApi $lab '/nodes/pve2/qemu/106/status/current').Body.data
            $ci.PSObject.Properties['agent'] | Should -BeNullOrEmpty -Because 'ci-01 has no agent configured'
            $l = (Invoke-PveLabApi $lab '/nodes/pve2/lxc/104/status/current').Body.data
            $l.type | Should -Be 'lxc'
            $l.status | Should -Be 'running'
        }
        It 'agent/ping answers {"data":{"result":{}}} for a running agent' {
            $r = Invoke-PveLabApi $lab '/nodes/pve1/qemu/101/agent/ping' -Method POST
            $r.Status | Should -Be 200
            $r.Raw | Should -Be '{"data":{"result":{}}}'
        }
        It 'agent/ping answers 500 with the real reasons (status line and message)' -TestCases @(
            @{ Path = '/nodes/pve2/qemu/102/agent/ping'; Reason = 'QEMU guest agent is not running' }
            @{ Path = '/nodes/pve2/qemu/106/agent/ping'; Reason = 'No QEMU guest agent configured' }
            @{ Path = '/nodes/pve1/qemu/103/agent/ping'; Reason = 'VM 103 is not running' }
        ) {
            param($Path, $Reason)
            $r = Invoke-PveLabApi $lab $Path -Method POST
            $r.Status | Should -Be 500
            $r.Reason | Should -Be $Reason
            $r.Body.message.Trim() | Should -Be $Reason
            $r.Body.PSObject.Properties['data'] | Should -Not -BeNullOrEmpty
        }
        It 'agent/network-get-interfaces lists lo and eth0 with ip-addresses' {
            $res = (Invoke-PveLabApi $lab '/nodes/pve1/qemu/101/agent/network-get-interfaces').Body.data.result
            ($res | Where-Object name -eq 'lo').'ip-addresses'[0].'ip-address' | Should -Be '127.0.0.1'
            $eth = ($res | Where-Object name -eq 'eth0').'ip-addresses' | Where-Object 'ip-address-type' -eq 'ipv4'
            $eth.'ip-address' | Should -Be $web01.Ip
            $eth.prefix | Should -Be 24
        }
        It 'lxc interfaces gives inet a.b.c.d/nn' {
            $res = (Invoke-PveLabApi $lab '/nodes/pve2/lxc/104/interfaces').Body.data
            ($res | Where-Object name -eq 'eth0').inet | Should -Be "$($app01.Ip)/24"
        }
        It 'answers 401 after about 3 s and without a JSON body for a bad or missing token' -TestCases @(
            @{ Token = 'none'; Reason = 'No ticket' }
            @{ Token = 'PVEAPIToken=root@pam!pvehealth=wrong-secret'; Reason = 'authentication failure' }
        ) {
            param($Token, $Reason)
            $r = Invoke-PveLabApi $lab '/version' -Token $Token
            $r.Status | Should -Be 401
            $r.Reason | Should -Be $Reason
            $r.Raw | Should -BeNullOrEmpty
            $r.Seconds | Should -BeGreaterOrEqual 2.9
        }
        It 'answers 403 Permission check failed for a guest the token may not see' {
            $r = Invoke-PveLabApi $lab '/nodes/pve1/qemu/9901/status/current'
            $r.Status | Should -Be 403
            $r.Reason | Should -Be 'Permission check failed (/vms/9901, VM.Audit)'
        }
        It 'answers 500 for an unknown vmid, as the real server does' {
            $r = Invoke-PveLabApi $lab '/nodes/pve1/qemu/4242/status/current'
            $r.Status | Should -Be 500
            $r.Reason | Should -Match "Configuration file 'nodes/pve1/qemu-server/4242.conf' does not exist"
        }
        It 'refuses the control API without the control token' {
            (Invoke-PveLabApi $lab '/_lab/state' -Token 'none').Status | Should -Be 403
            (Invoke-PveLabApi $lab '/_lab/state' -Token 'none' -Headers @{ 'X-Lab-Control' = 'nope' }).Status | Should -Be 403
        }
    }

    Context 'control API changes what the API, ping and SSH see' {
        It 'an offline node: 595 for its routes, status unknown for its guests, quorum lost' {
            Set-PveLabNode $lab -Node pve2 -Online $false
            try {
                $r = Invoke-PveLabApi $lab '/nodes/pve2/qemu/102/status/current'
                $r.Status | Should -Be 595
                $r.Reason | Should -Match 'No route to host'
                $d = @((Invoke-PveLabApi $lab '/cluster/resources?type=vm').Body.data)
                ($d | Where-Object vmid -eq 102).status | Should -Be 'unknown'
                ($d | Where-Object vmid -eq 101).status | Should -Be 'running'
                $s = (Invoke-PveLabApi $lab '/cluster/status').Body.data
                ($s | Where-Object name -eq 'pve2').online | Should -Be 0
                ($s | Where-Object type -eq 'cluster').quorate | Should -Be 0
            }
            finally { Set-PveLabNode $lab -Node pve2 -Online $true }
            (Invoke-PveLabApi $lab '/nodes/pve2/qemu/102/status/current').Status | Should -Be 200
        }
        It 'stopping a guest changes the API and drops its address; starting it brings both back' {
            Set-PveLabGuest $lab -Name web-01 -State stopped
            try {
                (Invoke-PveLabApi $lab '/nodes/pve1/qemu/101/status/current').Body.data.status | Should -Be 'stopped'
                (Invoke-PveLabApi $lab '/nodes/pve1/qemu/101/agent/ping' -Method POST).Reason | Should -Be 'VM 101 is not running'
                Invoke-LabPing $lab $web01.Ip | Should -Not -Be 0
                (Invoke-LabSsh $lab $web01.Ip -ConnectTimeoutSec 2).Output | Should -Match 'timed out'
            }
            finally { Set-PveLabGuest $lab -Name web-01 -State running }
            (Invoke-PveLabApi $lab '/nodes/pve1/qemu/101/status/current').Body.data.status | Should -Be 'running'
            Invoke-LabPing $lab $web01.Ip | Should -Be 0
        }
        It 'a stopped container gives interfaces data null' {
            Set-PveLabGuest $lab -Name app-01 -State stopped
            try {
                $r = Invoke-PveLabApi $lab '/nodes/pve2/lxc/104/interfaces'
                $r.Status | Should -Be 200
                $r.Raw | Should -Be '{"data":null}'
            }
            finally { Set-PveLabGuest $lab -Name app-01 -State running }
        }
        It 'agent down and Docker inactive are scriptable' {
            Set-PveLabGuest $lab -Name web-01 -Agent down -Docker inactive
            try {
                (Invoke-PveLabApi $lab '/nodes/pve1/qemu/101/agent/ping' -Method POST).Reason | Should -Be 'QEMU guest agent is not running'
                (Invoke-LabSsh $lab $web01.Ip).Output | Should -Be 'inactive'
                (Get-PveLabState $lab).guests | Where-Object vmId -eq 101 | ForEach-Object agent | Should -Be 'down'
            }
            finally { Set-PveLabGuest $lab -Name web-01 -Agent up -Docker active }
            (Invoke-LabSsh $lab $web01.Ip).Output | Should -Be 'active'
        }
    }

    Context 'monitoring stack and MinIO side (real services inside the namespace)' {
        BeforeAll {
            function Invoke-LabCurl {
                param($Lab, [string] $Url)
                $out = @(Invoke-LabNative -Lab $Lab -FilePath 'curl' -ArgumentList @('-sS', '--max-time', '5', '-w', '\n%{http_code}', $Url) -AllowFailure)
                [pscustomobject]@{ Status = [int]$out[-1]; Body = (($out | Select-Object -SkipLast 1) -join "`n") }
            }
            $script:mon = $lab.Monitoring
        }
        It 'writes monitoring and minio sections with secrets as file references only' {
            $raw = Get-Content $lab.ConfigPath -Raw
            $e = ($raw | ConvertFrom-Json).environments.lab
            $e.monitoring.prometheus.url | Should -Be $mon.PrometheusUrl
            $e.monitoring.grafana.url | Should -Be $mon.GrafanaUrl
            $e.monitoring.alertmanager.url | Should -Be $mon.AlertmanagerUrl
            $e.minio.endpoint | Should -Be $mon.MinioUrl
            $e.minio.accessKey.file | Should -Exist
            $e.minio.secretKey.file | Should -Exist
            $e.minio.buckets | Should -Be @('tfstate')
            $e.minio.stateObjects | Should -Be @('tfstate/lab/terraform.tfstate')
            $e.minio.maxLockAgeMinutes | Should -Be 60
            $raw | Should -Not -Match 'S3RVER' -Because 'the keys are referenced, never inline'
            foreach ($u in $mon.PrometheusUrl, $mon.GrafanaUrl, $mon.AlertmanagerUrl, $mon.MinioUrl) { $u | Should -Match '^http://127\.' }
        }
        It 'every stack process runs inside the lab namespace' {
            $ids = @($lab.StackServices.Pids)
            $ids.Count | Should -Be 5   # stand-ins, node_exporter, prometheus, two alertmanagers
            foreach ($id in $ids) { (& ip netns identify $id) | Should -Be $lab.Namespace }
        }
        It 'Prometheus is ready, scrapes itself and node_exporter, and reports the dead target down with its error' {
            (Invoke-LabCurl $lab "$($mon.PrometheusUrl)/-/ready").Status | Should -Be 200
            $t = ((Invoke-LabCurl $lab "$($mon.PrometheusUrl)/api/v1/targets?state=active").Body | ConvertFrom-Json).data.activeTargets
            ($t | Where-Object { $_.labels.job -eq 'node' }).health | Should -Be 'up'
            ($t | Where-Object { $_.labels.job -eq 'prometheus' }).health | Should -Be 'up'
            $dead = $t | Where-Object { $_.labels.job -eq 'dead' }
            $dead.health | Should -Be 'down'
            $dead.lastError | Should -Match 'connection refused'
        }
        It 'both Alertmanagers are ready and clustered, and Prometheus sends to both' {
            foreach ($u in $mon.AlertmanagerUrl, $mon.Alertmanager2Url) {
                (Invoke-LabCurl $lab "$u/-/ready").Status | Should -Be 200
                $st = (Invoke-LabCurl $lab "$u/api/v2/status").Body | ConvertFrom-Json
                $st.cluster.status | Should -Be 'ready'
                @($st.cluster.peers).Count | Should -Be 2
            }
            $am = ((Invoke-LabCurl $lab "$($mon.PrometheusUrl)/api/v1/alertmanagers").Body | ConvertFrom-Json).data.activeAlertmanagers
            @($am).Count | Should -Be 2
        }
        It 'the Grafana stand-in answers /api/health with database ok' {
            $r = Invoke-LabCurl $lab "$($mon.GrafanaUrl)/api/health"
            $r.Status | Should -Be 200
            ($r.Body | ConvertFrom-Json).database | Should -Be 'ok'
        }
        It 'MinIO health routes answer and the tfstate object is a Terraform state v4 of the lab guests' {
            (Invoke-LabCurl $lab "$($mon.MinioUrl)/minio/health/live").Status | Should -Be 200
            (Invoke-LabCurl $lab "$($mon.MinioUrl)/minio/health/cluster").Status | Should -Be 200
            $r = Invoke-LabCurl $lab "$($mon.MinioUrl)/tfstate/lab/terraform.tfstate"   # s3rver serves unsigned GETs
            $r.Status | Should -Be 200
            $state = $r.Body | ConvertFrom-Json
            $state.version | Should -Be 4
            @($state.outputs.guests.value.PSObject.Properties.Name) | Should -Be @($lab.Guests.Name)
            $state.outputs.guests.value.'app-01'.type | Should -Be 'lxc'
        }
        It 'Get-PveInventory with inventory.source minio-state reads the lab guests from the state object' {
            $guests = @(Invoke-InPveLab -Lab $lab -ModulePath $env:PVEHEALTH_MODULE -ScriptBlock {
                $c = Get-Content $Lab.ConfigPath -Raw | ConvertFrom-Json -AsHashtable
                $c.environments.lab.inventory = @{ source = 'minio-state'; stateObject = 'tfstate/lab/terraform.tfstate' }
                $path = Join-Path $Lab.Root 'config-minio-state.json'
                $c | ConvertTo-Json -Depth 10 | Set-Content -Path $path
                Get-PveInventory -ConfigPath $path -Environment lab | Select-Object Name, Address, Source, @{ n = 'Kind'; e = { "$($_.Kind)" } }
            })
            $guests.Count | Should -Be 6
            ($guests | Where-Object Name -eq 'app-01').Kind | Should -Be 'Lxc'
            ($guests | Where-Object Name -eq 'db-01').Address | Should -Be $db01.Ip
            $guests[0].Source | Should -BeLike 'minio-state:*'
        }
        It 'a metrics file in the textfile folder reaches Prometheus through node_exporter' {
            $file = Join-Path $mon.TextfileDirectory 'labtest.prom'
            Set-Content -Path $file -Value "# HELP pvelab_probe Lab test.`n# TYPE pvelab_probe gauge`npvelab_probe 42" -Encoding utf8NoBOM
            try {
                $value = $null
                $deadline = [DateTime]::UtcNow.AddSeconds(20)
                while (-not $value -and [DateTime]::UtcNow -lt $deadline) {
                    $q = (Invoke-LabCurl $lab "$($mon.PrometheusUrl)/api/v1/query?query=pvelab_probe").Body | ConvertFrom-Json
                    if (@($q.data.result).Count) { $value = $q.data.result[0].value[1] } else { Start-Sleep -Milliseconds 500 }
                }
                $value | Should -Be '42'
            }
            finally { Remove-Item $file -ErrorAction SilentlyContinue }
        }
        It 'is not reachable from the host namespace' {
            $null = & curl -sS --max-time 2 "$($mon.PrometheusUrl)/-/ready" 2>&1
            $LASTEXITCODE | Should -Not -Be 0
        }
    }

    Context 'Invoke-InPveLab' {
        It 'runs a script block in a child pwsh inside the namespace and returns its output' {
            $r = Invoke-InPveLab -Lab $lab -ArgumentList @($web01.Ip, $db01.Ip) -ScriptBlock {
                param($Ip, $StoppedIp)
                [pscustomobject]@{
                    Namespace = (& ip netns identify ([Environment]::ProcessId))
                    Ping      = (Test-Connection -TargetName $Ip -Count 1 -TimeoutSeconds 2).Status.ToString()
                    # .NET's Ping to a stopped guest must time out (not fail to send): the drop is on input only.
                    Stopped   = (Test-Connection -TargetName $StoppedIp -Count 1 -TimeoutSeconds 1).Status.ToString()
                }
            }
            $r.Namespace | Should -Be $lab.Namespace
            $r.Ping | Should -Be 'Success'
            $r.Stopped | Should -Be 'TimedOut'
        }
    }
}

Describe 'Lab teardown' -Tag 'Lab' -Skip:([bool]$script:LabSkipReason) {
    It 'tears the lab down when its owner pwsh is killed (<Signal>) before Stop-PveLab runs' -TestCases @(@{ Signal = 'TERM' }, @{ Signal = 'KILL' }) {
        param($Signal)
        $module = Join-Path $PSScriptRoot '../Lab/PveLab.psm1'
        $out = Join-Path ([IO.Path]::GetTempPath()) "pvelab-owner-$([guid]::NewGuid().ToString('n')).txt"
        $self = [Environment]::ProcessPath
        $pwsh = if ([IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') { @($self, (Join-Path $PSHOME 'pwsh.dll')) } else { @($self) }
        $script = "Import-Module '$module'; `$lab = Start-PveLab -NoStack -GuestCount 2; Set-Content '$out' (`$lab.Namespace + ' ' + `$lab.Root); Start-Sleep -Seconds 120"
        $owner = Start-Process -FilePath $pwsh[0] -ArgumentList (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script)) -PassThru -RedirectStandardOutput '/dev/null'
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not (Test-Path $out) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
            Test-Path $out | Should -BeTrue -Because 'the owner started its lab'
            $namespace, $root = (Get-Content $out -Raw).Trim() -split ' '
            @(& ip netns list | ForEach-Object { ($_ -split ' ')[0] }) | Should -Contain $namespace
            & kill "-$Signal" $owner.Id
            # The watchdog polls once a second: allow a few rounds.
            $deadline = [DateTime]::UtcNow.AddSeconds(15)
            while (((@(& ip netns list | ForEach-Object { ($_ -split ' ')[0] }) -contains $namespace) -or (Test-Path $root)) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 250 }
            @(& ip netns list | ForEach-Object { ($_ -split ' ')[0] }) | Should -Not -Contain $namespace
            Test-Path $root | Should -BeFalse
            @(Get-ProcessMentioning $root).Count | Should -Be 0
        }
        finally {
            if (-not $owner.HasExited) { $owner.Kill($true) }
            Remove-Item $out -ErrorAction SilentlyContinue
        }
    }

    It 'Stop-PveLab leaves no process, no namespace and no temp folder (with the monitoring stack)' {
        $lab = Start-PveLab -GuestCount 2
        $pids = @($lab.Pids)
        $stackPids = @($lab.StackServices.Pids)
        $stackPids.Count | Should -Be 5
        $pids.Count | Should -BeGreaterOrEqual 8   # sshd, simulator, keeper, 5 stack services
        foreach ($id in $pids) { Test-LabPidAlive $id | Should -BeTrue }
        Stop-PveLab $lab
        foreach ($id in $pids) { Test-LabPidAlive $id | Should -BeFalse }
        (& ip netns list) -join "`n" | Should -Not -Match ([regex]::Escape($lab.Namespace))
        Test-Path $lab.Root | Should -BeFalse
        @(Get-ProcessMentioning $lab.Root).Count | Should -Be 0
    }
    It '-NoStack starts guests and Proxmox only, quickly' {
        $lab = Start-PveLab -GuestCount 2 -NoStack
        try {
            $lab.StackServices | Should -BeNullOrEmpty
            $lab.StartupSeconds | Should -BeLessThan 10
            $e = (Get-Content $lab.ConfigPath -Raw | ConvertFrom-Json).environments.lab
            $e.PSObject.Properties['monitoring'] | Should -BeNullOrEmpty
            $e.PSObject.Properties['minio'] | Should -BeNullOrEmpty
        }
        finally { Stop-PveLab $lab }
        Test-Path $lab.Root | Should -BeFalse
    }
    It 'a start that fails midway (<FailAt>, stack: <Stack>) cleans up after itself' -TestCases @(
        @{ FailAt = 'namespace'; Stack = $false }, @{ FailAt = 'ssh'; Stack = $true }, @{ FailAt = 'simulator'; Stack = $false },
        @{ FailAt = 'stack'; Stack = $true }, @{ FailAt = 'config'; Stack = $true }
    ) {
        param($FailAt, $Stack)
        $root = Join-Path ([IO.Path]::GetTempPath()) ("pvelab-failtest-" + (Get-Random -Maximum 999999))
        # The failure names the lab's namespace (other labs may start in parallel: compare by name, not by count).
        $err = { Start-PveLab -GuestCount 2 -Root $root -FailAt $FailAt -NoStack:(-not $Stack) } | Should -Throw "*forced failure after*" -PassThru
        $null = $err.Exception.Message -match 'namespace (pvelab-[0-9a-f]{8})'
        $ns = $Matches[1]
        $ns | Should -Not -BeNullOrEmpty
        @(& ip netns list | ForEach-Object { ($_ -split ' ')[0] }) | Should -Not -Contain $ns
        Test-Path $root | Should -BeFalse
        @(Get-ProcessMentioning $root).Count | Should -Be 0
    }
}

# Runs everywhere (no namespace needed): the check happens before the lab starts anything.
Describe 'Start-PveLab names a missing prerequisite' {
    BeforeAll { Import-Module (Join-Path $PSScriptRoot '../Lab/PveLab.psm1') -Force }

    It 'names the missing program and s3rver (looked up at paths that do not exist), says what installs them, and starts nothing' {
        $root = Join-Path ([IO.Path]::GetTempPath()) "pvelab-prereq-$([guid]::NewGuid().ToString('N'))"
        $err = $null
        try { Start-PveLab -Root $root -PrerequisitePath @{ prometheus = '/nonexistent/bin/prometheus'; s3rver = '/nonexistent/node_modules/s3rver' } }
        catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.Exception.Message | Should -BeLike 'lab: missing prerequisites: prometheus (/nonexistent/bin/prometheus does not exist); s3rver (/nonexistent/node_modules/s3rver does not exist). Run tools/install-prerequisites.sh*'
        $err.Exception.Message | Should -Not -Match 'cannot be retrieved|LabDir'
        Test-Path $root | Should -BeFalse -Because 'nothing is started or created before the check'
    }

    It 'a program missing from PATH is named as such; -NoStack does not need the stack' {
        @(Get-PveLabMissingPrerequisite -Path @{ 'prometheus-alertmanager' = 'pvelab-no-such-alertmanager' }) -like 'prometheus-alertmanager*' |
            Should -Be 'prometheus-alertmanager (not on PATH)'
        @(Get-PveLabMissingPrerequisite -NoStack) -like 'prometheus*' | Should -BeNullOrEmpty
        { Get-PveLabMissingPrerequisite -Path @{ promethius = '/x' } } | Should -Throw '*no prerequisite named*promethius*'
    }
}
