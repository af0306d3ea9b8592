using System.Management.Automation;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>Error details as the user sees them: every registered secret scrubbed (<see cref="SecretScrubber"/>).</summary>
internal static class ErrorText
{
    public static ErrorDetails Details(string message) => new(SecretScrubber.Scrub(message));
}
