using System.Text.Json;
using System.Text.Json.Serialization;

namespace PveHealth.Configuration;

/// <summary>
/// Base of every configuration section: keys the schema does not know are collected here and
/// reported by <see cref="ConfigLoader"/> with their JSON path, never ignored silently.
/// </summary>
public abstract class ConfigSection
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? UnknownKeys { get; set; }
}

/// <summary>The whole configuration file (default /etc/pve-health/config.json). See docs/HEALTH-CHECKS.md.</summary>
public sealed class PveHealthConfig : ConfigSection
{
    [JsonPropertyName("$schema")]
    public string? Schema { get; set; }

    public DefaultsConfig Defaults { get; set; } = new();

    /// <summary>Environments by name (prod, staging, lab...). Names are case-insensitive.</summary>
    public Dictionary<string, EnvironmentConfig> Environments { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Path the configuration was read from (not part of the file).</summary>
    [JsonIgnore]
    public string SourcePath { get; set; } = string.Empty;
}

public sealed class DefaultsConfig : ConfigSection
{
    /// <summary>Timeout of one check, in seconds (-TimeoutSec overrides).</summary>
    public double TimeoutSec { get; set; } = 10;
    /// <summary>Deadline of a whole run, in seconds.</summary>
    public double RunTimeoutSec { get; set; } = 300;
    /// <summary>Checks run at once (-ThrottleLimit overrides).</summary>
    public int ThrottleLimit { get; set; } = 64;
    /// <summary>Exclusions file (-ExclusionPath overrides). Default /etc/pve-health/exclusions.conf.</summary>
    public string? ExclusionPath { get; set; }
    /// <summary>Ping settings for every environment (an environment's own <c>ping</c> keys win).</summary>
    public PingConfig? Ping { get; set; }
}

/// <summary>
/// How Ping judges a guest: it sends <see cref="Count"/> echoes <see cref="IntervalMs"/> apart inside the check's timeout;
/// Critical when the loss reaches <see cref="CriticalLossPercent"/>, Warning when it reaches <see cref="WarningLossPercent"/>.
/// </summary>
public sealed class PingConfig : ConfigSection
{
    public const int DefaultCount = 5;
    public const double DefaultIntervalMs = 100;
    public const double DefaultWarningLossPercent = 40;
    public const double DefaultCriticalLossPercent = 100;

    /// <summary>Echoes per check (1-20, default 5).</summary>
    public int? Count { get; set; }
    /// <summary>Time between two echoes, in milliseconds (0-1000, default 100).</summary>
    public double? IntervalMs { get; set; }
    /// <summary>Loss (percent of the echoes) from which the result is a Warning (default 40: two of five lost).</summary>
    public double? WarningLossPercent { get; set; }
    /// <summary>Loss from which the result is Critical (default 100: every echo lost).</summary>
    public double? CriticalLossPercent { get; set; }
    /// <summary>Average round trip, in milliseconds, from which the result is a Warning (default: none).</summary>
    public double? WarningRttMs { get; set; }
    /// <summary>Average round trip from which the result is Critical (default: none).</summary>
    public double? CriticalRttMs { get; set; }

    /// <summary>This section's keys, with <paramref name="fallback"/>'s where this one has none.</summary>
    public PingConfig Over(PingConfig? fallback) => new()
    {
        Count = Count ?? fallback?.Count,
        IntervalMs = IntervalMs ?? fallback?.IntervalMs,
        WarningLossPercent = WarningLossPercent ?? fallback?.WarningLossPercent,
        CriticalLossPercent = CriticalLossPercent ?? fallback?.CriticalLossPercent,
        WarningRttMs = WarningRttMs ?? fallback?.WarningRttMs,
        CriticalRttMs = CriticalRttMs ?? fallback?.CriticalRttMs,
    };
}

public sealed class EnvironmentConfig : ConfigSection
{
    public InventoryConfig? Inventory { get; set; }
    public ProxmoxConfig? Proxmox { get; set; }
    public SshConfig? Ssh { get; set; }
    /// <summary>Guest checks to run (Ping, Ssh, Docker, ApiStatus, GuestAgent); default: every check the environment has what it needs for.</summary>
    public List<string>? Checks { get; set; }
    public MonitoringConfig? Monitoring { get; set; }
    public MinioConfig? Minio { get; set; }
    /// <summary>Ping's echo count and loss thresholds for this environment (over <c>defaults.ping</c>).</summary>
    public PingConfig? Ping { get; set; }
    /// <summary>Thresholds of the NodeHealth group (certificates, disks, HA, updates); defaults when absent.</summary>
    public NodeHealthConfig? NodeHealth { get; set; }
    /// <summary>Drift between the Terraform state and the cluster (the Drift group).</summary>
    public DriftConfig? Drift { get; set; }
    /// <summary>Per-environment check timeout, in seconds.</summary>
    public double? TimeoutSec { get; set; }
    /// <summary>Thresholds of the Storage group (RecoveryConfig.cs).</summary>
    public StorageCheckConfig? Storage { get; set; }
    /// <summary>Thresholds of the Backups group.</summary>
    public BackupCheckConfig? Backups { get; set; }
    /// <summary>Thresholds of the Replication group.</summary>
    public ReplicationCheckConfig? Replication { get; set; }
    /// <summary>Thresholds of the Snapshots group.</summary>
    public SnapshotCheckConfig? Snapshots { get; set; }
}

/// <summary>
/// A secret, referenced and never inlined: a file whose content (trimmed) is the secret,
/// or an environment variable.
/// </summary>
public sealed class SecretReference : ConfigSection
{
    public string? File { get; set; }
    public string? Env { get; set; }

    public override string ToString() => File is not null ? $"file {File}" : Env is not null ? $"environment variable {Env}" : "(none)";
}

public sealed class InventoryConfig : ConfigSection
{
    /// <summary>terraform-output (file of `terraform output -json`), terraform (run terraform/tofu in Directory), terraform-state (state v4 file), file (inventory JSON/YAML), proxmox (the API), minio-state (state object in MinIO).</summary>
    public string? Source { get; set; }
    /// <summary>File for terraform-output, terraform-state and file sources; a relative path is relative to the configuration file.</summary>
    public string? Path { get; set; }
    /// <summary>Terraform working directory for the terraform source; a relative path is relative to the configuration file.</summary>
    public string? Directory { get; set; }
    /// <summary>Executable for the terraform source: terraform, else tofu, when not set.</summary>
    public string? Executable { get; set; }
    /// <summary>Timeout of the terraform command, in seconds (default 60).</summary>
    public double? TimeoutSec { get; set; }
    /// <summary>Outputs to read; default every non-sensitive output shaped like a guest list.</summary>
    public List<string>? Outputs { get; set; }
    /// <summary>Field names to look for in each guest object.</summary>
    public FieldMapping? Fields { get; set; }
    /// <summary>Kind when an entry does not say (Vm or Lxc); default Vm, or Lxc for outputs named like containers.</summary>
    public string? DefaultKind { get; set; }
    /// <summary>State object for minio-state: "bucket/key".</summary>
    public string? StateObject { get; set; }
    /// <summary>proxmox source: address family to pick from the guest's interfaces, ipv4 (default), ipv6 or any.</summary>
    public string? AddressFamily { get; set; }
    /// <summary>proxmox source: only addresses inside this network ("10.20.0.0/16"); default any non-loopback address.</summary>
    public string? AddressCidr { get; set; }
    /// <summary>proxmox source: only guests carrying this Proxmox tag belong to the environment.</summary>
    public string? EnvironmentTag { get; set; }
    /// <summary>proxmox source: only guests in this Proxmox pool belong to the environment.</summary>
    public string? Pool { get; set; }
    /// <summary>proxmox source: address lookups (agent/interfaces calls) at once (default 8).</summary>
    public int? Concurrency { get; set; }
}

/// <summary>Candidate field names, tried in order, for each guest property.</summary>
public sealed class FieldMapping : ConfigSection
{
    public List<string>? Name { get; set; }
    public List<string>? Address { get; set; }
    public List<string>? VmId { get; set; }
    public List<string>? Node { get; set; }
    public List<string>? Kind { get; set; }
    public List<string>? Tags { get; set; }
    public List<string>? Environment { get; set; }
}

public sealed class ProxmoxConfig : ConfigSection
{
    /// <summary>https://pve.example:8006 (the /api2/json prefix is added).</summary>
    public string? Url { get; set; }
    /// <summary>USER@REALM!TOKENID</summary>
    public string? TokenId { get; set; }
    public SecretReference? TokenSecret { get; set; }
    /// <summary>PEM file of the CA that signed the Proxmox certificate.</summary>
    public string? CaFile { get; set; }
    /// <summary>SHA-256 fingerprint of the server certificate (hex, colons optional).</summary>
    public string? Fingerprint { get; set; }
    /// <summary>Do not verify TLS at all (warned on every run).</summary>
    public bool SkipCertificateCheck { get; set; }
    public double? TimeoutSec { get; set; }
    /// <summary>
    /// Most of one API answer the client reads, in MiB after decompression (default 32, 1 to 1024). Raise it only for an
    /// estate whose answers meet the default, e.g. a PBS storage listing tens of thousands of backups.
    /// </summary>
    public int? MaxAnswerMiB { get; set; }

    /// <summary>The largest <see cref="MaxAnswerMiB"/> accepted: the bound stays a bound whatever the file says.</summary>
    public const int MaxAnswerMiBLimit = 1024;

    /// <summary>
    /// A credential given on the command line (-Credential: user name = token id, password = secret); used instead of
    /// <see cref="TokenId"/>/<see cref="TokenSecret"/>. Never read from or written to the file.
    /// </summary>
    [JsonIgnore]
    public System.Net.NetworkCredential? Credential { get; set; }
}

public sealed class SshConfig : ConfigSection
{
    public string? User { get; set; }
    public int Port { get; set; } = 22;
    public string? KeyFile { get; set; }
    public SecretReference? Passphrase { get; set; }
    /// <summary>known_hosts file used to verify host keys (hashed entries and [host]:port supported).</summary>
    public string? KnownHostsFile { get; set; }
    /// <summary>Pinned host key fingerprint "SHA256:..." accepted for every guest of the environment.</summary>
    public string? HostKeyFingerprint { get; set; }
    /// <summary>Command whose exit code 0 means Docker is active (default `systemctl is-active docker`).</summary>
    public string? DockerCommand { get; set; }
}

public sealed class MonitoringConfig : ConfigSection
{
    public EndpointConfig? Prometheus { get; set; }
    public EndpointConfig? Grafana { get; set; }
    public EndpointConfig? Alertmanager { get; set; }
}

public sealed class EndpointConfig : ConfigSection
{
    public string? Url { get; set; }
    public string? Username { get; set; }
    public SecretReference? Password { get; set; }
    public SecretReference? BearerToken { get; set; }
    public string? CaFile { get; set; }
    public bool SkipCertificateCheck { get; set; }
}

public sealed class MinioConfig : ConfigSection
{
    /// <summary>http(s)://host:port of the S3 API.</summary>
    public string? Endpoint { get; set; }
    public SecretReference? AccessKey { get; set; }
    public SecretReference? SecretKey { get; set; }
    public string? Region { get; set; }
    public List<string>? Buckets { get; set; }
    /// <summary>State objects as "bucket/key", wildcards allowed in the key.</summary>
    public List<string>? StateObjects { get; set; }
    /// <summary>A state older than this is a Warning (default 168 h).</summary>
    public double? MaxStateAgeHours { get; set; }
    /// <summary>A .tflock older than this is a Warning (default 60 min).</summary>
    public double? MaxLockAgeMinutes { get; set; }
    public string? CaFile { get; set; }
    public bool SkipCertificateCheck { get; set; }
}
