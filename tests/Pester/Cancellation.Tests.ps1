# Ctrl+C: StopProcessing cancels the run, and with it every open socket, at once.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../Support/TestHelpers.psm1') -Force
    $script:ModulePath = Get-PveHealthModulePath
}

Describe 'Stopping a run (Ctrl+C)' {
    It 'ends the pipeline within a second or two and closes the connections of the checks in flight' {
        # Endpoints that accept TCP connections and never answer.
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $port = $listener.LocalEndpoint.Port
        $accepted = [System.Collections.Generic.List[System.Net.Sockets.TcpClient]]::new()
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$($script:ModulePath)'; Test-PveMonitoring -PrometheusUrl http://127.0.0.1:$port -GrafanaUrl http://127.0.0.1:$port -AlertmanagerUrl http://127.0.0.1:$port -TimeoutSec 120")
            $async = $ps.BeginInvoke()
            # Wait (bounded) until the checks have connected.
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while ($accepted.Count -lt 3 -and [DateTime]::UtcNow -lt $deadline) {
                if ($listener.Pending()) { $accepted.Add($listener.AcceptTcpClient()) } else { Start-Sleep -Milliseconds 20 }
            }
            $accepted.Count | Should -BeGreaterOrEqual 3 -Because 'the three checks connect before we stop them'

            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $clock.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 3 -Because 'Ctrl+C must not wait for the 120 s timeout'
            $async.IsCompleted | Should -BeTrue

            # Every accepted connection is closed by the client side: a read returns 0 (EOF) or fails with a reset.
            foreach ($c in $accepted) {
                $stream = $c.GetStream()
                $stream.ReadTimeout = 5000
                $buffer = [byte[]]::new(4096)
                $closed = $false
                $until = [DateTime]::UtcNow.AddSeconds(5)
                while (-not $closed -and [DateTime]::UtcNow -lt $until) {
                    try { $n = $stream.Read($buffer, 0, $buffer.Length); if ($n -eq 0) { $closed = $true } }
                    catch { $closed = $true }
                }
                $closed | Should -BeTrue -Because 'the socket of a cancelled check is closed, not left open'
            }
        }
        finally {
            foreach ($c in $accepted) { $c.Dispose() }
            $listener.Stop()
            $ps.Dispose()
        }
    }
}
