using PveHealth.Metrics;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// The enum is declared in severity order so scripts can compare statuses (issue 17); the exit code and the
/// status metric keep their Nagios values through an explicit mapping.
/// </summary>
public class CheckStatusTests
{
    [Fact]
    public void Enum_order_is_severity_order_Skipped_lowest_Critical_highest()
    {
        var sorted = Enum.GetValues<CheckStatus>().OrderBy(s => (int)s).ToArray();
        Assert.Equal([CheckStatus.Skipped, CheckStatus.Ok, CheckStatus.Warning, CheckStatus.Unknown, CheckStatus.Critical], sorted);
        Assert.All(Enum.GetValues<CheckStatus>(), s => Assert.Equal((int)s, s.Severity()));
    }

    [Fact]
    public void At_least_Warning_keeps_the_failures_and_never_Skipped()
    {
        var atLeastWarning = Enum.GetValues<CheckStatus>().Where(s => s >= CheckStatus.Warning).ToArray();
        Assert.Equal([CheckStatus.Warning, CheckStatus.Unknown, CheckStatus.Critical], atLeastWarning);
    }

    [Theory]
    [InlineData(CheckStatus.Ok, 0)]
    [InlineData(CheckStatus.Warning, 1)]
    [InlineData(CheckStatus.Critical, 2)]
    [InlineData(CheckStatus.Unknown, 3)]
    [InlineData(CheckStatus.Skipped, 0)]
    public void Nagios_code_is_an_explicit_mapping_unchanged_by_the_enum_order(CheckStatus status, int code)
        => Assert.Equal(code, status.NagiosCode());

    [Theory]
    [InlineData(new[] { CheckStatus.Skipped }, 0)]
    [InlineData(new[] { CheckStatus.Skipped, CheckStatus.Ok }, 0)]
    [InlineData(new[] { CheckStatus.Skipped, CheckStatus.Warning }, 1)]
    [InlineData(new[] { CheckStatus.Critical, CheckStatus.Skipped, CheckStatus.Unknown }, 2)]
    [InlineData(new[] { CheckStatus.Warning, CheckStatus.Unknown, CheckStatus.Ok }, 3)]
    public void Exit_code_is_the_Nagios_code_of_the_worst_status(CheckStatus[] statuses, int expected)
        => Assert.Equal(expected, CheckStatusExtensions.ExitCode(statuses));

    [Theory]
    [InlineData(CheckStatus.Ok, "0")]
    [InlineData(CheckStatus.Warning, "1")]
    [InlineData(CheckStatus.Critical, "2")]
    [InlineData(CheckStatus.Unknown, "3")]
    public void Status_metric_values_are_the_Nagios_codes(CheckStatus status, string value)
    {
        var text = PrometheusTextWriter.Render([new CheckResult("prod", "web", "Vm", "Ping", status, "d", TimeSpan.FromSeconds(1))]);
        Assert.Contains("pve_health_check_status{environment=\"prod\",component=\"web\",type=\"Vm\",check=\"Ping\",node=\"\"} " + value + "\n", text);
    }

    [Fact]
    public void Duplicates_keep_the_worst_and_Ok_beats_Skipped()
    {
        var t = TimeSpan.FromSeconds(1);
        var text = PrometheusTextWriter.Render([
            new CheckResult("prod", "web", "Vm", "Ping", CheckStatus.Ok, "d", t),
            new CheckResult("prod", "web", "Vm", "Ping", CheckStatus.Skipped, "d", t),
            new CheckResult("prod", "db", "Vm", "Ping", CheckStatus.Critical, "d", t),
            new CheckResult("prod", "db", "Vm", "Ping", CheckStatus.Unknown, "d", t)]);
        Assert.Contains("pve_health_check_status{environment=\"prod\",component=\"web\",type=\"Vm\",check=\"Ping\",node=\"\"} 0\n", text);
        Assert.Contains("pve_health_check_status{environment=\"prod\",component=\"db\",type=\"Vm\",check=\"Ping\",node=\"\"} 2\n", text);
    }
}
