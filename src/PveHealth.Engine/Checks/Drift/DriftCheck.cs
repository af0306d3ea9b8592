using System.Text.Json;
using PveHealth.Clients;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Model;

namespace PveHealth.Checks.Drift;

/// <summary>
/// The Drift group of one environment: reads every configured Terraform state (files, MinIO objects, or the state the
/// inventory reads), reports one <c>Declarations</c> result per state, then compares the declared guests with
/// <c>/cluster/resources</c> (and each declared guest's <c>config</c> for start at boot and the agent) through
/// <see cref="DriftComparer"/>. A state that cannot be read, is stale or declares no guest is one Unknown and gives no
/// per-guest findings; when any state is unusable no guest is reported unmanaged (its guests would look unmanaged).
/// </summary>
public sealed class DriftCheck : CheckUnit
{
    public const string DeclarationsCheck = "Declarations";
    public const string StateType = "TerraformState";
    public const string GroupType = "Drift";
    /// <summary>
    /// Component of the one result that says the cluster side could not be read (type Drift, check Declared). Every
    /// result names its own component, never the unit's: the other checks of the group then have nothing to say
    /// rather than each becoming "ended without reporting a result".
    /// </summary>
    public const string ClusterComponent = "cluster";
    /// <summary>Component of the result that says no state is configured.</summary>
    public const string NoStateComponent = "(no state)";
    public const long MaxStateBytes = 64L * 1024 * 1024;
    /// <summary>Most state objects one wildcard may select.</summary>
    public const int MaxStates = 64;
    private const int ConfigConcurrency = 8;

    private readonly EnvironmentContext _env;
    private readonly DriftConfig _config;

    public DriftCheck(EnvironmentContext env, DriftConfig config)
        : base(env.Name, "drift", GroupType, env.Config.Proxmox?.Url ?? string.Empty,
            [DeclarationsCheck, .. DriftComparer.GuestChecks])
    {
        _env = env;
        _config = config;
    }

    private TimeSpan MaxAge => TimeSpan.FromHours(_config.MaxStateAgeHours ?? 168);

    /// <summary>Where the declared side comes from: "file:/path" and "s3:bucket/key-pattern" entries.</summary>
    public IReadOnlyList<string> StateSources()
    {
        var list = new List<string>();
        foreach (var p in _config.StatePaths ?? []) list.Add("file:" + p);
        foreach (var o in _config.StateObjects ?? []) list.Add("s3:" + o);
        if (list.Count == 0 && _env.Config.Inventory is { } inv)
        {
            switch (inv.Source?.ToLowerInvariant())
            {
                case "terraform-state" when inv.Path is not null: list.Add("file:" + inv.Path); break;
                case "minio-state" when inv.StateObject is not null: list.Add("s3:" + inv.StateObject); break;
            }
        }
        return list;
    }

    public override string Describe(string check) => $"{check}: Terraform state ({string.Join(", ", StateSources().Select(s => s[(s.IndexOf(':') + 1)..]))}) against {Target}";

    public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
    {
        var declared = new List<DeclaredGuest>();
        var unusable = 0;
        var sources = StateSources();
        foreach (var source in sources)
        {
            var states = source.StartsWith("file:", StringComparison.Ordinal)
                ? [await ReadFileAsync(source[5..], cancellationToken).ConfigureAwait(false)]
                : await ReadObjectsAsync(source[3..], reporter, cancellationToken).ConfigureAwait(false);
            foreach (var s in states)
            {
                var (status, detail) = Judge(s, MaxAge);
                reporter.Report(new CheckResult(Environment, s.Name, StateType, DeclarationsCheck, status, detail, reporter.Elapsed, s.Where));
                if (status is CheckStatus.Ok or CheckStatus.Warning) declared.AddRange(s.State!.Guests);
                else unusable++;
            }
        }
        if (sources.Count == 0)
        {
            reporter.Report(new CheckResult(Environment, NoStateComponent, StateType, DeclarationsCheck, CheckStatus.Unknown, "no Terraform state to compare: set drift.statePaths or drift.stateObjects", reporter.Elapsed, Target));
            return;
        }
        if (declared.Count == 0) return; // each state already said why; no findings from nothing

        IReadOnlyList<PveResource> resources;
        var shared = ProxmoxShared.For(_env);
        if (shared is null)
        {
            reporter.Report(new CheckResult(Environment, ClusterComponent, GroupType, DriftComparer.DeclaredCheck, CheckStatus.Unknown, ProxmoxCheckHelpers.NotConfigured, reporter.Elapsed, Target));
            return;
        }
        try
        {
            resources = await ProxmoxCheckHelpers.AwaitShared(shared.Resources, reporter, cancellationToken).ConfigureAwait(false);
        }
        catch (ProxmoxApiException ex)
        {
            reporter.Report(new CheckResult(Environment, ClusterComponent, GroupType, DriftComparer.DeclaredCheck, ProxmoxCheckHelpers.StatusOf(ex),
                $"Proxmox API: {ex.Message}; drift not compared", reporter.Elapsed, Target));
            return;
        }

        var actual = await ReadConfigsAsync(shared, declared, resources, reporter, cancellationToken).ConfigureAwait(false);
        var options = DriftOptions.FromConfig(_config);
        options = new DriftOptions { PinNodes = options.PinNodes, ExpectRunning = options.ExpectRunning, Scope = options.Scope, ReportUnmanaged = unusable == 0 };
        var findings = DriftComparer.Compare(declared, actual, options);
        // Per-guest exclusions (exclusions.conf, -Exclude: "web-01", "web-01:PowerState", "Drift"): the row is Skipped
        // with the rule, and the guest does not count in the gauge.
        var excluded = findings.Select(f => _env.Excluded?.Invoke(f.Component, f.GuestKind.ToString(), GroupType, f.Check)).ToList();
        var gauge = Gauge(findings.Where((_, i) => excluded[i] is null));
        for (var i = 0; i < findings.Count; i++)
        {
            var f = findings[i];
            reporter.Report(excluded[i] is { } rule
                ? new CheckResult(Environment, f.Component, f.GuestKind.ToString(), f.Check, CheckStatus.Skipped, rule, TimeSpan.Zero, Target) { Measurements = gauge }
                : new CheckResult(Environment, f.Component, f.GuestKind.ToString(), f.Check, f.Status, f.Detail, reporter.Elapsed, Target) { Measurements = gauge });
        }
    }

    /// <summary>The gauge family of drifted guests.</summary>
    public const string GaugeName = "pve_health_drift_guests";

    /// <summary>
    /// <c>pve_health_drift_guests{environment,kind}</c>: guests (distinct VMIDs, else components) with a finding of each
    /// kind (missing, unmanaged, stopped, attributes), zeros included, so an alert can compare with 0 and a dashboard can
    /// draw every kind. Written only when the comparison ran (an unusable state is its own Unknown result).
    /// Every result of the comparison carries the same four samples.
    /// </summary>
    public static IReadOnlyList<Measurement> Gauge(IEnumerable<DriftFinding> findings)
    {
        var list = findings.ToList();
        var kinds = new[] { DriftKind.Missing, DriftKind.Unmanaged, DriftKind.Stopped, DriftKind.Attributes };
        return kinds.Select(k => new Measurement(GaugeName,
            list.Where(f => f.Kind == k).Select(f => f.VmId is int id ? "#" + id.ToString(System.Globalization.CultureInfo.InvariantCulture) : f.Component).Distinct(StringComparer.Ordinal).Count(),
            "Guests drifted from the Terraform state, by kind: missing (declared, absent), unmanaged (in the cluster, declared nowhere), stopped (declared to run), attributes (start at boot, name, tags, pool, template, agent, declared twice).",
            ("kind", k.ToString().ToLowerInvariant()))).ToList();
    }

    /// <summary>One state read (or the reason it could not be).</summary>
    public sealed record StateRead(string Name, string Where, DeclaredState? State, string? Error, TimeSpan? Age);

    /// <summary>The verdict on one state: Ok, Warning (parts not understood), Unknown (unreadable, stale, no guests).</summary>
    public static (CheckStatus Status, string Detail) Judge(StateRead s, TimeSpan maxAge)
    {
        const string none = "no drift findings from it";
        if (s.Error is not null) return (CheckStatus.Unknown, $"{s.Error}; {none}");
        var state = s.State!;
        var age = s.Age is TimeSpan a ? $", age {Durations.Short(a)}" : string.Empty;
        if (s.Age is TimeSpan old && old > maxAge)
        {
            return (CheckStatus.Unknown, $"not written for {Durations.Short(old)} (limit {Durations.Short(maxAge)}, drift.maxStateAgeHours): too old to compare; {none}");
        }
        if (state.Guests.Count == 0)
        {
            var problems = state.Problems.Count > 0 ? $" ({string.Join("; ", state.Problems)})" : string.Empty;
            return (CheckStatus.Unknown, $"declares no guest of the Proxmox providers (serial {state.Serial?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}{age}){problems}: an empty or wrong state would make every guest look unmanaged; {none}");
        }
        var byProvider = string.Join(", ", state.Guests.GroupBy(g => g.Provider).OrderBy(g => g.Key).Select(g => $"{(g.Key == TerraformProvider.Bpg ? "bpg" : "Telmate")} {g.Count()}"));
        var facts = $"{state.Guests.Count} guests declared ({byProvider}), serial {state.Serial?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}{age}";
        if (state.Problems.Count > 0) return (CheckStatus.Warning, $"{facts}; not understood: {string.Join("; ", state.Problems)}");
        return (CheckStatus.Ok, facts);
    }

    private static async Task<StateRead> ReadFileAsync(string path, CancellationToken ct)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return new StateRead(path, path, null, "state file not found", null);
            if (info.Length > MaxStateBytes) return new StateRead(path, path, null, $"state file larger than {MaxStateBytes / (1024 * 1024)} MiB ({info.Length} bytes)", null);
            // Bounded (a device or a pipe has no length to check first: /dev/zero stops at the cap).
            var data = await Task.Run(() => BoundedInput.ReadFile(path, MaxStateBytes, $"the state file {path}"), ct).ConfigureAwait(false);
            var age = DateTimeOffset.UtcNow - new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero);
            return Parse(path, path, data, age);
        }
        catch (InputTooLargeException ex)
        {
            return new StateRead(path, path, null, ex.Message, null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new StateRead(path, path, null, $"cannot read the state file: {ex.Message}", null);
        }
    }

    private async Task<IReadOnlyList<StateRead>> ReadObjectsAsync(string pattern, CheckReporter reporter, CancellationToken ct)
    {
        var slash = pattern.IndexOf('/');
        var bucket = pattern[..slash];
        var keyPattern = pattern[(slash + 1)..];
        var where = _env.Config.Minio?.Endpoint ?? string.Empty;
        if (_env.Config.Minio is not { } minio) return [new StateRead(pattern, where, null, "no minio section to read the state object from", null)];
        MinioStorageClient client;
        try
        {
            client = MinioStorageClient.ForEnvironment(_env, () => MinioSettings.FromConfig(minio, $"environments.{Environment}.minio"));
        }
        catch (Exception ex) when (ex is SecretUnavailableException or ArgumentException or EndpointUnreachableException)
        {
            return [new StateRead(pattern, where, null, ex.Message, null)];
        }
        try
        {
            List<StoredObject> objects;
            if (Wildcard.HasWildcard(keyPattern))
            {
                var prefix = keyPattern[..keyPattern.IndexOfAny(['*', '?', '['])];
                var regex = Wildcard.ToRegex(keyPattern);
                objects = (await client.ListAsync(bucket, prefix, reporter.Remaining, ct, reporter.Timeout).ConfigureAwait(false))
                    .Where(o => regex.IsMatch(o.Key) && !o.Key.EndsWith(".tflock", StringComparison.Ordinal))
                    .OrderBy(o => o.Key, StringComparer.Ordinal).ToList();
                if (objects.Count == 0) return [new StateRead(pattern, where, null, $"no object in bucket {bucket} matches '{keyPattern}'", null)];
                if (objects.Count > MaxStates) return [new StateRead(pattern, where, null, $"{objects.Count} objects match '{keyPattern}' (at most {MaxStates}): narrow the pattern", null)];
            }
            else
            {
                var stat = await client.StatAsync(bucket, keyPattern, reporter.Remaining, ct, reporter.Timeout).ConfigureAwait(false);
                if (stat is null) return [new StateRead(pattern, where, null, $"state object not found: {pattern}", null)];
                objects = [stat];
            }
            var reads = new List<StateRead>();
            foreach (var o in objects)
            {
                try
                {
                    var data = o.Size == 0 ? [] : await client.DownloadAsync(o.Bucket, o.Key, MaxStateBytes, reporter.Remaining, ct, reporter.Timeout).ConfigureAwait(false);
                    reads.Add(Parse(o.Path, where, data, DateTimeOffset.UtcNow - o.LastModified));
                }
                catch (StorageException ex)
                {
                    reads.Add(new StateRead(o.Path, where, null, ex.Message, null));
                }
            }
            return reads;
        }
        catch (StorageException ex)
        {
            return [new StateRead(pattern, where, null, ex.Message, null)];
        }
    }

    private static StateRead Parse(string name, string where, byte[] data, TimeSpan age)
    {
        try
        {
            return new StateRead(name, where, TerraformDeclarations.Parse(data, name), null, age);
        }
        catch (InventoryException ex)
        {
            // The parser's message starts with the source name, which the result already carries as its component.
            var message = ex.Message.StartsWith(name + ": ", StringComparison.Ordinal) ? ex.Message[(name.Length + 2)..] : ex.Message;
            return new StateRead(name, where, null, message, age);
        }
    }

    /// <summary>
    /// The cluster rows, with <c>onboot</c> and <c>agent</c> from <c>/nodes/{node}/{type}/{vmid}/config</c> for the
    /// declared guests whose state says either (at most <see cref="ConfigConcurrency"/> requests at once, each within
    /// what is left of the unit's time). A config that cannot be read leaves those two uncompared, said so in the Detail.
    /// </summary>
    private static async Task<IReadOnlyList<ActualGuest>> ReadConfigsAsync(ProxmoxShared shared, IReadOnlyList<DeclaredGuest> declared,
        IReadOnlyList<PveResource> resources, CheckReporter reporter, CancellationToken ct)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in declared)
        {
            if (d.OnBoot is null && (d.Agent is null || d.Kind != GuestKind.Vm)) continue;
            var r = d.VmId is int id ? resources.FirstOrDefault(x => x.VmId == id && x.IsLxc == (d.Kind == GuestKind.Lxc)) ?? resources.FirstOrDefault(x => x.VmId == id)
                : resources.Where(x => !x.Template && string.Equals(x.Name, d.Name, StringComparison.OrdinalIgnoreCase)).Take(2).ToList() is [var only] ? only : null;
            if (r is not null && r.Status != "unknown" && r.Node.Length > 0) wanted.Add(r.Id);
        }
        var client = shared.Client;
        var results = new Dictionary<string, ActualGuest>(StringComparer.Ordinal);
        using var gate = new SemaphoreSlim(ConfigConcurrency);
        var tasks = resources.Where(r => wanted.Contains(r.Id)).Select(async r =>
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                if (client is null) return new ActualGuest { Resource = r, ConfigError = "no Proxmox client" };
                var data = await client.GetAsync($"nodes/{Uri.EscapeDataString(r.Node)}/{r.Type}/{r.VmId}/config", ct, reporter.Remaining).ConfigureAwait(false);
                return new ActualGuest { Resource = r, OnBoot = ProxmoxParsers.Bool(data, "onboot"), Agent = r.IsLxc ? null : AgentEnabled(data) };
            }
            catch (ProxmoxApiException ex)
            {
                return new ActualGuest { Resource = r, ConfigError = $"its config could not be read ({ex.Message})" };
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        foreach (var a in await Task.WhenAll(tasks).ConfigureAwait(false)) results[a.Resource.Id] = a;
        return resources.Select(r => results.TryGetValue(r.Id, out var a) ? a : new ActualGuest { Resource = r }).ToList();
    }

    /// <summary>QEMU <c>agent</c>: "1", "0", or "enabled=1,fstrim_cloned_disks=1" / "1,type=virtio"; absent means disabled.</summary>
    internal static bool AgentEnabled(JsonElement config)
    {
        var text = ProxmoxParsers.Str(config, "agent");
        if (string.IsNullOrWhiteSpace(text)) return false;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part is "1" or "0") return part == "1";
            if (part.StartsWith("enabled=", StringComparison.Ordinal)) return part[8..] is "1" or "true" or "on" or "yes";
        }
        return false;
    }
}

/// <summary>The Drift group: one unit for each environment with a drift and a proxmox section.</summary>
public sealed class DriftCheckProvider : IServiceCheckProvider
{
    public string Group => "Drift";

    public IReadOnlyList<string> Checks { get; } = [DriftCheck.DeclarationsCheck, .. DriftComparer.GuestChecks];

    public IEnumerable<CheckUnit> Create(EnvironmentContext environment)
    {
        if (environment.Config.Drift is not { } drift || environment.Config.Proxmox is null) yield break;
        yield return new DriftCheck(environment, drift);
    }
}
