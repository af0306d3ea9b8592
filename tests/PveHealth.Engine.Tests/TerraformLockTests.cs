using System.Text;
using PveHealth.Checks.Minio;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class TerraformLockTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Reads_who_and_created_with_nanoseconds()
    {
        var l = TerraformLock.Parse(Encoding.UTF8.GetBytes("""{"ID":"abc","Operation":"OperationTypeApply","Info":"","Who":"ci@runner","Version":"1.9.8","Created":"2026-11-26T12:00:00.123456789Z","Path":"tfstate/x"}"""));
        Assert.Equal("ci@runner", l.Who);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero).AddTicks(1234567), l.Created);
    }

    [Fact]
    public void A_stale_lock_is_a_Warning_naming_who_and_since_when_from_Created_not_LastModified()
    {
        var l = new TerraformLock("abc", "OperationTypeApply", "ci@runner", "1.9.8", Now.AddHours(-3), "tfstate/x");
        // LastModified is recent (an upload or a copy): the lock's own Created decides.
        var (status, detail) = MinioStorageCheck.EvaluateLock(l, null, Now.AddSeconds(-5), Now, TimeSpan.FromMinutes(60));
        Assert.Equal(CheckStatus.Warning, status);
        Assert.Contains("held by ci@runner since 2026-11-26 12:00:00Z", detail);
        Assert.Contains("terraform force-unlock abc", detail);
    }

    [Fact]
    public void A_young_lock_is_Ok_and_a_lock_without_Created_uses_LastModified()
    {
        var young = new TerraformLock("abc", "OperationTypeApply", "ci@runner", "1.9.8", Now.AddMinutes(-2), null);
        Assert.Equal(CheckStatus.Ok, MinioStorageCheck.EvaluateLock(young, null, Now, Now, TimeSpan.FromMinutes(60)).Status);
        var noCreated = new TerraformLock("abc", null, "ci@runner", null, null, null);
        var (status, detail) = MinioStorageCheck.EvaluateLock(noCreated, null, Now.AddHours(-2), Now, TimeSpan.FromMinutes(60));
        Assert.Equal(CheckStatus.Warning, status);
        Assert.Contains("Created missing", detail);
    }

    [Fact]
    public void Unreadable_lock_json_is_reported_with_line_and_byte()
    {
        var ex = Assert.Throws<StateInvalidException>(() => TerraformLock.Parse(Encoding.UTF8.GetBytes("{\"ID\":")));
        Assert.StartsWith("invalid JSON at line 1", ex.Message);
    }
}
