using System.Text.Json;
using PveHealth.Model;
using PveHealth.Reports;
using Xunit;

namespace PveHealth.Tests;

public class HealthReportTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 6, 36, 38, 0, TimeSpan.Zero);
    private static readonly ReportOptions Options = new("Estate <prod>", "0.1.0", T0.AddMinutes(1));
    private const string Hostile = "<script>alert('x')</script>\"quoted\" & \u0007bell\u001b[31m";

    private static CheckResult R(string env, string component, string check, CheckStatus status, double seconds = 0.25, string detail = "detail")
        => new(env, component, "Vm", check, status, detail, TimeSpan.FromSeconds(seconds), "127.10.0.1", T0);

    private static List<CheckResult> Sample() =>
    [
        R("prod", "web-01", "Ping", CheckStatus.Ok),
        R("prod", "web-01", "Ssh", CheckStatus.Ok),
        R("prod", "db-01", "Ping", CheckStatus.Critical, 2.8, "no reply"),
        R("prod", "db-01", "Docker", CheckStatus.Skipped),
        R("lab", Hostile, "Ping", CheckStatus.Warning, detail: Hostile),
        R("lab", "ci-01", "GuestAgent", CheckStatus.Unknown),
    ];

    [Fact]
    public void Html_is_self_contained_encodes_every_string_and_lists_failures_first()
    {
        var html = HealthReport.Render(Sample(), ReportFormat.Html, Options);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=", html);
        Assert.DoesNotContain("href=", html);
        Assert.DoesNotContain("\u0007", html);
        Assert.DoesNotContain("\u001b", html);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;quoted&quot; &amp; \u2407bell\u241b[31m", html);
        Assert.Contains("<title>Estate &lt;prod&gt;</title>", html);
        var failures = html.IndexOf("id=\"failures\"", StringComparison.Ordinal);
        var components = html.IndexOf("id=\"components\"", StringComparison.Ordinal);
        Assert.True(failures > 0 && components > failures);
        // Failures ordered Critical, Unknown, Warning.
        var crit = html.IndexOf("<tr class=\"failure\" data-status=\"critical\"", StringComparison.Ordinal);
        var unk = html.IndexOf("<tr class=\"failure\" data-status=\"unknown\"", StringComparison.Ordinal);
        var warn = html.IndexOf("<tr class=\"failure\" data-status=\"warning\"", StringComparison.Ordinal);
        Assert.True(crit > 0 && crit < unk && unk < warn);
        Assert.Contains(">CRITICAL</span>", html);
    }

    [Fact]
    public void Markdown_has_the_summary_then_a_failure_table_then_the_rest_with_pipes_and_markup_escaped()
    {
        var md = HealthReport.Render(Sample(), ReportFormat.Markdown, Options);
        var lines = md.Split('\n');
        Assert.Equal("# Estate &lt;prod&gt;", lines[0]);
        Assert.StartsWith("**CRITICAL**: 3 of 6 checks failed (1 critical, 1 unknown, 1 warning, 2 ok, 1 skipped)", lines[2]);
        Assert.True(md.IndexOf("## Failures (3)", StringComparison.Ordinal) < md.IndexOf("## Other checks (3)", StringComparison.Ordinal));
        Assert.DoesNotContain("<script", md);
        Assert.Contains("&lt;script&gt;alert\\('x'\\)&lt;/script&gt;", md);
        // Every table row has the same number of unescaped pipes as its header.
        foreach (var row in lines.Where(l => l.StartsWith("| ", StringComparison.Ordinal) && l.Contains("Vm")))
        {
            Assert.Equal(8, System.Text.RegularExpressions.Regex.Matches(row, @"(?<!\\)\|").Count);
        }
    }

    [Fact]
    public void Json_has_the_documented_schema_status_names_seconds_and_ISO_timestamps()
    {
        var json = HealthReport.Render(Sample(), ReportFormat.Json, Options);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("2026-11-30T06:37:38.000Z", root.GetProperty("generatedUtc").GetString());
        var summary = root.GetProperty("summary");
        Assert.Equal("Critical", summary.GetProperty("worst").GetString());
        Assert.Equal(6, summary.GetProperty("total").GetInt32());
        Assert.Equal(3, summary.GetProperty("failed").GetInt32());
        Assert.Equal(2, summary.GetProperty("counts").GetProperty("ok").GetInt32());
        Assert.Equal(2.8, summary.GetProperty("runDurationSeconds").GetDouble());
        Assert.Equal(["lab", "prod"], summary.GetProperty("environments").EnumerateArray().Select(e => e.GetProperty("environment").GetString()));
        var results = root.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(6, results.Count);
        Assert.Equal("Critical", results[0].GetProperty("status").GetString());
        Assert.Equal("db-01", results[0].GetProperty("component").GetString());
        Assert.Equal(2.8, results[0].GetProperty("durationSeconds").GetDouble());
        Assert.Equal("2026-11-30T06:36:38.000Z", results[0].GetProperty("timestampUtc").GetString());
        Assert.Equal("prod", results[0].GetProperty("environment").GetString());
        Assert.Contains(results, r => r.GetProperty("component").GetString() == Hostile);
        // Where each result was produced: results made here carry this host's name.
        Assert.All(results, r => Assert.Equal(CheckResult.LocalSource, r.GetProperty("source").GetString()));
        Assert.False(string.IsNullOrEmpty(CheckResult.LocalSource));
    }

    [Fact]
    public void Json_keeps_the_source_of_a_result_produced_elsewhere()
    {
        var remote = new CheckResult("site-b", "web-09", "Vm", "Ping", CheckStatus.Critical, "no reply", TimeSpan.FromSeconds(1)) { Source = "runner-b", Node = "pve3" };
        using var doc = JsonDocument.Parse(HealthReport.Render([remote], ReportFormat.Json, Options));
        var r = doc.RootElement.GetProperty("results")[0];
        Assert.Equal("runner-b", r.GetProperty("source").GetString());
        Assert.Equal("pve3", r.GetProperty("node").GetString());
        Assert.Equal("site-b", r.GetProperty("environment").GetString());
    }

    [Fact]
    public void An_empty_input_gives_a_report_that_says_so()
    {
        Assert.Contains("No check failed.", HealthReport.Render([], ReportFormat.Html, Options));
        Assert.Contains("No check failed.", HealthReport.Render([], ReportFormat.Markdown, Options));
        using var doc = JsonDocument.Parse(HealthReport.Render([], ReportFormat.Json, Options));
        Assert.Equal(0, doc.RootElement.GetProperty("summary").GetProperty("total").GetInt32());
    }
}
