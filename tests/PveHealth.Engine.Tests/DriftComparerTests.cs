using System.Text;
using System.Text.Json;
using PveHealth.Checks.Drift;
using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using PveHealth.Inventory;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

/// <summary>The comparison of declared guests with the cluster: one result per guest and per finding.</summary>
public class DriftComparerTests
{
    private static DeclaredGuest Vm(int? vmid, string? name, bool? started = true, string node = "pve1", string[]? tags = null, string? pool = null,
        bool? onBoot = null, bool? agent = null, bool observed = true, bool? template = false, GuestKind kind = GuestKind.Vm)
        => new()
        {
            Address = $"proxmox_virtual_environment_vm.g[\"{name}\"]", ResourceType = "proxmox_virtual_environment_vm", Provider = TerraformProvider.Bpg,
            Kind = kind, VmId = vmid, Name = name, Node = node, Tags = tags, Pool = pool, Started = started, StartedObserved = observed,
            StartedAttribute = observed ? "started" : "start", OnBoot = onBoot, OnBootAttribute = "on_boot", Agent = agent, Template = template, State = "s.tfstate",
        };

    private static ActualGuest Pve(int vmid, string name, string status = "running", string node = "pve1", string[]? tags = null, string? pool = null,
        bool template = false, string type = "qemu", bool? onBoot = null, bool? agent = null)
        => new()
        {
            Resource = new PveResource { Id = $"{type}/{vmid}", VmId = vmid, Type = type, Node = node, Name = name, Status = status, Template = template, Tags = tags ?? [], Pool = pool },
            OnBoot = onBoot, Agent = agent,
        };

    private static List<DriftFinding> Compare(DeclaredGuest[] declared, ActualGuest[] actual, DriftOptions? options = null)
        => DriftComparer.Compare(declared, actual, options ?? new DriftOptions());

    [Fact]
    public void A_matching_guest_is_one_Ok_Declared_row_and_nothing_else()
    {
        var f = Assert.Single(Compare([Vm(101, "web-01", tags: ["web", "Prod"], pool: "prod", onBoot: true, agent: true)],
            [Pve(101, "web-01", tags: ["prod", "web"], pool: "prod", onBoot: true, agent: true)]));
        Assert.Equal(("web-01", "Declared", CheckStatus.Ok, DriftKind.None), (f.Component, f.Check, f.Status, f.Kind));
        Assert.StartsWith("matches the state: VMID 101 running on node pve1 (declared by proxmox_virtual_environment_vm.g[\"web-01\"] in s.tfstate)", f.Detail);
    }

    [Fact]
    public void Declared_but_absent_is_Critical_by_VMID_and_by_name_without_one()
    {
        var findings = Compare([Vm(107, "gone-01"), Vm(null, "byname-01")], [Pve(101, "web-01"), Pve(150, "byname-01")]);
        var gone = Assert.Single(findings, f => f.Component == "gone-01");
        Assert.Equal((CheckStatus.Critical, DriftKind.Missing, "Declared"), (gone.Status, gone.Kind, gone.Check));
        Assert.Contains("absent from the cluster: no VMID 107 in /cluster/resources", gone.Detail);
        var byName = Assert.Single(findings, f => f.Component == "byname-01");
        Assert.Equal(CheckStatus.Unknown, byName.Status); // found by its name only: not proven to be this guest, not compared
        Assert.DoesNotContain(findings, f => f.Check == DriftComparer.UnmanagedCheck && f.Component == "byname-01");
        var missingByName = Assert.Single(Compare([Vm(null, "nowhere-01")], [Pve(101, "web-01")], new DriftOptions { ReportUnmanaged = false }));
        Assert.Contains("no guest named nowhere-01 in /cluster/resources (the state has no VMID)", missingByName.Detail);
    }

    [Fact]
    public void A_VMID_declared_twice_is_one_Declared_Warning_naming_both_resources_and_the_guest_is_not_unmanaged()
    {
        var a = Vm(101, "web-01", tags: ["web"]);
        var b = new DeclaredGuest
        {
            Address = "module.old.proxmox_vm_qemu.web", ResourceType = "proxmox_vm_qemu", Provider = TerraformProvider.Telmate, Kind = GuestKind.Vm,
            VmId = 101, Name = "web-old", Started = false, StartedObserved = true, StartedAttribute = "vm_state", State = "old.tfstate",
        };
        var findings = Compare([a, b], [Pve(101, "web-01", status: "stopped", tags: ["db"])]);
        var f = Assert.Single(findings);
        Assert.Equal(("web-01", "Declared", CheckStatus.Warning, DriftKind.Attributes, 101), (f.Component, f.Check, f.Status, f.Kind, f.VmId));
        Assert.Contains("VMID 101 is declared 2 times", f.Detail);
        Assert.Contains("proxmox_virtual_environment_vm.g[\"web-01\"] in s.tfstate (name web-01)", f.Detail);
        Assert.Contains("module.old.proxmox_vm_qemu.web in old.tfstate (name web-old)", f.Detail);
        Assert.Contains("not compared", f.Detail);
        // The same whichever order the states were read in.
        Assert.Equal(f, Assert.Single(Compare([b, a], [Pve(101, "web-01", status: "stopped", tags: ["db"])])));

        var gone = Assert.Single(Compare([a, b], [Pve(102, "other")], new DriftOptions { ReportUnmanaged = false }));
        Assert.Equal((CheckStatus.Critical, DriftKind.Missing), (gone.Status, gone.Kind));
        Assert.Contains("absent from the cluster", gone.Detail);
        Assert.Contains("declared 2 times", gone.Detail);
    }

    [Fact]
    public void The_gauge_counts_guests_per_kind_once_each_zeros_included()
    {
        var findings = Compare(
            [Vm(101, "web-01", onBoot: true, tags: ["a"]), Vm(102, "db-01"), Vm(107, "gone-01"), Vm(103, "ok-01")],
            [Pve(101, "web-01", onBoot: false, tags: ["b"]), Pve(102, "db-01", status: "stopped"), Pve(103, "ok-01"), Pve(150, "hand-01"), Pve(151, "hand-02")]);
        var gauge = DriftCheck.Gauge(findings).ToDictionary(m => m.Labels.Single().Value, m => m.Value);
        Assert.Equal(new Dictionary<string, double> { ["missing"] = 1, ["unmanaged"] = 2, ["stopped"] = 1, ["attributes"] = 1 }, gauge); // web-01 has two attribute findings, counted once
        Assert.All(DriftCheck.Gauge([]), m => Assert.Equal(("pve_health_drift_guests", 0.0), (m.Name, m.Value)));
        var text = PveHealth.Metrics.PrometheusTextWriter.Render([new CheckResult("lab", "web-01", "Vm", "Declared", CheckStatus.Ok, "x", TimeSpan.Zero, "t") { Measurements = DriftCheck.Gauge(findings) }]);
        Assert.Contains("pve_health_drift_guests{environment=\"lab\",kind=\"unmanaged\"} 2\n", text);
    }

    [Fact]
    public void Unmanaged_guests_are_Warnings_within_the_scope_templates_left_out()
    {
        var actual = new[]
        {
            Pve(101, "web-01"), Pve(150, "hand-01"), Pve(9000, "tmpl", status: "stopped", template: true),
            Pve(800, "lab-01", pool: "sandbox"), Pve(801, "tagged-01", tags: ["Terraform"]), Pve(802, "pooled-01", pool: "prod"),
        };
        var all = Compare([Vm(101, "web-01")], actual);
        Assert.Equal(["hand-01", "lab-01", "tagged-01", "pooled-01"], all.Where(f => f.Check == "Unmanaged").Select(f => f.Component).ToArray());
        Assert.All(all.Where(f => f.Check == "Unmanaged"), f => Assert.Equal((CheckStatus.Warning, DriftKind.Unmanaged), (f.Status, f.Kind)));
        Assert.Contains("in the cluster (VMID 150, running on node pve1) but declared in no Terraform state; every guest is in scope", all.Single(f => f.Component == "hand-01").Detail);

        var scope = new DriftScopeConfig { Pools = ["prod"], Tags = ["terraform"], VmidRanges = ["100-199"] };
        var scoped = Compare([Vm(101, "web-01")], actual, new DriftOptions { Scope = scope }).Where(f => f.Check == "Unmanaged").ToList();
        Assert.Equal(["hand-01", "tagged-01", "pooled-01"], scoped.Select(f => f.Component).ToArray());
        Assert.EndsWith("in scope by VMID range 100-199", scoped[0].Detail);
        Assert.EndsWith("in scope by tag Terraform", scoped[1].Detail);
        Assert.EndsWith("in scope by pool prod", scoped[2].Detail);

        Assert.DoesNotContain(Compare([Vm(101, "web-01")], actual, new DriftOptions { ReportUnmanaged = false }), f => f.Check == "Unmanaged");
    }

    [Fact]
    public void Declared_to_run_but_stopped_is_Critical_an_observed_stop_is_not_a_finding()
    {
        var stopped = Compare([Vm(103, "db-01", started: true)], [Pve(103, "db-01", status: "stopped")]);
        var p = Assert.Single(stopped, f => f.Check == "PowerState");
        Assert.Equal((CheckStatus.Critical, DriftKind.Stopped), (p.Status, p.Kind));
        Assert.Equal("declared to run (started = true in the state) but stopped on node pve1", p.Detail);
        Assert.Contains("1 difference: PowerState", stopped.Single(f => f.Check == "Declared").Detail);

        // bpg wrote "stopped" back on refresh: the last observation, not intent.
        var observed = Assert.Single(Compare([Vm(103, "db-01", started: false)], [Pve(103, "db-01", status: "stopped")]));
        Assert.Equal(CheckStatus.Ok, observed.Status);
        Assert.Contains("started = false is the provider's last observation (written back on refresh), not intent", observed.Detail);
        // ... unless the configuration says every declared guest runs.
        var expected = Compare([Vm(103, "db-01", started: false)], [Pve(103, "db-01", status: "stopped")], new DriftOptions { ExpectRunning = true });
        Assert.Equal("declared to run (drift.expectRunning) but stopped on node pve1", expected.Single(f => f.Check == "PowerState").Detail);

        // Telmate proxmox_lxc start = false is configuration: a running container differs.
        var ct = Compare([Vm(105, "cache-01", started: false, observed: false, kind: GuestKind.Lxc)], [Pve(105, "cache-01", type: "lxc")]);
        var w = Assert.Single(ct, f => f.Check == "PowerState");
        Assert.Equal((CheckStatus.Warning, "declared stopped (start = false in the state) but running on node pve1"), (w.Status, w.Detail));

        // A guest of an offline node: nothing compared, said so.
        var unknown = Assert.Single(Compare([Vm(103, "db-01", started: true)], [Pve(103, "db-01", status: "unknown")]));
        Assert.Contains("power state not compared: node pve1 is offline", unknown.Detail);
    }

    [Fact]
    public void Onboot_and_attribute_differences_are_Warnings_naming_both_values()
    {
        var findings = Compare(
            [Vm(106, "ci-01", tags: ["ci"], pool: "ci", onBoot: true, agent: true, template: false)],
            [Pve(106, "ci-runner-01", tags: ["ci", "manual"], pool: null, onBoot: false, agent: false)]);
        var boot = Assert.Single(findings, f => f.Check == "OnBoot");
        Assert.Equal((CheckStatus.Warning, "start at boot differs: state on_boot = on, cluster onboot = off"), (boot.Status, boot.Detail));
        var attrs = Assert.Single(findings, f => f.Check == "Attributes");
        Assert.Equal(CheckStatus.Warning, attrs.Status);
        Assert.Equal("name: state 'ci-01', cluster 'ci-runner-01'; tags: state 'ci', cluster 'ci;manual'; pool: state 'ci', cluster '(none)'; agent: state enabled, cluster disabled", attrs.Detail);
        Assert.Equal("ci-01", attrs.Component); // named as declared
    }

    [Fact]
    public void A_node_move_is_information_unless_nodes_are_pinned()
    {
        var moved = Assert.Single(Compare([Vm(101, "web-01", node: "pve1")], [Pve(101, "web-01", node: "pve2")]));
        Assert.Equal(CheckStatus.Ok, moved.Status);
        Assert.Contains("on node pve2 (the state says pve1: a migration or HA move, not drift)", moved.Detail);
        var pinned = Compare([Vm(101, "web-01", node: "pve1")], [Pve(101, "web-01", node: "pve2")], new DriftOptions { PinNodes = true });
        Assert.Equal("node: state 'pve1', cluster 'pve2' (drift.pinNodes)", pinned.Single(f => f.Check == "Attributes").Detail);
    }

    [Fact]
    public void Values_the_state_or_the_cluster_does_not_give_are_not_compared_and_say_so()
    {
        var f = Assert.Single(Compare([Vm(101, "web-01", started: null, tags: null, onBoot: true, agent: true)], [Pve(101, "web-01", tags: ["x"])]));
        Assert.Equal(CheckStatus.Ok, f.Status);
        Assert.Contains("the state records no power intent", f.Detail);
        Assert.Contains("start at boot not compared: config not read", f.Detail);
        Assert.Contains("agent not compared: config not read", f.Detail);
    }

    [Theory]
    [InlineData("{\"agent\":\"1\"}", true)]
    [InlineData("{\"agent\":\"enabled=1,fstrim_cloned_disks=1\"}", true)]
    [InlineData("{\"agent\":\"0,type=virtio\"}", false)]
    [InlineData("{\"agent\":1}", true)]
    [InlineData("{}", false)]
    public void The_qemu_agent_option_is_read_in_all_its_spellings(string json, bool enabled)
    {
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(enabled, DriftCheck.AgentEnabled(doc.RootElement));
    }

    [Fact]
    public void An_unreadable_stale_or_empty_state_is_one_Unknown_with_no_findings_from_it()
    {
        var empty = TerraformDeclarations.Parse(Encoding.UTF8.GetBytes("{\"version\":4,\"serial\":3,\"resources\":[]}"), "e");
        var (s1, d1) = DriftCheck.Judge(new DriftCheck.StateRead("tfstate/prod.tfstate", "", empty, null, TimeSpan.FromMinutes(5)), TimeSpan.FromHours(168));
        Assert.Equal(CheckStatus.Unknown, s1);
        Assert.Contains("declares no guest of the Proxmox providers (serial 3, age 5 min): an empty or wrong state would make every guest look unmanaged; no drift findings from it", d1);

        var good = TerraformDeclarations.Parse(TerraformDeclarationsTests.Fixture("bpg.tfstate"), "bpg");
        var (s2, d2) = DriftCheck.Judge(new DriftCheck.StateRead("bpg", "", good, null, TimeSpan.FromDays(9)), TimeSpan.FromHours(168));
        Assert.Equal(CheckStatus.Unknown, s2);
        Assert.StartsWith("not written for 9 d (limit 7 d, drift.maxStateAgeHours): too old to compare", d2);

        var (s3, d3) = DriftCheck.Judge(new DriftCheck.StateRead("x", "", null, "state object not found: tfstate/x", null), TimeSpan.FromHours(1));
        Assert.Equal((CheckStatus.Unknown, "state object not found: tfstate/x; no drift findings from it"), (s3, d3));

        var (s4, d4) = DriftCheck.Judge(new DriftCheck.StateRead("bpg", "", good, null, TimeSpan.FromHours(2)), TimeSpan.FromHours(168));
        Assert.Equal((CheckStatus.Ok, "3 guests declared (bpg 3), serial 31, age 2 h"), (s4, d4));
    }
}
