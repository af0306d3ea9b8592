using System.Management.Automation;
using System.Text.Json;
using System.Text.Json.Nodes;
using PveHealth.Checks;
using PveHealth.Configuration;
using PveHealth.Exclusions;
using PveHealth.Planning;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// Get-PveHealthConfig: the configuration in effect, one object per environment (the run options that apply, the
/// exclusions file, the checks, and each section with paths resolved), secrets shown as their references only.
/// </summary>
[Cmdlet(VerbsCommon.Get, "PveHealthConfig")]
[OutputType("PveHealth.ConfigEnvironment")]
[OutputType(typeof(string))]
public sealed class GetPveHealthConfigCommand : PSCmdlet
{
    /// <summary>Environments to show (wildcards allowed); default all.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string[]? Environment { get; set; }

    /// <summary>Configuration file; default $env:PVE_HEALTH_CONFIG, else /etc/pve-health/config.json.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    /// <summary>Writes the configuration in effect as JSON text (comments dropped, secrets as references).</summary>
    [Parameter]
    public SwitchParameter AsJson { get; set; }

    protected override void EndProcessing()
    {
        var config = CmdletConfiguration.Load(this, ConfigPath);
        IReadOnlyList<string> names;
        try
        {
            names = HealthPlanner.SelectEnvironments(config, Environment ?? [], all: Environment is not { Length: > 0 });
        }
        catch (EngineException ex)
        {
            ThrowTerminatingError(ErrorRecordFactory.From(ex));
            return;
        }
        if (AsJson)
        {
            WriteObject(ConfigView.Text(ConfigView.ToJson(config, names)));
            return;
        }
        var json = ConfigView.ToJson(config, names);
        foreach (var name in names)
        {
            var env = config.Environments[name];
            var o = new PSObject();
            o.TypeNames.Insert(0, "PveHealth.ConfigEnvironment");
            o.Properties.Add(new PSNoteProperty("Environment", name));
            o.Properties.Add(new PSNoteProperty("ConfigPath", config.SourcePath));
            o.Properties.Add(new PSNoteProperty("TimeoutSec", env.TimeoutSec ?? config.Defaults.TimeoutSec));
            o.Properties.Add(new PSNoteProperty("RunTimeoutSec", config.Defaults.RunTimeoutSec));
            o.Properties.Add(new PSNoteProperty("ThrottleLimit", config.Defaults.ThrottleLimit));
            o.Properties.Add(new PSNoteProperty("ExclusionPath", config.Defaults.ExclusionPath ?? ExclusionSet.DefaultPath));
            o.Properties.Add(new PSNoteProperty("Checks", (env.Checks is { Count: > 0 } c ? c : CheckCatalog.GuestChecks).ToArray()));
            if (json["environments"]?[name] is JsonObject sections)
            {
                foreach (var (key, value) in sections)
                {
                    if (key is "timeoutSec" or "checks" || value is null) continue;
                    o.Properties.Add(new PSNoteProperty(char.ToUpperInvariant(key[0]) + key[1..], ToPs(value)));
                }
            }
            WriteObject(o);
        }
    }

    /// <summary>A JSON node as PowerShell objects (PSCustomObject, object[], string, number, bool), strings scrubbed.</summary>
    private static object? ToPs(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj when obj.Count == 1 && obj.First().Key is "file" or "env":
                // A secret reference: shown as where the secret is read from, never the value.
                return $"{obj.First().Key}:{SecretScrubber.Scrub(obj.First().Value?.ToString() ?? string.Empty)}";
            case JsonObject obj:
                var o = new PSObject();
                foreach (var (key, value) in obj) o.Properties.Add(new PSNoteProperty(key, ToPs(value)));
                return o;
            case JsonArray array:
                return array.Select(ToPs).ToArray();
            default:
                var element = JsonSerializer.SerializeToElement(node);
                return element.ValueKind switch
                {
                    JsonValueKind.String => SecretScrubber.Scrub(element.GetString() ?? string.Empty),
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Number => element.TryGetInt64(out var l) ? l : element.GetDouble(),
                    _ => null,
                };
        }
    }
}
