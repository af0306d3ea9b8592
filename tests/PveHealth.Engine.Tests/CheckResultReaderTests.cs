using System.Globalization;
using PveHealth.Model;
using Xunit;

namespace PveHealth.Tests;

public class CheckResultReaderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 6, 36, 38, 123, TimeSpan.Zero);

    private static Func<string, object?> Bag(params (string Name, object? Value)[] values)
    {
        var d = values.ToDictionary(v => v.Name, v => v.Value, StringComparer.OrdinalIgnoreCase);
        return name => d.TryGetValue(name, out var v) ? v : null;
    }

    [Fact]
    public void DurationSeconds_and_TimestampUtc_are_culture_independent_plain_values()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            // A German-like culture built by hand (the test host may run in globalization-invariant mode).
            var german = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            german.NumberFormat.NumberDecimalSeparator = ",";
            german.DateTimeFormat.ShortDatePattern = "dd.MM.yyyy";
            german.DateTimeFormat.DateSeparator = ".";
            CultureInfo.CurrentCulture = german;
            Assert.Equal("0,5", 0.5.ToString(CultureInfo.CurrentCulture));
            var r = new CheckResult("prod", "web-01", "Vm", "Ping", CheckStatus.Ok, "ok", TimeSpan.FromTicks(363599), null,
                new DateTimeOffset(2026, 11, 30, 7, 36, 38, 123, TimeSpan.FromHours(1)));
            Assert.Equal(0.036, r.DurationSeconds);
            Assert.Equal("2026-11-30T06:36:38.123Z", r.TimestampUtc);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void Reads_the_CSV_form_strings_only()
    {
        Assert.True(CheckResultReader.TryRead(Bag(("Environment", "prod"), ("Component", "db-01"), ("Type", "Vm"), ("Check", "Ssh"),
            ("Status", "critical"), ("Detail", "no SSH answer"), ("Duration", "00:00:02.9600000"), ("DurationSeconds", "2.96"),
            ("Timestamp", "11/30/2026 06:36:38 +00:00"), ("TimestampUtc", "2026-11-30T06:36:38.123Z"), ("Target", "127.10.0.3")),
            out var r, out var problem), problem);
        Assert.Equal(CheckStatus.Critical, r!.Status);
        Assert.Equal(TimeSpan.FromSeconds(2.96), r.Duration);
        Assert.Equal(T0, r.Timestamp);
        Assert.Equal("prod", r.Environment);
        Assert.Equal("127.10.0.3", r.Target);
    }

    [Fact]
    public void Reads_the_deserialized_form_TimeSpan_and_an_unspecified_UtcDateTime()
    {
        Assert.True(CheckResultReader.TryRead(Bag(("Component", "web-01"), ("Check", "Ping"), ("Status", "Ok"),
            ("Duration", TimeSpan.FromMilliseconds(40)), ("Timestamp", new DateTime(2026, 11, 30, 6, 36, 38, 123, DateTimeKind.Unspecified))),
            out var r, out var problem), problem);
        Assert.Equal(TimeSpan.FromMilliseconds(40), r!.Duration);
        Assert.Equal(T0, r.Timestamp);
    }

    [Fact]
    public void Source_is_kept_else_the_remoting_PSComputerName_else_empty_never_this_host()
    {
        (string, object?)[] basic = [("Component", "web-01"), ("Check", "Ping"), ("Status", "Ok"), ("TimestampUtc", "2026-11-30T06:36:38.123Z")];
        Assert.True(CheckResultReader.TryRead(Bag([.. basic, ("Source", "runner-a"), ("PSComputerName", "ignored")]), out var kept, out _));
        Assert.Equal("runner-a", kept!.Source);
        Assert.True(CheckResultReader.TryRead(Bag([.. basic, ("PSComputerName", "site-b-runner")]), out var remote, out _));
        Assert.Equal("site-b-runner", remote!.Source);
        Assert.True(CheckResultReader.TryRead(Bag(basic), out var unknown, out _));
        Assert.Equal(string.Empty, unknown!.Source);
        Assert.Equal(System.Environment.MachineName, new CheckResult("lab", "web-01", "Vm", "Ping", CheckStatus.Ok, "ok", TimeSpan.Zero).Source);
    }

    [Theory]
    [InlineData("2", "is not a status name")]
    [InlineData("0", "is not a status name")]
    [InlineData("Fine", "is not a status name")]
    [InlineData("", "no Status")]
    public void A_status_that_is_not_a_name_is_refused_never_guessed(string status, string expected)
    {
        Assert.False(CheckResultReader.TryRead(Bag(("Component", "web-01"), ("Check", "Ping"), ("Status", status), ("TimestampUtc", "2026-11-30T06:36:38Z")),
            out var r, out var problem));
        Assert.Null(r);
        Assert.Contains(expected, problem);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("NaN")]
    [InlineData("abc")]
    [InlineData("1e300")]
    public void A_bad_duration_is_refused(string seconds)
    {
        Assert.False(CheckResultReader.TryRead(Bag(("Component", "c"), ("Check", "Ping"), ("Status", "Ok"), ("DurationSeconds", seconds), ("TimestampUtc", "2026-11-30T06:36:38Z")),
            out _, out var problem));
        Assert.Contains("duration", problem);
    }

    [Fact]
    public void A_culture_dependent_or_missing_timestamp_is_refused()
    {
        Assert.False(CheckResultReader.TryRead(Bag(("Component", "c"), ("Check", "Ping"), ("Status", "Ok"), ("Timestamp", "11/30/2026 06:36:38 +00:00")), out _, out var p1));
        Assert.Contains("timestamp", p1);
        Assert.False(CheckResultReader.TryRead(Bag(("Component", "c"), ("Check", "Ping"), ("Status", "Ok")), out _, out _));
    }

    [Fact]
    public void An_object_without_Component_or_Check_is_not_a_result()
    {
        Assert.False(CheckResultReader.TryRead(Bag(("Name", "web-01"), ("Status", "Ok")), out _, out var problem));
        Assert.Contains("Component and Check", problem);
    }
}
