# ConvertTo-PveHealthReport: the three formats, and the HTML report rendered in a real headless Chromium
# (Debian's chromium package, installed by tools/install-prerequisites.sh): the report of a real lab run, and a report
# with hostile names (which a lab run cannot produce) for the escaping.
# Traffic: ICMP to 127.0.0.1, the lab inside its own network namespace; Chromium runs in a network namespace of its
# own with no interface but lo (unshare -n) and reads the report from a file:// URL.

BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:LabSkipReason = Get-LabSkipReason -Suite 'Report lab tests' -Tool /usr/sbin/sshd, chromium
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot '../Lab/PveLab.psm1') -Force
    $script:ModulePath = Get-PveHealthModulePath
    Import-Module $script:ModulePath -Force
    $script:Work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "pvehealth-report-$([guid]::NewGuid().ToString('N'))")).FullName
    # Kept as a build artifact: out/report/.
    $script:Artifacts = (New-Item -ItemType Directory -Force (Join-Path (Split-Path $script:ModulePath -Parent) 'report')).FullName

    $script:Hostile = "<script>document.title='pwned'</script>`"q'uote`" `u{7}bell"
    # Real results (ping 127.0.0.1, a guest without an address) plus results read by property name, as from Import-Csv.
    $live = @(
        Test-PveVm -Name 'web-01' -Address 127.0.0.1 -Environment 'prod' -Check Ping -InformationAction Ignore
        Test-PveVm -Name 'web-02' -Address 127.0.0.1 -Environment 'lab' -Check Ping -InformationAction Ignore
        Test-PveVm -Name 'ghost' -Environment 'lab' -Check Ping -InformationAction Ignore
    )
    $now = [DateTimeOffset]::UtcNow.ToString('o')
    $read = @(
        [pscustomobject]@{ Environment = 'prod'; Component = $script:Hostile; Type = 'Vm'; Check = 'Ssh'; Status = 'Critical'; Detail = "no SSH answer from <b>x</b> | pipe"; DurationSeconds = 2.5; TimestampUtc = $now; Target = '127.10.0.3' }
        [pscustomobject]@{ Environment = 'prod'; Component = 'db-01'; Type = 'Vm'; Check = 'Docker'; Status = 'Skipped'; Detail = 'skipped: SSH failed'; DurationSeconds = 0; TimestampUtc = $now; Target = '' }
        [pscustomobject]@{ Environment = 'lab'; Component = 'tfstate'; Type = 'TerraformState'; Check = 'Lock'; Status = 'Warning'; Detail = 'locked for 2 h'; DurationSeconds = 0.05; TimestampUtc = $now; Target = '' }
    )
    $script:Results = $live + $read
    $script:Counts = @{ ok = 2; warning = 1; critical = 1; unknown = 1; skipped = 1 }

    function script:Invoke-Chromium {
        param([string[]] $Arguments)
        $profileDir = Join-Path $script:Work "chromium-profile-$([guid]::NewGuid().ToString('N'))"
        $common = @('-n', 'chromium', '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--disable-extensions', "--user-data-dir=$profileDir")
        $r = Invoke-Program -File 'unshare' -Arguments ($common + $Arguments) -TimeoutSec 120
        if ($r.ExitCode -ne 0 -or -not $r.Output) { Write-Host "    chromium exit $($r.ExitCode): $(($r.Error -split "`n" | Where-Object { $_ -notmatch 'dbus' }) -join ' / ')" }
        $r
    }
}

AfterAll {
    if ($script:Work -and (Test-Path $script:Work)) { Remove-Item -Recurse -Force $script:Work -ErrorAction SilentlyContinue }
}

Describe 'ConvertTo-PveHealthReport' {
    It 'Json: schemaVersion, Status names, seconds as numbers, ISO 8601 UTC timestamps, failures first' {
        $json = $script:Results | ConvertTo-PveHealthReport -Format Json -Title 'Lab'
        $doc = $json | ConvertFrom-Json -DateKind String
        $doc.schemaVersion | Should -Be 1
        $doc.summary.total | Should -Be 6
        $doc.summary.failed | Should -Be 3
        $doc.summary.worst | Should -BeExactly 'Critical'
        foreach ($k in $script:Counts.Keys) { $doc.summary.counts.$k | Should -Be $script:Counts[$k] -Because "count of $k" }
        @($doc.results.status)[0..2] | Should -Be @('Critical', 'Unknown', 'Warning')
        $doc.results[0].component | Should -BeExactly $script:Hostile
        $doc.results[0].durationSeconds | Should -BeOfType [double]
        $doc.results | ForEach-Object { $_.timestampUtc | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$' }
        Set-Content -Path (Join-Path $script:Artifacts 'report.json') -Value $json -Encoding utf8NoBOM
    }

    It 'Markdown: summary, failure table, then the rest; markup in a name is escaped' {
        $md = $script:Results | ConvertTo-PveHealthReport -Format Markdown -Title 'Lab'
        $md | Should -BeLike '# Lab*'
        $md | Should -BeLike '*`*`*CRITICAL`*`*: 3 of 6 checks failed*'
        $md.IndexOf('## Failures (3)') | Should -BeLessThan $md.IndexOf('## Other checks (3)')
        $md | Should -Not -BeLike '*<script*'
        $md | Should -BeLike '*&lt;script&gt;*'
    }

    It '-Path writes the file atomically, returns it and says so on the information stream; a bad object is InvalidCheckResult' {
        $path = Join-Path $script:Work 'r.html'
        $file = @($script:Results) + [pscustomobject]@{ Component = 'x'; Check = 'y'; Status = 3 } |
            ConvertTo-PveHealthReport -Path $path -InformationVariable info -ErrorVariable errs -ErrorAction SilentlyContinue
        $file.FullName | Should -Be $path
        "$($info[0])" | Should -BeExactly "Wrote a Html report of 6 check results to $path."
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'InvalidCheckResult,*'
        { $script:Results[0] | ConvertTo-PveHealthReport -Path (Join-Path $script:Work 'no/such/dir/r.html') -ErrorAction Stop } | Should -Throw -ErrorId 'ReportWriteFailed*'
    }
}

Describe 'ConvertTo-PveHealthReport: the HTML report in headless Chromium' -Skip:((& id -u) -ne '0') {
    BeforeAll {
        $script:Html = Join-Path $script:Artifacts 'report.html'
        $script:Results | ConvertTo-PveHealthReport -Format Html -Title 'PveHealth lab report' -Path $script:Html -InformationAction Ignore | Out-Null
        $script:Url = [uri]::new("file://$script:Html").AbsoluteUri
        $script:Screenshot = Join-Path $script:Artifacts 'report.png'
        if (Test-Path $script:Screenshot) { Remove-Item $script:Screenshot }
        $script:Shot = Invoke-Chromium @('--window-size=1280,1600', '--hide-scrollbars', "--screenshot=$script:Screenshot", $script:Url)
        $script:Dom = (Invoke-Chromium @('--dump-dom', $script:Url)).Output
        Write-Host "    url: $script:Url; screenshot: $script:Screenshot ($((Get-Item $script:Screenshot -ErrorAction SilentlyContinue).Length) bytes); DOM $($script:Dom.Length) characters"
    }

    It 'renders and takes a screenshot, kept under out/report/' {
        $script:Shot.ExitCode | Should -Be 0
        $bytes = [IO.File]::ReadAllBytes($script:Screenshot)
        $bytes.Length | Should -BeGreaterThan 10000
        [Text.Encoding]::ASCII.GetString($bytes, 1, 3) | Should -Be 'PNG'
    }

    It 'the rendered DOM has the summary counts of the results' {
        $script:Dom | Should -Not -BeNullOrEmpty
        $all = [regex]::Match($script:Dom, '(?s)<tr class="all">(.*?)</tr>').Groups[1].Value
        foreach ($k in $script:Counts.Keys) {
            $all | Should -Match ("data-status=`"$k`">$($script:Counts[$k])</td>") -Because "the All row counts $k"
        }
        [regex]::Match($script:Dom, '<span id="total">(\d+)</span>').Groups[1].Value | Should -Be '6'
        $prod = [regex]::Match($script:Dom, '(?s)<tr class="env"><td>prod</td>(.*?)</tr>').Groups[1].Value
        $prod | Should -Match 'data-status="critical">1</td>'
        $prod | Should -Match 'data-status="ok">1</td>'
    }

    It 'failures come first: the failure table precedes the components, Critical, Unknown, Warning in that order' {
        $failures = $script:Dom.IndexOf('<section id="failures">')
        $components = $script:Dom.IndexOf('<section id="components">')
        $failures | Should -BeGreaterThan 0
        $components | Should -BeGreaterThan $failures
        $order = [regex]::Matches($script:Dom, '<tr class="failure" data-status="(\w+)"') | ForEach-Object { $_.Groups[1].Value }
        @($order) | Should -Be @('critical', 'unknown', 'warning')
    }

    It 'a hostile name is shown as text: no script element, the title untouched, the text visible with its control character pictured' {
        [regex]::Matches($script:Dom, '<script', 'IgnoreCase').Count | Should -Be 0
        $script:Dom | Should -Match '<title>PveHealth lab report</title>'
        # In the DOM the name is a text node: the browser serialises its angle brackets as entities.
        $script:Dom | Should -BeLike "*&lt;script&gt;document.title='pwned'&lt;/script&gt;`"q'uote`" $([char]0x2407)bell*"
        $script:Dom | Should -BeLike '*no SSH answer from &lt;b&gt;x&lt;/b&gt; | pipe*'
    }

    It 'every status label carries its name as text, not only a colour' {
        foreach ($s in 'OK', 'WARNING', 'CRITICAL', 'UNKNOWN', 'SKIPPED') {
            $script:Dom | Should -Match ("<span class=`"status st-$($s.ToLowerInvariant())`">$s</span>")
        }
    }

    It 'is self-contained: no external resource, no script' {
        $html = Get-Content -Raw $script:Html
        $html | Should -Not -Match '(?i)\b(src|href)\s*='
        $html | Should -Not -Match '(?i)<(script|link|img|iframe)\b'
        $html | Should -Match "Content-Security-Policy"
    }
}

Describe 'ConvertTo-PveHealthReport: the HTML report of a lab run in headless Chromium' -Tag 'Lab' -Skip:([bool]$script:LabSkipReason) {
    BeforeAll {
        # A real run: the lab's scripted faults (db-01 stopped, cache-01 without sshd, app-01's docker down, HA,
        # Ceph, storage, backups, certificates) give Critical, Warning and Skipped rows next to the Ok ones.
        $script:Lab = Start-PveLab -GuestCount 6 -NoStack
        # The simulator's first answers are slow (JIT, TLS) on a loaded machine; the run is about the report, not the
        # deadline: one warm-up request, and checks that may take 8 s.
        $null = Invoke-PveLabApi -Lab $script:Lab -Path '/cluster/status' -TimeoutSec 30
        $script:LabHtml = Join-Path $script:Artifacts 'lab-report.html'
        if (Test-Path $script:LabHtml) { Remove-Item $script:LabHtml }
        $script:Run = @(Invoke-InPveLab $script:Lab -ModulePath $script:ModulePath -ArgumentList $script:LabHtml {
                param($Html)
                Remove-Item Env:PVE_HEALTH_CONFIG -ErrorAction SilentlyContinue
                $results = @(Invoke-PveHealthCheck -All -ConfigPath $Lab.ConfigPath -TimeoutSec 8 -InformationAction Ignore)
                $null = $results | ConvertTo-PveHealthReport -Format Html -Title 'PveHealth lab run' -Path $Html -InformationAction Ignore
                $results | ForEach-Object { [pscustomobject]@{ Environment = $_.Environment; Component = $_.Component; Type = $_.Type; Check = $_.Check; Status = "$($_.Status)" } }
            })
        $script:RunCounts = @{}
        foreach ($s in 'Ok', 'Warning', 'Critical', 'Unknown', 'Skipped') { $script:RunCounts[$s.ToLowerInvariant()] = @($script:Run | Where-Object Status -eq $s).Count }
        $url = [uri]::new("file://$script:LabHtml").AbsoluteUri
        $script:LabShot = Join-Path $script:Artifacts 'lab-report.png'
        if (Test-Path $script:LabShot) { Remove-Item $script:LabShot }
        $logging = @('--enable-logging=stderr', '--v=0')
        $script:LabShotRun = Invoke-Chromium (@('--window-size=1280,4000', '--hide-scrollbars', "--screenshot=$script:LabShot") + $logging + $url)
        $script:LabDomRun = Invoke-Chromium ($logging + @('--dump-dom', $url))
        $script:LabDom = $script:LabDomRun.Output
        Write-Host "    lab run: $($script:Run.Count) results ($(($script:RunCounts.GetEnumerator() | Sort-Object Name | ForEach-Object { "$($_.Value) $($_.Name)" }) -join ', ')); screenshot: $script:LabShot ($((Get-Item $script:LabShot -ErrorAction SilentlyContinue).Length) bytes); DOM $($script:LabDom.Length) characters"
        function script:Get-Rows([string] $Class) {
            foreach ($m in [regex]::Matches($script:LabDom, "(?s)<tr class=`"$Class`" data-status=`"(\w+)`">(.*?)</tr>")) {
                $cells = @([regex]::Matches($m.Groups[2].Value, '(?s)<td[^>]*>(.*?)</td>') | ForEach-Object { [Net.WebUtility]::HtmlDecode(($_.Groups[1].Value -replace '<[^>]+>', '')) })
                [pscustomobject]@{ Status = $m.Groups[1].Value; Cells = $cells }
            }
        }
        # The console messages a page logged (script errors, CSP refusals) as Chromium writes them with
        # --enable-logging=stderr; Chromium's own pages (source: chrome://...) are not the report's.
        function script:Get-ConsoleLines([string] $Text) { @($Text -split "`n" | Where-Object { $_ -match ':CONSOLE[:(].*source: file://' }) }
    }
    AfterAll {
        if ($script:Lab) { Stop-PveLab $script:Lab }
    }

    It 'the run has failures to show: Critical and Warning rows next to Ok and Skipped' {
        $script:Run.Count | Should -BeGreaterThan 40
        foreach ($s in 'critical', 'warning', 'ok', 'skipped') { $script:RunCounts[$s] | Should -BeGreaterThan 0 -Because "the lab run has $s results" }
    }

    It 'renders without a script error or a refused resource, and the screenshot is kept under out/report/' {
        $script:LabShotRun.ExitCode | Should -Be 0
        $script:LabDomRun.ExitCode | Should -Be 0
        $bytes = [IO.File]::ReadAllBytes($script:LabShot)
        [Text.Encoding]::ASCII.GetString($bytes, 1, 3) | Should -Be 'PNG'
        $bytes.Length | Should -BeGreaterThan 50000
        Get-ConsoleLines "$($script:LabShotRun.Error)`n$($script:LabDomRun.Error)" | Should -BeNullOrEmpty
        [regex]::Matches($script:LabDom, '<script', 'IgnoreCase').Count | Should -Be 0
        # The detector sees what it looks for: a page with a script error logs a console line.
        $bad = Join-Path $script:Work 'bad.html'
        '<!DOCTYPE html><html><body><script>undefinedFunction()</script></body></html>' | Set-Content $bad
        $control = Invoke-Chromium @('--enable-logging=stderr', '--v=0', '--dump-dom', [uri]::new("file://$bad").AbsoluteUri)
        Get-ConsoleLines $control.Error | Should -Match 'undefinedFunction'
    }

    It 'the summary in the rendered page has the run''s counts: per status, in All, for the environment, and the total' {
        $script:LabDom | Should -Not -BeNullOrEmpty
        [regex]::Match($script:LabDom, '<span id="total">(\d+)</span>').Groups[1].Value | Should -Be "$($script:Run.Count)"
        $all = [regex]::Match($script:LabDom, '(?s)<tr class="all">(.*?)</tr>').Groups[1].Value
        $lab = [regex]::Match($script:LabDom, '(?s)<tr class="env"><td>lab</td>(.*?)</tr>').Groups[1].Value
        foreach ($k in $script:RunCounts.Keys) {
            $all | Should -Match ("data-status=`"$k`">$($script:RunCounts[$k])</td>") -Because "the All row counts $k"
            $lab | Should -Match ("data-status=`"$k`">$($script:RunCounts[$k])</td>") -Because "the lab row counts $k"
        }
    }

    It 'every result has its row under its component, with its status; one section per component' {
        $rows = @(Get-Rows 'result')
        $rows.Count | Should -Be $script:Run.Count
        foreach ($k in $script:RunCounts.Keys) { @($rows | Where-Object Status -eq $k).Count | Should -Be $script:RunCounts[$k] -Because "rows with status $k" }
        $components = @($script:Run | ForEach-Object { "$($_.Environment)|$($_.Component)|$($_.Type)" } | Sort-Object -Unique)
        [regex]::Matches($script:LabDom, '<section class="component">').Count | Should -Be $components.Count
        [regex]::Match($script:LabDom, '<h2>All components \((\d+)\)</h2>').Groups[1].Value | Should -Be "$($components.Count)"
    }

    It 'failures come first: exactly the failing results, Critical, then Unknown, then Warning' {
        $failures = @(Get-Rows 'failure')
        $expected = @($script:Run | Where-Object Status -in 'Critical', 'Unknown', 'Warning')
        $failures.Count | Should -Be $expected.Count
        $script:LabDom.IndexOf('<section id="failures">') | Should -BeLessThan $script:LabDom.IndexOf('<section id="components">')
        $rank = @{ critical = 0; unknown = 1; warning = 2 }
        for ($i = 1; $i -lt $failures.Count; $i++) { $rank[$failures[$i].Status] | Should -BeGreaterOrEqual $rank[$failures[$i - 1].Status] }
        # Cells: Status, Environment, Component, Type, Check, Detail, Duration.
        $shown = @($failures | ForEach-Object { "$($_.Cells[1])|$($_.Cells[2])|$($_.Cells[3])|$($_.Cells[4])|$($_.Status)" } | Sort-Object)
        $want = @($expected | ForEach-Object { "$($_.Environment)|$($_.Component)|$($_.Type)|$($_.Check)|$($_.Status.ToLowerInvariant())" } | Sort-Object)
        $shown | Should -Be $want
    }
}
