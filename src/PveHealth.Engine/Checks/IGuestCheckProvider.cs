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

    /// <summary>
    /// Findings about the environment's own setup for these checks (bad known_hosts lines), asked for once per environment
    /// and plan when the first of its guests gets a unit, so they are reported once, not per guest. Local files only
    /// (the dry run asks too); a setup that cannot be read at all is left to the units, which report it per guest.
    /// </summary>
    IEnumerable<CheckResult> SetupFindings(EnvironmentContext environment) => [];
}
