using System.Net;
using PveHealth.Configuration;
using PveHealth.Planning;
using Xunit;

namespace PveHealth.Tests;

/// <summary>The engine's run policy: every command gets its run options and parameter-over-config merge from here.</summary>
public class RunPolicyTests
{
    private static PveHealthConfig Config()
    {
        var config = new PveHealthConfig { Defaults = new DefaultsConfig { TimeoutSec = 3, ThrottleLimit = 7, RunTimeoutSec = 42 } };
        config.Environments["prod"] = new EnvironmentConfig { TimeoutSec = 5 };
        config.Environments["lab"] = new EnvironmentConfig();
        return config;
    }

    [Fact]
    public void The_configuration_defaults_apply_when_no_parameter_is_given()
    {
        var options = RunPolicy.Options(Config(), new RunParameters());
        Assert.Equal(TimeSpan.FromSeconds(3), options.CheckTimeout);
        Assert.Equal(7, options.ThrottleLimit);
        Assert.Equal(TimeSpan.FromSeconds(42), options.RunTimeout);
    }

    [Fact]
    public void A_parameter_given_wins_over_the_configuration()
    {
        var options = RunPolicy.Options(Config(), new RunParameters { TimeoutSec = 2, ThrottleLimit = 9 });
        Assert.Equal(TimeSpan.FromSeconds(2), options.CheckTimeout);
        Assert.Equal(9, options.ThrottleLimit);
        Assert.Equal(TimeSpan.FromSeconds(42), options.RunTimeout);
    }

    [Fact]
    public void Without_a_configuration_the_built_in_defaults_apply_and_the_run_deadline_covers_one_check()
    {
        var options = RunPolicy.Options(null, new RunParameters());
        Assert.Equal(TimeSpan.FromSeconds(10), options.CheckTimeout);
        Assert.Equal(64, options.ThrottleLimit);
        Assert.Equal(TimeSpan.FromSeconds(300), options.RunTimeout);
        Assert.Equal(TimeSpan.FromSeconds(900), RunPolicy.Options(null, new RunParameters { TimeoutSec = 900 }).RunTimeout);
    }

    [Fact]
    public void Guests_of_several_environments_get_the_longest_environment_timeout_unless_TimeoutSec_is_given()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), RunPolicy.Options(Config(), new RunParameters(), ["lab", "prod"]).CheckTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), RunPolicy.Options(Config(), new RunParameters(), ["lab", "unknown"]).CheckTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), RunPolicy.Options(Config(), new RunParameters { TimeoutSec = 1 }, ["prod"]).CheckTimeout);
        Assert.Equal(7, RunPolicy.Options(Config(), new RunParameters(), ["prod"]).ThrottleLimit);
    }

    [Fact]
    public void An_environment_timeout_applies_to_its_context_unless_TimeoutSec_is_given()
    {
        var config = Config();
        var options = RunPolicy.Options(config, new RunParameters());
        using var prod = RunPolicy.Context("prod", config.Environments["prod"], options, new RunParameters());
        Assert.Equal(TimeSpan.FromSeconds(5), prod.CheckTimeout);
        using var given = RunPolicy.Context("prod", config.Environments["prod"], options, new RunParameters { TimeoutSec = 2 });
        Assert.Equal(TimeSpan.FromSeconds(3), given.CheckTimeout);
    }

    [Fact]
    public void Guest_parameters_override_single_values_of_the_file_and_a_key_file_starts_a_new_ssh_section()
    {
        var file = new EnvironmentConfig
        {
            Ssh = new SshConfig { User = "ops", KeyFile = "/k", Port = 2222, KnownHostsFile = "/kh", DockerCommand = "docker info" },
            Proxmox = new ProxmoxConfig { Url = "https://pve:8006", TokenId = "a@pam!x", Fingerprint = "AA" },
        };
        var merged = RunPolicy.MergeGuestParameters(file, new GuestParameters { User = "root" }, out var note);
        Assert.Null(note);
        Assert.Equal("root", merged.Ssh!.User);
        Assert.Equal("/k", merged.Ssh.KeyFile);
        Assert.Equal(2222, merged.Ssh.Port);
        Assert.Equal("docker info", merged.Ssh.DockerCommand);
        Assert.Same(file.Proxmox, merged.Proxmox);

        var newKey = RunPolicy.MergeGuestParameters(file, new GuestParameters { KeyFile = "/other" }, out _);
        Assert.Null(newKey.Ssh!.User);
        Assert.Equal(22, newKey.Ssh.Port);
        Assert.Null(newKey.Ssh.KnownHostsFile);

        var pve = RunPolicy.MergeGuestParameters(file, new GuestParameters { Credential = new NetworkCredential("b@pve!y", "s") }, out _);
        Assert.Equal("https://pve:8006", pve.Proxmox!.Url);
        Assert.Equal("b@pve!y", pve.Proxmox.TokenId);
        Assert.Equal("AA", pve.Proxmox.Fingerprint);

        var noUrl = RunPolicy.MergeGuestParameters(null, new GuestParameters { CertificateFingerprint = "BB" }, out note);
        Assert.Null(noUrl.Proxmox);
        Assert.NotNull(note);
    }
}
