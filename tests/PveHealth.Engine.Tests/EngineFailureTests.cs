using PveHealth.Configuration;
using PveHealth.Planning;
using Xunit;

namespace PveHealth.Tests;

/// <summary>The error ids scripts match on are the names of <see cref="EngineFailure"/>: renaming one breaks them.</summary>
public class EngineFailureTests
{
    [Fact]
    public void The_error_ids_are_the_documented_ones()
    {
        string[] ids =
        [
            "ConfigInvalid", "EnvironmentNotFound", "InventoryInvalid", "InventoryUnreadable", "TerraformNotFound", "TerraformFailed",
            "TerraformTimeout", "MetricsFolderNotFound", "MetricsAccessDenied", "MetricsPathIsDirectory", "MetricsWriteFailed",
            "ExclusionFileNotFound", "ExclusionFileUnreadable", "ExclusionLineInvalid", "ExcludeInvalid", "InvalidUrl",
            "InvalidStateObject", "CredentialRequired", "NoMonitoringConfigured", "NoMinioConfigured", "InventoryTooLarge", "NoDriftConfigured",
            "InvalidCheckResult", "ReportWriteFailed", "ConfigFileExists", "ConfigWriteFailed",
        ];
        Assert.Equal(ids, Enum.GetNames<EngineFailure>());
    }

    [Fact]
    public void An_unknown_environment_is_EnvironmentNotFound_naming_the_pattern_and_the_choices()
    {
        var config = new PveHealthConfig { SourcePath = "/etc/pve-health/config.json" };
        config.Environments["prod"] = new EnvironmentConfig();
        config.Environments["lab"] = new EnvironmentConfig();

        var ex = Assert.Throws<EngineException>(() => HealthPlanner.SelectEnvironments(config, ["qa*"], all: false));
        Assert.Equal(EngineFailure.EnvironmentNotFound, ex.Failure);
        Assert.Equal("qa*", ex.Target);
        Assert.Contains("configured: lab, prod", ex.Message);

        var none = Assert.Throws<EngineException>(() => HealthPlanner.SelectEnvironments(config, [], all: false));
        Assert.Equal(EngineFailure.EnvironmentNotFound, none.Failure);
        Assert.Contains("-Environment or use -All", none.Message);

        Assert.Equal(["lab", "prod"], HealthPlanner.SelectEnvironments(config, [], all: true));
        Assert.Equal(["prod"], HealthPlanner.SelectEnvironments(config, ["p*"], all: false));
    }

    [Fact]
    public void Configuration_inventory_and_metrics_failures_are_one_exception_type()
    {
        Assert.Equal(EngineFailure.ConfigInvalid, new ConfigException("/c.json", "$.x", "bad").Failure);
        Assert.Equal("/c.json", new ConfigException("/c.json", "$.x", "bad").Target);
        Assert.IsAssignableFrom<EngineException>(new Inventory.InventoryException("x"));
        Assert.Equal(EngineFailure.InventoryInvalid, new Inventory.InventoryException("x").Failure);
        Assert.IsAssignableFrom<EngineException>(new Metrics.MetricsExportException(EngineFailure.MetricsWriteFailed, "/p", "x"));
    }
}
