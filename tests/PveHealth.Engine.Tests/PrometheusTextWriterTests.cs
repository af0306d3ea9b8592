using PveHealth.Metrics;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class PrometheusTextWriterTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static CheckResult R(string component, CheckStatus status, double seconds = 0.5, string env = "prod", string check = "Ping", DateTimeOffset? at = null)
        => new(env, component, "Vm", check, status, "detail", TimeSpan.FromSeconds(seconds), "127.0.0.1", at ?? T0);

    private static string[] Lines(string text) => text.Split('\n');

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a\\b", "a\\\\b")]
    [InlineData("say \"hi\"", "say \\\"hi\\\"")]
    [InlineData("two\nlines", "two\\nlines")]
    [InlineData("\\\"\n", "\\\\\\\"\\n")]
    [InlineData("größe-ürün-数据", "größe-ürün-数据")]
    [InlineData("", "")]
    public void Label_values_escape_backslash_quote_and_newline_and_keep_non_ASCII(string value, string expected)
        => Assert.Equal(expected, PrometheusTextWriter.EscapeLabelValue(value));

    [Fact]
    public void Success_is_1_for_Ok_and_Warning_0_for_Critical_and_Unknown_and_Skipped_has_no_check_series()
    {
        var text = PrometheusTextWriter.Render([R("ok", CheckStatus.Ok), R("warn", CheckStatus.Warning), R("crit", CheckStatus.Critical), R("unk", CheckStatus.Unknown), R("skip", CheckStatus.Skipped)]);
        Assert.Contains("pve_health_check_success{environment=\"prod\",component=\"ok\",type=\"Vm\",check=\"Ping\"} 1\n", text);
        Assert.Contains("pve_health_check_success{environment=\"prod\",component=\"warn\",type=\"Vm\",check=\"Ping\"} 1\n", text);
        Assert.Contains("pve_health_check_success{environment=\"prod\",component=\"crit\",type=\"Vm\",check=\"Ping\"} 0\n", text);
        Assert.Contains("pve_health_check_success{environment=\"prod\",component=\"unk\",type=\"Vm\",check=\"Ping\"} 0\n", text);
        Assert.Contains("pve_health_check_status{environment=\"prod\",component=\"warn\",type=\"Vm\",check=\"Ping\"} 1\n", text);
        Assert.Contains("pve_health_check_status{environment=\"prod\",component=\"crit\",type=\"Vm\",check=\"Ping\"} 2\n", text);
        Assert.Contains("pve_health_check_status{environment=\"prod\",component=\"unk\",type=\"Vm\",check=\"Ping\"} 3\n", text);
        Assert.DoesNotContain("component=\"skip\"", text);
        Assert.Contains("pve_health_checks{environment=\"prod\",status=\"skipped\"} 1\n", text);
        Assert.Contains("pve_health_checks{environment=\"prod\",status=\"critical\"} 1\n", text);
    }

    [Fact]
    public void Each_family_has_exactly_one_HELP_and_TYPE_before_its_samples_and_the_text_ends_with_a_newline()
    {
        var text = PrometheusTextWriter.Render([R("a", CheckStatus.Ok), R("b", CheckStatus.Critical, env: "lab"), R("c", CheckStatus.Ok)]);
        Assert.EndsWith("\n", text);
        Assert.False(text.EndsWith("\n\n", StringComparison.Ordinal));
        var seen = new HashSet<string>();
        string? current = null;
        foreach (var line in Lines(text).Where(l => l.Length > 0))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                current = line.Split(' ')[2];
                Assert.True(seen.Add(current), $"second HELP for {current}");
            }
            else if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                Assert.Equal($"# TYPE {current} gauge", line);
            }
            else
            {
                var name = line[..line.IndexOf('{')];
                Assert.Equal(current, name);
                // No client timestamp: exactly "name{labels} value".
                Assert.Single(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' '));
            }
        }
        Assert.Equal(6, seen.Count);
    }

    [Fact]
    public void Output_is_deterministic_whatever_the_input_order()
    {
        var results = new[] { R("b", CheckStatus.Ok), R("a", CheckStatus.Critical, env: "lab"), R("a", CheckStatus.Ok), R("c", CheckStatus.Unknown, check: "Ssh") };
        var one = PrometheusTextWriter.Render(results);
        var two = PrometheusTextWriter.Render(results.Reverse());
        Assert.Equal(one, two);
        var success = Lines(one).Where(l => l.StartsWith("pve_health_check_success{", StringComparison.Ordinal)).ToList();
        Assert.Equal(["lab", "prod", "prod", "prod"], success.Select(l => l.Split('"')[1]).ToList());
        Assert.Equal(["a", "a", "b", "c"], success.Select(l => l.Split('"')[3]).ToList());
    }

    [Fact]
    public void A_duplicated_key_keeps_the_worst_status_in_either_order()
    {
        foreach (var order in new[] { new[] { CheckStatus.Critical, CheckStatus.Ok, CheckStatus.Skipped }, [CheckStatus.Ok, CheckStatus.Skipped, CheckStatus.Critical] })
        {
            var text = PrometheusTextWriter.Render(order.Select(s => R("web", s)));
            Assert.Single(Lines(text), l => l.StartsWith("pve_health_check_status{", StringComparison.Ordinal));
            Assert.Contains("pve_health_check_status{environment=\"prod\",component=\"web\",type=\"Vm\",check=\"Ping\"} 2\n", text);
            Assert.Contains("pve_health_checks{environment=\"prod\",status=\"ok\"} 0\n", text);
            Assert.Contains("pve_health_checks{environment=\"prod\",status=\"critical\"} 1\n", text);
        }
        // Unknown is worse than Warning; a run result beats a Skipped one.
        Assert.Contains("} 3\n", PrometheusTextWriter.Render([R("w", CheckStatus.Unknown), R("w", CheckStatus.Warning)]).Split("# HELP pve_health_check_duration")[0]);
        Assert.Contains("pve_health_check_success{environment=\"prod\",component=\"s\",type=\"Vm\",check=\"Ping\"} 1\n", PrometheusTextWriter.Render([R("s", CheckStatus.Ok), R("s", CheckStatus.Skipped)]));
    }

    [Fact]
    public void Run_series_per_environment_use_the_newest_result_and_the_earliest_start()
    {
        var text = PrometheusTextWriter.Render([
            R("a", CheckStatus.Ok, seconds: 2, at: T0),
            R("b", CheckStatus.Ok, seconds: 1, at: T0.AddSeconds(5)),
        ]);
        Assert.Contains($"pve_health_last_run_timestamp_seconds{{environment=\"prod\"}} {T0.AddSeconds(5).ToUnixTimeSeconds()}\n", text);
        Assert.Contains("pve_health_run_duration_seconds{environment=\"prod\"} 7\n", text);
        Assert.Contains("pve_health_check_duration_seconds{environment=\"prod\",component=\"a\",type=\"Vm\",check=\"Ping\"} 2\n", text);
    }

    [Fact]
    public void No_results_give_the_families_without_samples()
    {
        var text = PrometheusTextWriter.Render([]);
        Assert.Equal(12, Lines(text).Count(l => l.StartsWith('#')));
        Assert.DoesNotContain(Lines(text), l => l.Length > 0 && !l.StartsWith('#'));
    }

    [Fact]
    public void Values_use_the_invariant_culture()
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        try
        {
            Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal("0.25", PrometheusTextWriter.FormatValue(0.25));
        }
        catch (System.Globalization.CultureNotFoundException)
        {
            Assert.Equal("0.25", PrometheusTextWriter.FormatValue(0.25));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }
}
