using System.Diagnostics;
using PveHealth.Configuration;
using PveHealth.Inventory;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class TerraformCommandSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pvehealth-tf-").FullName;
    private readonly string _fake = Path.Combine(InventoryFileReaderTests.FindRoot(), "tests/Support/fake-terraform/terraform");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A wrapper script setting the fake's environment (the test process's own environment is left alone).</summary>
    private string Wrapper(string env)
    {
        var path = Path.Combine(_dir, "tf-wrapper");
        File.WriteAllText(path, $"#!/usr/bin/env bash\n{env}\nexec '{_fake}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private TerraformCommandSource Source(string env, double timeoutSec = 30)
        => new(_dir, "prod", new InventoryConfig { Executable = Wrapper(env), TimeoutSec = timeoutSec });

    [Fact]
    public async Task Reads_the_output_of_terraform_output_json_in_the_directory()
    {
        var log = Path.Combine(_dir, "calls.log");
        var guests = await Source($"export FAKE_TERRAFORM_LOG='{log}'").GetGuestsAsync(CancellationToken.None);
        Assert.Equal(["web-01", "db-01", "cache-01"], guests.Select(g => g.Name));
        Assert.Equal(GuestKind.Lxc, guests.Single(g => g.Name == "cache-01").Kind);
        Assert.Equal($"{_dir}\toutput -json", File.ReadAllText(log).Trim());
    }

    [Fact]
    public async Task A_failing_terraform_reports_exit_code_and_stderr_but_no_output_value()
    {
        var ex = await Assert.ThrowsAsync<InventoryException>(() => Source("export FAKE_TERRAFORM_EXIT=3 FAKE_TERRAFORM_STDERR='Error: No state file was found!'").GetGuestsAsync(CancellationToken.None));
        Assert.Equal(EngineFailure.TerraformFailed, ex.Failure);
        Assert.Contains("exit code 3", ex.Message);
        Assert.Contains("No state file was found!", ex.Message);
    }

    [Fact]
    public async Task A_hanging_terraform_is_killed_after_the_timeout()
    {
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<InventoryException>(() => Source("export FAKE_TERRAFORM_SLEEP=30", timeoutSec: 0.5).GetGuestsAsync(CancellationToken.None));
        Assert.Equal(EngineFailure.TerraformTimeout, ex.Failure);
        Assert.Contains("did not finish within 0.5 s", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Output_values_never_appear_in_errors()
    {
        var output = Path.Combine(_dir, "bad.json");
        File.WriteAllText(output, """{"vms": {"sensitive": true, "value": [{"name": "a", "ip": {"pw": "S3cr3t-in-output"}}]}}""");
        var options = new InventoryConfig { Executable = Wrapper($"export FAKE_TERRAFORM_OUTPUT='{output}'"), Outputs = ["vms"] };
        var ex = await Assert.ThrowsAsync<InventoryException>(() => new TerraformCommandSource(_dir, "prod", options).GetGuestsAsync(CancellationToken.None));
        Assert.Equal(EngineFailure.InventoryInvalid, ex.Failure);
        Assert.DoesNotContain("S3cr3t-in-output", ex.ToString());
    }

    [Fact]
    public void A_missing_executable_is_TerraformNotFound()
    {
        var ex = Assert.Throws<InventoryException>(() => TerraformCommandSource.ResolveExecutable("/nonexistent/terraform"));
        Assert.Equal(EngineFailure.TerraformNotFound, ex.Failure);
    }

    [Fact]
    public void The_terraform_source_is_not_local_and_the_factory_makes_each_source()
    {
        Assert.False(InventorySourceFactory.Create("p", new EnvironmentConfig { Inventory = new() { Source = "terraform", Directory = "/x" } })!.IsLocal);
        Assert.True(InventorySourceFactory.Create("p", new EnvironmentConfig { Inventory = new() { Source = "file", Path = "/x.yaml" } })!.IsLocal);
        Assert.IsType<TerraformFileSource>(InventorySourceFactory.Create("p", new EnvironmentConfig { Inventory = new() { Source = "terraform-state", Path = "/x" } }));
    }

    [Fact]
    public void Stderr_summary_drops_colour_codes_and_box_drawing()
    {
        Assert.Equal("Error: Backend initialization required Run terraform init.", TerraformCommandSource.Summarize("\u001b[31m╷\n│ Error: Backend initialization required\n│\n│ Run terraform init.\n╵\n"));
    }
}
