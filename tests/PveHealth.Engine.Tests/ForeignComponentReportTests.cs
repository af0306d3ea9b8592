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

    /// <summary>Reports its state row on another component, then waits past its timeout (a slow cluster).</summary>
    private sealed class CutOffUnit() : CheckUnit("lab", "drift", "Drift", "", ["Declarations", "Declared", "Unmanaged"])
    {
        public override async Task RunAsync(CheckReporter reporter, CancellationToken cancellationToken)
        {
            reporter.Report(new CheckResult("lab", "tfstate/lab/terraform.tfstate", "TerraformState", "Declarations", CheckStatus.Ok, "8 guests declared", TimeSpan.Zero));
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
        }
    }

    [Fact]
    public void A_unit_cut_off_after_reporting_only_foreign_components_reports_its_silent_checks_as_timed_out()
    {
        var results = new CheckRunner(new RunOptions { CheckTimeout = TimeSpan.FromMilliseconds(300) }).Run([new CutOffUnit()], CancellationToken.None)
            .OfType<ResultEvent>().Select(e => e.Result).ToList();
        Assert.Equal(3, results.Count);
        Assert.Single(results, r => r.Check == "Declarations" && r.Status == CheckStatus.Ok);
        foreach (var check in new[] { "Declared", "Unmanaged" })
        {
            var r = Assert.Single(results, r => r.Check == check);
            Assert.Equal(("drift", CheckStatus.Critical), (r.Component, r.Status));
            Assert.StartsWith("timed out after", r.Detail, StringComparison.Ordinal);
        }
    }
}
