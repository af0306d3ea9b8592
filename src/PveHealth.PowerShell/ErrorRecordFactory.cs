using System.Management.Automation;

namespace PveHealth.PowerShell;

/// <summary>
/// The one place PveHealth builds PowerShell error records. The error id is the name of the
/// <see cref="EngineFailure"/> (a constant named after the condition, never a typed string), its
/// <see cref="ErrorCategory"/> is chosen here once per condition, the message is the engine's actionable
/// sentence (ErrorDetails, so it is what the user reads; every registered secret scrubbed), and the TargetObject is the thing at fault.
/// </summary>
internal static class ErrorRecordFactory
{
    /// <summary>An error record for an engine failure; its target is the exception's, else <paramref name="target"/>.</summary>
    public static ErrorRecord From(EngineException ex, object? target = null)
        => Create(ex.Failure, ex.Message, ex.Target ?? target, ex);

    /// <summary>An error record for <paramref name="failure"/> found by the cmdlet itself (a parameter, a missing section).</summary>
    public static ErrorRecord Create(EngineFailure failure, string message, object? target, Exception? inner = null)
        => new(inner ?? new EngineException(failure, message, target), failure.ToString(), CategoryOf(failure), target)
        {
            ErrorDetails = new ErrorDetails(SecretScrubber.Scrub(message)),
        };

    /// <summary>The category of each condition, chosen once.</summary>
    internal static ErrorCategory CategoryOf(EngineFailure failure) => failure switch
    {
        EngineFailure.ConfigInvalid => ErrorCategory.InvalidData,
        EngineFailure.EnvironmentNotFound => ErrorCategory.ObjectNotFound,
        EngineFailure.InventoryInvalid => ErrorCategory.InvalidData,
        EngineFailure.InventoryUnreadable => ErrorCategory.ReadError,
        EngineFailure.TerraformNotFound => ErrorCategory.ObjectNotFound,
        EngineFailure.TerraformFailed => ErrorCategory.InvalidResult,
        EngineFailure.TerraformTimeout => ErrorCategory.OperationTimeout,
        EngineFailure.InventoryTooLarge => ErrorCategory.LimitsExceeded,
        EngineFailure.MetricsFolderNotFound => ErrorCategory.ObjectNotFound,
        EngineFailure.MetricsAccessDenied => ErrorCategory.PermissionDenied,
        EngineFailure.MetricsPathIsDirectory => ErrorCategory.InvalidArgument,
        EngineFailure.MetricsWriteFailed => ErrorCategory.WriteError,
        EngineFailure.ExclusionFileNotFound => ErrorCategory.ObjectNotFound,
        EngineFailure.ExclusionFileUnreadable => ErrorCategory.ReadError,
        EngineFailure.ExclusionLineInvalid => ErrorCategory.InvalidData,
        EngineFailure.ExcludeInvalid => ErrorCategory.InvalidArgument,
        EngineFailure.InvalidUrl => ErrorCategory.InvalidArgument,
        EngineFailure.InvalidStateObject => ErrorCategory.InvalidArgument,
        EngineFailure.CredentialRequired => ErrorCategory.InvalidArgument,
        EngineFailure.NoMonitoringConfigured => ErrorCategory.ObjectNotFound,
        EngineFailure.NoMinioConfigured => ErrorCategory.ObjectNotFound,
        EngineFailure.NoDriftConfigured => ErrorCategory.ObjectNotFound,
        EngineFailure.InvalidCheckResult => ErrorCategory.InvalidData,
        EngineFailure.ReportWriteFailed => ErrorCategory.WriteError,
        EngineFailure.ConfigFileExists => ErrorCategory.ResourceExists,
        EngineFailure.ConfigWriteFailed => ErrorCategory.WriteError,
        _ => ErrorCategory.NotSpecified,
    };
}
