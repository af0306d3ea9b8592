<#
.SYNOPSIS
    Turns docs/en-US/*.md (platyPS markdown schema 2.0.0) into MAML help for the module.
.DESCRIPTION
    platyPS is not served here, so the build converts its schema itself:
      <Cmdlet>.md          -> one <command:command> in <OutputPath>/<external help file> (front matter
                              'external help file', normally PveHealth.PowerShell.dll-Help.xml)
      about_<Topic>.md     -> <OutputPath>/about_<Topic>.help.txt
      README.md            -> nothing (the note for doc writers)
    An example whose remarks hold the line 'Runnable: offline' (or 'Runnable: lab') is marked for the drift
    tests to run; the marker is not copied into the help.
    A document that breaks the schema (missing section, parameter without its yaml block, unknown
    yaml key) stops the build with the file and line.
.PARAMETER DocsPath
    Folder of the markdown files.
.PARAMETER OutputPath
    Folder the help files are written to (the module's en-US folder).
.PARAMETER DocsUri
    Where docs/en-US is published (the project's repository): a page whose front matter has no 'online
    version' gets <DocsUri>/<Cmdlet>.md, so Get-Help -Online always has an absolute URI.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $DocsPath,
    [string] $OutputPath,
    # Return the parsed documents instead of writing help (used by the drift tests).
    [switch] $ParseOnly,
    # Where the markdown is published: the default 'online version' of a page without one is <DocsUri>/<Cmdlet>.md.
    [string] $DocsUri = 'https://github.com/pvehealth/PveHealth/blob/main/docs/en-US'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$YamlKeys = @('Type', 'Parameter Sets', 'Aliases', 'Accepted values', 'Required', 'Position', 'Default value', 'Accept pipeline input', 'Accept wildcard characters')

function Split-Sections {
    # Returns ordered sections: @{ Level; Title; Line; Lines }
    param([string[]] $Lines, [int] $Level, [int] $Offset)
    $sections = [System.Collections.Generic.List[object]]::new()
    $current = $null
    $inFence = $false
    for ($i = 0; $i -lt $Lines.Count; $i++) {
        $line = $Lines[$i]
        if ($line -match '^```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match ('^#{' + $Level + '}\s+(.+?)\s*$')) {
            $current = [pscustomobject]@{ Title = $Matches[1]; Line = $Offset + $i + 1; Lines = [System.Collections.Generic.List[string]]::new() }
            $sections.Add($current)
        }
        elseif ($current) { $current.Lines.Add($line) }
    }
    , $sections
}

function Get-Paragraphs {
    # Plain text paragraphs of a section body (code fences removed, markdown emphasis kept readable).
    param([string[]] $Lines)
    $paras = [System.Collections.Generic.List[string]]::new()
    $buffer = [System.Collections.Generic.List[string]]::new()
    $inFence = $false
    foreach ($line in $Lines) {
        if ($line -match '^```') { $inFence = -not $inFence; continue }
        if ($inFence) { continue }
        if ($line.Trim() -eq '') {
            if ($buffer.Count) { $paras.Add(($buffer -join ' ').Trim()); $buffer.Clear() }
        }
        elseif ($line -match '^\s*[-*]\s+') {
            if ($buffer.Count) { $paras.Add(($buffer -join ' ').Trim()); $buffer.Clear() }
            $buffer.Add($line.Trim())
        }
        else { $buffer.Add($line.Trim()) }
    }
    if ($buffer.Count) { $paras.Add(($buffer -join ' ').Trim()) }
    , @($paras | ForEach-Object { $_ -replace '`([^`]+)`', '$1' -replace '\*\*([^*]+)\*\*', '$1' })
}

function Get-Fences {
    param([string[]] $Lines)
    $fences = [System.Collections.Generic.List[object]]::new()
    $inFence = $false; $lang = ''; $buffer = $null
    foreach ($line in $Lines) {
        if ($line -match '^```(\w*)') {
            if (-not $inFence) { $inFence = $true; $lang = $Matches[1]; $buffer = [System.Collections.Generic.List[string]]::new() }
            else { $inFence = $false; $fences.Add([pscustomobject]@{ Lang = $lang; Text = ($buffer -join "`n") }) }
            continue
        }
        if ($inFence) { $buffer.Add($line) }
    }
    $fences.ToArray()
}

function ConvertFrom-CmdletMarkdown {
    param([string] $Path)
    $all = Get-Content -LiteralPath $Path
    $name = [IO.Path]::GetFileNameWithoutExtension($Path)
    $fail = { param($line, $msg) throw "${Path}:${line}: $msg" }
    if ($all.Count -lt 3 -or $all[0] -ne '---') { & $fail 1 "expected front matter starting with '---'" }
    $end = [Array]::IndexOf($all, '---', 1)
    if ($end -lt 0) { & $fail 1 "front matter is not closed with '---'" }
    $front = @{}
    foreach ($l in $all[1..($end - 1)]) { if ($l -match '^([^:]+):\s*(.*)$') { $front[$Matches[1].Trim()] = $Matches[2].Trim() } }
    foreach ($k in 'external help file', 'Module Name', 'schema') {
        if (-not $front.ContainsKey($k)) { & $fail 1 "front matter lacks '$k'" }
    }
    if ($front['schema'] -ne '2.0.0') { & $fail 1 "schema must be 2.0.0" }
    $body = $all[($end + 1)..($all.Count - 1)]
    $titles = Split-Sections $body 1 ($end + 1)
    if ($titles.Count -ne 1 -or $titles[0].Title -ne $name) { & $fail ($end + 2) "expected one '# $name' title" }
    $sections = Split-Sections $titles[0].Lines 2 $titles[0].Line
    $byName = @{}
    foreach ($s in $sections) { $byName[$s.Title] = $s }
    foreach ($required in 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS') {
        if (-not $byName.ContainsKey($required)) { & $fail $titles[0].Line "missing section '## $required'" }
    }

    $parameters = [System.Collections.Generic.List[object]]::new()
    foreach ($p in (Split-Sections $byName['PARAMETERS'].Lines 3 $byName['PARAMETERS'].Line)) {
        if ($p.Title -eq 'CommonParameters') { continue }
        if ($p.Title -notmatch '^-(\w+)$') { & $fail $p.Line "parameter heading must be '### -Name'" }
        $pname = $Matches[1]
        $yaml = @(Get-Fences $p.Lines | Where-Object Lang -eq 'yaml')
        if ($yaml.Count -eq 0) { & $fail $p.Line "parameter -$pname has no yaml block" }
        $sets = [System.Collections.Generic.List[object]]::new()
        foreach ($block in $yaml) {
            $meta = [ordered]@{}
            foreach ($l in ($block.Text -split "`n")) {
                if ($l.Trim() -eq '') { continue }
                if ($l -notmatch '^([^:]+):\s*(.*)$') { & $fail $p.Line "-${pname}: yaml line '$l' is not 'Key: value'" }
                $key = $Matches[1].Trim()
                if ($key -notin $YamlKeys) { & $fail $p.Line "-${pname}: unknown yaml key '$key'" }
                $meta[$key] = $Matches[2].Trim()
            }
            foreach ($k in 'Type', 'Parameter Sets', 'Required', 'Position', 'Accept pipeline input') {
                if (-not $meta.Contains($k)) { & $fail $p.Line "-${pname}: yaml block lacks '$k'" }
            }
            $sets.Add($meta)
        }
        $parameters.Add([pscustomobject]@{ Name = $pname; Description = (Get-Paragraphs $p.Lines); Meta = $sets })
    }

    $examples = foreach ($e in (Split-Sections $byName['EXAMPLES'].Lines 3 $byName['EXAMPLES'].Line)) {
        $code = @(Get-Fences $e.Lines | Where-Object { $_.Lang -in 'powershell', 'pwsh', 'ps1', '' })
        if ($code.Count -eq 0) { & $fail $e.Line "example '$($e.Title)' has no powershell code block" }
        # 'Runnable: <kind>' in the remarks marks an example the drift tests run (docs/en-US/README.md); not shown in help.
        $remarks = Get-Paragraphs $e.Lines
        $marker = @($remarks | Where-Object { $_ -match '^Runnable:' })
        if ($marker.Count -gt 1) { & $fail $e.Line "example '$($e.Title)' has more than one 'Runnable:' line" }
        $runnable = if ($marker.Count) {
            if ($marker[0] -notmatch '^Runnable:\s*(offline|lab)$') { & $fail $e.Line "example '$($e.Title)': expected 'Runnable: offline' or 'Runnable: lab', found '$($marker[0])'" }
            $Matches[1]
        }
        [pscustomobject]@{ Title = $e.Title; Code = ($code.Text -join "`n"); Remarks = @($remarks | Where-Object { $_ -notmatch '^Runnable:' }); Runnable = $runnable }
    }

    $typed = {
        param($section)
        foreach ($t in (Split-Sections $section.Lines 3 $section.Line)) {
            [pscustomobject]@{ Name = $t.Title; Description = (Get-Paragraphs $t.Lines) }
        }
    }
    # Get-Help -Online opens the first related link with a URI and fails on one that is not absolute: the
    # 'online version' comes first (given, or this file in the project's docs), and a relative link to a
    # sibling page (Test-PveVm.md, about_PveHealth.md) becomes that page in the same published folder.
    $online = if ($front['online version']) { $front['online version'] } else { "$DocsUri/$name.md" }
    $onlineUri = $null
    if (-not [Uri]::TryCreate($online, [UriKind]::Absolute, [ref]$onlineUri) -or $onlineUri.Scheme -ne 'https') {
        & $fail 1 "'online version' must be an absolute https URI, found '$online'"
    }
    $links = @([pscustomobject]@{ Text = 'Online Version:'; Uri = $onlineUri.AbsoluteUri }) + @(foreach ($l in $byName['RELATED LINKS'].Lines) {
            if ($l -match '^\s*\[([^\]]+)\]\(([^)]*)\)') {
                $text = $Matches[1]; $target = $Matches[2].Trim()
                $uri = if (-not $target) { '' }
                elseif ([Uri]::IsWellFormedUriString($target, [UriKind]::Absolute)) { $target }
                else { [Uri]::new($onlineUri, $target).AbsoluteUri }
                [pscustomobject]@{ Text = $text; Uri = $uri }
            }
        })

    [pscustomobject]@{
        Name        = $name
        HelpFile    = $front['external help file']
        Synopsis    = (Get-Paragraphs $byName['SYNOPSIS'].Lines) -join ' '
        Description = Get-Paragraphs $byName['DESCRIPTION'].Lines
        Parameters  = $parameters
        Examples    = @($examples)
        Inputs      = @(& $typed $byName['INPUTS'])
        Outputs     = @(& $typed $byName['OUTPUTS'])
        Notes       = Get-Paragraphs $byName['NOTES'].Lines
        Links       = @($links)
    }
}

$ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}

function Write-Paras {
    param([System.Xml.XmlWriter] $W, [string[]] $Paras)
    $W.WriteStartElement('maml', 'description', $ns.maml)
    foreach ($p in @($Paras)) { $W.WriteElementString('maml', 'para', $ns.maml, $p) }
    $W.WriteEndElement()
}

function Write-Parameter {
    param([System.Xml.XmlWriter] $W, $Parameter, $Meta)
    $isSwitch = $Meta['Type'] -eq 'SwitchParameter'
    $pipeline = $Meta['Accept pipeline input']
    $W.WriteStartElement('command', 'parameter', $ns.command)
    $W.WriteAttributeString('required', ($Meta['Required'] -eq 'True').ToString().ToLowerInvariant())
    $W.WriteAttributeString('variableLength', ($Meta['Type'] -like '*[[]]').ToString().ToLowerInvariant())
    $W.WriteAttributeString('globbing', ($Meta['Accept wildcard characters'] -eq 'True').ToString().ToLowerInvariant())
    $W.WriteAttributeString('pipelineInput', $pipeline)
    $W.WriteAttributeString('position', $Meta['Position'].ToLowerInvariant())
    $aliases = if ($Meta.Contains('Aliases') -and $Meta['Aliases']) { $Meta['Aliases'] } else { 'none' }
    $W.WriteAttributeString('aliases', $aliases)
    $W.WriteElementString('maml', 'name', $ns.maml, $Parameter.Name)
    Write-Paras $W $Parameter.Description
    if ($Meta.Contains('Accepted values') -and $Meta['Accepted values']) {
        $W.WriteStartElement('command', 'parameterValueGroup', $ns.command)
        foreach ($v in ($Meta['Accepted values'] -split ',\s*')) {
            $W.WriteStartElement('command', 'parameterValue', $ns.command)
            $W.WriteAttributeString('required', 'false'); $W.WriteAttributeString('command', 'parametervariableLength', $ns.command, 'false')
            $W.WriteString($v); $W.WriteEndElement()
        }
        $W.WriteEndElement()
    }
    if (-not $isSwitch) {
        $W.WriteStartElement('command', 'parameterValue', $ns.command)
        $W.WriteAttributeString('required', 'true'); $W.WriteAttributeString('variableLength', 'false')
        $W.WriteString($Meta['Type']); $W.WriteEndElement()
    }
    $W.WriteStartElement('dev', 'type', $ns.dev)
    $W.WriteElementString('maml', 'name', $ns.maml, $Meta['Type'])
    $W.WriteElementString('maml', 'uri', $ns.maml, '')
    $W.WriteEndElement()
    $default = if ($Meta.Contains('Default value') -and $Meta['Default value']) { $Meta['Default value'] } else { 'None' }
    $W.WriteElementString('dev', 'defaultValue', $ns.dev, $default)
    $W.WriteEndElement()
}

function Write-Command {
    param([System.Xml.XmlWriter] $W, $Doc)
    $verb, $noun = $Doc.Name -split '-', 2
    $W.WriteStartElement('command', 'command', $ns.command)
    $W.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
    $W.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)
    $W.WriteStartElement('command', 'details', $ns.command)
    $W.WriteElementString('command', 'name', $ns.command, $Doc.Name)
    $W.WriteElementString('command', 'verb', $ns.command, $verb)
    $W.WriteElementString('command', 'noun', $ns.command, $noun)
    Write-Paras $W @($Doc.Synopsis)
    $W.WriteEndElement()
    Write-Paras $W $Doc.Description

    # Syntax: one item per parameter set named in the yaml blocks ("(All)" joins every set).
    $setNames = [System.Collections.Generic.List[string]]::new()
    foreach ($p in $Doc.Parameters) { foreach ($m in $p.Meta) { foreach ($s in ($m['Parameter Sets'] -split ',\s*')) { if ($s -ne '(All)' -and -not $setNames.Contains($s)) { $setNames.Add($s) } } } }
    if ($setNames.Count -eq 0) { $setNames.Add('(All)') }
    $W.WriteStartElement('command', 'syntax', $ns.command)
    foreach ($set in $setNames) {
        $W.WriteStartElement('command', 'syntaxItem', $ns.command)
        $W.WriteElementString('maml', 'name', $ns.maml, $Doc.Name)
        foreach ($p in $Doc.Parameters) {
            $meta = $p.Meta | Where-Object { ($_['Parameter Sets'] -split ',\s*') -contains $set -or $_['Parameter Sets'] -eq '(All)' } | Select-Object -First 1
            if ($meta) { Write-Parameter $W $p $meta }
        }
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($p in $Doc.Parameters) { Write-Parameter $W $p $p.Meta[0] }
    $W.WriteEndElement()

    foreach ($kind in @(@('inputTypes', 'inputType', $Doc.Inputs), @('returnValues', 'returnValue', $Doc.Outputs))) {
        $W.WriteStartElement('command', $kind[0], $ns.command)
        foreach ($t in $kind[2]) {
            $W.WriteStartElement('command', $kind[1], $ns.command)
            $W.WriteStartElement('dev', 'type', $ns.dev)
            $W.WriteElementString('maml', 'name', $ns.maml, $t.Name)
            $W.WriteEndElement()
            Write-Paras $W $t.Description
            $W.WriteEndElement()
        }
        $W.WriteEndElement()
    }

    $W.WriteStartElement('maml', 'alertSet', $ns.maml)
    $W.WriteStartElement('maml', 'alert', $ns.maml)
    foreach ($n in $Doc.Notes) { $W.WriteElementString('maml', 'para', $ns.maml, $n) }
    $W.WriteEndElement(); $W.WriteEndElement()

    $W.WriteStartElement('command', 'examples', $ns.command)
    foreach ($e in $Doc.Examples) {
        $W.WriteStartElement('command', 'example', $ns.command)
        $W.WriteElementString('maml', 'title', $ns.maml, "-------------------------- $($e.Title) --------------------------")
        $W.WriteElementString('dev', 'code', $ns.dev, $e.Code)
        $W.WriteStartElement('dev', 'remarks', $ns.dev)
        foreach ($r in $e.Remarks) { $W.WriteElementString('maml', 'para', $ns.maml, $r) }
        $W.WriteEndElement()
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'relatedLinks', $ns.command)
    foreach ($l in $Doc.Links) {
        $W.WriteStartElement('maml', 'navigationLink', $ns.maml)
        $W.WriteElementString('maml', 'linkText', $ns.maml, $l.Text)
        $W.WriteElementString('maml', 'uri', $ns.maml, $l.Uri)
        $W.WriteEndElement()
    }
    $W.WriteEndElement()
    $W.WriteEndElement()
}

# about_*.md are topics; README.md is the note for doc writers, not a command.
$docs = Get-ChildItem -LiteralPath $DocsPath -Filter '*.md' | Where-Object { $_.Name -notlike 'about_*' -and $_.Name -ne 'README.md' } | Sort-Object Name | ForEach-Object { ConvertFrom-CmdletMarkdown $_.FullName }
if ($ParseOnly) { return $docs }
if (-not $OutputPath) { throw '-OutputPath is required unless -ParseOnly is given.' }
New-Item -ItemType Directory -Force $OutputPath | Out-Null
foreach ($group in ($docs | Group-Object HelpFile)) {
    $target = Join-Path $OutputPath $group.Name
    $settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
    $temp = "$target.tmp"
    $w = [System.Xml.XmlWriter]::Create($temp, $settings)
    try {
        $w.WriteStartDocument()
        $w.WriteStartElement('helpItems', 'http://msh')
        $w.WriteAttributeString('schema', 'maml')
        foreach ($doc in $group.Group) { Write-Command $w $doc }
        $w.WriteEndElement()
        $w.WriteEndDocument()
    }
    finally { $w.Dispose() }
    Move-Item -Force $temp $target
    Write-Verbose "Wrote $($group.Count) commands to $target"
}
foreach ($about in (Get-ChildItem -LiteralPath $DocsPath -Filter 'about_*.md')) {
    $lines = Get-Content -LiteralPath $about.FullName
    # about_ topics are plain text; keep the markdown readable as text (headings upper-cased, fences dropped).
    $text = foreach ($l in $lines) {
        if ($l -match '^```') { continue }
        if ($l -match '^#+\s+(.*)$') { $Matches[1].ToUpperInvariant() } else { $l }
    }
    Set-Content -LiteralPath (Join-Path $OutputPath ($about.BaseName + '.help.txt')) -Value $text -Encoding utf8NoBOM
}
