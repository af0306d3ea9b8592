using PveHealth.Execution;

namespace PveHealth.Checks.NodeHealth;

/// <summary>
/// The NodeHealth group: what breaks a Proxmox estate at the node level (certificates, ZFS, disks, HA, Ceph, pending
/// kernel, updates), for each environment with a proxmox section. One unit per kind; each asks every online node once.
/// </summary>
internal sealed class NodeHealthCheckProvider : IServiceCheckProvider
{
    public const string GroupName = "NodeHealth";

    public string Group => GroupName;

    public IReadOnlyList<string> Checks { get; } = [NodeCertificateCheck.Name, ZfsCheck.Name, DisksCheck.Name, HaCheck.Name, CephCheck.Name, KernelCheck.Name, UpdatesCheck.Name];

    public IEnumerable<CheckUnit> Create(EnvironmentContext environment)
    {
        if (environment.Config.Proxmox is null) yield break;
        yield return new NodeCertificateCheck(environment);
        yield return new ZfsCheck(environment);
        yield return new DisksCheck(environment);
        yield return new HaCheck(environment);
        yield return new CephCheck(environment);
        yield return new KernelCheck(environment);
        if ((environment.Config.NodeHealth ?? Configuration.NodeHealthConfig.Default).CheckUpdates) yield return new UpdatesCheck(environment);
    }
}
