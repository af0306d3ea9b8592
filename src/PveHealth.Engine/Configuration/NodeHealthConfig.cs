namespace PveHealth.Configuration;

/// <summary>
/// <c>environments.&lt;name&gt;.nodeHealth</c>: thresholds of the NodeHealth group (node certificates, endpoint TLS
/// certificates, disks, HA state memory, package updates). Every key is optional; see docs/HEALTH-CHECKS.md.
/// </summary>
public sealed class NodeHealthConfig : ConfigSection
{
    /// <summary>A certificate expiring within this many days is a Warning (default 30).</summary>
    public double CertificateWarningDays { get; set; } = 30;
    /// <summary>A certificate expiring within this many days, or expired, is Critical (default 7).</summary>
    public double CertificateCriticalDays { get; set; } = 7;
    /// <summary>An SSD with less life remaining than this (percent, the API's <c>wearout</c>) is a Warning (default 10).</summary>
    public double SsdLifeWarningPercent { get; set; } = 10;
    /// <summary>Folder of the small state files that remember HA services in freeze/migrate across runs (default /var/lib/pve-health).</summary>
    public string? StateDirectory { get; set; }
    /// <summary>Ask <c>/nodes/{n}/apt/update</c> for pending updates (needs Sys.Modify; without it no row). Default true.</summary>
    public bool CheckUpdates { get; set; } = true;

    /// <summary>The folder used when <see cref="StateDirectory"/> is not set.</summary>
    public const string DefaultStateDirectory = "/var/lib/pve-health";

    /// <summary>The defaults, for environments without a nodeHealth section.</summary>
    public static NodeHealthConfig Default { get; } = new();

    /// <summary>Validation of the section (called by the configuration validator); throws <see cref="ConfigException"/>.</summary>
    internal static void Validate(string path, string at, NodeHealthConfig? section)
    {
        if (section is null) return;
        if (!(section.CertificateCriticalDays >= 0) || double.IsInfinity(section.CertificateCriticalDays))
            throw new ConfigException(path, at + ".certificateCriticalDays", $"expected a number of days of at least 0; found {section.CertificateCriticalDays}.");
        if (!(section.CertificateWarningDays >= section.CertificateCriticalDays) || double.IsInfinity(section.CertificateWarningDays))
            throw new ConfigException(path, at + ".certificateWarningDays", $"expected a number of days of at least certificateCriticalDays ({section.CertificateCriticalDays}); found {section.CertificateWarningDays}.");
        if (!(section.SsdLifeWarningPercent is >= 0 and <= 100))
            throw new ConfigException(path, at + ".ssdLifeWarningPercent", $"expected a percentage from 0 to 100; found {section.SsdLifeWarningPercent}.");
        if (section.StateDirectory is { } dir && (string.IsNullOrWhiteSpace(dir) || dir.IndexOfAny(['\0', '\n', '\r']) >= 0))
            throw new ConfigException(path, at + ".stateDirectory", "expected a folder path.");
    }
}
