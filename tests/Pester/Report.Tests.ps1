# ConvertTo-PveHealthReport: the three formats, and the HTML report rendered in a real headless Chromium
# (Debian's chromium package, installed by tools/install-prerequisites.sh).
# Traffic: ICMP to 127.0.0.1 only; Chromium runs in a network namespace of its own with no interface but lo
# (unshare -n) and reads the report from a file:// URL.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
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
