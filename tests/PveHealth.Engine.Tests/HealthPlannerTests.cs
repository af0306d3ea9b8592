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

    [Fact]
    public async Task A_guests_node_travels_with_its_units_and_results_also_excluded_and_timed_out_ones()
    {
        var config = Config("""{ "environments": { "lab": { "checks": ["Ping", "Ssh"], "inventory": { "source": "file", "path": "x" } } } }""");
        var planner = new HealthPlanner(config, (name, _) => new ListSource(
            new Guest("web-01", GuestKind.Vm) { Address = "127.0.0.1", Environment = name, Node = "pve2" },
            new Guest("tf-01", GuestKind.Lxc) { Address = "127.0.0.1", Environment = name }));
        var exclusions = new ExclusionSet();
        exclusions.Add(ExclusionRule.Parse("web-01:Ssh", "-Exclude", out _)!);
        var plan = await planner.BuildAsync(new PlanRequest { All = true, Exclusions = exclusions }, CancellationToken.None);
        Assert.Contains(plan.Units, u => u.Component == "web-01");
        Assert.All(plan.Units.Where(u => u.Component == "web-01"), u => Assert.Equal("pve2", u.Node));
        Assert.All(plan.Units.Where(u => u.Component == "tf-01"), u => Assert.Equal(string.Empty, u.Node));
        Assert.Equal("pve2", Assert.Single(plan.Decided, r => r.Component == "web-01" && r.Check == "Ssh").Node);

        // What the units report, and what the runner reports for them (timed out), carries the node.
        var ping = plan.Units.Single(u => u.Component == "web-01" && u.Checks.Contains("Ping"));
        var hung = new HungUnit(ping) { Node = ping.Node };
        var results = new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromMilliseconds(200) }).Run([hung], CancellationToken.None)
            .OfType<ResultEvent>().Select(e => e.Result).ToList();
        Assert.Equal(("Ok", "pve2"), (results.Single(r => r.Check == "Ping").Status.ToString(), results.Single(r => r.Check == "Ping").Node));
        Assert.Equal(("Critical", "pve2"), (results.Single(r => r.Check == "Late").Status.ToString(), results.Single(r => r.Check == "Late").Node));
    }

    private sealed class HungUnit(CheckUnit like) : CheckUnit(like.Environment, like.Component, like.Type, like.Target, ["Ping", "Late"])
    {
        public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
        {
            reporter.Report("Ping", CheckStatus.Ok, "answered");
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
        }
    }
}
