using System.Globalization;
using System.Text;

namespace PveHealth.PowerShell.Formatting;

/// <summary>
/// What the table views print (PveHealth.Format.ps1xml calls these). Strings that came from outside
/// (inventory names, server answers in Detail) are made inert: a control character is printed as its
/// visible Unicode "control picture" (ESC as ␛) and bidirectional overrides as U+FFFD, so a hostile name
/// can neither move the cursor, recolour the terminal, nor reorder the row. The objects keep their values.
/// </summary>
public static class TableText
{
    /// <summary>Replaces C0/C1 control characters, DEL and bidi embedding/override/isolate marks by visible stand-ins.</summary>
    public static string Inert(string? text)
    {
        if (string.IsNullOrEmpty(text)) return string.Empty;
        StringBuilder? sb = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var replacement = Replacement(c);
            if (replacement == c)
            {
                sb?.Append(c);
                continue;
            }
            sb ??= new StringBuilder(text.Length).Append(text, 0, i);
            sb.Append(replacement);
        }
        return sb?.ToString() ?? text;
    }

    private static char Replacement(char c)
    {
        if (c < 0x20) return (char)(0x2400 + c);          // ␀..␟ (␛ for ESC)
        if (c == 0x7F) return '\u2421';                    // ␡
        if (c >= 0x80 && c <= 0x9F) return '\uFFFD';       // C1 controls (CSI 0x9B among them)
        if (c is >= '\u202A' and <= '\u202E') return '\uFFFD';
        if (c is >= '\u2066' and <= '\u2069') return '\uFFFD';
        if (c is '\u200E' or '\u200F' or '\u061C') return '\uFFFD';
        return c;
    }

    /// <summary>
    /// Inert text of at most <paramref name="width"/> characters; a longer one keeps its start and its end
    /// with an ellipsis in the middle ("prometheus…target-01"), since names differ at their ends.
    /// </summary>
    public static string Middle(string? text, int width)
    {
        var inert = Inert(text);
        if (width < 3 || inert.Length <= width) return inert;
        var tail = (width - 1) / 2;
        var head = width - 1 - tail;
        return string.Concat(inert.AsSpan(0, head), "…", inert.AsSpan(inert.Length - tail));
    }

    /// <summary>A duration the same way in every row, never wider than 8 characters: "0.02 s", "12.3 s", "3 min", "2 h".</summary>
    public static string Duration(TimeSpan duration)
    {
        var s = duration.TotalSeconds;
        var ci = CultureInfo.InvariantCulture;
        if (s < 10) return s.ToString("0.00", ci) + " s";
        if (s < 100) return s.ToString("0.0", ci) + " s";
        if (s < 1000) return s.ToString("0", ci) + " s";
        if (duration.TotalMinutes < 1000) return duration.TotalMinutes.ToString("0", ci) + " min";
        return Math.Min(duration.TotalHours, 99999).ToString("0", ci) + " h";
    }

    /// <summary>
    /// Inert text broken at spaces into lines that fit the terminal less <paramref name="reserved"/> columns (the
    /// fixed-width columns of the view), so a wrapped Detail reads "no SSH answer from" / "127.10.0.3:22 within
    /// 2.7 s" rather than breaking inside a word. Unchanged when the terminal width is unknown (redirected output).
    /// </summary>
    public static string Wrap(string? text, int reserved)
    {
        var inert = Inert(text);
        int window;
        try
        {
            window = Console.IsOutputRedirected ? 0 : Console.WindowWidth;
        }
        catch (Exception ex) when (ex is IOException or PlatformNotSupportedException or InvalidOperationException)
        {
            window = 0;
        }
        return WrapTo(inert, window - reserved);
    }

    /// <summary>Breaks <paramref name="text"/> at spaces into lines of at most <paramref name="width"/> characters (a longer word is cut).</summary>
    public static string WrapTo(string text, int width)
    {
        if (width < 12 || text.Length <= width) return text;
        var sb = new StringBuilder(text.Length + 16);
        var lineLength = 0;
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var w = word;
            if (lineLength > 0 && lineLength + 1 + w.Length > width)
            {
                sb.Append('\n');
                lineLength = 0;
            }
            while (w.Length > width)
            {
                if (lineLength > 0) { sb.Append('\n'); lineLength = 0; }
                sb.Append(w, 0, width).Append('\n');
                w = w[width..];
            }
            if (lineLength > 0) { sb.Append(' '); lineLength++; }
            sb.Append(w);
            lineLength += w.Length;
        }
        return sb.ToString();
    }
}
