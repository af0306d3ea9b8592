using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PveHealth.Checks;
using PveHealth.Configuration;
using PveHealth.Inventory;

namespace PveHealth.PowerShell.Cmdlets;

/// <summary>
/// Tab completion of values from what the configuration holds (the PSResourceGet pattern): the configuration is
/// the -ConfigPath already typed on the line, else $env:PVE_HEALTH_CONFIG, else /etc/pve-health/config.json.
/// Completion never contacts anything: inventories are read only when they are local files.
/// </summary>
internal static class CompletionSupport
{
    public static WildcardPattern Pattern(string? word)
        => WildcardPattern.Get((word ?? string.Empty).Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);

    public static PveHealthConfig? Config(IDictionary fakeBoundParameters)
    {
        try
        {
            var explicitPath = fakeBoundParameters?["ConfigPath"]?.ToString();
            var path = ConfigLoader.ResolvePath(explicitPath);
            if (!File.Exists(path)) return null;
            return ConfigLoader.Load(path, out _);
        }
        catch (Exception)
        {
            return null; // completion offers nothing rather than an error
        }
    }

    public static IEnumerable<string> Names(object? value) => value switch
    {
        null => [],
        string s => [s],
        IEnumerable e => e.Cast<object?>().Select(o => (o is PSObject p ? p.BaseObject : o)?.ToString() ?? string.Empty).Where(s => s.Length > 0),
        _ => [value.ToString() ?? string.Empty],
    };

    public static CompletionResult Result(string value, string tooltip)
    {
        var text = value.IndexOfAny([' ', '\'', '"', '$', '`', '(', ')', '{', '}', ';', ',', '&', '|', '@', '#']) >= 0 ? "'" + value.Replace("'", "''") + "'" : value;
        return new CompletionResult(text, value, CompletionResultType.ParameterValue, tooltip);
    }

    /// <summary>Guest names of the selected (or every) environment whose inventory is a local file, each read within 2 s.</summary>
    public static IEnumerable<string> LocalGuestNames(PveHealthConfig config, IDictionary fakeBoundParameters)
    {
        var wanted = Names(fakeBoundParameters?["Environment"]).ToList();
        var names = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (env, envConfig) in config.Environments)
        {
            if (wanted.Count > 0 && !wanted.Any(w => WildcardPattern.Get(w, WildcardOptions.IgnoreCase).IsMatch(env))) continue;
            try
            {
                var source = InventorySourceFactory.Create(env, envConfig);
                if (source is null || !source.IsLocal) continue;
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                foreach (var g in source.GetGuestsAsync(cts.Token).GetAwaiter().GetResult()) names.Add(g.Name);
            }
            catch (Exception)
            {
                // an unreadable inventory completes nothing
            }
        }
        return names;
    }
}

/// <summary>-Environment: the environment names of the configuration.</summary>
public sealed class EnvironmentNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var config = CompletionSupport.Config(fakeBoundParameters);
        if (config is null) yield break;
        var pattern = CompletionSupport.Pattern(wordToComplete);
        foreach (var name in config.Environments.Keys.OrderBy(n => n, StringComparer.OrdinalIgnoreCase))
        {
            if (pattern.IsMatch(name)) yield return CompletionSupport.Result(name, $"environment {name} ({config.SourcePath})");
        }
    }
}

/// <summary>-Component: the catalog's groups (Vm, Lxc, Monitoring, ...) and the guest names of local inventories.</summary>
public sealed class ComponentCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = CompletionSupport.Pattern(wordToComplete);
        foreach (var group in CheckCatalog.Groups)
        {
            if (pattern.IsMatch(group)) yield return CompletionSupport.Result(group, $"group {group}");
        }
        var config = CompletionSupport.Config(fakeBoundParameters);
        if (config is null) yield break;
        foreach (var name in CompletionSupport.LocalGuestNames(config, fakeBoundParameters))
        {
            if (pattern.IsMatch(name) && !CheckCatalog.Groups.Contains(name, StringComparer.OrdinalIgnoreCase)) yield return CompletionSupport.Result(name, $"guest {name}");
        }
    }
}

/// <summary>-Check: every check of the catalog.</summary>
public sealed class CheckNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = CompletionSupport.Pattern(wordToComplete);
        foreach (var check in CheckCatalog.AllChecks)
        {
            if (pattern.IsMatch(check)) yield return CompletionSupport.Result(check, $"check {check}");
        }
    }
}

/// <summary>-Exclude: like -Component before a colon; after "pattern:" the check names of the catalog.</summary>
public sealed class ExcludeCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? string.Empty).Trim('\'', '"');
        var colon = word.LastIndexOf(':');
        if (colon < 0)
        {
            foreach (var r in new ComponentCompleter().CompleteArgument(commandName, parameterName, word, commandAst, fakeBoundParameters)) yield return r;
            yield break;
        }
        var head = word[..(colon + 1)];
        var pattern = CompletionSupport.Pattern(word[(colon + 1)..]);
        foreach (var check in CheckCatalog.AllChecks)
        {
            if (pattern.IsMatch(check)) yield return CompletionSupport.Result(head + check, $"exclude check {check} of {head.TrimEnd(':')}");
        }
    }
}
