using System.Globalization;

namespace PveHealth.Checks;

/// <summary>Short human durations for Details: "4 s", "12 min", "3.5 h", "9 d".</summary>
public static class Durations
{
    public static string Short(TimeSpan t)
    {
        if (t < TimeSpan.Zero) t = TimeSpan.Zero;
        var c = CultureInfo.InvariantCulture;
        if (t.TotalSeconds < 90) return $"{Math.Round(t.TotalSeconds).ToString(c)} s";
        if (t.TotalMinutes < 90) return $"{Math.Round(t.TotalMinutes).ToString(c)} min";
        if (t.TotalHours < 48) return $"{Math.Round(t.TotalHours, 1).ToString(c)} h";
        return $"{Math.Round(t.TotalDays, 1).ToString(c)} d";
    }

    /// <summary>"2026-11-26 14:03:12Z".</summary>
    public static string Stamp(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
