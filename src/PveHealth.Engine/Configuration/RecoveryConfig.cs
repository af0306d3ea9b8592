namespace PveHealth.Configuration;

/// <summary><c>environments.&lt;name&gt;.storage</c>: thresholds of the Storage group (used space of each node's storages).</summary>
public sealed class StorageCheckConfig : ConfigSection
{
    public const double DefaultWarningPercent = 80;
    public const double DefaultCriticalPercent = 90;

    /// <summary>Used space above this percentage is a Warning (default 80).</summary>
    public double? WarningPercent { get; set; }
    /// <summary>Used space above this percentage is Critical (default 90).</summary>
    public double? CriticalPercent { get; set; }
}

/// <summary><c>environments.&lt;name&gt;.backups</c>: thresholds of the Backups group.</summary>
public sealed class BackupCheckConfig : ConfigSection
{
    public const double DefaultWarningHours = 26;
    public const double DefaultCriticalHours = 50;

    /// <summary>A last good backup older than this is a Warning (default 26 h: one missed daily run).</summary>
    public double? WarningHours { get; set; }
    /// <summary>A last good backup older than this is Critical (default 50 h: two missed daily runs).</summary>
    public double? CriticalHours { get; set; }
}

/// <summary><c>environments.&lt;name&gt;.replication</c>: thresholds of the Replication group.</summary>
public sealed class ReplicationCheckConfig : ConfigSection
{
    public const double DefaultMaxScheduleMultiple = 3;

    /// <summary>A last sync older than this many schedule intervals is a Warning (default 3).</summary>
    public double? MaxScheduleMultiple { get; set; }
}

/// <summary><c>environments.&lt;name&gt;.snapshots</c>: thresholds of the Snapshots group.</summary>
public sealed class SnapshotCheckConfig : ConfigSection
{
    public const double DefaultMaxAgeDays = 30;

    /// <summary>A snapshot older than this is a Warning naming it (default 30 days).</summary>
    public double? MaxAgeDays { get; set; }
}

/// <summary>Validation of the recovery sections (called by <see cref="ConfigValidator"/>).</summary>
internal static class RecoveryConfigValidator
{
    public static void Validate(string path, string at, EnvironmentConfig env)
    {
        if (env.Storage is { } storage)
        {
            var warn = Percent(path, at + ".storage.warningPercent", storage.WarningPercent) ?? StorageCheckConfig.DefaultWarningPercent;
            var crit = Percent(path, at + ".storage.criticalPercent", storage.CriticalPercent) ?? StorageCheckConfig.DefaultCriticalPercent;
            if (warn > crit) throw new ConfigException(path, at + ".storage.warningPercent", $"expected at most criticalPercent ({crit}); found {warn}.");
        }
        if (env.Backups is { } backups)
        {
            var warn = Positive(path, at + ".backups.warningHours", backups.WarningHours, "hours") ?? BackupCheckConfig.DefaultWarningHours;
            var crit = Positive(path, at + ".backups.criticalHours", backups.CriticalHours, "hours") ?? BackupCheckConfig.DefaultCriticalHours;
            if (warn > crit) throw new ConfigException(path, at + ".backups.warningHours", $"expected at most criticalHours ({crit}); found {warn}.");
        }
        if (env.Replication is { } replication)
        {
            if (replication.MaxScheduleMultiple is double m && (!(m >= 1) || double.IsInfinity(m)))
            {
                throw new ConfigException(path, at + ".replication.maxScheduleMultiple", $"expected a number of at least 1 (schedule intervals); found {m}.");
            }
        }
        if (env.Snapshots is { } snapshots) Positive(path, at + ".snapshots.maxAgeDays", snapshots.MaxAgeDays, "days");
    }

    private static double? Percent(string path, string at, double? value)
    {
        if (value is not double v) return null;
        if (!(v > 0 && v <= 100)) throw new ConfigException(path, at, $"expected a percentage above 0 and at most 100; found {v}.");
        return v;
    }

    private static double? Positive(string path, string at, double? value, string unit)
    {
        if (value is not double v) return null;
        if (!(v > 0) || double.IsInfinity(v)) throw new ConfigException(path, at, $"expected a positive number of {unit}; found {v}.");
        return v;
    }
}
