using System.Management.Automation;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Planning;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>What Test-PveMonitoring and Test-PveMinio share when they read the configuration file.</summary>
internal static class ServiceCmdletSupport
{
    /// <summary>
    /// Loads the configuration and makes one context per selected environment (the engine's RunPolicy: run options from
    /// defaults.* and the parameters, an environment's own timeoutSec unless -TimeoutSec). A bad file stops the command
    /// (ConfigInvalid), and so does an unknown environment (EnvironmentNotFound). The caller disposes the contexts.
    /// </summary>
    public static (List<EnvironmentContext> Contexts, RunOptions Options) Load(PSCmdlet cmdlet, string? configPath, string[]? environments, RunParameters parameters)
    {
        var config = CmdletConfiguration.Load(cmdlet, configPath);
        var options = RunPolicy.Options(config, parameters);
        IReadOnlyList<string> names;
        try
        {
            names = HealthPlanner.SelectEnvironments(config, environments ?? [], all: environments is null && config.Environments.Count > 1);
        }
        catch (EngineException ex)
        {
            cmdlet.ThrowTerminatingError(ErrorRecordFactory.From(ex));
            throw; // not reached: ThrowTerminatingError always throws
        }
        var contexts = names.Select(name => RunPolicy.Context(name, config.Environments[name], options, parameters)).ToList();
        return (contexts, contexts.Count > 0 ? contexts[0].Options : options);
    }

    /// <summary>An absolute http(s) URL, or null.</summary>
    public static Uri? HttpUrl(string? text)
        => Uri.TryCreate(text, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps) ? u : null;
}
