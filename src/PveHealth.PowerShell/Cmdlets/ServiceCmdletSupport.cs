using System.Management.Automation;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Planning;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>What Test-PveMonitoring and Test-PveMinio share when they read the configuration file.</summary>
internal static class ServiceCmdletSupport
{
    /// <summary>
    /// Loads the configuration and makes one context per selected environment, with the run options of the first
    /// (or the parameters' when none is selected). A bad file stops the command (ConfigInvalid), and so does an
    /// unknown environment (EnvironmentNotFound).
    /// </summary>
    public static (List<EnvironmentContext> Contexts, RunOptions Options) Load(PSCmdlet cmdlet, string? configPath, string[]? environments,
        double? timeoutSec, int? throttleLimit, double defaultTimeoutSec, int defaultThrottleLimit)
    {
        var config = CmdletConfiguration.Load(cmdlet, configPath);
        var options = Options(timeoutSec ?? config.Defaults.TimeoutSec, throttleLimit ?? config.Defaults.ThrottleLimit, config.Defaults.RunTimeoutSec);
        var planner = new HealthPlanner(config, (_, _) => null);
        IReadOnlyList<string> names;
        try
        {
            names = planner.SelectEnvironments(new PlanRequest { Environments = environments ?? [], All = environments is null && config.Environments.Count > 1 });
        }
        catch (EngineException ex)
        {
            cmdlet.ThrowTerminatingError(ErrorRecordFactory.From(ex));
            throw; // not reached: ThrowTerminatingError always throws
        }
        var contexts = new List<EnvironmentContext>();
        foreach (var name in names)
        {
            var env = config.Environments[name];
            var timeout = timeoutSec is null && env.TimeoutSec is double t ? TimeSpan.FromSeconds(t) : options.CheckTimeout;
            contexts.Add(new EnvironmentContext(name, env, options with { CheckTimeout = timeout }));
        }
        return (contexts, contexts.Count > 0 ? contexts[0].Options : Options(defaultTimeoutSec, defaultThrottleLimit));
    }

    public static RunOptions Options(double timeoutSec, int throttleLimit, double runTimeoutSec = 300)
        => new()
        {
            CheckTimeout = TimeSpan.FromSeconds(timeoutSec),
            ThrottleLimit = throttleLimit,
            RunTimeout = TimeSpan.FromSeconds(Math.Max(runTimeoutSec, timeoutSec * 4)),
        };

    /// <summary>An absolute http(s) URL, or null.</summary>
    public static Uri? HttpUrl(string? text)
        => Uri.TryCreate(text, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps) ? u : null;
}
