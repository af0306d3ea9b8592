using System.Text.Json;
using PveHealth.Clients.Proxmox;
using Xunit;

namespace PveHealth.Tests;

public class ProxmoxParserTests
{
    private static JsonElement Data(string json) => JsonDocument.Parse(json).RootElement.GetProperty("data").Clone();

    [Fact]
    public void Resources_read_real_shapes_with_0_1_booleans_tags_missing_names_and_unknown_status()
    {
        var rows = ProxmoxParsers.ParseResources(Data("""
            {"data":[
              {"id":"qemu/101","type":"qemu","vmid":101,"node":"pve1","name":"web-01","status":"running","template":0,"tags":"web;prod","uptime":3600,"cpu":0.02,"maxmem":2147483648},
              {"id":"lxc/104","type":"lxc","vmid":"104","node":"pve2","status":"unknown","template":0},
              {"id":"qemu/9000","type":"qemu","vmid":9000,"node":"pve1","name":"tmpl","status":"stopped","template":1},
              {"id":"node/pve1","type":"node","node":"pve1","status":"online"},
              {"id":"storage/pve1/local","type":"storage","node":"pve1"}
            ]}
            """));
        Assert.Equal(3, rows.Count);
        var web = rows[0];
        Assert.Equal((101, "qemu", "pve1", "web-01", "running", false), (web.VmId, web.Type, web.Node, web.Name, web.Status, web.Template));
        Assert.Equal(["web", "prod"], web.Tags);
        Assert.Equal(3600, web.Uptime);
        var ct = rows[1];
        Assert.Equal(104, ct.VmId);
        Assert.True(ct.IsLxc);
        Assert.Equal(string.Empty, ct.Name);
        Assert.Equal("unknown", ct.Status);
        Assert.Empty(ct.Tags);
        Assert.True(rows[2].Template);
    }

    [Fact]
    public void Cluster_status_reads_quorum_and_nodes()
    {
        var s = ProxmoxParsers.ParseClusterStatus(Data("""
            {"data":[{"type":"cluster","id":"cluster","name":"lab","nodes":2,"quorate":1,"version":3},
                     {"type":"node","id":"node/pve1","name":"pve1","nodeid":1,"ip":"10.0.0.1","local":1,"online":1},
                     {"type":"node","id":"node/pve2","name":"pve2","nodeid":2,"ip":"10.0.0.2","local":0,"online":0}]}
            """));
        Assert.Equal("lab", s.Name);
        Assert.True(s.Quorate);
        Assert.True(s.Node("pve1")!.Online);
        Assert.False(s.Node("pve2")!.Online);
        var standalone = ProxmoxParsers.ParseClusterStatus(Data("""{"data":[{"type":"node","name":"pve","online":1}]}"""));
        Assert.Null(standalone.Quorate);
    }

    [Fact]
    public void Agent_interfaces_skip_loopback_and_link_local_and_accept_both_type_spellings()
    {
        var list = ProxmoxParsers.ParseAgentInterfaces(Data("""
            {"data":{"result":[
              {"name":"lo","ip-addresses":[{"ip-address":"127.0.0.1","ip-address-type":"ipv4","prefix":8},{"ip-address":"::1","ip-address-type":"ipv6","prefix":128}]},
              {"name":"eth0","ip-addresses":[{"ip-address":"fe80::1","ip-address-type":"ipv6","prefix":64},{"ip-address":"2001:db8::5","ip-address-type":"inet6","prefix":64},{"ip-address":"192.0.2.10","ip-address-type":"inet","prefix":24}]}]}}
            """));
        Assert.Equal(5, list.Count);
        Assert.Equal("192.0.2.10", ProxmoxParsers.PickAddress(list)!.ToString());
        Assert.Equal("2001:db8::5", ProxmoxParsers.PickAddress(list, "ipv6")!.ToString());
        Assert.Null(ProxmoxParsers.PickAddress(list, "ipv4", "10.0.0.0/8"));
        Assert.Equal("192.0.2.10", ProxmoxParsers.PickAddress(list, "any", "192.0.2.0/24")!.ToString());
    }

    [Fact]
    public void Lxc_interfaces_read_inet_with_prefix_new_style_lists_and_data_null()
    {
        var old = ProxmoxParsers.ParseLxcInterfaces(Data("""
            {"data":[{"name":"lo","inet":"127.0.0.1/8","inet6":"::1/128"},{"name":"eth0","hwaddr":"bc:24:11:00:00:68","inet":"192.0.2.4/24","inet6":"fe80::1/64"}]}
            """));
        Assert.Equal("192.0.2.4", ProxmoxParsers.PickAddress(old)!.ToString());
        Assert.Equal(24, old.First(a => a.Address.ToString() == "192.0.2.4").Prefix);
        var newer = ProxmoxParsers.ParseLxcInterfaces(Data("""
            {"data":[{"name":"eth0","ip-addresses":[{"ip-address":"198.51.100.7","ip-address-type":"inet","prefix":24}]}]}
            """));
        Assert.Equal("198.51.100.7", ProxmoxParsers.PickAddress(newer)!.ToString());
        Assert.Empty(ProxmoxParsers.ParseLxcInterfaces(Data("""{"data":null}""")));
        Assert.Null(ProxmoxParsers.PickAddress(ProxmoxParsers.ParseLxcInterfaces(Data("""{"data":null}"""))));
    }

    [Theory]
    [InlineData("AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89", true)]
    [InlineData("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", true)]
    [InlineData("AB:CD", false)]
    [InlineData("zz:cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", false)]
    public void Fingerprints_accept_hex_with_or_without_colons(string text, bool valid)
        => Assert.Equal(valid, ProxmoxClient.ParseFingerprint(text) is not null);
}
