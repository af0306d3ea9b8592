using System.Globalization;

namespace PveHealth.Configuration;

/// <summary>
/// <c>environments.&lt;name&gt;.drift</c>: compare the guests the Terraform state declares with the Proxmox cluster.
/// Its presence turns the Drift group on for the environment (it also needs a proxmox section).
/// </summary>
public sealed class DriftConfig : ConfigSection
{
    /// <summary>State objects in the environment's MinIO, "bucket/key", wildcards allowed in the key ("tfstate/env:/*/prod.tfstate").</summary>
    public List<string>? StateObjects { get; set; }
    /// <summary>State files on this host (a relative path is relative to the configuration file).</summary>
    public List<string>? StatePaths { get; set; }
    /// <summary>A state older than this is not compared: one Unknown, no findings (default 168 h).</summary>
    public double? MaxStateAgeHours { get; set; }
    /// <summary>Which cluster guests must be declared: by pool, tag or VMID range; empty or absent means every guest.</summary>
    public DriftScopeConfig? Unmanaged { get; set; }
    /// <summary>Guests are pinned to the node the state names: a different node is a finding (default false: migrations and HA moves are normal).</summary>
    public bool PinNodes { get; set; }
    /// <summary>Every declared guest (templates excepted) must run, whatever the state records (default false: the state's own power attributes).</summary>
    public bool ExpectRunning { get; set; }
}

/// <summary>The part of the cluster Terraform is responsible for: a guest matching any entry is in scope.</summary>
public sealed class DriftScopeConfig : ConfigSection
{
    public List<string>? Pools { get; set; }
    public List<string>? Tags { get; set; }
    /// <summary>"100-199" or "150".</summary>
    public List<string>? VmidRanges { get; set; }

    /// <summary>True when the scope lists nothing: every guest is in scope.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty => (Pools?.Count ?? 0) == 0 && (Tags?.Count ?? 0) == 0 && (VmidRanges?.Count ?? 0) == 0;

    /// <summary>"100-199" → (100, 199); "150" → (150, 150); null when it is neither.</summary>
    public static (int From, int To)? ParseRange(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var parts = text.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length is < 1 or > 2) return null;
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var from)) return null;
        var to = from;
        if (parts.Length == 2 && !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out to)) return null;
        return from <= to ? (from, to) : null;
    }
}

/// <summary>What JSON types cannot say about the drift section.</summary>
internal static class DriftConfigValidator
{
    public static void Validate(string path, string at, EnvironmentConfig env)
    {
        if (env.Drift is not { } drift) return;
        at += ".drift";
        if (env.Proxmox is null) throw new ConfigException(path, $"{at.Replace(".drift", string.Empty, StringComparison.Ordinal)}.proxmox", "the drift section needs a \"proxmox\" section (the cluster side of the comparison).");
        if (drift.StateObjects is { Count: > 0 } objects)
        {
            if (env.Minio is null) throw new ConfigException(path, at + ".stateObjects", "state objects are read through the environment's \"minio\" section; add one, or use statePaths.");
            for (var i = 0; i < objects.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(objects[i]) || objects[i].IndexOf('/') <= 0 || objects[i].EndsWith('/'))
                {
                    throw new ConfigException(path, $"{at}.stateObjects[{i}]", $"expected \"bucket/key\", for example \"tfstate/env:/*/terraform.tfstate\"; found '{objects[i]}'.");
                }
            }
        }
        if (drift.StatePaths is { } paths)
        {
            for (var i = 0; i < paths.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(paths[i])) throw new ConfigException(path, $"{at}.statePaths[{i}]", "expected the path of a Terraform state file.");
            }
        }
        var stateBearing = env.Inventory?.Source?.ToLowerInvariant() is "terraform-state" or "minio-state";
        if ((drift.StateObjects?.Count ?? 0) == 0 && (drift.StatePaths?.Count ?? 0) == 0 && !stateBearing)
        {
            throw new ConfigException(path, at + ".stateObjects", "name the declared side: drift.stateObjects (MinIO) or drift.statePaths, or use an inventory source that reads a state (terraform-state, minio-state).");
        }
        if (drift.MaxStateAgeHours is double h && (!(h > 0) || double.IsInfinity(h))) throw new ConfigException(path, at + ".maxStateAgeHours", $"expected a positive number of hours; found {h}.");
        if (drift.Unmanaged?.VmidRanges is { } ranges)
        {
            for (var i = 0; i < ranges.Count; i++)
            {
                if (DriftScopeConfig.ParseRange(ranges[i]) is null) throw new ConfigException(path, $"{at}.unmanaged.vmidRanges[{i}]", $"expected a VMID or a range such as \"100-199\"; found '{ranges[i]}'.");
            }
        }
    }
}
