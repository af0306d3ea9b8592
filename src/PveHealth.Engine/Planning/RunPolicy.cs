using System.Net;
using PveHealth.Configuration;
using PveHealth.Execution;

namespace PveHealth.Planning;

/// <summary>
/// The parameters a command was given that override the configuration; null (or false) means "not given", so the
/// configuration's value applies. Paths are already resolved by the caller (PowerShell's current location).
/// </summary>
public sealed record RunParameters
{
    public double? TimeoutSec { get; init; }
    public int? ThrottleLimit { get; init; }
}

/// <summary>Test-PveVm's connection parameters: each given one overrides the environment's ssh/proxmox section.</summary>
public sealed record GuestParameters
{
    public string? User { get; init; }
    public string? KeyFile { get; init; }
    public string? KnownHostsFile { get; init; }
    public string? HostKeyFingerprint { get; init; }
    public int? SshPort { get; init; }
    public string? DockerCommand { get; init; }
    public string? ProxmoxUrl { get; init; }
    /// <summary>Token id (user name) and secret (password).</summary>
    public NetworkCredential? Credential { get; init; }
    public string? CertificateFingerprint { get; init; }
    public bool SkipCertificateCheck { get; init; }
}

/// <summary>
/// The engine's policy for a run, the same for every command: run options from the configuration's defaults and the
/// bound parameters (a parameter given wins, else the configuration, else the built-in default), and parameters merged
/// over an environment's sections. Commands never compute these themselves.
/// </summary>
public static class RunPolicy
{
    /// <summary>
    /// -TimeoutSec else defaults.timeoutSec (10); -ThrottleLimit else defaults.throttleLimit (64); the run deadline is
    /// defaults.runTimeoutSec (300), never shorter than one check's timeout, and it counts from now: reading the
    /// inventory (discovery) is part of the run. Without a configuration the defaults apply.
    /// </summary>
    public static RunOptions Options(PveHealthConfig? config, RunParameters parameters)
    {
        var defaults = config?.Defaults ?? new DefaultsConfig();
        var timeoutSec = parameters.TimeoutSec ?? defaults.TimeoutSec;
        var options = new RunOptions
        {
            CheckTimeout = TimeSpan.FromSeconds(timeoutSec),
            ThrottleLimit = parameters.ThrottleLimit ?? defaults.ThrottleLimit,
            RunTimeout = TimeSpan.FromSeconds(Math.Max(defaults.RunTimeoutSec, timeoutSec)),
            StartTimestamp = System.Diagnostics.Stopwatch.GetTimestamp(),
        };
        options.Validate();
        return options;
    }

    /// <summary>
    /// Run options for checks spanning <paramref name="environments"/> (Test-PveVm's guests): without -TimeoutSec, the
    /// longest timeoutSec of those environments (their own, else defaults.timeoutSec) is the check timeout.
    /// </summary>
    public static RunOptions Options(PveHealthConfig? config, RunParameters parameters, IEnumerable<string> environments)
    {
        if (config is null || parameters.TimeoutSec is not null) return Options(config, parameters);
        var longest = environments.Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(e => config.Environments.TryGetValue(e, out var ec) && ec.TimeoutSec is double t ? t : config.Defaults.TimeoutSec)
            .DefaultIfEmpty(config.Defaults.TimeoutSec).Max();
        return Options(config, parameters with { TimeoutSec = longest });
    }

    /// <summary>The context of one environment: its own timeoutSec applies unless -TimeoutSec was given.</summary>
    public static EnvironmentContext Context(string name, EnvironmentConfig config, RunOptions options, RunParameters parameters)
        => new(name, config, EnvironmentTimeout(config, parameters) is TimeSpan t ? options with { CheckTimeout = t } : options);

    /// <summary>An environment's own check timeout, when it has one and -TimeoutSec was not given.</summary>
    public static TimeSpan? EnvironmentTimeout(EnvironmentConfig config, RunParameters parameters)
        => parameters.TimeoutSec is null && config.TimeoutSec is double t ? TimeSpan.FromSeconds(t) : null;

    /// <summary>
    /// The ssh and proxmox sections of <paramref name="fromFile"/> (may be null) with the given parameters over them.
    /// A -KeyFile starts a new ssh section (nothing of the file's key, user or passphrase leaks into it); other ssh
    /// parameters override single values. <paramref name="note"/> says why Proxmox parameters were ignored (no URL).
    /// </summary>
    public static EnvironmentConfig MergeGuestParameters(EnvironmentConfig? fromFile, GuestParameters p, out string? note)
    {
        note = null;
        var env = new EnvironmentConfig { Ssh = fromFile?.Ssh, Proxmox = fromFile?.Proxmox };
        if (p.KeyFile is not null)
        {
            env.Ssh = new SshConfig
            {
                User = p.User,
                KeyFile = p.KeyFile,
                KnownHostsFile = p.KnownHostsFile,
                HostKeyFingerprint = p.HostKeyFingerprint,
                Port = p.SshPort ?? 22,
                DockerCommand = p.DockerCommand,
            };
        }
        else if (env.Ssh is { } s && ((p.User ?? p.KnownHostsFile ?? p.HostKeyFingerprint ?? p.DockerCommand) is not null || p.SshPort is not null))
        {
            env.Ssh = new SshConfig
            {
                User = p.User ?? s.User,
                KeyFile = s.KeyFile,
                Passphrase = s.Passphrase,
                KnownHostsFile = p.KnownHostsFile ?? s.KnownHostsFile,
                HostKeyFingerprint = p.HostKeyFingerprint ?? s.HostKeyFingerprint,
                Port = p.SshPort ?? s.Port,
                DockerCommand = p.DockerCommand ?? s.DockerCommand,
            };
        }
        if (p.ProxmoxUrl is not null || p.Credential is not null || p.CertificateFingerprint is not null || p.SkipCertificateCheck)
        {
            var baseConfig = env.Proxmox;
            if (baseConfig is null && p.ProxmoxUrl is null)
            {
                note = "-Credential/-CertificateFingerprint given but no Proxmox URL (-ProxmoxUrl or the configuration's proxmox.url)";
            }
            else
            {
                env.Proxmox = new ProxmoxConfig
                {
                    Url = p.ProxmoxUrl ?? baseConfig?.Url,
                    TokenId = p.Credential?.UserName ?? baseConfig?.TokenId,
                    TokenSecret = baseConfig?.TokenSecret,
                    Credential = p.Credential,
                    CaFile = p.CertificateFingerprint is null ? baseConfig?.CaFile : null,
                    Fingerprint = p.CertificateFingerprint ?? baseConfig?.Fingerprint,
                    SkipCertificateCheck = p.SkipCertificateCheck || (baseConfig?.SkipCertificateCheck ?? false),
                    TimeoutSec = baseConfig?.TimeoutSec,
                };
            }
        }
        return env;
    }
}
