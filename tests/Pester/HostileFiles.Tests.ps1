# Hostile configuration and inventory files at the cmdlets: each is a PveHealth error id (never System.*) naming the file
# and the JSON path or line, and nothing is written (the metrics file of the scheduled pipeline stays as it was).
BeforeDiscovery {
    function Get-Utf8([string] $Before, [byte[]] $Bad, [string] $After) {
        [byte[]] ([Text.Encoding]::UTF8.GetBytes($Before) + $Bad + [Text.Encoding]::UTF8.GetBytes($After))
    }

    $script:Laughs = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]`n" + (-join ('bcdefghi'.ToCharArray() | ForEach-Object {
        $p = [char]([int]$_ - 1); "${_}: &${_} [*$p, *$p, *$p, *$p, *$p, *$p, *$p, *$p, *$p]`n" })) + "guests: *i`n"
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Get-PveHealthModulePath) -Force

    $script:Textfile = Join-Path $TestDrive 'textfile'
    $null = New-Item -ItemType Directory $script:Textfile
    $script:Prom = Join-Path $script:Textfile 'pve_health.prom'
    "# metrics of an earlier run`npve_health_check_status{environment=`"prod`"} 0`n" | Set-Content $script:Prom -NoNewline
    (Get-Item $script:Prom).LastWriteTimeUtc = [datetime]::new(2026, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)

    # The textfile folder as it is: names, sizes, times and content hashes (a temporary file left behind counts too).
    function Get-FolderState {
        Get-ChildItem -Force $script:Textfile | Sort-Object Name |
            ForEach-Object { '{0} {1} {2:o} {3}' -f $_.Name, $_.Length, $_.LastWriteTimeUtc, (Get-FileHash $_.FullName).Hash }
    }
    $script:Before = Get-FolderState

    function New-HostileFile([string] $Name, [object] $Content) {
        $path = Join-Path $TestDrive $Name
        if ($Content -is [array]) { [IO.File]::WriteAllBytes($path, [byte[]] $Content) }
        elseif ($Content -is [long]) { $fs = [IO.File]::Create($path); $fs.SetLength($Content); $fs.Dispose() } # sparse: no disk used
        else { [IO.File]::WriteAllText($path, [string] $Content) }
        $path
    }
}

Describe 'Hostile configuration files (Invoke-PveHealthCheck -ConfigPath ... | Export-PveHealthMetrics)' {
    It '<Case>: ConfigInvalid naming the file and <Where>, nothing written' -ForEach @(
        @{ Case = 'invalid JSON'; Content = "{`n  `"environments`": {`n    `"prod`": {`n"; Where = 'the JSON path and line'; Like = ': $.environments.prod: *(line 4, byte 1)*' }
        @{ Case = 'a wrong type'; Content = "{`n  `"environments`": {`n    `"prod`": { `"inventory`": { `"source`": `"file`", `"path`": 5 } }`n  }`n}"; Where = 'the JSON path and line'; Like = ': $.environments.prod.inventory.path: expected a string (line 3,*' }
        @{ Case = 'environments as a list'; Content = '{"environments": [1, 2]}'; Where = 'the JSON path'; Like = ': $.environments: expected an object (line 1,*' }
        @{ Case = 'a number out of range'; Content = '{"defaults": {"timeoutSec": 1e300}, "environments": {}}'; Where = 'the JSON path'; Like = ': $.defaults.timeoutSec: *' }
        @{ Case = 'deep nesting'; Content = '{"environments": {"prod": ' + ('[' * 10000) + (']' * 10000) + '}}'; Where = 'the JSON path'; Like = ': $.environments.prod: expected an object*' }
        @{ Case = 'a huge file'; Content = [long] 5MB; Where = 'the cap'; Like = ': the configuration file is larger than 4 MiB (the cap for it)*' }
        @{ Case = 'invalid UTF-8'; Content = (Get-Utf8 "{`n  `"environments`": {`n    `"pr" ([byte[]] (0xFF, 0xFE)) "od`": {}`n  }`n}"); Where = 'the line'; Like = ': the configuration file is not valid UTF-8 text (line 3, byte 8)*' }
    ) {
        $path = New-HostileFile "hostile-$($Case -replace '\W', '-').json" $Content
        $err = $null
        $out = try { Invoke-PveHealthCheck -All -ConfigPath $path -ErrorAction Stop | Export-PveHealthMetrics -Path $script:Prom } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'ConfigInvalid,*'
        $err.ToString() | Should -BeLike "$path$Like"
        $out | Should -BeNullOrEmpty
        Get-FolderState | Should -Be $script:Before
    }
}

Describe 'Hostile inventory files (Get-PveInventory -Path)' {
    It '<Case>: <Id> naming the file and <Where>, no guest written' -ForEach @(
        @{ Case = 'a self-referencing YAML alias'; Name = 'self.yaml'; Content = "guests: &g`n  - name: web-01`n    tags: *g`n"; Id = 'InventoryInvalid'; Where = 'the line'; Like = ': line 3: YAML aliases (`*g) are not supported*' }
        @{ Case = 'a billion-laughs YAML alias bomb'; Name = 'laughs.yaml'; Content = $script:Laughs; Id = 'InventoryInvalid'; Where = 'the line'; Like = ': line 2: YAML aliases (`*a) are not supported*' }
        @{ Case = 'deeply nested YAML'; Name = 'deep.yaml'; Content = 'guests: ' + ('[' * 100000) + (']' * 100000) + "`n"; Id = 'InventoryInvalid'; Where = 'the line'; Like = ': line 1: nested deeper than 64 levels*' }
        @{ Case = 'deeply nested JSON'; Name = 'deep.json'; Content = '{"guests": ' + ('[' * 10000) + (']' * 10000) + '}'; Id = 'InventoryInvalid'; Where = 'the line'; Like = ': invalid JSON at line 1, byte *: nested deeper than the depth limit*' }
        @{ Case = 'a wrong type in YAML'; Name = 'types.yaml'; Content = "guests:`n  - name: [1, 2]`n    address: 127.0.0.1`n"; Id = 'InventoryInvalid'; Where = 'the JSON path and line'; Like = ': $.guests`[0`].name: expected a string or a number, found an array (line 2)*' }
        @{ Case = 'invalid UTF-8 in YAML'; Name = 'latin1.yaml'; Content = (Get-Utf8 "guests:`n  - name: caf" ([byte[]] (0xE9)) "`n    address: 127.0.0.1`n"); Id = 'InventoryInvalid'; Where = 'the line'; Like = ' is not valid UTF-8 text (line 2, byte 14)*' }
        @{ Case = 'invalid UTF-8 in JSON'; Name = 'latin1.json'; Content = (Get-Utf8 '{"guests": [{"name": "caf' ([byte[]] (0xE9)) '", "address": "127.0.0.1"}]}'); Id = 'InventoryInvalid'; Where = 'the line'; Like = ' is not valid UTF-8 text (line 1, byte 26)*' }
        @{ Case = 'a huge file'; Name = 'huge.yaml'; Content = [long] 65MB; Id = 'InventoryTooLarge'; Where = 'the cap'; Like = ' is larger than 64 MiB (the cap for it)*' }
    ) {
        $path = New-HostileFile $Name $Content
        $err = $null
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $out = try { Get-PveInventory -Path $path -ErrorAction Stop } catch { $err = $_ }
        $watch.Stop()
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $err.ToString() | Should -BeLike "$path$Like"
        $out | Should -BeNullOrEmpty
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 10
    }

    It 'in a run, a hostile inventory is an Unknown Discover result naming the file and line; the other environment still runs' {
        $self = New-HostileFile 'run-self.yaml' "guests: &g`n  - name: web-01`n    tags: *g`n"
        $good = New-HostileFile 'run-good.json' '{"guests": [{"name": "ok-01", "kind": "vm", "address": "127.0.0.11"}]}'
        $cfg = New-TestConfig -Folder (New-Item -ItemType Directory (Join-Path $TestDrive 'run')).FullName -Environments @{
            prod = @{ inventory = @{ source = 'file'; path = $self }; checks = @('Ping') }
            lab  = @{ inventory = @{ source = 'file'; path = $good }; checks = @('Ping') }
        }
        $r = Invoke-PveHealthCheck -All -ConfigPath $cfg -ErrorVariable errs -ErrorAction SilentlyContinue
        $discover = $r | Where-Object Environment -eq 'prod'
        $discover.Status | Should -Be 'Unknown'
        $discover.Detail | Should -BeLike "$self`: line 3: YAML aliases (`*g) are not supported*"
        ($r | Where-Object Environment -eq 'lab').Status | Should -Be 'Ok'
        $errs | Where-Object { $_.FullyQualifiedErrorId -like 'System.*' } | Should -BeNullOrEmpty
    }
}
