namespace PveHealth.Model;

/// <summary>
/// A number a check measured besides its status (a storage's used fraction, the time of a guest's last backup),
/// exported by Export-PveHealthMetrics as its own gauge family: <see cref="Name"/> with the labels
/// <c>environment</c> plus <see cref="Labels"/>. Names follow prometheus.io conventions (base units, no
/// <c>_total</c>); label values never hold error text.
/// </summary>
public sealed class Measurement
{
    public Measurement(string name, double value, string help, params (string Name, string Value)[] labels)
    {
        Name = name;
        Value = value;
        Help = help;
        Labels = labels;
    }

    /// <summary>Metric name, for example <c>pve_health_storage_used_ratio</c>.</summary>
    public string Name { get; }
    public double Value { get; }
    /// <summary>The family's HELP text (the first one seen for a name is written).</summary>
    public string Help { get; }
    /// <summary>Labels after <c>environment</c>, in order (for example node, storage).</summary>
    public IReadOnlyList<(string Name, string Value)> Labels { get; }

    public override string ToString() => $"{Name}{{{string.Join(",", Labels.Select(l => $"{l.Name}=\"{l.Value}\""))}}} {Value}";
}
