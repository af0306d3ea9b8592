using PveHealth.Execution;
using PveHealth.Model;

namespace PveHealth.Checks;

/// <summary>Makes the check units of one guest for the checks it owns. One provider per check family.</summary>
public interface IGuestCheckProvider
{
    /// <summary>Check names this provider answers for (a provider may own several that share a connection).</summary>
    IReadOnlyList<string> Checks { get; }

    /// <summary>
    /// The unit running <paramref name="wanted"/> (a non-empty subset of <see cref="Checks"/>) for the guest,
    /// or null with <paramref name="skipReason"/> when the check does not apply (GuestAgent on LXC) or
    /// cannot run (no SSH section).
    /// </summary>
    CheckUnit? Create(Guest guest, EnvironmentContext environment, IReadOnlyList<string> wanted, out string? skipReason);
}

/// <summary>Makes the check units of an environment's services (monitoring stack, MinIO, Proxmox cluster).</summary>
public interface IServiceCheckProvider
{
    /// <summary>Component group: Monitoring, Minio, Cluster.</summary>
    string Group { get; }

    IEnumerable<CheckUnit> Create(EnvironmentContext environment);
}

/// <summary>Every registered check. Adding a check kind: one class, one line here.</summary>
public static class CheckCatalog
{
    public static IReadOnlyList<IGuestCheckProvider> GuestProviders { get; } =
    [
        new PingCheckProvider(),
        new SshCheckProvider(),
        new ApiStatusCheckProvider(),
        new GuestAgentCheckProvider(),
    ];

    public static IReadOnlyList<IServiceCheckProvider> ServiceProviders { get; } =
    [
        new Monitoring.MonitoringCheckProvider(),
        new Minio.MinioCheckProvider(),
        new ClusterCheckProvider(),
    ];

    /// <summary>Guest check names this version can run.</summary>
    public static IEnumerable<string> GuestChecks => GuestProviders.SelectMany(p => p.Checks);
}

internal sealed class PingCheckProvider : IGuestCheckProvider
{
    public IReadOnlyList<string> Checks { get; } = [PingCheck.Name];

    public CheckUnit? Create(Guest guest, EnvironmentContext environment, IReadOnlyList<string> wanted, out string? skipReason)
    {
        skipReason = null;
        return new PingCheck(guest);
    }
}
