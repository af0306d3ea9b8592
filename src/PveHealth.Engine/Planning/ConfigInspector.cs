using PveHealth.Checks;
using PveHealth.Configuration;
using PveHealth.Exclusions;

namespace PveHealth.Planning;

/// <summary>How bad a finding of <see cref="ConfigInspector"/> is: an Error stops a run, a Warning does not.</summary>
public enum ConfigFindingSeverity
{
    Warning,
    Error,
}

/// <summary>One thing wrong with a configuration (Test-PveHealthConfig's output). Never holds a secret value.</summary>
public sealed class ConfigFinding
{
    public ConfigFinding(ConfigFindingSeverity severity, string configPath, string location, string message, string? reference = null)
    {
        Severity = severity;
        ConfigPath = configPath;
        Location = location;
        Message = message;
        Reference = reference;
    }

    public ConfigFindingSeverity Severity { get; }
    /// <summary>The configuration file inspected.</summary>
    public string ConfigPath { get; }
    /// <summary>Where: the JSON path ($.environments.prod.ssh.keyFile) or the exclusions file and line.</summary>
    public string Location { get; }
    public string Message { get; }
    /// <summary>The referenced file, directory or environment variable the finding is about, if any.</summary>
    public string? Reference { get; }

    public override string ToString() => $"{Severity}: {Location}: {Message}";
}

/// <summary>A file, directory or environment variable a configuration refers to.</summary>
public sealed record ConfigReference(string Location, string Target, ConfigReferenceKind Kind, bool IsSecret);

public enum ConfigReferenceKind
{
    File,
    Directory,
    EnvironmentVariable,
}

/// <summary>
/// Validates a configuration without contacting anything: the schema and values (ConfigLoader and ConfigValidator),
/// the check names (CheckCatalog), every referenced file (exists, is a file, readable by this user; secret files are
/// opened, never read into output), environment variables of secret references, and the exclusions file's patterns.
/// Test-PveHealthConfig reports these; -WhatIf of Invoke-PveHealthCheck reports <see cref="CheckReferences"/>.
/// </summary>
public static class ConfigInspector
{
    /// <summary>All findings for the file at <paramref name="path"/>; <paramref name="config"/> is null when it cannot be loaded.</summary>
    public static List<ConfigFinding> Inspect(string path, out PveHealthConfig? config)
    {
        var findings = new List<ConfigFinding>();
        config = null;
        try
        {
            var loaded = ConfigLoader.Load(path, out var warnings);
            foreach (var w in warnings)
            {
                var text = w.StartsWith(path + ": ", StringComparison.Ordinal) ? w[(path.Length + 2)..] : w;
                findings.Add(new ConfigFinding(ConfigFindingSeverity.Warning, path, JsonPathOf(text), text));
            }
            CheckCatalog.Validate(loaded);
            config = loaded;
        }
        catch (ConfigException ex)
        {
            findings.Add(new ConfigFinding(ConfigFindingSeverity.Error, path, ex.JsonPath.Length == 0 ? "$" : ex.JsonPath, ex.Reason));
            return findings;
        }
        findings.AddRange(CheckReferences(config));
        findings.AddRange(CheckExclusions(config));
        return findings;
    }

    /// <summary>Every file, directory and environment variable the configuration refers to, with its JSON path.</summary>
    public static IEnumerable<ConfigReference> References(PveHealthConfig config)
    {
        if (!string.IsNullOrWhiteSpace(config.Defaults.ExclusionPath))
        {
            yield return new("$.defaults.exclusionPath", config.Defaults.ExclusionPath, ConfigReferenceKind.File, false);
        }
        foreach (var (name, env) in config.Environments.OrderBy(e => e.Key, StringComparer.OrdinalIgnoreCase))
        {
            var at = $"$.environments.{name}";
            if (env.Inventory is { } inv)
            {
                var source = inv.Source?.ToLowerInvariant();
                if (source is "terraform-output" or "terraform-state" or "file" && !string.IsNullOrWhiteSpace(inv.Path))
                {
                    yield return new(at + ".inventory.path", inv.Path, ConfigReferenceKind.File, false);
                }
                if (source == "terraform" && !string.IsNullOrWhiteSpace(inv.Directory))
                {
                    yield return new(at + ".inventory.directory", inv.Directory, ConfigReferenceKind.Directory, false);
                }
            }
            if (env.Proxmox is { } pve)
            {
                foreach (var r in Secret(at + ".proxmox.tokenSecret", pve.TokenSecret)) yield return r;
                if (!string.IsNullOrWhiteSpace(pve.CaFile)) yield return new(at + ".proxmox.caFile", pve.CaFile, ConfigReferenceKind.File, false);
            }
            if (env.Ssh is { } ssh)
            {
                if (!string.IsNullOrWhiteSpace(ssh.KeyFile)) yield return new(at + ".ssh.keyFile", ssh.KeyFile, ConfigReferenceKind.File, true);
                foreach (var r in Secret(at + ".ssh.passphrase", ssh.Passphrase)) yield return r;
                if (!string.IsNullOrWhiteSpace(ssh.KnownHostsFile)) yield return new(at + ".ssh.knownHostsFile", ssh.KnownHostsFile, ConfigReferenceKind.File, false);
            }
            if (env.Monitoring is { } mon)
            {
                foreach (var (key, endpoint) in new[] { ("prometheus", mon.Prometheus), ("grafana", mon.Grafana), ("alertmanager", mon.Alertmanager) })
                {
                    if (endpoint is null) continue;
                    foreach (var r in Secret($"{at}.monitoring.{key}.password", endpoint.Password)) yield return r;
                    foreach (var r in Secret($"{at}.monitoring.{key}.bearerToken", endpoint.BearerToken)) yield return r;
                    if (!string.IsNullOrWhiteSpace(endpoint.CaFile)) yield return new($"{at}.monitoring.{key}.caFile", endpoint.CaFile, ConfigReferenceKind.File, false);
                }
            }
            if (env.Minio is { } minio)
            {
                foreach (var r in Secret(at + ".minio.accessKey", minio.AccessKey)) yield return r;
                foreach (var r in Secret(at + ".minio.secretKey", minio.SecretKey)) yield return r;
                if (!string.IsNullOrWhiteSpace(minio.CaFile)) yield return new(at + ".minio.caFile", minio.CaFile, ConfigReferenceKind.File, false);
            }
            if (env.Drift?.StatePaths is { } statePaths)
            {
                for (var i = 0; i < statePaths.Count; i++)
                {
                    if (!string.IsNullOrWhiteSpace(statePaths[i])) yield return new($"{at}.drift.statePaths[{i}]", statePaths[i], ConfigReferenceKind.File, false);
                }
            }
        }
    }

    private static IEnumerable<ConfigReference> Secret(string at, SecretReference? secret)
    {
        if (secret is null) yield break;
        if (!string.IsNullOrWhiteSpace(secret.File)) yield return new(at + ".file", secret.File, ConfigReferenceKind.File, true);
        else if (!string.IsNullOrWhiteSpace(secret.Env)) yield return new(at + ".env", secret.Env, ConfigReferenceKind.EnvironmentVariable, true);
    }

    /// <summary>
    /// A finding for each referenced file that does not exist, is a directory, or cannot be opened for reading by this
    /// user (a file is opened and closed, never read), each directory that does not exist, and each secret variable
    /// that is not set in this session (a Warning: the service may set it).
    /// </summary>
    public static IEnumerable<ConfigFinding> CheckReferences(PveHealthConfig config)
    {
        foreach (var reference in References(config))
        {
            var problem = Problem(reference);
            if (problem is null) continue;
            var severity = reference.Kind == ConfigReferenceKind.EnvironmentVariable ? ConfigFindingSeverity.Warning : ConfigFindingSeverity.Error;
            yield return new ConfigFinding(severity, config.SourcePath, reference.Location, problem, reference.Target);
        }
    }

    /// <summary>Why the reference cannot be used, or null when it can.</summary>
    public static string? Problem(ConfigReference reference)
    {
        var what = reference.IsSecret ? "secret file" : "file";
        switch (reference.Kind)
        {
            case ConfigReferenceKind.EnvironmentVariable:
                return string.IsNullOrEmpty(System.Environment.GetEnvironmentVariable(reference.Target))
                    ? $"environment variable {reference.Target} is not set in this session (the service that runs the checks must set it)."
                    : null;
            case ConfigReferenceKind.Directory:
                return Directory.Exists(reference.Target) ? null : $"directory {reference.Target} does not exist.";
            default:
                if (Directory.Exists(reference.Target)) return $"{what} {reference.Target} is a directory, expected a file.";
                try
                {
                    using var stream = new FileStream(reference.Target, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
                    return null;
                }
                catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
                {
                    return $"{what} {reference.Target} does not exist.";
                }
                catch (UnauthorizedAccessException)
                {
                    return $"{what} {reference.Target} is not readable by this user ({System.Environment.UserName}).";
                }
                catch (Exception ex) when (ex is IOException or ArgumentException or NotSupportedException)
                {
                    return $"{what} {reference.Target} cannot be opened: {ex.Message}";
                }
        }
    }

    /// <summary>The exclusions file the configuration names (it must exist), else the default one when it exists: each invalid line, each expired window.</summary>
    public static IEnumerable<ConfigFinding> CheckExclusions(PveHealthConfig config)
    {
        var path = config.Defaults.ExclusionPath ?? ExclusionSet.DefaultPath;
        if (!File.Exists(path)) yield break; // a named file that is missing is reported with the references
        string text;
        string? failure = null;
        try
        {
            text = BoundedInput.ReadFileText(path, BoundedInput.ExclusionFileBytes, $"the exclusions file {path}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InputTooLargeException)
        {
            text = string.Empty;
            failure = ex is UnauthorizedAccessException ? $"exclusions file {path} is not readable by this user." : $"exclusions file {path}: {ex.Message}";
        }
        if (failure is not null)
        {
            yield return new ConfigFinding(ConfigFindingSeverity.Error, config.SourcePath, "$.defaults.exclusionPath", failure, path);
            yield break;
        }
        var set = ExclusionSet.ParseFile(path, text, out var errors);
        foreach (var error in errors)
        {
            yield return new ConfigFinding(ConfigFindingSeverity.Error, config.SourcePath, LocationOf(error, path), error + "; the line is ignored.", path);
        }
        foreach (var rule in set.Expired)
        {
            yield return new ConfigFinding(ConfigFindingSeverity.Warning, config.SourcePath, rule.Source,
                $"the maintenance window of '{rule.Text}' ended {ExclusionRule.FormatTime(rule.Until!.Value)}; the rule no longer excludes.", path);
        }
    }

    private static string LocationOf(string error, string path)
    {
        // The parser's errors start with "path:line: ".
        var prefix = path + ":";
        if (!error.StartsWith(prefix, StringComparison.Ordinal)) return path;
        var end = error.IndexOf(':', prefix.Length);
        return end > prefix.Length ? error[..end] : path;
    }

    private static string JsonPathOf(string warning)
    {
        var start = warning.IndexOf("$.", StringComparison.Ordinal);
        if (start < 0) return "$";
        var end = warning.IndexOfAny([' ', ':', ',', '\''], start);
        return end < 0 ? warning[start..] : warning[start..end];
    }
}
