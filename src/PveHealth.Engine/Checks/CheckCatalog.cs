using PveHealth.Configuration;
using PveHealth.Model;

namespace PveHealth.Checks;

/// <summary>
/// Every registered check, and the one source of check and group names: configuration and exclusion validation,
/// Test-PveVm's -Check values and completion, the planner's groups and the guide's check table (a test keeps it equal)
/// are all derived from here. Adding a check kind: one class (the unit and its provider), one line below.
/// </summary>
public static class CheckCatalog
{
    /// <summary>Guest checks (run per guest of an inventory; groups Vm and Lxc).</summary>
    public static IReadOnlyList<IGuestCheckProvider> GuestProviders { get; } =
    [
        new PingCheckProvider(),
        new SshCheckProvider(),
        new ApiStatusCheckProvider(),
        new GuestAgentCheckProvider(),
    ];

    /// <summary>Service checks (run per environment; each provider names its group).</summary>
    public static IReadOnlyList<IServiceCheckProvider> ServiceProviders { get; } =
    [
        new Monitoring.MonitoringCheckProvider(),
        new Minio.MinioCheckProvider(),
        new ClusterCheckProvider(),
        new Recovery.StorageCheckProvider(),
        new Recovery.BackupCheckProvider(),
        new Recovery.ReplicationCheckProvider(),
        new Recovery.SnapshotCheckProvider(),
        new NodeHealth.NodeHealthCheckProvider(),
        new Drift.DriftCheckProvider(),
    ];

    /// <summary>The planner's own check: an inventory that cannot be read (Type Inventory).</summary>
    public const string InventoryCheck = "Discover";

    /// <summary>The planner's warning about an exclusion whose maintenance window (until=) has ended (Type Exclusions, component exclusions).</summary>
    public const string ExclusionCheck = "Maintenance";
    public const string ExclusionType = "Exclusions";
    public const string ExclusionComponent = "exclusions";

    /// <summary>Guest check names this version can run, in registration order.</summary>
    public static IReadOnlyList<string> GuestChecks { get; } = Distinct(GuestProviders.SelectMany(p => p.Checks));

    /// <summary>Groups of guests: the guest kinds (Vm, Lxc).</summary>
    public static IReadOnlyList<string> GuestGroups { get; } = Enum.GetNames<GuestKind>();

    /// <summary>Groups of service checks (Monitoring, Minio, Cluster, ...), in registration order.</summary>
    public static IReadOnlyList<string> ServiceGroups { get; } = Distinct(ServiceProviders.Select(p => p.Group));

    /// <summary>Every group -Component and exclusions can name.</summary>
    public static IReadOnlyList<string> Groups { get; } = Distinct(GuestGroups.Concat(ServiceGroups));

    /// <summary>Every check name a result can carry: guest checks, service checks, Discover and Maintenance.</summary>
    public static IReadOnlyList<string> AllChecks { get; } =
        Distinct(GuestChecks.Concat(ServiceProviders.SelectMany(p => p.Checks)).Append(InventoryCheck).Append(ExclusionCheck));

    /// <summary>The check names of one service group (empty for an unknown group).</summary>
    public static IReadOnlyList<string> ChecksOf(string serviceGroup)
        => Distinct(ServiceProviders.Where(p => string.Equals(p.Group, serviceGroup, StringComparison.OrdinalIgnoreCase)).SelectMany(p => p.Checks));

    public static bool IsGuestCheck(string name) => GuestChecks.Contains(name, StringComparer.OrdinalIgnoreCase);

    /// <summary>The catalog's spelling of a guest check name ("ssh" → "Ssh"), or null when it is not one.</summary>
    public static string? GuestCheckName(string name) => GuestChecks.FirstOrDefault(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// What the configuration file's JSON cannot say about check names: every <c>environments.*.checks</c> entry is a
    /// guest check of this catalog. Throws <see cref="ConfigException"/> naming the file and the JSON path.
    /// </summary>
    public static void Validate(PveHealthConfig config)
    {
        foreach (var (name, env) in config.Environments)
        {
            if (env?.Checks is not { } checks) continue;
            for (var i = 0; i < checks.Count; i++)
            {
                if (!IsGuestCheck(checks[i]))
                {
                    throw new ConfigException(config.SourcePath, $"$.environments.{name}.checks[{i}]", $"expected one of {string.Join(", ", GuestChecks)}; found '{checks[i]}'.");
                }
            }
        }
    }

    private static string[] Distinct(IEnumerable<string> names) => names.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
}
