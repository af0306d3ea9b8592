using System.Collections.Concurrent;
using PveHealth.Configuration;

namespace PveHealth.Execution;

/// <summary>
/// One environment of one run: its configuration and the resources its checks share
/// (one Proxmox client, one /cluster/resources answer for all guests...), created once on first use.
/// </summary>
public sealed class EnvironmentContext : IEnvironmentScope
{
    private readonly ConcurrentDictionary<string, Lazy<object>> _shared = new(StringComparer.Ordinal);

    public EnvironmentContext(string name, EnvironmentConfig config, RunOptions options)
    {
        Name = name;
        Config = config;
        Options = options;
    }

    public string Name { get; }
    public EnvironmentConfig Config { get; }
    public RunOptions Options { get; }

    /// <inheritdoc />
    public TimeSpan CheckTimeout => Options.CheckTimeout;

    /// <summary>
    /// The environment's guests as its inventory lists them, set by the planner once read (null when the environment has
    /// no inventory, it could not be read, or the dry run did not read it). Checks that report per declared guest (Backups)
    /// read it.
    /// </summary>
    public IReadOnlyList<Model.Guest>? Guests { get; set; }

    /// <summary>
    /// The run's exclusions for results a unit reports per component (component, type, group, check) → the Skipped
    /// detail ("excluded by 'x' (source)"), or null when not excluded. Set by the planner; null means nothing is excluded.
    /// </summary>
    public Func<string, string, string, string, string?>? Excluded { get; set; }

    /// <summary>Gets or creates a resource shared by the checks of this environment (thread-safe, created once).</summary>
    public T Shared<T>(string key, Func<T> create) where T : class
        => (T)_shared.GetOrAdd(key, _ => new Lazy<object>(() => create(), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
}
