using PveHealth.Checks.Monitoring;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class PrometheusTargetsTests
{
    private const string Answer = """
    {"status":"success","data":{"activeTargets":[
      {"labels":{"instance":"127.0.0.1:9090","job":"prometheus"},"scrapePool":"prometheus","scrapeUrl":"http://127.0.0.1:9090/metrics",
       "lastError":"","lastScrape":"2026-11-26T10:00:00.5Z","health":"up"},
      {"labels":{"instance":"127.0.0.1:9999","job":"dead"},"scrapePool":"dead","scrapeUrl":"http://127.0.0.1:9999/metrics",
       "lastError":"Get \"http://127.0.0.1:9999/metrics\": dial tcp 127.0.0.1:9999: connect: connection refused","lastScrape":"2026-11-26T10:00:01Z","health":"down"},
      {"labels":{"instance":"10.0.0.1:9100","job":"node"},"scrapePool":"node","scrapeUrl":"http://10.0.0.1:9100/metrics",
       "lastError":"","lastScrape":"0001-01-01T00:00:00Z","health":"unknown"}
    ],"droppedTargets":[]}}
    """;

    [Fact]
    public void Parses_job_instance_health_error_and_last_scrape()
    {
        var targets = PrometheusTargetsParser.Parse(Answer);
        Assert.Equal(3, targets.Count);
        Assert.Equal("dead/127.0.0.1:9999", targets[1].Component);
        Assert.False(targets[1].IsUp);
        Assert.Contains("connection refused", targets[1].LastError);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 10, 0, 1, TimeSpan.Zero), targets[1].LastScrape);
        Assert.Null(targets[2].LastScrape); // Go's zero time: never scraped
    }

    [Fact]
    public void One_result_per_target_not_up_with_its_error_and_time_since_last_scrape()
    {
        var now = new DateTimeOffset(2026, 11, 26, 10, 0, 6, TimeSpan.Zero);
        var results = PrometheusCheck.Evaluate("lab", PrometheusTargetsParser.Parse(Answer), now).ToList();
        Assert.Equal(2, results.Count);
        var dead = results.Single(r => r.Component == "dead/127.0.0.1:9999");
        Assert.Equal(CheckStatus.Critical, dead.Status);
        Assert.Equal("ScrapeTarget", dead.Type);
        Assert.Equal("Targets", dead.Check);
        Assert.StartsWith("down: Get \"http://127.0.0.1:9999/metrics\": dial tcp", dead.Detail);
        Assert.EndsWith("last scrape 5 s ago", dead.Detail);
        Assert.Equal("http://127.0.0.1:9999/metrics", dead.Target);
        var node = results.Single(r => r.Component == "node/10.0.0.1:9100");
        Assert.Equal(CheckStatus.Warning, node.Status);
        Assert.Contains("never scraped", node.Detail);
    }

    [Fact]
    public void All_up_gives_one_Ok_summary()
    {
        var targets = PrometheusTargetsParser.Parse(Answer).Where(t => t.IsUp).ToList();
        var r = Assert.Single(PrometheusCheck.Evaluate("lab", targets, DateTimeOffset.UtcNow));
        Assert.Equal(CheckStatus.Ok, r.Status);
        Assert.Equal("1 targets up (1 jobs)", r.Detail);
    }

    [Theory]
    [InlineData("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"boom\"}", "status error")]
    [InlineData("{\"status\":\"success\",\"data\":{}}", "data.activeTargets")]
    [InlineData("<html>", "not JSON (line 1, byte 1)")]
    public void Unexpected_answers_say_what_is_wrong(string json, string expected)
    {
        var ex = Assert.Throws<UnexpectedAnswerException>(() => PrometheusTargetsParser.Parse(json));
        Assert.Contains(expected, ex.Message);
    }
}
