using PveHealth.Configuration;
using PveHealth.Model;

namespace PveHealth.Clients.Proxmox;

/// <summary>
/// What the Proxmox checks of one environment share in one run: one client (one connection pool), one
/// <c>/cluster/resources?type=vm</c> answer and one <c>/cluster/status</c> answer (<see cref="SharedAnswer{T}"/>: asked on
/// first use, or earlier through <see cref="SharedAnswer{T}.Prefetch"/>, whatever the number of guests; asked once more after a timeout).
/// The shared calls run under the client's own deadline, not a single unit's token, so one unit timing out does not
/// fail the answer for the others.
/// </summary>
public sealed class ProxmoxShared
{
    private ProxmoxShared(ProxmoxClient? client, ProxmoxApiException? setupError, Func<TimeSpan> runRemaining)
    {
        Client = client;
        SetupError = setupError;
        Resources = SharedAnswer.Get(client, RequireClient, "cluster/resources?type=vm", runRemaining, ProxmoxParsers.ParseResources);
        ClusterStatus = SharedAnswer.Get(client, RequireClient, "cluster/status", runRemaining, ProxmoxParsers.ParseClusterStatus);
    }

    /// <summary>Null when the client could not be made (see <see cref="SetupError"/>).</summary>
    public ProxmoxClient? Client { get; }
    public ProxmoxApiException? SetupError { get; }

    /// <summary>The environment's guests: <c>GET /cluster/resources?type=vm</c>.</summary>
    public SharedAnswer<IReadOnlyList<PveResource>> Resources { get; }

    /// <summary>The cluster's nodes and quorum: <c>GET /cluster/status</c>.</summary>
    public SharedAnswer<PveClusterStatus> ClusterStatus { get; }

    /// <summary>The environment's shared Proxmox state; null when the environment has no proxmox section.</summary>
    public static ProxmoxShared? For(IEnvironmentScope env)
    {
        if (env.Config.Proxmox is not { } config) return null;
        return env.Shared("proxmox", () =>
        {
            try { return new ProxmoxShared(ProxmoxClient.Create(config, env.CheckTimeout), null, () => env.RunRemaining); }
            catch (ProxmoxApiException ex) { return new ProxmoxShared(null, ex, () => env.RunRemaining); }
        });
    }

    /// <summary>The client, or the setup error thrown.</summary>
    public ProxmoxClient RequireClient() => Client ?? throw SetupError!;

    /// <summary>
    /// <see cref="Find"/> for many guests over one answer: the rows indexed by VMID and name once, so a unit that looks
    /// up every declared guest (Backups, Snapshots) costs O(guests + rows), not O(guests × rows).
    /// </summary>
    public static Func<Guest, PveResource?> Finder(IReadOnlyList<PveResource> resources) => Indexes.GetValue(resources, Index);

    private static Func<Guest, PveResource?> Index(IReadOnlyList<PveResource> resources)
    {
        var byId = resources.GroupBy(r => r.VmId).ToDictionary(g => g.Key, g => g.ToList());
        // A name that two rows share finds nothing (as Find): null.
        var byName = resources.Where(r => r.Name.Length > 0 && !r.Template).GroupBy(r => r.Name, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Skip(1).Any() ? null : g.First(), StringComparer.OrdinalIgnoreCase);
        return guest =>
        {
            if (guest.VmId is int id && byId.TryGetValue(id, out var rows))
            {
                return rows.FirstOrDefault(r => r.IsLxc == (guest.Kind == GuestKind.Lxc)) ?? rows[0];
            }
            return byName.GetValueOrDefault(guest.Name);
        };
    }

    // One index per /cluster/resources answer, made on the first lookup (every guest's units look up the same answer).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IReadOnlyList<PveResource>, Func<Guest, PveResource?>> Indexes = new();

    /// <summary>The guest's row: by VMID (and type when both are known), else by a unique name.</summary>
    public static PveResource? Find(IReadOnlyList<PveResource> resources, Guest guest) => Finder(resources)(guest);

    /// <summary>"3 h 5 min", "2 d 4 h".</summary>
    public static string Uptime(long seconds)
    {
        var t = TimeSpan.FromSeconds(seconds);
        if (t.TotalDays >= 1) return $"{(int)t.TotalDays} d {t.Hours} h";
        if (t.TotalHours >= 1) return $"{t.Hours} h {t.Minutes} min";
        return $"{t.Minutes} min {t.Seconds} s";
    }
}
