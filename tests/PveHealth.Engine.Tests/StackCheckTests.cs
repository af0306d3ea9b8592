using System.Text;
using PveHealth.Checks.Minio;
using PveHealth.Checks.Monitoring;
using PveHealth.Clients;
using PveHealth.Execution;
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

public class AlertmanagerAndGrafanaTests
{
    [Fact]
    public void Clustered_and_ready_is_Ok_with_peers_disabled_is_Skipped_settling_is_Warning()
    {
        var ready = AlertmanagerCluster.Parse("""{"cluster":{"name":"a","peers":[{"address":"127.0.0.1:9094","name":"a"},{"address":"127.0.0.1:9096","name":"b"}],"status":"ready"}}""");
        Assert.Equal((CheckStatus.Ok, "cluster ready, 2 peers: 127.0.0.1:9094, 127.0.0.1:9096"), AlertmanagerCheck.Evaluate(ready));
        var disabled = AlertmanagerCluster.Parse("""{"cluster":{"status":"disabled"}}""");
        Assert.False(disabled.Enabled);
        Assert.Equal(CheckStatus.Skipped, AlertmanagerCheck.Evaluate(disabled).Status);
        Assert.Equal(CheckStatus.Warning, AlertmanagerCheck.Evaluate(AlertmanagerCluster.Parse("""{"cluster":{"status":"settling","peers":[]}}""")).Status);
    }

    [Fact]
    public void Grafana_200_ok_is_Ok_and_503_failing_is_Critical_both_with_the_version()
    {
        var ok = GrafanaCheck.Evaluate(new HttpAnswer(new Uri("http://127.0.0.1:3000/api/health"), 200, "OK", """{"commit":"x","database":"ok","version":"10.4.2"}"""));
        Assert.Equal((CheckStatus.Ok, "database ok, version 10.4.2"), ok);
        var failing = GrafanaCheck.Evaluate(new HttpAnswer(new Uri("http://127.0.0.1:3000/api/health"), 503, "Service Unavailable", """{"commit":"x","database":"failing","version":"10.4.2"}"""));
        Assert.Equal((CheckStatus.Critical, "HTTP 503: database failing, version 10.4.2"), failing);
        var html = GrafanaCheck.Evaluate(new HttpAnswer(new Uri("http://127.0.0.1:3000/api/health"), 502, "Bad Gateway", "<html>proxy</html>"));
        Assert.Equal(CheckStatus.Critical, html.Status);
        Assert.Contains("HTTP 502 Bad Gateway", html.Detail);
    }

    [Fact]
    public void Urls_keep_a_path_prefix()
    {
        Assert.Equal("https://h/prometheus/-/ready", HttpEndpointClient.Combine(new Uri("https://h/prometheus"), "/-/ready").ToString());
        Assert.Equal("http://h:9090/api/v1/targets?state=active", HttpEndpointClient.Combine(new Uri("http://h:9090"), "/api/v1/targets?state=active").ToString());
    }
}

public class TerraformStateTests
{
    private const string Valid = """
    {
      "version": 4,
      "terraform_version": "1.9.8",
      "serial": 42,
      "lineage": "3f2b8d1e",
      "outputs": { "vms": { "value": [], "type": "list" } },
      "resources": [ {}, {} ]
    }
    """;

    [Fact]
    public void A_valid_state_gives_serial_version_and_lineage()
    {
        var info = TerraformStateValidator.Validate(Encoding.UTF8.GetBytes(Valid));
        Assert.Equal(new TerraformStateInfo(4, "3f2b8d1e", 42, "1.9.8", 1, 2), info);
        var (status, detail) = MinioStorageCheck.Evaluate(Encoding.UTF8.GetBytes(Valid), TimeSpan.FromMinutes(5), TimeSpan.FromHours(1));
        Assert.Equal(CheckStatus.Ok, status);
        Assert.StartsWith("serial 42, age 5 min, terraform 1.9.8", detail);
    }

    [Fact]
    public void An_old_state_is_a_Warning()
    {
        var (status, detail) = MinioStorageCheck.Evaluate(Encoding.UTF8.GetBytes(Valid), TimeSpan.FromDays(10), TimeSpan.FromHours(168));
        Assert.Equal(CheckStatus.Warning, status);
        Assert.StartsWith("not written for 10 d (limit 7 d)", detail);
    }

    [Fact]
    public void A_truncated_state_names_the_line_and_byte()
    {
        var cut = string.Join("\n", Valid.Split('\n').Take(3)).TrimEnd(','); // ends after "terraform_version": "1.9.8"
        var ex = Assert.Throws<StateInvalidException>(() => TerraformStateValidator.Validate(Encoding.UTF8.GetBytes(cut)));
        Assert.Matches(@"^invalid JSON at line 3, byte \d+: the text ends inside an object or array", ex.Message);
        var broken = Encoding.UTF8.GetBytes("{\n  \"version\": 4,\n  \"serial\": 4x\n}");
        var ex2 = Assert.Throws<StateInvalidException>(() => TerraformStateValidator.Validate(broken));
        Assert.StartsWith("invalid JSON at line 3, byte 14:", ex2.Message);
    }

    [Theory]
    [InlineData("", "the object is empty (0 bytes)")]
    [InlineData("[]", "$: expected a JSON object")]
    [InlineData("{\"version\":3,\"serial\":1,\"lineage\":\"x\",\"terraform_version\":\"0.11.14\"}", "$.version: 3; expected a Terraform state of version 4")]
    [InlineData("{\"version\":4,\"serial\":1,\"terraform_version\":\"1.5.0\"}", "$.lineage: missing or empty")]
    [InlineData("{\"version\":4,\"lineage\":\"x\",\"terraform_version\":\"1.5.0\"}", "$.serial: missing")]
    [InlineData("{\"version\":4,\"lineage\":\"x\",\"serial\":1}", "$.terraform_version: missing")]
    public void Invalid_states_are_rejected_with_the_reason(string text, string expected)
    {
        var ex = Assert.Throws<StateInvalidException>(() => TerraformStateValidator.Validate(Encoding.UTF8.GetBytes(text)));
        Assert.StartsWith(expected, ex.Message);
    }
}

public class TerraformLockTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Reads_who_and_created_with_nanoseconds()
    {
        var l = TerraformLock.Parse(Encoding.UTF8.GetBytes("""{"ID":"abc","Operation":"OperationTypeApply","Info":"","Who":"ci@runner","Version":"1.9.8","Created":"2026-11-26T12:00:00.123456789Z","Path":"tfstate/x"}"""));
        Assert.Equal("ci@runner", l.Who);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero).AddTicks(1234567), l.Created);
    }

    [Fact]
    public void A_stale_lock_is_a_Warning_naming_who_and_since_when_from_Created_not_LastModified()
    {
        var l = new TerraformLock("abc", "OperationTypeApply", "ci@runner", "1.9.8", Now.AddHours(-3), "tfstate/x");
        // LastModified is recent (an upload or a copy): the lock's own Created decides.
        var (status, detail) = MinioStorageCheck.EvaluateLock(l, null, Now.AddSeconds(-5), Now, TimeSpan.FromMinutes(60));
        Assert.Equal(CheckStatus.Warning, status);
        Assert.Contains("held by ci@runner since 2026-11-26 12:00:00Z", detail);
        Assert.Contains("terraform force-unlock abc", detail);
    }

    [Fact]
    public void A_young_lock_is_Ok_and_a_lock_without_Created_uses_LastModified()
    {
        var young = new TerraformLock("abc", "OperationTypeApply", "ci@runner", "1.9.8", Now.AddMinutes(-2), null);
        Assert.Equal(CheckStatus.Ok, MinioStorageCheck.EvaluateLock(young, null, Now, Now, TimeSpan.FromMinutes(60)).Status);
        var noCreated = new TerraformLock("abc", null, "ci@runner", null, null, null);
        var (status, detail) = MinioStorageCheck.EvaluateLock(noCreated, null, Now.AddHours(-2), Now, TimeSpan.FromMinutes(60));
        Assert.Equal(CheckStatus.Warning, status);
        Assert.Contains("Created missing", detail);
    }

    [Fact]
    public void Unreadable_lock_json_is_reported_with_line_and_byte()
    {
        var ex = Assert.Throws<StateInvalidException>(() => TerraformLock.Parse(Encoding.UTF8.GetBytes("{\"ID\":")));
        Assert.StartsWith("invalid JSON at line 1", ex.Message);
    }
}

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

public class MinioConfigValidationTests
{
    [Theory]
    [InlineData("tfstate/")]
    [InlineData("/terraform.tfstate")]
    [InlineData("terraform.tfstate")]
    public void A_state_object_must_be_bucket_slash_key(string stateObject)
    {
        var json = """{"environments":{"lab":{"minio":{"endpoint":"http://127.0.0.1:9000","accessKey":{"env":"A"},"secretKey":{"env":"B"},"stateObjects":["OBJECT"]}}}}"""
            .Replace("OBJECT", stateObject, StringComparison.Ordinal);
        var ex = Assert.Throws<PveHealth.Configuration.ConfigException>(() => PveHealth.Configuration.ConfigLoader.Parse(json, "cfg.json", out _));
        Assert.Equal("$.environments.lab.minio.stateObjects[0]", ex.JsonPath);
    }

    [Fact]
    public void The_minio_state_inventory_needs_bucket_slash_key_and_a_minio_section()
    {
        var json = """{"environments":{"lab":{"inventory":{"source":"minio-state","stateObject":"tfstate"},"minio":{"endpoint":"http://127.0.0.1:9000","accessKey":{"env":"A"},"secretKey":{"env":"B"}}}}}""";
        var ex = Assert.Throws<PveHealth.Configuration.ConfigException>(() => PveHealth.Configuration.ConfigLoader.Parse(json, "cfg.json", out _));
        Assert.Equal("$.environments.lab.inventory.stateObject", ex.JsonPath);
    }
}
