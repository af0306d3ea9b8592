namespace PveHealth.Configuration;

/// <summary>
/// One environment as the clients see it during a run: its configuration, its check timeout, and the resources its
/// checks share (one Proxmox client, one S3 client...), created once on first use and disposed with the run.
/// Implemented by <c>Execution.EnvironmentContext</c>; clients take this interface so they never depend on the runner.
/// </summary>
public interface IEnvironmentScope
{
    string Name { get; }
    EnvironmentConfig Config { get; }

    /// <summary>The environment's check timeout (a client's default wait).</summary>
    TimeSpan CheckTimeout { get; }

    /// <summary>What is left of the run's deadline: no shared request of the environment is given more.</summary>
    TimeSpan RunRemaining { get; }

    /// <summary>Gets or creates a resource shared by the checks of this environment (thread-safe, created once).</summary>
    T Shared<T>(string key, Func<T> create) where T : class;
}
