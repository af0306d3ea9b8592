using System.Text.RegularExpressions;

namespace PveHealth;

/// <summary>PowerShell-style wildcards (* ? [abc]), case-insensitive.</summary>
public static class Wildcard
{
    public static bool HasWildcard(string pattern) => pattern.IndexOfAny(['*', '?', '[']) >= 0;

    public static Regex ToRegex(string pattern)
    {
        var sb = new System.Text.StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*': sb.Append(".*"); break;
                case '?': sb.Append('.'); break;
                case '[':
                    var end = pattern.IndexOf(']', i + 1);
                    if (end > i + 1)
                    {
                        sb.Append('[').Append(pattern[(i + 1)..end].Replace("\\", "\\\\")).Append(']');
                        i = end;
                    }
                    else sb.Append("\\[");
                    break;
                default: sb.Append(Regex.Escape(c.ToString())); break;
            }
        }
        sb.Append('$');
        return new Regex(sb.ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }

    public static bool IsMatch(string pattern, string value) => ToRegex(pattern).IsMatch(value);
}
