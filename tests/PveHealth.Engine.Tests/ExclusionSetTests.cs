using Xunit;

namespace PveHealth.Tests;

public class ExclusionSetTests
{
    [Fact]
    public void Comments_blank_lines_and_rules_with_and_without_a_check()
    {
        const string text = "# header\n\nweb-*\r\n  db-01:Docker   # trailing comment\n\tLxc:GuestAgent\n";
        var set = Exclusions.ExclusionSet.ParseFile("/etc/ex.conf", text, out var errors);
        Assert.Empty(errors);
        Assert.Equal(["web-*", "db-01:Docker", "Lxc:GuestAgent"], set.Rules.Select(r => r.Text));
        Assert.Equal("/etc/ex.conf:4", set.Rules[1].Source);

        Assert.Equal("web-*", set.Find("WEB-07", "Vm", "Vm", "Ping")?.Text);
        Assert.Equal("db-01:Docker", set.Find("db-01", "Vm", "Vm", "Docker")?.Text);
        Assert.Null(set.Find("db-01", "Vm", "Vm", "Ping"));
        Assert.Equal("Lxc:GuestAgent", set.Find("cache-01", "Lxc", "Lxc", "GuestAgent")?.Text);
        Assert.Null(set.Find("cache-01", "Lxc", "Lxc", "Ping"));
    }

    [Fact]
    public void Wildcards_match_like_PowerShell()
    {
        var set = Exclusions.ExclusionSet.ParseFile("x", "app-0?\nnode[12]:Ping\n*:Gu*\n", out var errors);
        Assert.Empty(errors);
        Assert.NotNull(set.Find("app-01", "Vm", "Vm", "Ssh"));
        Assert.Null(set.Find("app-010", "Vm", "Vm", "Ssh"));
        Assert.NotNull(set.Find("node2", "Vm", "Vm", "Ping"));
        Assert.Null(set.Find("node3", "Vm", "Vm", "Ping"));
        Assert.NotNull(set.Find("anything", "Vm", "Vm", "GuestAgent"));
    }

    [Fact]
    public void Bad_lines_are_reported_with_their_number_and_good_lines_still_apply()
    {
        var set = Exclusions.ExclusionSet.ParseFile("/etc/ex.conf", "ok-1\nweb 01\n:Ping\nweb-02:Telnet\nok-2:Ssh\n", out var errors);
        Assert.Equal(["ok-1", "ok-2:Ssh"], set.Rules.Select(r => r.Text));
        Assert.Equal(3, errors.Count);
        Assert.StartsWith("/etc/ex.conf:2: ", errors[0]);
        Assert.Contains("contains spaces", errors[0]);
        Assert.StartsWith("/etc/ex.conf:3: ", errors[1]);
        Assert.StartsWith("/etc/ex.conf:4: ", errors[2]);
        Assert.Contains("unknown check 'Telnet'", errors[2]);
    }

    [Fact]
    public void The_shipped_example_parses_cleanly()
    {
        var path = Path.Combine(InventoryFileReaderTests.FindRoot(), "examples/exclusions.conf");
        var set = Exclusions.ExclusionSet.ParseFile(path, File.ReadAllText(path), out var errors);
        Assert.Empty(errors);
        Assert.Equal(5, set.Rules.Count);
        Assert.Equal(("db-02", "kernel upgrade, OPS-142"), (set.Rules[4].Text, set.Rules[4].Reason));
        Assert.Equal(new DateTimeOffset(2026, 12, 24, 18, 0, 0, TimeSpan.Zero), set.Rules[4].Until);
    }
}
