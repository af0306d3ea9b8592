using Xunit;

namespace PveHealth.Tests;

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
