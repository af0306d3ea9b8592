using PveHealth.Configuration;
using Xunit;

namespace PveHealth.Tests;

/// <summary>Configuration: duplicate keys (ignoring case), numeric ranges, oversize files: PveHealth errors with the JSON path.</summary>
public class HostileConfigTests
{
    private static ConfigException Fails(string json) => Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "/etc/pve-health/config.json", out _));

    [Fact]
    public void Environments_differing_only_in_case_are_a_configuration_error()
    {
        var ex = Fails("""{"environments": {"prod": {}, "PROD": {}}}""");
        Assert.Contains("$.environments.PROD", ex.Message);
        Assert.Contains("appears twice", ex.Message);
    }

    [Fact]
    public void A_second_environments_key_is_a_configuration_error_not_silently_dropped()
    {
        var ex = Fails("""{"environments": {"prod": {}}, "environments": {"lab": {}}}""");
        Assert.Equal("$.environments", ex.JsonPath);
    }

    [Theory]
    [InlineData("""{"defaults": {"timeoutSec": 1e300}, "environments": {"prod": {}}}""", "$.defaults.timeoutSec")]
    [InlineData("""{"environments": {"prod": {"timeoutSec": 1e300}}}""", "$.environments.prod.timeoutSec")]
    [InlineData("""{"defaults": {"runTimeoutSec": 9e99}, "environments": {"prod": {}}}""", "$.defaults.runTimeoutSec")]
    [InlineData("""{"environments": {"prod": {"minio": {"endpoint": "http://127.0.0.1:9000", "accessKey": {"env": "A"}, "secretKey": {"env": "B"}, "maxStateAgeHours": 1e308}}}}""", "$.environments.prod.minio.maxStateAgeHours")]
    [InlineData("""{"defaults": {"throttleLimit": 2000000000}, "environments": {"prod": {}}}""", "$.defaults.throttleLimit")]
    public void Huge_numbers_are_range_errors_naming_the_path(string json, string path)
    {
        var ex = Fails(json);
        Assert.Equal(path, ex.JsonPath);
        Assert.Contains("at most", ex.Message);
    }

    [Fact]
    public void A_configuration_file_that_is_dev_zero_stops_at_the_cap()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Load("/dev/zero", out _));
        Assert.Contains("larger than 4 MiB", ex.Message);
    }
}
