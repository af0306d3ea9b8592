using System.Text;
using PveHealth.Checks.Minio;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class TerraformStateTests
{
    private const string Valid = """
    {
      "version": 4,
      "terraform_version": "1.9.8",
      "serial": 42,
      "lineage": "3f2b8d1e",
      "outputs": { "vms": { "value": [], "type": "list" } },
      "resources": [ {}, {} ]
    }
    """;

    [Fact]
    public void A_valid_state_gives_serial_version_and_lineage()
    {
        var info = TerraformStateValidator.Validate(Encoding.UTF8.GetBytes(Valid));
        Assert.Equal(new TerraformStateInfo(4, "3f2b8d1e", 42, "1.9.8", 1, 2), info);
        var (status, detail) = MinioStorageCheck.Evaluate(Encoding.UTF8.GetBytes(Valid), TimeSpan.FromMinutes(5), TimeSpan.FromHours(1));
        Assert.Equal(CheckStatus.Ok, status);
        Assert.StartsWith("serial 42, age 5 min, terraform 1.9.8", detail);
    }

    [Fact]
    public void An_old_state_is_a_Warning()
    {
        var (status, detail) = MinioStorageCheck.Evaluate(Encoding.UTF8.GetBytes(Valid), TimeSpan.FromDays(10), TimeSpan.FromHours(168));
        Assert.Equal(CheckStatus.Warning, status);
        Assert.StartsWith("not written for 10 d (limit 7 d)", detail);
    }

    [Fact]
    public void A_truncated_state_names_the_line_and_byte()
    {
        var cut = string.Join("\n", Valid.Split('\n').Take(3)).TrimEnd(','); // ends after "terraform_version": "1.9.8"
        var ex = Assert.Throws<StateInvalidException>(() => TerraformStateValidator.Validate(Encoding.UTF8.GetBytes(cut)));
        Assert.Matches(@"^invalid JSON at line 3, byte \d+: the text ends inside an object or array", ex.Message);
        var broken = Encoding.UTF8.GetBytes("{\n  \"version\": 4,\n  \"serial\": 4x\n}");
        var ex2 = Assert.Throws<StateInvalidException>(() => TerraformStateValidator.Validate(broken));
        Assert.StartsWith("invalid JSON at line 3, byte 14:", ex2.Message);
    }

    [Theory]
    [InlineData("", "the object is empty (0 bytes)")]
    [InlineData("[]", "$: expected a JSON object")]
    [InlineData("{\"version\":3,\"serial\":1,\"lineage\":\"x\",\"terraform_version\":\"0.11.14\"}", "$.version: 3; expected a Terraform state of version 4")]
    [InlineData("{\"version\":4,\"serial\":1,\"terraform_version\":\"1.5.0\"}", "$.lineage: missing or empty")]
    [InlineData("{\"version\":4,\"lineage\":\"x\",\"terraform_version\":\"1.5.0\"}", "$.serial: missing")]
    [InlineData("{\"version\":4,\"lineage\":\"x\",\"serial\":1}", "$.terraform_version: missing")]
    public void Invalid_states_are_rejected_with_the_reason(string text, string expected)
    {
        var ex = Assert.Throws<StateInvalidException>(() => TerraformStateValidator.Validate(Encoding.UTF8.GetBytes(text)));
        Assert.StartsWith(expected, ex.Message);
    }
}
