using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PveHealth.Checks;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>Tab completion of a guest check name (-Check) from the catalog: the names starting with what was typed.</summary>
public sealed class GuestCheckCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get((wordToComplete ?? string.Empty).Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        foreach (var check in CheckCatalog.GuestChecks)
        {
            if (pattern.IsMatch(check)) yield return new CompletionResult(check, check, CompletionResultType.ParameterValue, check);
        }
    }
}

/// <summary>Accepts only the catalog's guest check names (case-insensitive), like a ValidateSet derived from the catalog.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateGuestCheckAttribute : ValidateEnumeratedArgumentsAttribute
{
    protected override void ValidateElement(object element)
    {
        var name = element is PSObject pso ? pso.BaseObject?.ToString() : element?.ToString();
        if (name is null || !CheckCatalog.IsGuestCheck(name))
        {
            throw new ValidationMetadataException(
                $"The argument \"{name}\" is not a guest check of this version. Specify one of: {string.Join(", ", CheckCatalog.GuestChecks)}.");
        }
    }
}
