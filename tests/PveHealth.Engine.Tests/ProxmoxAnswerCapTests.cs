using PveHealth.Clients.Proxmox;
using PveHealth.Configuration;
using Xunit;

namespace PveHealth.Tests;

/// <summary>
/// <c>proxmox.maxAnswerMiB</c>: the Proxmox answer cap an operator may raise for an estate whose answers meet the default
/// (a PBS storage listing tens of thousands of backups), and never beyond the fixed upper limit.
/// </summary>
public sealed class ProxmoxAnswerCapTests : IDisposable
{
    private readonly string _secretFile = Path.Combine(Path.GetTempPath(), $"pvehealth-cap-{Guid.NewGuid():N}");

    public ProxmoxAnswerCapTests() => File.WriteAllText(_secretFile, "cap-test-secret");

    public void Dispose() => File.Delete(_secretFile);

    /// <summary>A JSON answer of about 3 MiB: one string of 3 MiB in data.</summary>
    private static string ThreeMiB() => "{\"data\":[{\"volid\":\"" + new string('x', 3 * 1024 * 1024) + "\"}]}";

    private ProxmoxClient Client(string url, int? mib) => ProxmoxClient.Create(new ProxmoxConfig
    {
        Url = url, TokenId = "mon@pve!health", TokenSecret = new SecretReference { File = _secretFile }, MaxAnswerMiB = mib,
    }, TimeSpan.FromSeconds(10));

    [Fact]
    public async Task An_answer_over_the_configured_cap_is_refused_naming_that_cap()
    {
        using var server = new HostileServer(HostileServer.Json(200, ThreeMiB()));
        using var client = Client(server.Url, 2);
        Assert.Equal(2L * 1024 * 1024, client.MaxAnswer);
        var ex = await Assert.ThrowsAsync<ProxmoxApiException>(() => client.GetAsync("nodes/pve1/storage/pbs/content", CancellationToken.None));
        Assert.Equal(ProxmoxFailure.InvalidResponse, ex.Failure);
        Assert.Contains("larger than 2 MiB", ex.Message);
    }

    [Fact]
    public async Task A_raised_cap_reads_the_answer_and_the_default_stays_32_MiB()
    {
        using var server = new HostileServer(HostileServer.Json(200, ThreeMiB()));
        using var raised = Client(server.Url, 4);
        var data = await raised.GetAsync("nodes/pve1/storage/pbs/content", CancellationToken.None);
        Assert.Equal(3 * 1024 * 1024, data[0].GetProperty("volid").GetString()!.Length);
        using var byDefault = Client(server.Url, null);
        Assert.Equal(ProxmoxClient.MaxAnswerBytes, byDefault.MaxAnswer);
        Assert.Equal(32L * 1024 * 1024, byDefault.MaxAnswer);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1025")]
    [InlineData("-5")]
    public void A_cap_outside_1_to_1024_MiB_is_a_configuration_error_naming_the_path(string value)
    {
        var json = "{\"environments\": {\"prod\": {\"proxmox\": {\"url\": \"https://127.0.0.1:8006\", \"tokenId\": \"mon@pve!health\", " +
                   "\"tokenSecret\": {\"env\": \"PVE_TOKEN\"}, \"maxAnswerMiB\": " + value + "}}}}";
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(json, "/etc/pve-health/config.json", out _));
        Assert.Equal("$.environments.prod.proxmox.maxAnswerMiB", ex.JsonPath);
        Assert.Contains("from 1 to 1024", ex.Message);
    }
}
