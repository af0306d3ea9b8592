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

    /// <summary>Gets or creates a resource shared by the checks of this environment (thread-safe, created once).</summary>
    public T Shared<T>(string key, Func<T> create) where T : class
        => (T)_shared.GetOrAdd(key, _ => new Lazy<object>(() => create(), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
}
