# The PveHealth side of the benchmark: runs in a child pwsh inside the lab's namespace (under /usr/bin/time -v),
# imports the module, runs Invoke-PveHealthCheck -All and writes the timings and every result's Check, Status and
# Duration as JSON. Not part of the module.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ConfigPath,
    [Parameter(Mandatory)] [string] $OutFile,
    [double] $TimeoutSec = 2,
    [int] $ThrottleLimit = 0,
    # Only these components (the warm-up run).
    [string[]] $Component,
    # Skip these components or groups (the -RecoveryVariant run without the recovery groups); comma-separated
    # values are split (a native -File argument list carries one string).
    [string[]] $Exclude
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$self = [Diagnostics.Process]::GetCurrentProcess()
$cpuStart = $self.TotalProcessorTime
$sw = [Diagnostics.Stopwatch]::StartNew()
Import-Module $ModulePath
$importSeconds = $sw.Elapsed.TotalSeconds
$self.Refresh(); $cpuBefore = $self.TotalProcessorTime
$params = @{ ConfigPath = $ConfigPath; All = $true; TimeoutSec = $TimeoutSec }
if ($ThrottleLimit -gt 0) { $params.ThrottleLimit = $ThrottleLimit }
if ($Component) { $params.Component = $Component }
if ($Exclude) { $params.Exclude = @($Exclude | ForEach-Object { $_ -split ',' } | Where-Object { $_ }) }
$run = [Diagnostics.Stopwatch]::StartNew()
$verboseFile = [IO.Path]::ChangeExtension($OutFile, '.verbose.txt')
$results = @(Invoke-PveHealthCheck @params -Verbose 6>$null 4>$verboseFile)
$runSeconds = $run.Elapsed.TotalSeconds
$self.Refresh()
$out = [ordered]@{
    importSeconds  = $importSeconds
    runSeconds     = $runSeconds
    runCpuSeconds  = ($self.TotalProcessorTime - $cpuBefore).TotalSeconds
    totalCpuSeconds = ($self.TotalProcessorTime - $cpuStart).TotalSeconds
    peakWorkingSetBytes = $self.PeakWorkingSet64
    threads        = $self.Threads.Count
    concurrency    = "$(Get-Content $verboseFile -ErrorAction SilentlyContinue | Where-Object { $_ -like 'Concurrency:*' } | Select-Object -Last 1)"
    results        = @()
}
# The results as compact JSON through System.Text.Json (cheap even at 5,000 results; measured with the checker).
$rows = [System.Collections.Generic.List[object]]::new($results.Count)
foreach ($r in $results) { $rows.Add(@{ component = $r.Component; check = $r.Check; status = $r.Status.ToString(); ms = $r.Duration.TotalMilliseconds; detail = $r.Detail }) }
$out.results = $rows
[IO.File]::WriteAllText($OutFile, [System.Text.Json.JsonSerializer]::Serialize($out, [System.Text.Json.JsonSerializerOptions]::Default))
