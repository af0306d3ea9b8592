using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PveHealth.Configuration;

/// <summary>Finds, reads and validates the configuration file.</summary>
public static class ConfigLoader
{
    public const string DefaultPath = "/etc/pve-health/config.json";
    public const string PathVariable = "PVE_HEALTH_CONFIG";

    internal static readonly JsonSerializerOptions Options = new()
    {
        PropertyNameCaseInsensitive = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>-ConfigPath, else $PVE_HEALTH_CONFIG, else /etc/pve-health/config.json.</summary>
    public static string ResolvePath(string? explicitPath)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath)) return explicitPath;
        var fromEnv = System.Environment.GetEnvironmentVariable(PathVariable);
        return string.IsNullOrWhiteSpace(fromEnv) ? DefaultPath : fromEnv;
    }

    /// <summary>
    /// Reads and validates <paramref name="path"/>. Throws <see cref="ConfigException"/> for anything that
    /// stops the run; returns unknown keys in <paramref name="warnings"/>.
    /// </summary>
    public static PveHealthConfig Load(string path, out IReadOnlyList<string> warnings)
    {
        string text;
        try
        {
            text = BoundedInput.ReadFileText(path, BoundedInput.ConfigFileBytes, "the configuration file");
        }
        catch (InputTooLargeException ex)
        {
            throw new ConfigException(path, "", ex.Message + "; is this the configuration file?");
        }
        catch (InvalidTextException ex)
        {
            throw new ConfigException(path, "", ex.Message + ".");
        }
        catch (FileNotFoundException)
        {
            throw new ConfigException(path, "", $"configuration file not found. Pass -ConfigPath, set ${PathVariable}, or create {DefaultPath} (see examples/config.json).");
        }
        catch (DirectoryNotFoundException)
        {
            throw new ConfigException(path, "", $"configuration file not found (its folder does not exist). Pass -ConfigPath, set ${PathVariable}, or create {DefaultPath}.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(path, "", $"cannot read the configuration file: {ex.Message}");
        }
        var config = Parse(text, path, out warnings);
        config.SourcePath = path;
        ResolveRelativePaths(config, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".");
        return config;
    }

    /// <summary>Inventory files and Terraform folders given relative are relative to the configuration file, not the current folder.</summary>
    internal static void ResolveRelativePaths(PveHealthConfig config, string baseDirectory)
    {
        foreach (var env in config.Environments.Values)
        {
            if (env?.Drift?.StatePaths is { } statePaths)
            {
                for (var i = 0; i < statePaths.Count; i++)
                {
                    if (!string.IsNullOrWhiteSpace(statePaths[i]) && !Path.IsPathRooted(statePaths[i])) statePaths[i] = Path.GetFullPath(Path.Combine(baseDirectory, statePaths[i]));
                }
            }
            if (env?.Inventory is not { } inv) continue;
            if (!string.IsNullOrWhiteSpace(inv.Path) && !Path.IsPathRooted(inv.Path)) inv.Path = Path.GetFullPath(Path.Combine(baseDirectory, inv.Path));
            if (!string.IsNullOrWhiteSpace(inv.Directory) && !Path.IsPathRooted(inv.Directory)) inv.Directory = Path.GetFullPath(Path.Combine(baseDirectory, inv.Directory));
        }
    }

    /// <summary>Parses configuration text; <paramref name="path"/> only names the source in messages.</summary>
    public static PveHealthConfig Parse(string text, string path, out IReadOnlyList<string> warnings)
    {
        PveHealthConfig? config;
        try
        {
            // Depth, valid UTF-16, and keys that appear twice (ignoring case, as the keys are read): "prod" and
            // "PROD", or a second "environments", would otherwise be silently dropped or a raw .NET error.
            SafeJson.Check(text, path, allowComments: true, ignoreCaseForDuplicates: true);
        }
        catch (UnsafeJsonException ex2) when (ex2.InnerException is JsonException)
        {
            // Invalid JSON: the deserializer below names the JSON path of the error.
        }
        catch (UnsafeJsonException ex)
        {
            throw new ConfigException(path, ex.JsonPath, ex.Reason + ".", ex);
        }
        try
        {
            config = JsonSerializer.Deserialize<PveHealthConfig>(text, Options);
        }
        catch (JsonException ex)
        {
            throw new ConfigException(path, ex.Path ?? "$", DescribeJsonError(ex), ex);
        }
        if (config is null)
        {
            throw new ConfigException(path, "$", "expected a JSON object with an \"environments\" object, found null.");
        }
        var found = new List<string>();
        CollectUnknownKeys(config, "$", found);
        warnings = found.Select(w => $"{path}: {w}").ToList();
        config.Environments = new Dictionary<string, EnvironmentConfig>(config.Environments ?? new(), StringComparer.OrdinalIgnoreCase);
        config.SourcePath = path;
        ConfigValidator.Validate(config, path);
        // defaults.ping under each environment's own ping keys: checks read only the environment's section.
        foreach (var env in config.Environments.Values)
        {
            env.Ping = env.Ping is null ? config.Defaults.Ping : env.Ping.Over(config.Defaults.Ping);
        }
        return config;
    }

    internal static string DescribeJsonError(JsonException ex)
    {
        var where = ex.LineNumber is long line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : string.Empty;
        var message = ex.Message;
        // System.Text.Json: "The JSON value could not be converted to System.Int32. Path: $.x | LineNumber: 0 | BytePositionInLine: 9."
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        // Never quote the content ("'s' is an invalid start of a value"): a secret file passed as the configuration.
        message = System.Text.RegularExpressions.Regex.Replace(message, "'[^']*'", "a character");
        const string prefix = "The JSON value could not be converted to ";
        if (message.StartsWith(prefix, StringComparison.Ordinal))
        {
            var type = message[prefix.Length..].TrimEnd('.');
            message = $"expected {FriendlyType(type)}";
        }
        else if (ex.InnerException is not null && message.Contains("is an invalid", StringComparison.Ordinal))
        {
            message = "invalid JSON: " + message;
        }
        return message.TrimEnd('.') + where + ".";
    }

    private static string FriendlyType(string clrType) => clrType switch
    {
        "System.Int32" or "System.Nullable`1[System.Int32]" => "a whole number",
        "System.Double" or "System.Nullable`1[System.Double]" => "a number",
        "System.Boolean" => "true or false",
        "System.String" => "a string",
        _ when clrType.Contains("List`1", StringComparison.Ordinal) => "an array",
        _ when clrType.Contains("Dictionary`2", StringComparison.Ordinal) => "an object",
        _ when clrType.StartsWith("PveHealth.Configuration.", StringComparison.Ordinal) => "an object",
        _ => clrType,
    };

    private static void CollectUnknownKeys(object? node, string jsonPath, List<string> found)
    {
        switch (node)
        {
            case null:
                return;
            case ConfigSection section:
                if (section.UnknownKeys is { Count: > 0 } unknown)
                {
                    var known = KnownKeys(section.GetType());
                    foreach (var key in unknown.Keys)
                    {
                        found.Add($"unknown key '{jsonPath}.{key}' ignored; keys known here: {string.Join(", ", known)}.");
                    }
                }
                foreach (var prop in section.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    if (prop.Name == nameof(ConfigSection.UnknownKeys) || prop.GetCustomAttribute<JsonIgnoreAttribute>() is not null) continue;
                    CollectUnknownKeys(prop.GetValue(section), $"{jsonPath}.{JsonName(prop)}", found);
                }
                return;
            case IDictionary dictionary:
                foreach (DictionaryEntry entry in dictionary)
                {
                    CollectUnknownKeys(entry.Value, $"{jsonPath}.{entry.Key}", found);
                }
                return;
            case IList list when list.Count > 0 && list[0] is ConfigSection:
                for (var i = 0; i < list.Count; i++) CollectUnknownKeys(list[i], $"{jsonPath}[{i}]", found);
                return;
        }
    }

    private static IEnumerable<string> KnownKeys(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.Name != nameof(ConfigSection.UnknownKeys) && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
        .Select(JsonName);

    private static string JsonName(PropertyInfo prop)
        => prop.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(prop.Name);
}
