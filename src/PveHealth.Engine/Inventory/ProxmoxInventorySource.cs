using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Model;

namespace PveHealth.Inventory;

/// <summary>
/// Guests from the Proxmox API: <c>/cluster/resources?type=vm</c> (templates left out), each guest's address from the
/// QEMU agent's <c>network-get-interfaces</c> or the container's <c>interfaces</c> (first non-loopback IPv4 by default;
/// inventory <c>addressFamily</c>/<c>addressCidr</c> change that), with a bounded number of lookups at once.
/// Inventory <c>pool</c> and <c>environmentTag</c> choose the guests that belong to the environment.
/// A guest whose address cannot be read (stopped, agent down or not configured) is listed without an address.
/// Guests the token may not see are not in the answer and so not listed.
/// </summary>
public sealed class ProxmoxInventorySource : IInventorySource
{
    private readonly string _environment;
    private readonly ProxmoxConfig _proxmox;
    private readonly InventoryConfig _inventory;
    private readonly TimeSpan _timeout;
    private readonly ProxmoxClient? _client;
    private readonly ProxmoxShared? _shared;

    public ProxmoxInventorySource(string environment, ProxmoxConfig proxmox, InventoryConfig inventory, TimeSpan timeout, ProxmoxClient? client = null)
    {
        _environment = environment;
        _proxmox = proxmox;
        _inventory = inventory;
        _timeout = timeout;
        _client = client;
    }

    /// <summary>
    /// Discovery inside a run: the environment's shared client and its one <c>/cluster/resources</c> answer, which the
    /// checks then reuse (a hanging API or a rejected token is met once, not once by discovery and again by the checks).
    /// Each wait is bounded by <paramref name="timeout"/> (the run's check timeout) through the deadline rule.
    /// </summary>
    public ProxmoxInventorySource(string environment, ProxmoxConfig proxmox, InventoryConfig inventory, TimeSpan timeout, ProxmoxShared shared)
        : this(environment, proxmox, inventory, timeout)
    {
        _shared = shared;
    }

    /// <summary>How long one discovery request may take: the deadline rule (<see cref="Deadline.RemainingOf"/>) on the timeout.</summary>
    private TimeSpan RequestLimit => Deadline.RemainingOf(_timeout, TimeSpan.Zero);

    public string Description => $"proxmox:{_proxmox.Url}";
    public bool IsLocal => false;

    /// <summary>Notes about guests seen but left out or without an address (for -Verbose).</summary>
    public List<string> Notes { get; } = new();

    public async Task<IReadOnlyList<Guest>> GetGuestsAsync(CancellationToken cancellationToken)
    {
        ProxmoxClient client;
        try { client = _shared?.RequireClient() ?? _client ?? ProxmoxClient.Create(_proxmox, _timeout); }
        catch (ProxmoxApiException ex) { throw new InventoryException($"{Description}: {ex.Message}") { Failure = EngineFailure.InventoryUnreadable }; }
        try
        {
            IReadOnlyList<PveResource> resources;
            var limit = RequestLimit;
            try
            {
                resources = _shared is not null
                    ? await _shared.Resources.Current().WaitAsync(limit, cancellationToken).ConfigureAwait(false)
                    : ProxmoxParsers.ParseResources(await client.GetAsync("cluster/resources?type=vm", cancellationToken, limit).ConfigureAwait(false));
            }
            catch (Exception e) when (e is TimeoutException or ProxmoxApiException { Failure: ProxmoxFailure.Timeout })
            {
                // An API that cannot list the cluster's guests within the timeout hangs: the checks after discovery are told
                // at once instead of each waiting for it again (whichever ended first, discovery's wait or the shared
                // attempt, both bounded by the deadline rule on the same timeout; the shared answer is not asked again).
                var message = $"no answer from {client.BaseUrl} within {limit.TotalSeconds:0.#} s (GET /cluster/resources?type=vm; client-side timeout)";
                client.Remember(new ProxmoxApiException(ProxmoxFailure.Timeout, message + " while the inventory was read; not asked again in this run"));
                throw new InventoryException($"{Description}: cannot list guests: {message}") { Failure = EngineFailure.InventoryUnreadable };
            }
            catch (ProxmoxApiException ex)
            {
                throw new InventoryException($"{Description}: cannot list guests: {ex.Message}") { Failure = EngineFailure.InventoryUnreadable };
            }
            var selected = resources.Where(r => !r.Template).Where(Belongs).OrderBy(r => r.VmId).ToList();
            var templates = resources.Count(r => r.Template);
            if (templates > 0) Notes.Add($"{templates} template(s) left out");
            var addresses = new string?[selected.Count];
            using var gate = new SemaphoreSlim(Math.Clamp(_inventory.Concurrency ?? 8, 1, 64));
            var lookups = selected.Select(async (row, i) =>
            {
                if (row.Status != "running") return;
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try { addresses[i] = await AddressAsync(client, row, cancellationToken).ConfigureAwait(false); }
                finally { gate.Release(); }
            });
            await Task.WhenAll(lookups).ConfigureAwait(false);
            var guests = new List<Guest>(selected.Count);
            for (var i = 0; i < selected.Count; i++)
            {
                var row = selected[i];
                guests.Add(new Guest(row.Name.Length > 0 ? row.Name : $"{row.Type}-{row.VmId}", row.IsLxc ? GuestKind.Lxc : GuestKind.Vm)
                {
                    VmId = row.VmId,
                    Node = row.Node,
                    Environment = _environment,
                    Address = addresses[i],
                    Tags = row.Tags,
                    Source = Description,
                });
            }
            return guests;
        }
        finally
        {
            if (_client is null && _shared is null) client.Dispose();
        }
    }

    private bool Belongs(PveResource row)
    {
        if (!string.IsNullOrWhiteSpace(_inventory.Pool) && !string.Equals(row.Pool, _inventory.Pool, StringComparison.OrdinalIgnoreCase)) return false;
        if (!string.IsNullOrWhiteSpace(_inventory.EnvironmentTag) && !row.Tags.Contains(_inventory.EnvironmentTag, StringComparer.OrdinalIgnoreCase)) return false;
        return true;
    }

    private async Task<string?> AddressAsync(ProxmoxClient client, PveResource row, CancellationToken ct)
    {
        var node = Uri.EscapeDataString(row.Node);
        try
        {
            IReadOnlyList<PveGuestAddress> list = row.IsLxc
                ? ProxmoxParsers.ParseLxcInterfaces(await client.GetAsync($"nodes/{node}/lxc/{row.VmId}/interfaces", ct, RequestLimit).ConfigureAwait(false))
                : ProxmoxParsers.ParseAgentInterfaces(await client.GetAsync($"nodes/{node}/qemu/{row.VmId}/agent/network-get-interfaces", ct, RequestLimit).ConfigureAwait(false));
            var ip = ProxmoxParsers.PickAddress(list, _inventory.AddressFamily, _inventory.AddressCidr);
            if (ip is null) lock (Notes) Notes.Add($"{row.Name} ({row.VmId}): no {_inventory.AddressFamily ?? "ipv4"} address{(_inventory.AddressCidr is null ? "" : $" in {_inventory.AddressCidr}")} reported");
            return ip?.ToString();
        }
        catch (ProxmoxApiException ex) when (ex.Failure is not (ProxmoxFailure.Authentication or ProxmoxFailure.Tls or ProxmoxFailure.Setup))
        {
            lock (Notes) Notes.Add($"{row.Name} ({row.VmId}): no address: {ex.Message}");
            return null;
        }
        catch (ProxmoxApiException ex)
        {
            throw new InventoryException($"{Description}: {ex.Message}") { Failure = EngineFailure.InventoryUnreadable };
        }
    }
}
