using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using PveHealth.Model;

namespace PveHealth.Reports;

/// <summary>The formats of <see cref="HealthReport"/>.</summary>
public enum ReportFormat
{
    /// <summary>One self-contained HTML file: inline CSS, no external resource, no script.</summary>
    Html,
    /// <summary>Markdown for a ticket or a wiki page.</summary>
    Markdown,
    /// <summary>JSON with a documented schema (<see cref="HealthReport.SchemaVersion"/>).</summary>
    Json,
}

/// <summary>What a report says about itself.</summary>
public sealed record ReportOptions(string Title, string Version, DateTimeOffset GeneratedAt);

/// <summary>
/// Renders check results as a report to share: a summary (counts per status and per environment, run time, version),
/// the failures first (Critical, Unknown, Warning; then environment, component, check), then every component with its
/// checks. Every string from the results is encoded for the target format; control characters are shown as the
/// Unicode control pictures (U+2400...), so nothing in a result can become markup or disappear.
/// </summary>
public static class HealthReport
{
    /// <summary>Version of the JSON schema (docs/HEALTH-CHECKS.md "Reports"); raised on any incompatible change.</summary>
    public const int SchemaVersion = 1;

    private static readonly CheckStatus[] Order = [CheckStatus.Critical, CheckStatus.Unknown, CheckStatus.Warning, CheckStatus.Ok, CheckStatus.Skipped];

    /// <summary>Renders <paramref name="results"/> in <paramref name="format"/>.</summary>
    public static string Render(IEnumerable<CheckResult> results, ReportFormat format, ReportOptions options)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(options);
        var model = new Model(results.Where(r => r is not null).ToList());
        return format switch
        {
            ReportFormat.Html => Html(model, options),
            ReportFormat.Markdown => Markdown(model, options),
            ReportFormat.Json => Json(model, options),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
    }

    /// <summary>A failure: Critical, Unknown or Warning.</summary>
    public static bool IsFailure(CheckStatus s) => s is CheckStatus.Critical or CheckStatus.Unknown or CheckStatus.Warning;

    private sealed class Model
    {
        public Model(List<CheckResult> all)
        {
            All = all
                .OrderBy(r => r.Environment, StringComparer.Ordinal)
                .ThenBy(r => r.Component, StringComparer.Ordinal)
                .ThenBy(r => r.Type, StringComparer.Ordinal)
                .ThenBy(r => r.Check, StringComparer.Ordinal)
                .ToList();
            Failures = All.Where(r => IsFailure(r.Status))
                .OrderBy(r => Array.IndexOf(Order, r.Status))
                .ThenBy(r => r.Environment, StringComparer.Ordinal)
                .ThenBy(r => r.Component, StringComparer.Ordinal)
                .ThenBy(r => r.Check, StringComparer.Ordinal)
                .ToList();
            Environments = All.GroupBy(r => r.Environment, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
            Components = All.GroupBy(r => (r.Environment, r.Component, r.Type)).ToList();
            if (All.Count > 0)
            {
                Start = All.Min(r => r.Timestamp - r.Duration);
                End = All.Max(r => r.Timestamp);
            }
        }

        public List<CheckResult> All { get; }
        public List<CheckResult> Failures { get; }
        public List<IGrouping<string, CheckResult>> Environments { get; }
        public List<IGrouping<(string Environment, string Component, string Type), CheckResult>> Components { get; }
        public DateTimeOffset? Start { get; }
        public DateTimeOffset? End { get; }
        public double RunSeconds => Start is { } s && End is { } e ? Math.Max(0, Math.Round((e - s).TotalSeconds, 3)) : 0;
        public int Count(CheckStatus s) => All.Count(r => r.Status == s);
        public CheckStatus Worst => All.Count == 0 ? CheckStatus.Ok : All.Select(r => r.Status).Where(s => s != CheckStatus.Skipped).DefaultIfEmpty(CheckStatus.Ok).Max();
    }

    private static string Name(CheckStatus s) => s.ToString();
    private static string Lower(CheckStatus s) => s.ToString().ToLowerInvariant();
    private static string Seconds(double s) => s.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>Control characters as their visible Unicode pictures (U+2400-U+241F, U+2421 for DEL).</summary>
    internal static string Visible(string? text)
    {
        if (string.IsNullOrEmpty(text)) return string.Empty;
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c < 0x20) sb.Append((char)(0x2400 + c));
            else if (c == 0x7F) sb.Append('\u2421');
            else if (c is >= '\u0080' and <= '\u009F') sb.Append('\uFFFD');
            else sb.Append(c);
        }
        return sb.ToString();
    }

    // ---------------------------------------------------------------- HTML

    private static string H(string? text) => WebUtility.HtmlEncode(Visible(text));

    private const string Css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1b1b1b;background:#fff}
        h1{font-size:1.5rem;margin:0 0 .3rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem;border-bottom:1px solid #ccc}
        h3{font-size:1rem;margin:1rem 0 .3rem}
        table{border-collapse:collapse;width:100%;margin:.3rem 0}th,td{border:1px solid #bbb;padding:.25rem .45rem;text-align:left;vertical-align:top}
        th{background:#eee}td.num{text-align:right;font-variant-numeric:tabular-nums}
        .meta{color:#444;margin:.2rem 0 1rem}
        .status{display:inline-block;min-width:5.5em;padding:.05rem .35rem;border-radius:3px;font-weight:bold;text-align:center;border:1px solid #000}
        .st-ok{background:#d7f5d7;color:#0b4d0b}.st-warning{background:#fff0b3;color:#5c4300}
        .st-critical{background:#f8c9c9;color:#7a0000}.st-unknown{background:#e3d4f7;color:#3d1a6e}.st-skipped{background:#e8e8e8;color:#333}
        .detail{word-break:break-word}
        @media print{body{margin:0}.status{border:1px solid #000}}
        """;

    private static string Badge(CheckStatus s) => $"<span class=\"status st-{Lower(s)}\">{Name(s).ToUpperInvariant()}</span>";

    private static string Html(Model m, ReportOptions o)
    {
        var sb = new StringBuilder(4096 + m.All.Count * 300);
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append("<title>").Append(H(o.Title)).Append("</title>\n<style>\n").Append(Css).Append("\n</style>\n</head>\n<body>\n");
        sb.Append("<header>\n<h1 id=\"title\">").Append(H(o.Title)).Append("</h1>\n");
        sb.Append("<p class=\"meta\">Overall: ").Append(Badge(m.Worst)).Append(" &middot; <span id=\"total\">").Append(m.All.Count)
          .Append("</span> checks &middot; run time <span id=\"run-seconds\">").Append(Seconds(m.RunSeconds)).Append("</span> s");
        if (m.Start is { } start) sb.Append(" &middot; from ").Append(CheckResult.FormatTimestamp(start)).Append(" to ").Append(CheckResult.FormatTimestamp(m.End!.Value));
        sb.Append(" &middot; generated ").Append(CheckResult.FormatTimestamp(o.GeneratedAt)).Append(" by PveHealth ").Append(H(o.Version)).Append("</p>\n");

        sb.Append("<table id=\"summary\">\n<thead><tr><th>Environment</th>");
        foreach (var s in Order) sb.Append("<th>").Append(Badge(s)).Append("</th>");
        sb.Append("<th>Total</th></tr></thead>\n<tbody>\n");
        foreach (var g in m.Environments)
        {
            sb.Append("<tr class=\"env\"><td>").Append(H(g.Key.Length == 0 ? "(none)" : g.Key)).Append("</td>");
            foreach (var s in Order) sb.Append("<td class=\"num\" data-status=\"").Append(Lower(s)).Append("\">").Append(g.Count(r => r.Status == s)).Append("</td>");
            sb.Append("<td class=\"num\">").Append(g.Count()).Append("</td></tr>\n");
        }
        sb.Append("<tr class=\"all\"><th>All</th>");
        foreach (var s in Order) sb.Append("<td class=\"num\" data-status=\"").Append(Lower(s)).Append("\">").Append(m.Count(s)).Append("</td>");
        sb.Append("<td class=\"num\">").Append(m.All.Count).Append("</td></tr>\n</tbody>\n</table>\n</header>\n");

        sb.Append("<main>\n<section id=\"failures\">\n<h2>Failures (").Append(m.Failures.Count).Append(")</h2>\n");
        if (m.Failures.Count == 0) sb.Append("<p>No check failed.</p>\n");
        else
        {
            sb.Append("<table>\n<thead><tr><th>Status</th><th>Environment</th><th>Component</th><th>Type</th><th>Check</th><th>Detail</th><th>Duration</th></tr></thead>\n<tbody>\n");
            foreach (var r in m.Failures) Row(sb, r, withPlace: true);
            sb.Append("</tbody>\n</table>\n");
        }
        sb.Append("</section>\n<section id=\"components\">\n<h2>All components (").Append(m.Components.Count).Append(")</h2>\n");
        foreach (var c in m.Components)
        {
            var worst = c.Select(r => r.Status).Where(s => s != CheckStatus.Skipped).DefaultIfEmpty(CheckStatus.Ok).Max();
            sb.Append("<section class=\"component\">\n<h3>").Append(Badge(worst)).Append(' ').Append(H(c.Key.Component))
              .Append(" <small>").Append(H(c.Key.Type)).Append(c.Key.Environment.Length > 0 ? " &middot; " + H(c.Key.Environment) : string.Empty).Append("</small></h3>\n");
            sb.Append("<table>\n<thead><tr><th>Status</th><th>Check</th><th>Detail</th><th>Target</th><th>Duration</th></tr></thead>\n<tbody>\n");
            foreach (var r in c)
            {
                sb.Append("<tr class=\"result\" data-status=\"").Append(Lower(r.Status)).Append("\"><td>").Append(Badge(r.Status)).Append("</td><td>").Append(H(r.Check))
                  .Append("</td><td class=\"detail\">").Append(H(r.Detail)).Append("</td><td>").Append(H(r.Target))
                  .Append("</td><td class=\"num\">").Append(Seconds(r.DurationSeconds)).Append(" s</td></tr>\n");
            }
            sb.Append("</tbody>\n</table>\n</section>\n");
        }
        sb.Append("</section>\n</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, CheckResult r, bool withPlace)
    {
        sb.Append("<tr class=\"failure\" data-status=\"").Append(Lower(r.Status)).Append("\"><td>").Append(Badge(r.Status)).Append("</td>");
        if (withPlace) sb.Append("<td>").Append(H(r.Environment)).Append("</td><td class=\"component-name\">").Append(H(r.Component)).Append("</td><td>").Append(H(r.Type)).Append("</td>");
        sb.Append("<td>").Append(H(r.Check)).Append("</td><td class=\"detail\">").Append(H(r.Detail)).Append("</td><td class=\"num\">")
          .Append(Seconds(r.DurationSeconds)).Append(" s</td></tr>\n");
    }

    // ---------------------------------------------------------------- Markdown

    /// <summary>Markdown-escaped: ASCII punctuation that means something is backslash-escaped, angle brackets as entities.</summary>
    internal static string Md(string? text)
    {
        var v = Visible(text);
        var sb = new StringBuilder(v.Length + 8);
        foreach (var c in v)
        {
            switch (c)
            {
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                case '\\' or '`' or '*' or '_' or '[' or ']' or '|' or '#' or '!' or '~' or '{' or '}' or '(' or ')': sb.Append('\\').Append(c); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    private static string Markdown(Model m, ReportOptions o)
    {
        var sb = new StringBuilder(2048 + m.All.Count * 160);
        sb.Append("# ").Append(Md(o.Title)).Append("\n\n");
        sb.Append("**").Append(Name(m.Worst).ToUpperInvariant()).Append("**: ").Append(m.Failures.Count).Append(" of ").Append(m.All.Count).Append(" checks failed (");
        sb.Append(string.Join(", ", Order.Select(s => $"{m.Count(s)} {Lower(s)}"))).Append("); run time ").Append(Seconds(m.RunSeconds)).Append(" s");
        if (m.End is { } end) sb.Append(", last result ").Append(CheckResult.FormatTimestamp(end));
        sb.Append("; generated ").Append(CheckResult.FormatTimestamp(o.GeneratedAt)).Append(" by PveHealth ").Append(Md(o.Version)).Append(".\n\n");

        sb.Append("| Environment | ").Append(string.Join(" | ", Order.Select(Name))).Append(" | Total |\n|---|").Append(string.Concat(Order.Select(_ => "---:|"))).Append("---:|\n");
        foreach (var g in m.Environments)
        {
            sb.Append("| ").Append(Md(g.Key.Length == 0 ? "(none)" : g.Key)).Append(" | ")
              .Append(string.Join(" | ", Order.Select(s => g.Count(r => r.Status == s)))).Append(" | ").Append(g.Count()).Append(" |\n");
        }
        sb.Append("\n## Failures (").Append(m.Failures.Count).Append(")\n\n");
        if (m.Failures.Count == 0) sb.Append("No check failed.\n");
        else
        {
            sb.Append("| Status | Environment | Component | Type | Check | Detail | Duration |\n|---|---|---|---|---|---|---:|\n");
            foreach (var r in m.Failures) MdRow(sb, r);
        }
        var rest = m.All.Where(r => !IsFailure(r.Status)).ToList();
        sb.Append("\n## Other checks (").Append(rest.Count).Append(")\n\n");
        if (rest.Count == 0) sb.Append("None.\n");
        else
        {
            sb.Append("| Status | Environment | Component | Type | Check | Detail | Duration |\n|---|---|---|---|---|---|---:|\n");
            foreach (var r in rest) MdRow(sb, r);
        }
        return sb.ToString();
    }

    private static void MdRow(StringBuilder sb, CheckResult r)
    {
        sb.Append("| ").Append(Name(r.Status).ToUpperInvariant()).Append(" | ").Append(Md(r.Environment)).Append(" | ").Append(Md(r.Component))
          .Append(" | ").Append(Md(r.Type)).Append(" | ").Append(Md(r.Check)).Append(" | ").Append(Md(r.Detail)).Append(" | ")
          .Append(Seconds(r.DurationSeconds)).Append(" s |\n");
    }

    // ---------------------------------------------------------------- JSON

    private static string Json(Model m, ReportOptions o)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", SchemaVersion);
            w.WriteString("title", o.Title);
            w.WriteString("generatedUtc", CheckResult.FormatTimestamp(o.GeneratedAt));
            w.WriteStartObject("generator");
            w.WriteString("name", "PveHealth");
            w.WriteString("version", o.Version);
            w.WriteEndObject();
            w.WriteStartObject("summary");
            w.WriteString("worst", Name(m.Worst));
            w.WriteNumber("total", m.All.Count);
            w.WriteNumber("failed", m.Failures.Count);
            w.WriteStartObject("counts");
            foreach (var s in Order) w.WriteNumber(Lower(s), m.Count(s));
            w.WriteEndObject();
            w.WriteNumber("runDurationSeconds", m.RunSeconds);
            if (m.Start is { } start) w.WriteString("startUtc", CheckResult.FormatTimestamp(start)); else w.WriteNull("startUtc");
            if (m.End is { } end) w.WriteString("endUtc", CheckResult.FormatTimestamp(end)); else w.WriteNull("endUtc");
            w.WriteStartArray("environments");
            foreach (var g in m.Environments)
            {
                w.WriteStartObject();
                w.WriteString("environment", g.Key);
                w.WriteNumber("total", g.Count());
                w.WriteStartObject("counts");
                foreach (var s in Order) w.WriteNumber(Lower(s), g.Count(r => r.Status == s));
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartArray("results");
            foreach (var r in m.Failures.Concat(m.All.Where(r => !IsFailure(r.Status))))
            {
                w.WriteStartObject();
                w.WriteString("environment", r.Environment);
                w.WriteString("source", r.Source);
                w.WriteString("node", r.Node);
                w.WriteString("component", r.Component);
                w.WriteString("type", r.Type);
                w.WriteString("check", r.Check);
                w.WriteString("status", Name(r.Status));
                w.WriteString("detail", r.Detail);
                w.WriteString("target", r.Target);
                w.WriteNumber("durationSeconds", r.DurationSeconds);
                w.WriteString("timestampUtc", r.TimestampUtc);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
