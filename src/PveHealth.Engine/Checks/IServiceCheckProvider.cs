using PveHealth.Execution;

namespace PveHealth.Checks;

/// <summary>Makes the check units of an environment's services (monitoring stack, MinIO, Proxmox cluster).</summary>
public interface IServiceCheckProvider
{
    /// <summary>Component group: Monitoring, Minio, Cluster. -Component and exclusions select by it.</summary>
    string Group { get; }

    /// <summary>Every check name the provider's units can report (validation, completion, exclusions and docs read it).</summary>
    IReadOnlyList<string> Checks { get; }

    IEnumerable<CheckUnit> Create(EnvironmentContext environment);
}

/// <summary>
/// A service provider whose units report per declared guest (Backups): the planner reads the environment's inventory
/// for it (<see cref="EnvironmentContext.Guests"/>) even when no guest check is selected.
/// </summary>
public interface IGuestListConsumer : IServiceCheckProvider
{
}
