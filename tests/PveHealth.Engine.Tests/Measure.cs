using System.Diagnostics;
using PveHealth.Configuration;

namespace PveHealth.Tests;

/// <summary>Measures what a piece of code allocates (tests in this collection run alone, so the count is theirs).</summary>
internal static class Measure
{
    public static async Task<(T Value, long AllocatedBytes, TimeSpan Elapsed)> Run<T>(Func<Task<T>> action)
    {
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        var value = await action();
        watch.Stop();
        return (value, GC.GetTotalAllocatedBytes(precise: true) - before, watch.Elapsed);
    }

    public const long MiB = 1024 * 1024;
}
