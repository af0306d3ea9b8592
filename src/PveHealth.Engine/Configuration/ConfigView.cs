using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace PveHealth.Configuration;

/// <summary>
/// The configuration in effect as JSON (Get-PveHealthConfig): paths resolved, defaults.ping merged into each
/// environment, secrets as their references ({ "file": ... } or { "env": ... }). A loaded configuration never holds a
/// secret value; unknown keys (which might) are left out, and the text passes the SecretScrubber.
/// </summary>
public static class ConfigView
{
    private static readonly JsonSerializerOptions WriteOptions = new(ConfigLoader.Options)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The whole configuration with only the named environments.</summary>
    public static JsonObject ToJson(PveHealthConfig config, IEnumerable<string> environments)
    {
        StripUnknownKeys(config, new HashSet<object>(ReferenceEqualityComparer.Instance));
        var node = JsonSerializer.SerializeToNode(config, WriteOptions)!.AsObject();
        var keep = new HashSet<string>(environments, StringComparer.OrdinalIgnoreCase);
        if (node["environments"] is JsonObject envs)
        {
            foreach (var name in envs.Select(p => p.Key).ToList())
            {
                if (!keep.Contains(name)) envs.Remove(name);
            }
        }
        return node;
    }

    /// <summary>One environment's sections.</summary>
    public static JsonObject EnvironmentJson(PveHealthConfig config, string environment)
        => ToJson(config, [environment])["environments"]![environment]!.AsObject();

    /// <summary>Serialized text, scrubbed.</summary>
    public static string Text(JsonNode node) => SecretScrubber.Scrub(node.ToJsonString(WriteOptions));

    private static void StripUnknownKeys(object? value, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || !seen.Add(value)) return;
        if (value is ConfigSection section) section.UnknownKeys = null;
        if (value is IDictionary dict)
        {
            foreach (var v in dict.Values) StripUnknownKeys(v, seen);
            return;
        }
        if (value is IEnumerable list)
        {
            foreach (var v in list) StripUnknownKeys(v, seen);
            return;
        }
        if (value.GetType().Namespace != typeof(ConfigSection).Namespace) return;
        foreach (var p in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length == 0 && p.Name != nameof(ConfigSection.UnknownKeys)) StripUnknownKeys(p.GetValue(value), seen);
        }
    }
}
