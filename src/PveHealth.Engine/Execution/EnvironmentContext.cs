using System.Collections.Concurrent;
using PveHealth.Configuration;

namespace PveHealth.Execution;

/// <summary>
/// One environment of one run: its configuration and the resources its checks share
/// (one Proxmox client, one /cluster/resources answer for all guests...), created once on first use.
/// </summary>
public sealed class EnvironmentContext : IEnvironmentScope, IDisposable
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

    /// <inheritdoc />
    public TimeSpan RunRemaining => Options.RunRemaining;

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
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        return (T)_shared.GetOrAdd(key, _ => new Lazy<object>(() => create(), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    private int _disposed;

    /// <summary>Number of shared resources disposed by <see cref="Dispose"/> (tests).</summary>
    internal int DisposedCount { get; private set; }

    /// <summary>
    /// Ends the environment's part of the run: every shared resource that was created and is disposable (the Proxmox
    /// client and its HttpClient, S3 and HTTP clients) is disposed once. Called by whoever made the context, after the run.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        foreach (var lazy in _shared.Values)
        {
            if (!lazy.IsValueCreated) continue;
            object value;
            try { value = lazy.Value; }
            catch (Exception) { continue; } // creation failed: nothing to dispose
            if (value is IDisposable d)
            {
                d.Dispose();
                DisposedCount++;
            }
        }
        _shared.Clear();
    }
}
