using PveHealth.Configuration;
using PveHealth.Exclusions;
using PveHealth.Inventory;
using PveHealth.Model;
using PveHealth.Planning;
using Xunit;

namespace PveHealth.Tests;

/// <summary>Bad known_hosts lines are a Warning naming the file and the lines, once per environment, not per guest.</summary>
public sealed class KnownHostsWarningTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pvehealth-kh-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class ListSource(params Guest[] guests) : IInventorySource
    {
        public string Description => "test";
        public bool IsLocal => true;
        public Task<IReadOnlyList<Guest>> GetGuestsAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<Guest>>(guests);
    }

    private string KnownHosts(string text)
    {
        var path = Path.Combine(_dir, "known_hosts");
        File.WriteAllText(path, text);
        return path;
    }

    private static Task<HealthPlan> Plan(string knownHosts, ExclusionSet? exclusions = null, params string[] environments)
    {
        var envs = string.Join(",", (environments.Length == 0 ? ["prod"] : environments).Select(e => $$"""
            "{{e}}": { "inventory": { "source": "file", "path": "x" }, "ssh": { "keyFile": "/nonexistent/key", "knownHostsFile": "{{knownHosts}}" } }
            """));
        var config = ConfigLoader.Parse($$"""{ "environments": { {{envs}} } }""", "test.json", out _);
        var planner = new HealthPlanner(config, (name, _) => new ListSource(
            new Guest($"{name}-01", GuestKind.Vm) { Address = "127.0.0.1", Environment = name },
            new Guest($"{name}-02", GuestKind.Lxc) { Address = "127.0.0.2", Environment = name }));
        return planner.BuildAsync(new PlanRequest { All = true, Exclusions = exclusions ?? new ExclusionSet() }, CancellationToken.None);
    }

    private const string Key = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    [Fact]
    public async Task Bad_lines_are_one_Warning_per_environment_naming_the_file_and_each_line()
    {
        var path = KnownHosts($"127.0.0.1 ssh-ed25519 {Key}\n# comment\n127.0.0.2 ssh-ed25519 not*base64\n@bogus 127.0.0.3 ssh-ed25519 {Key}\nlonely-host\n");
        using var plan = await Plan(path, null, "prod", "test");
        var warnings = plan.Decided.Where(d => d.Status == CheckStatus.Warning).ToList();
        Assert.Equal(["prod", "test"], warnings.Select(w => w.Environment).Order());
        var w = warnings.First(x => x.Environment == "prod");
        Assert.Equal(("known_hosts", "Ssh", "Ssh", path), (w.Component, w.Type, w.Check, w.Target));
        Assert.Equal($"{path}: 3 lines ignored (line 3: the key is not base64; line 4: unknown marker @bogus; line 5: expected 'hosts keytype key'); fix or remove them", w.Detail);
        // The guests' Ssh units still run.
        Assert.Equal(2, plan.Units.Count(u => u.Environment == "prod" && u.Checks.Contains("Ssh")));
    }

    [Fact]
    public async Task A_clean_file_gives_no_warning()
    {
        using var plan = await Plan(KnownHosts($"127.0.0.1 ssh-ed25519 {Key}\n\n# only comments and good lines\n"));
        Assert.DoesNotContain(plan.Decided, d => d.Status == CheckStatus.Warning);
        Assert.Equal(2, plan.Units.Count(u => u.Checks.Contains("Ssh")));
    }

    [Fact]
    public async Task A_missing_file_is_left_to_the_Ssh_check_and_excluding_Ssh_drops_the_warning()
    {
        using (var plan = await Plan(Path.Combine(_dir, "absent")))
        {
            Assert.DoesNotContain(plan.Decided, d => d.Status == CheckStatus.Warning);
            Assert.Equal(2, plan.Units.Count(u => u.Checks.Contains("Ssh")));
        }
        var exclusions = new ExclusionSet();
        exclusions.Add(ExclusionRule.Parse("*:Ssh", "-Exclude", out _)!);
        exclusions.Add(ExclusionRule.Parse("*:Docker", "-Exclude", out _)!);
        using var excluded = await Plan(KnownHosts("garbage\n"), exclusions);
        Assert.DoesNotContain(excluded.Decided, d => d.Status == CheckStatus.Warning);
    }
}
