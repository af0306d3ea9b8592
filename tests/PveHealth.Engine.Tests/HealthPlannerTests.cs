using PveHealth.Configuration;
using PveHealth.Exclusions;
using PveHealth.Execution;
using PveHealth.Inventory;
using PveHealth.Model;
using PveHealth.Planning;
using Xunit;

namespace PveHealth.Tests;

public class HealthPlannerTests
{
    private sealed class ListSource(params Guest[] guests) : IInventorySource
    {
        public string Description => "test";
        public bool IsLocal => true;
        public Task<IReadOnlyList<Guest>> GetGuestsAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<Guest>>(guests);
    }

    private static PveHealthConfig Config(string json) => ConfigLoader.Parse(json, "test.json", out _);

    private const string TwoEnvironments = """
        { "environments": {
            "fast": { "timeoutSec": 2, "inventory": { "source": "file", "path": "x" } },
            "slow": { "inventory": { "source": "file", "path": "y" } } } }
        """;

    private static HealthPlanner Planner(PveHealthConfig config)
        => new(config, (name, _) => new ListSource(new Guest($"{name}-01", GuestKind.Vm) { Address = "127.0.0.1", Environment = name }));

    [Fact]
    public async Task An_environments_timeoutSec_applies_to_its_units_only()
    {
        var plan = await Planner(Config(TwoEnvironments)).BuildAsync(new PlanRequest { All = true, Options = new RunOptions { CheckTimeout = TimeSpan.FromSeconds(10) } }, CancellationToken.None);
        Assert.All(plan.Units.Where(u => u.Environment == "fast"), u => Assert.Equal(TimeSpan.FromSeconds(2), u.Timeout));
        Assert.All(plan.Units.Where(u => u.Environment == "slow"), u => Assert.Null(u.Timeout));
        Assert.Contains(plan.Units, u => u.Environment == "fast");
    }

    [Fact]
    public async Task An_explicit_TimeoutSec_wins_over_the_environments_timeoutSec()
    {
        var request = new PlanRequest { All = true, TimeoutFromParameter = true, Options = new RunOptions { CheckTimeout = TimeSpan.FromSeconds(7) } };
        var plan = await Planner(Config(TwoEnvironments)).BuildAsync(request, CancellationToken.None);
        // Both environments have units (Assert.All alone passes on an empty plan), and none carries its own timeout.
        Assert.Contains(plan.Units, u => u.Environment == "fast");
        Assert.Contains(plan.Units, u => u.Environment == "slow");
        Assert.All(plan.Units, u => Assert.Null(u.Timeout)); // the runner's -TimeoutSec applies
    }

    [Fact]
    public async Task Excluded_checks_become_Skipped_with_the_rule_and_its_source()
    {
        var exclusions = new ExclusionSet();
        exclusions.Add(ExclusionRule.Parse("fast-*:Ping", "-Exclude", out _)!);
        var plan = await Planner(Config(TwoEnvironments)).BuildAsync(new PlanRequest { All = true, Exclusions = exclusions }, CancellationToken.None);
        var skipped = Assert.Single(plan.Decided);
        Assert.Equal(("fast-01", "Ping", CheckStatus.Skipped), (skipped.Component, skipped.Check, skipped.Status));
        Assert.Equal("excluded by 'fast-*:Ping' (-Exclude)", skipped.Detail);
        Assert.DoesNotContain(plan.Units, u => u.Component == "fast-01" && u.Checks.Contains("Ping"));
    }
}
