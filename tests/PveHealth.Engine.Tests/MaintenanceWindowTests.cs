using PveHealth.Configuration;
using PveHealth.Exclusions;
using PveHealth.Inventory;
using PveHealth.Model;
using PveHealth.Planning;
using Xunit;

namespace PveHealth.Tests;

public class MaintenanceWindowTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_rule_carries_its_until_and_reason()
    {
        var rule = ExclusionRule.Parse("web-01:Docker until=2026-12-24T18:00Z reason=kernel upgrade, ticket 42", "f:3", out var error);
        Assert.Null(error);
        Assert.Equal("web-01:Docker", rule!.Text);
        Assert.Equal(new DateTimeOffset(2026, 12, 24, 18, 0, 0, TimeSpan.Zero), rule.Until);
        Assert.Equal("kernel upgrade, ticket 42", rule.Reason);
        Assert.Equal("excluded by 'web-01:Docker' (f:3; until 2026-12-24 18:00 UTC, kernel upgrade, ticket 42)", rule.Describe());
        var offset = ExclusionRule.Parse("db-* until=2026-12-24T19:00+01:00", "f:4", out _);
        Assert.Equal(new DateTimeOffset(2026, 12, 24, 18, 0, 0, TimeSpan.Zero), offset!.Until);
        Assert.Equal(new DateTimeOffset(2026, 12, 24, 0, 0, 0, TimeSpan.Zero), ExclusionRule.Parse("x until=2026-12-24", "f", out _)!.Until);
        Assert.Equal("x", ExclusionRule.Parse("x reason=\"lab only\"", "f", out _)!.Text);
    }

    [Theory]
    [InlineData("web-01 until=2026-12-24T18:00", "with Z or an offset")]      // a time without its zone
    [InlineData("web-01 until=tomorrow", "until= expects")]
    [InlineData("web-01 reason=", "reason= needs a text")]
    [InlineData("web-01 web-02", "contains spaces")]
    public void A_malformed_window_is_an_error_naming_it(string text, string expected)
    {
        Assert.Null(ExclusionRule.Parse(text, "f:1", out var error));
        Assert.Contains(expected, error);
    }

    [Fact]
    public void An_expired_rule_no_longer_excludes_an_active_one_does()
    {
        var set = ExclusionSet.ParseFile("/etc/pve-health/exclusions.conf",
            "web-01 until=2026-12-01T00:00Z reason=done\nweb-02 until=2026-12-24T18:00Z\nweb-03\n", out var errors, Now);
        Assert.Empty(errors);
        Assert.Null(set.Find("web-01", "Vm", "Vm", "Ping"));
        Assert.NotNull(set.Find("web-02", "Vm", "Vm", "Ping"));
        Assert.NotNull(set.Find("web-03", "Vm", "Vm", "Ping"));
        Assert.Equal(["web-01"], set.Expired.Select(r => r.Text));
        Assert.Equal(["web-02", "web-03"], set.Active.Select(r => r.Text));
    }

    private sealed class ListSource(params Guest[] guests) : IInventorySource
    {
        public string Description => "test";
        public bool IsLocal => true;
        public Task<IReadOnlyList<Guest>> GetGuestsAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<Guest>>(guests);
    }

    [Fact]
    public async Task The_plan_has_a_Warning_row_naming_the_expired_rules_line_and_runs_the_check_again()
    {
        var config = ConfigLoader.Parse("""{ "environments": { "prod": { "inventory": { "source": "file", "path": "x" }, "checks": ["Ping"] } } }""", "c.json", out _);
        var planner = new HealthPlanner(config, (name, _) => new ListSource(new Guest("web-01", GuestKind.Vm) { Address = "127.0.0.1", Environment = name }));
        var set = ExclusionSet.ParseFile("/etc/pve-health/exclusions.conf", "# maintenance\nweb-01:Ping until=2026-12-01T18:00Z reason=kernel upgrade\n", out _, Now);
        var plan = await planner.BuildAsync(new PlanRequest { All = true, Exclusions = set }, CancellationToken.None);
        var warning = Assert.Single(plan.Decided);
        Assert.Equal((CheckStatus.Warning, "exclusions", "Exclusions", "Maintenance"), (warning.Status, warning.Component, warning.Type, warning.Check));
        Assert.Equal("the maintenance window of 'web-01:Ping' (/etc/pve-health/exclusions.conf:2) ended 2026-12-01 18:00 UTC (kernel upgrade); the rule no longer excludes: remove the line or move its until=", warning.Detail);
        Assert.Contains(plan.Units, u => u.Component == "web-01" && u.Checks.Contains("Ping"));
    }
}
