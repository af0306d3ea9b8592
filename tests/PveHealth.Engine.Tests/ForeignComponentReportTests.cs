using PveHealth.Execution;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class ForeignComponentReportTests
{
    private sealed class PerTargetUnit() : CheckUnit("lab", "prometheus", "Prometheus", "", ["Ready", "Targets"])
    {
        public override Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
        {
            reporter.Report("Ready", CheckStatus.Ok, "ready");
            reporter.Report(new CheckResult("lab", "dead/127.0.0.1:1", "ScrapeTarget", "Targets", CheckStatus.Critical, "down", TimeSpan.Zero));
            return Task.CompletedTask;
        }
    }

    [Fact]
    public void A_check_answered_per_foreign_component_is_not_reported_missing()
    {
        var results = new CheckRunner(new RunOptions()).Run([new PerTargetUnit()], CancellationToken.None).OfType<ResultEvent>().Select(e => e.Result).ToList();
        Assert.Equal(2, results.Count);
        Assert.DoesNotContain(results, r => r.Detail.Contains("without reporting", StringComparison.Ordinal));
    }
}
