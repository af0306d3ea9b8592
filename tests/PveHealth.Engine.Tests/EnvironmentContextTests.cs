using PveHealth.Configuration;
using PveHealth.Execution;
using PveHealth.Planning;
using Xunit;

namespace PveHealth.Tests;

/// <summary>Lifetimes: the clients an environment's checks share are disposed when the run is over.</summary>
public class EnvironmentContextTests
{
    private sealed class Probe : IDisposable
    {
        public int Disposals;
        public void Dispose() => Disposals++;
    }

    [Fact]
    public void A_context_disposes_what_it_created_once_and_refuses_new_resources_afterwards()
    {
        var context = new EnvironmentContext("prod", new EnvironmentConfig(), new RunOptions());
        var client = context.Shared("client", () => new Probe());
        Assert.Same(client, context.Shared("client", () => new Probe()));
        context.Shared("text", () => "not disposable");

        context.Dispose();
        context.Dispose();

        Assert.Equal(1, client.Disposals);
        Assert.Equal(1, context.DisposedCount);
        Assert.Throws<ObjectDisposedException>(() => context.Shared("late", () => new Probe()));
    }

    [Fact]
    public async Task A_plan_owns_its_contexts_and_disposes_them()
    {
        var config = new PveHealthConfig { SourcePath = "c.json" };
        config.Environments["prod"] = new EnvironmentConfig();
        var plan = await new HealthPlanner(config, (_, _) => null).BuildAsync(new PlanRequest { All = true }, CancellationToken.None);
        var context = Assert.Single(plan.Contexts);
        var client = context.Shared("client", () => new Probe());

        plan.Dispose();

        Assert.Equal(1, client.Disposals);
    }
}
