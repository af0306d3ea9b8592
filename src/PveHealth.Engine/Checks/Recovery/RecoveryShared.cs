using System.Collections.Concurrent;
using System.Text.Json;
using PveHealth.Clients.Proxmox;
using PveHealth.Execution;

namespace PveHealth.Checks.Recovery;

/// <summary>
/// What the Storage, Backups, Replication and Snapshots checks of one environment share in one run: each node's
/// storage list and each listing they both need, fetched once on first use (like <see cref="ProxmoxShared"/>), so
/// the request count grows with nodes and storages, never with the number of units asking.
/// </summary>
internal sealed class RecoveryShared
{
    private readonly ConcurrentDictionary<string, SharedAnswer<JsonElement>> _gets = new(StringComparer.Ordinal);
    private readonly Func<TimeSpan> _runRemaining;

    private RecoveryShared(ProxmoxShared proxmox, Func<TimeSpan> runRemaining)
    {
        Proxmox = proxmox;
        _runRemaining = runRemaining;
    }

    public ProxmoxShared Proxmox { get; }

    public static RecoveryShared For(EnvironmentContext env)
        => env.Shared("proxmox-recovery", () => new RecoveryShared(ProxmoxShared.For(env)!, () => env.RunRemaining));

    /// <summary>
    /// One GET shared by every unit of the run (a <see cref="SharedAnswer{T}"/>: the first caller starts it, under the
    /// client's own deadline; asked once more after a timeout); awaited within the unit's budget.
    /// </summary>
    public Task<JsonElement> GetAsync(string path, CheckReporter reporter, CancellationToken ct)
    {
        var client = Proxmox.RequireClient();
        var answer = _gets.GetOrAdd(path, p => SharedAnswer.Get(client, () => client, p, _runRemaining, body => body));
        return ProxmoxCheckHelpers.AwaitShared(answer, reporter, ct);
    }

    public async Task<IReadOnlyList<PveStorage>> StoragesAsync(string node, CheckReporter reporter, CancellationToken ct)
        => RecoveryParsers.ParseStorages(node, await GetAsync($"nodes/{Uri.EscapeDataString(node)}/storage", reporter, ct).ConfigureAwait(false));

    /// <summary>The cluster's nodes (shared /cluster/status answer).</summary>
    public Task<PveClusterStatus> ClusterStatusAsync(CheckReporter reporter, CancellationToken ct)
        => ProxmoxCheckHelpers.AwaitShared(Proxmox.ClusterStatus, reporter, ct);

    /// <summary>
    /// Declares the row of <paramref name="check"/> for each declared guest (<see cref="CheckReporter.Expect"/>): a unit
    /// cut off before reporting one still gives it, Unknown "not checked" (Skipped when the guest's check is excluded).
    /// </summary>
    public static void ExpectGuestRows(EnvironmentContext env, CheckReporter reporter, IEnumerable<Model.Guest> guests, string group, string check)
    {
        foreach (var g in guests)
        {
            var type = g.Kind.ToString();
            reporter.Expect(g.Name, type, check, env.Excluded?.Invoke(g.Name, type, group, check));
        }
    }

    /// <summary>"12 GiB", "1.5 TiB".</summary>
    public static string Bytes(long? bytes)
    {
        if (bytes is not long b) return "?";
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double v = b;
        var i = 0;
        while (v >= 1024 && i < units.Length - 1) { v /= 1024; i++; }
        return i == 0 ? $"{b} B" : v.ToString(v >= 100 ? "0" : "0.#", System.Globalization.CultureInfo.InvariantCulture) + " " + units[i];
    }

    /// <summary>"3 h", "2.1 d", "45 min".</summary>
    public static string Age(TimeSpan age)
    {
        if (age < TimeSpan.Zero) age = TimeSpan.Zero;
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        if (age.TotalHours < 1) return $"{(int)age.TotalMinutes} min";
        if (age.TotalHours < 72) return age.TotalHours.ToString("0.#", ci) + " h";
        return age.TotalDays.ToString("0.#", ci) + " d";
    }
}
