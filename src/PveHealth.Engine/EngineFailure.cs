namespace PveHealth;

/// <summary>
/// Every condition in which a PveHealth command stops or reports an error record instead of a check result. The name of
/// each member is the stable error id scripts see (<c>$_.FullyQualifiedErrorId</c> starts with it), so members are
/// never renamed; the PowerShell layer maps each to one <c>ErrorCategory</c> in one place (ErrorRecordFactory).
/// </summary>
public enum EngineFailure
{
    /// <summary>The configuration file is missing, unreadable or invalid.</summary>
    ConfigInvalid,
    /// <summary>-Environment names no configured environment, or several exist and none was chosen.</summary>
    EnvironmentNotFound,
    /// <summary>An inventory (file, Terraform output or state) has the wrong shape.</summary>
    InventoryInvalid,
    /// <summary>An inventory source cannot be read (missing file, unreachable API).</summary>
    InventoryUnreadable,
    /// <summary>Neither terraform nor tofu can be started.</summary>
    TerraformNotFound,
    /// <summary>terraform output -json exited with an error.</summary>
    TerraformFailed,
    /// <summary>terraform output -json did not finish in time.</summary>
    TerraformTimeout,
    /// <summary>The folder of the metrics file does not exist.</summary>
    MetricsFolderNotFound,
    /// <summary>The metrics file or its folder may not be written.</summary>
    MetricsAccessDenied,
    /// <summary>The metrics path is a directory.</summary>
    MetricsPathIsDirectory,
    /// <summary>Any other failure writing the metrics file (disk full, read-only file system).</summary>
    MetricsWriteFailed,
    /// <summary>An explicitly named exclusions file does not exist.</summary>
    ExclusionFileNotFound,
    /// <summary>The exclusions file cannot be read.</summary>
    ExclusionFileUnreadable,
    /// <summary>A line of the exclusions file is not a valid rule (the line is ignored).</summary>
    ExclusionLineInvalid,
    /// <summary>An -Exclude value is not a valid rule.</summary>
    ExcludeInvalid,
    /// <summary>A URL parameter is not an absolute http(s) URL.</summary>
    InvalidUrl,
    /// <summary>-StateObject is not "bucket/key".</summary>
    InvalidStateObject,
    /// <summary>A parameter needs -Credential.</summary>
    CredentialRequired,
    /// <summary>The selected environments have no monitoring section.</summary>
    NoMonitoringConfigured,
    /// <summary>The selected environments have no minio section.</summary>
    NoMinioConfigured,
    /// <summary>An input (inventory file, terraform output or state) is larger than its cap; nothing of it was used.</summary>
    InventoryTooLarge,
    /// <summary>The selected environments have no drift (and proxmox) section.</summary>
    NoDriftConfigured,
    /// <summary>A pipeline object is not a usable check result (read by property name; the object is left out).</summary>
    InvalidCheckResult,
    /// <summary>A report file cannot be written (missing folder, no permission, a directory, disk full).</summary>
    ReportWriteFailed,
    /// <summary>New-PveHealthConfig: the file exists and -Force was not given.</summary>
    ConfigFileExists,
    /// <summary>New-PveHealthConfig: the configuration file cannot be written.</summary>
    ConfigWriteFailed,
}

/// <summary>
/// A failure of the engine that stops a request (as opposed to a check result): its <see cref="Failure"/> is the stable
/// error id, the message is one actionable sentence without secrets, and <see cref="Target"/> is the thing at fault
/// (a file path, an environment name, a directory, a value).
/// </summary>
public class EngineException : Exception
{
    public EngineException(EngineFailure failure, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        Failure = failure;
        Target = target;
    }

    /// <summary>The condition; its name is the error id.</summary>
    public EngineFailure Failure { get; init; }

    /// <summary>The thing at fault (path, environment name, value), or null when the caller knows it better.</summary>
    public object? Target { get; init; }
}
