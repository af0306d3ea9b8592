using System.Management.Automation;
using PveHealth.Checks;
using PveHealth.Configuration;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// How every cmdlet reads the configuration file: -ConfigPath, else $env:PVE_HEALTH_CONFIG, else
/// /etc/pve-health/config.json; unknown keys become warnings; a file that cannot be used stops the
/// command with the stable error id ConfigInvalid and a message naming the file and JSON path.
/// </summary>
internal static class CmdletConfiguration
{
    /// <summary>The resolved, provider-independent path the configuration would be read from.</summary>
    public static string ResolvePath(PSCmdlet cmdlet, string? configPath)
        => cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(ConfigLoader.ResolvePath(configPath));

    /// <summary>Loads the configuration or stops the command (ThrowTerminatingError, id ConfigInvalid).</summary>
    public static PveHealthConfig Load(PSCmdlet cmdlet, string? configPath)
    {
        var path = ResolvePath(cmdlet, configPath);
        try
        {
            var config = ConfigLoader.Load(path, out var warnings);
            CheckCatalog.Validate(config);
            foreach (var w in warnings) cmdlet.WriteWarning(w);
            return config;
        }
        catch (ConfigException ex)
        {
            cmdlet.ThrowTerminatingError(ErrorRecordFactory.From(ex, path));
            throw; // not reached: ThrowTerminatingError always throws
        }
    }
}
