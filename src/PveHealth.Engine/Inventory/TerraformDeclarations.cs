using System.Globalization;
using System.Text.Json;
using PveHealth.Model;

namespace PveHealth.Inventory;

/// <summary>Which Terraform provider declared a guest.</summary>
public enum TerraformProvider
{
    /// <summary>bpg/proxmox: proxmox_virtual_environment_vm, proxmox_virtual_environment_container.</summary>
    Bpg,
    /// <summary>Telmate/proxmox: proxmox_vm_qemu, proxmox_lxc, proxmox_lxc_guest.</summary>
    Telmate,
}

/// <summary>
/// A guest as a Terraform state declares it: one instance of a guest resource. A null property means the state does
/// not say (an attribute the provider version lacks, or a value of an unexpected shape), so nothing is compared for it.
/// </summary>
public sealed class DeclaredGuest
{
    /// <summary>The resource address: <c>module.web.proxmox_vm_qemu.node["a"]</c>.</summary>
    public required string Address { get; init; }
    public required string ResourceType { get; init; }
    public required TerraformProvider Provider { get; init; }
    public required GuestKind Kind { get; init; }
    public int? VmId { get; init; }
    public string? Name { get; init; }
    public string? Node { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public string? Pool { get; init; }
    /// <summary>Declared (or last observed, see <see cref="StartedObserved"/>) to run; null when the state does not say.</summary>
    public bool? Started { get; init; }
    /// <summary>
    /// True when <see cref="Started"/> is the provider's last observation written back on refresh (bpg <c>started</c>,
    /// Telmate <c>vm_state</c>/<c>power_state</c>) rather than pure intent (Telmate <c>proxmox_lxc.start</c>).
    /// </summary>
    public bool StartedObserved { get; init; }
    /// <summary>The state attribute <see cref="Started"/> was read from (<c>started</c>, <c>power_state</c>, ...).</summary>
    public string? StartedAttribute { get; init; }
    public bool? OnBoot { get; init; }
    public string? OnBootAttribute { get; init; }
    public bool? Template { get; init; }
    /// <summary>QEMU guest agent enabled (VMs only).</summary>
    public bool? Agent { get; init; }
    /// <summary>The instance is tainted (Terraform will replace it on the next apply); it is still declared.</summary>
    public bool Tainted { get; init; }
    /// <summary>The state it came from (file path or bucket/key).</summary>
    public string State { get; init; } = string.Empty;
    /// <summary>
    /// Attributes present with a value of a shape this checker does not understand ("started: expected a boolean, found a
    /// string"; values are never quoted), or an unknown schema version: the guest is not compared (its Declared result is
    /// Unknown), since a wrongly read attribute would otherwise pass as "matches".
    /// </summary>
    public IReadOnlyList<string> NotUnderstood { get; init; } = [];

    /// <summary>"web-01" or, without a name, the VMID or the resource address.</summary>
    public string DisplayName => Name is { Length: > 0 } n ? n : VmId is int id ? $"vmid-{id.ToString(CultureInfo.InvariantCulture)}" : Address;
}

/// <summary>What one state declares, and what in it could not be read as a guest.</summary>
public sealed class DeclaredState
{
    public required string Source { get; init; }
    public long? Serial { get; init; }
    public string? Lineage { get; init; }
    public string? TerraformVersion { get; init; }
    public IReadOnlyList<DeclaredGuest> Guests { get; init; } = [];
    /// <summary>Resources of the providers' guest types whose shape was not understood, each with where and why (bounded).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
    /// <summary>Managed resources of other types (ignored), data sources (never declarations) and deposed objects skipped.</summary>
    public int Ignored { get; init; }
}

/// <summary>
/// Reads the guests a Terraform state v4 declares, for both Proxmox providers (ESTATE-FACTS.md §1): bpg
/// <c>proxmox_virtual_environment_vm</c>/<c>_container</c> and Telmate <c>proxmox_vm_qemu</c>, <c>proxmox_lxc</c> (v2
/// and v3 attribute names) and <c>proxmox_lxc_guest</c>; resources in modules and <c>count</c>/<c>for_each</c>
/// instances (<c>index_key</c>). Other resource types are ignored, data sources (<c>mode: data</c>) are never
/// declarations, deposed objects (waiting to be destroyed) are skipped, tainted ones are still declared.
/// </summary>
/// <remarks>
/// Bounded and tolerant: at most <see cref="MaxDepth"/> levels of JSON, <see cref="MaxInstances"/> guest instances
/// and <see cref="MaxProblems"/> recorded problems; an instance of an unexpected shape is a problem (named by its
/// address), never an exception. Only a document that is not a state v4 at all throws <see cref="InventoryException"/>.
/// </remarks>
public static class TerraformDeclarations
{
    public const int MaxDepth = 64;
    public const int MaxInstances = 100_000;
    public const int MaxProblems = 20;

    /// <summary>Guest resource types and what they are.</summary>
    public static IReadOnlyDictionary<string, (TerraformProvider Provider, GuestKind Kind)> ResourceTypes { get; } =
        new Dictionary<string, (TerraformProvider, GuestKind)>(StringComparer.Ordinal)
        {
            ["proxmox_virtual_environment_vm"] = (TerraformProvider.Bpg, GuestKind.Vm),
            ["proxmox_virtual_environment_container"] = (TerraformProvider.Bpg, GuestKind.Lxc),
            ["proxmox_vm_qemu"] = (TerraformProvider.Telmate, GuestKind.Vm),
            ["proxmox_lxc"] = (TerraformProvider.Telmate, GuestKind.Lxc),
            ["proxmox_lxc_guest"] = (TerraformProvider.Telmate, GuestKind.Lxc),
        };

    public static DeclaredState Parse(byte[] utf8, string source)
    {
        if (utf8.Length == 0) throw new InventoryException($"{source}: the state is empty (0 bytes).");
        JsonDocument doc;
        try
        {
            doc = SafeJson.Parse(utf8, source, maxDepth: MaxDepth);
        }
        catch (UnsafeJsonException ex) when (ex.InnerException is JsonException j)
        {
            throw new InventoryException($"{source}: {SafeJson.Describe(j)}", ex);
        }
        catch (UnsafeJsonException ex)
        {
            // The path is cut at the top level: below it are resource attributes, which may be sensitive.
            var at = TerraformOutputReader.OutputLevel(ex.JsonPath, isState: false);
            throw new InventoryException($"{source}: {at}: {ex.Reason}.", ex) { JsonPath = at };
        }
        using (doc)
        {
            return Read(doc.RootElement, source);
        }
    }

    private static DeclaredState Read(JsonElement root, string source)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new InventoryException($"{source}: $: expected a Terraform state (a JSON object), found {GuestListParser.Describe(root)}.");
        if (!root.TryGetProperty("version", out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var version) || version != 4)
        {
            throw new InventoryException($"{source}: $.version: expected a Terraform state of version 4.");
        }
        var guests = new List<DeclaredGuest>();
        var problems = new List<string>();
        var ignored = 0;
        var problemCount = 0;
        void Problem(string text)
        {
            problemCount++;
            if (problems.Count < MaxProblems) problems.Add(text);
        }

        if (root.TryGetProperty("resources", out var resources) && resources.ValueKind != JsonValueKind.Null)
        {
            if (resources.ValueKind != JsonValueKind.Array)
            {
                throw new InventoryException($"{source}: $.resources: expected an array, found {GuestListParser.Describe(resources)}.");
            }
            var r = -1;
            foreach (var res in resources.EnumerateArray())
            {
                r++;
                if (res.ValueKind != JsonValueKind.Object) { Problem($"$.resources[{r}]: expected an object, found {GuestListParser.Describe(res)}"); continue; }
                var type = Str(res, "type");
                if (type is null || !ResourceTypes.TryGetValue(type, out var what)) { ignored++; continue; }
                var mode = Str(res, "mode") ?? "managed";
                if (mode != "managed") { ignored++; continue; }
                var address = ResourceAddress(res, type);
                if (!res.TryGetProperty("instances", out var instances) || instances.ValueKind != JsonValueKind.Array)
                {
                    Problem($"{address}: no instances array");
                    continue;
                }
                var i = -1;
                foreach (var inst in instances.EnumerateArray())
                {
                    i++;
                    if (guests.Count >= MaxInstances)
                    {
                        throw new InventoryException($"{source}: more than {MaxInstances} guest instances; refusing to compare a state of this size.");
                    }
                    if (inst.ValueKind != JsonValueKind.Object) { Problem($"{address} instance {i}: expected an object"); continue; }
                    var instAddress = address + IndexSuffix(inst);
                    if (inst.TryGetProperty("deposed", out var dep) && dep.ValueKind == JsonValueKind.String) { ignored++; continue; }
                    if (!inst.TryGetProperty("attributes", out var attrs) || attrs.ValueKind != JsonValueKind.Object)
                    {
                        Problem($"{instAddress}: no attributes object (attributes_flat of a pre-0.12 state is not read)");
                        continue;
                    }
                    var tainted = Str(inst, "status") == "tainted";
                    var odd = NotUnderstood(inst, attrs, what.Provider);
                    var guest = what.Provider == TerraformProvider.Bpg
                        ? ReadBpg(attrs, type, what.Kind, instAddress, tainted, source, odd)
                        : ReadTelmate(attrs, type, what.Kind, instAddress, tainted, source, odd);
                    if (guest.VmId is null && string.IsNullOrEmpty(guest.Name))
                    {
                        Problem($"{instAddress}: neither a VMID nor a name could be read");
                        continue;
                    }
                    guests.Add(guest);
                }
            }
        }
        if (problemCount > problems.Count) problems.Add($"... and {problemCount - problems.Count} more");
        return new DeclaredState
        {
            Source = source,
            Serial = root.TryGetProperty("serial", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var serial) ? serial : null,
            Lineage = Str(root, "lineage"),
            TerraformVersion = Str(root, "terraform_version"),
            Guests = guests,
            Problems = problems,
            Ignored = ignored,
        };
    }

    // bpg: vm_id, node_name, name (container: initialization[0].hostname), started, on_boot / start_on_boot,
    // tags list, template, pool_id, agent[0].enabled. started is written back with the observed state on refresh.
    private static DeclaredGuest ReadBpg(JsonElement a, string type, GuestKind kind, string address, bool tainted, string source, IReadOnlyList<string> odd)
    {
        var vmid = Int(a, "vm_id") ?? IntText(Str(a, "id"));
        var name = kind == GuestKind.Vm ? Str(a, "name") : First(a, "initialization") is { } init ? Str(init, "hostname") : null;
        var onBootAttr = kind == GuestKind.Vm ? "on_boot" : "start_on_boot";
        bool? agent = null;
        if (kind == GuestKind.Vm)
        {
            // agent is a block (list of one object); absent or empty means the provider default: disabled.
            agent = a.TryGetProperty("agent", out var ag) && ag.ValueKind is JsonValueKind.Array or JsonValueKind.Null
                ? (First(a, "agent") is { } block ? Bool(block, "enabled") ?? false : false)
                : null;
        }
        return new DeclaredGuest
        {
            Address = address, ResourceType = type, Provider = TerraformProvider.Bpg, Kind = kind, State = source, Tainted = tainted,
            VmId = vmid, Name = Empty(name), Node = Empty(Str(a, "node_name")),
            Tags = TagList(a, "tags"), Pool = PoolOf(Str(a, "pool_id"), a, "pool_id"),
            Started = Bool(a, "started"), StartedObserved = true, StartedAttribute = "started",
            OnBoot = Bool(a, onBootAttr), OnBootAttribute = onBootAttr,
            Template = Bool(a, "template"), Agent = agent, NotUnderstood = odd,
        };
    }

    // Telmate: vmid (or the id "<node>/<qemu|lxc>/<vmid>"), name / hostname, current_node then target_node,
    // power: power_state (v3.0.2+), vm_state (v3.0.1), proxmox_lxc start (config-only: intent); boot: start_at_node_boot
    // (v3.0.2+) then onboot; tags "a;b" (or "a,b"); pool; agent 0/1.
    private static DeclaredGuest ReadTelmate(JsonElement a, string type, GuestKind kind, string address, bool tainted, string source, IReadOnlyList<string> odd)
    {
        var id = Str(a, "id");
        var vmid = PositiveInt(a, "vmid") ?? PositiveInt(a, "guest_id") ?? (id is not null && id.Split('/') is [_, _, var last] ? IntText(last) : null);
        var name = type == "proxmox_lxc" ? Str(a, "hostname") : Str(a, "name");
        var node = Empty(Str(a, "current_node")) ?? Empty(Str(a, "target_node"))
            ?? (id is not null && id.Split('/') is [var n, _, _] ? Empty(n) : null);
        bool? started = null;
        string? startedAttr = null;
        var observed = true;
        foreach (var attr in new[] { "power_state", "vm_state" })
        {
            if (Str(a, attr) is { Length: > 0 } state)
            {
                started = state is "running" or "started" ? true : state == "stopped" ? false : null;
                startedAttr = attr;
                break;
            }
        }
        if (startedAttr is null && type == "proxmox_lxc" && Bool(a, "start") is bool start)
        {
            started = start;
            startedAttr = "start";
            observed = false;
        }
        bool? onBoot = null;
        string? onBootAttr = null;
        foreach (var attr in new[] { "start_at_node_boot", "onboot" })
        {
            if (Bool(a, attr) is bool b) { onBoot = b; onBootAttr = attr; break; }
        }
        bool? agent = null;
        if (kind == GuestKind.Vm && a.TryGetProperty("agent", out var ag))
        {
            agent = ag.ValueKind switch
            {
                JsonValueKind.Number => ag.TryGetInt64(out var l) ? l != 0 : null,
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.String => ag.GetString() is { } t && t.Length > 0 ? t.Split(',')[0].Split('=')[^1] is "1" or "true" or "on" : null,
                _ => null,
            };
        }
        return new DeclaredGuest
        {
            Address = address, ResourceType = type, Provider = TerraformProvider.Telmate, Kind = kind, State = source, Tainted = tainted,
            VmId = vmid, Name = Empty(name), Node = node,
            Tags = TagList(a, "tags"), Pool = PoolOf(Str(a, "pool"), a, "pool"),
            Started = started, StartedObserved = observed, StartedAttribute = startedAttr,
            OnBoot = onBoot, OnBootAttribute = onBootAttr,
            Template = Bool(a, "template"), Agent = agent, NotUnderstood = odd,
        };
    }

    /// <summary>The schema versions of the guest resource types this checker reads (ESTATE-FACTS.md §1).</summary>
    public const int KnownSchemaVersion = 0;

    private static bool IsString(JsonElement v) => v.ValueKind == JsonValueKind.String;
    private static bool IsBoolLike(JsonElement v) => v.ValueKind is JsonValueKind.True or JsonValueKind.False
        || (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n is 0 or 1)
        || (v.ValueKind == JsonValueKind.String && v.GetString() is "0" or "1" or "true" or "false");
    private static bool IsVmId(JsonElement v, bool zeroAllowed)
        => (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) && (i is >= 100 and <= 999_999_999 || (zeroAllowed && i == 0)))
            || (v.ValueKind == JsonValueKind.String && (IntText(v.GetString()) is not null || (zeroAllowed && v.GetString() == "0")));
    private static bool IsStringList(JsonElement v) => v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(IsString);
    private static bool IsObjectList(JsonElement v) => v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Object);
    private static bool IsPower(JsonElement v) => v.ValueKind == JsonValueKind.String && v.GetString() is "" or "running" or "started" or "stopped";

    /// <summary>What each attribute the readers use must look like (null always means "not set").</summary>
    private static readonly Dictionary<string, (Func<JsonElement, bool> Ok, string Expected)> BpgShapes = new(StringComparer.Ordinal)
    {
        ["vm_id"] = (v => IsVmId(v, false), "a VMID (a whole number 100..999999999)"),
        ["name"] = (v => IsString(v) || v.ValueKind == JsonValueKind.Number, "a string"),
        ["node_name"] = (IsString, "a string"),
        ["started"] = (IsBoolLike, "a boolean"),
        ["on_boot"] = (IsBoolLike, "a boolean"),
        ["start_on_boot"] = (IsBoolLike, "a boolean"),
        ["template"] = (IsBoolLike, "a boolean"),
        ["tags"] = (IsStringList, "a list of strings"),
        ["pool_id"] = (IsString, "a string"),
        ["agent"] = (v => IsObjectList(v) && (v.GetArrayLength() == 0 || !v[0].TryGetProperty("enabled", out var e) || e.ValueKind == JsonValueKind.Null || IsBoolLike(e)), "a block list with enabled a boolean"),
        ["initialization"] = (IsObjectList, "a block list"),
    };

    private static readonly Dictionary<string, (Func<JsonElement, bool> Ok, string Expected)> TelmateShapes = new(StringComparer.Ordinal)
    {
        ["vmid"] = (v => IsVmId(v, true), "a VMID (a whole number 100..999999999, or 0 before apply)"),
        ["guest_id"] = (v => IsVmId(v, true), "a VMID (a whole number 100..999999999, or 0 before apply)"),
        ["name"] = (v => IsString(v) || v.ValueKind == JsonValueKind.Number, "a string"),
        ["hostname"] = (v => IsString(v) || v.ValueKind == JsonValueKind.Number, "a string"),
        ["current_node"] = (IsString, "a string"),
        ["target_node"] = (IsString, "a string"),
        ["power_state"] = (IsPower, "running or stopped"),
        ["vm_state"] = (IsPower, "running, started or stopped"),
        ["start"] = (IsBoolLike, "a boolean"),
        ["onboot"] = (IsBoolLike, "a boolean"),
        ["start_at_node_boot"] = (IsBoolLike, "a boolean"),
        ["template"] = (IsBoolLike, "a boolean"),
        ["tags"] = (v => IsString(v) || IsStringList(v), "a string of tags joined with ;"),
        ["pool"] = (IsString, "a string"),
        ["agent"] = (v => v.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False or JsonValueKind.String, "0 or 1"),
    };

    /// <summary>
    /// The attributes of one instance that are present (not null) with a shape the readers do not understand, and a
    /// schema version other than the known one; each names the attribute and what was expected, never the value.
    /// </summary>
    private static List<string> NotUnderstood(JsonElement instance, JsonElement attributes, TerraformProvider provider)
    {
        var odd = new List<string>();
        if (instance.TryGetProperty("schema_version", out var sv) && !(sv.ValueKind == JsonValueKind.Number && sv.TryGetInt32(out var version) && version == KnownSchemaVersion))
        {
            odd.Add($"schema_version {(sv.ValueKind == JsonValueKind.Number ? sv.GetRawText() : GuestListParser.Describe(sv))} is not the known {KnownSchemaVersion} (attributes may have other names or meanings)");
        }
        foreach (var (name, (ok, expected)) in provider == TerraformProvider.Bpg ? BpgShapes : TelmateShapes)
        {
            if (attributes.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null && !ok(v))
            {
                odd.Add($"{name}: expected {expected}, found {GuestListParser.Describe(v)}");
            }
        }
        return odd;
    }

    /// <summary>module.a.module.b.proxmox_vm_qemu.name</summary>
    private static string ResourceAddress(JsonElement res, string type)
    {
        var module = Str(res, "module");
        var name = Str(res, "name") ?? "?";
        return (module is { Length: > 0 } ? module + "." : string.Empty) + type + "." + name;
    }

    /// <summary>[0] for count, ["key"] for for_each, nothing without index_key.</summary>
    private static string IndexSuffix(JsonElement inst)
    {
        if (!inst.TryGetProperty("index_key", out var k)) return string.Empty;
        return k.ValueKind switch
        {
            JsonValueKind.Number => $"[{k.GetRawText()}]",
            JsonValueKind.String => $"[\"{k.GetString()}\"]",
            _ => string.Empty,
        };
    }

    /// <summary>Tags: a list of strings (bpg) or one string joined with ';' (Telmate; ',' and spaces accepted). Null when absent or of another shape.</summary>
    private static IReadOnlyList<string>? TagList(JsonElement a, string name)
    {
        if (!a.TryGetProperty(name, out var t)) return null;
        switch (t.ValueKind)
        {
            case JsonValueKind.Array:
                var list = new List<string>();
                foreach (var e in t.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.String) return null;
                    if (e.GetString() is { Length: > 0 } s) list.Add(s.Trim());
                }
                return Normalize(list);
            case JsonValueKind.String:
                return Normalize((t.GetString() ?? string.Empty).Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            default:
                return null;
        }
    }

    /// <summary>Tags compared as Proxmox stores them: lower case, sorted, without duplicates.</summary>
    public static IReadOnlyList<string> Normalize(IEnumerable<string> tags)
        => tags.Select(t => t.Trim().ToLowerInvariant()).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).OrderBy(t => t, StringComparer.Ordinal).ToList();

    /// <summary>A pool attribute present but empty means "in no pool" (""); absent means unknown (null).</summary>
    private static string? PoolOf(string? value, JsonElement a, string name)
        => value ?? (a.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Null ? string.Empty : null);

    private static JsonElement? First(JsonElement a, string name)
        => a.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array && v.GetArrayLength() > 0 && v[0].ValueKind == JsonValueKind.Object ? v[0] : null;

    private static string? Empty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static string? Str(JsonElement o, string name)
    {
        if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            _ => null,
        };
    }

    private static bool? Bool(JsonElement o, string name)
    {
        if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => v.TryGetDouble(out var d) ? d != 0 : null,
            JsonValueKind.String => v.GetString() switch { "1" or "true" => true, "0" or "false" => false, _ => null },
            _ => null,
        };
    }

    private static int? Int(JsonElement o, string name)
    {
        if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)) return i is >= 100 and <= 999_999_999 ? i : null;
        if (v.ValueKind == JsonValueKind.String) return IntText(v.GetString());
        return null;
    }

    /// <summary>Telmate writes 0 for "next free VMID" before apply: not a VMID.</summary>
    private static int? PositiveInt(JsonElement o, string name) => Int(o, name);

    /// <summary>A VMID as text: 100..999999999 (Proxmox's range).</summary>
    private static int? IntText(string? s)
        => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i is >= 100 and <= 999_999_999 ? i : null;
}
