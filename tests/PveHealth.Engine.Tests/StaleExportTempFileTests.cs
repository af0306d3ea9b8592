using PveHealth.Execution;
using PveHealth.Metrics;
using Xunit;

namespace PveHealth.Tests;

/// <summary>Export: temporary files of killed writes are cleaned by the next export; a live writer's file is kept.</summary>
public class StaleExportTempFileTests
{
    [Fact]
    public void Stale_temporary_files_are_removed_by_the_next_write()
    {
        var dir = Directory.CreateTempSubdirectory("pvehealth-export-");
        try
        {
            var target = Path.Combine(dir.FullName, "pve_health.prom");
            // A writer that was killed: a process id that is not running (beyond pid_max).
            var dead = Path.Combine(dir.FullName, $".pve_health.prom.{int.MaxValue - 1}.{Guid.NewGuid():N}.tmp");
            File.WriteAllText(dead, new string('x', 1000));
            // An old one of a live id (ids are reused): stale by age.
            var old = Path.Combine(dir.FullName, $".pve_health.prom.1.{Guid.NewGuid():N}.tmp");
            File.WriteAllText(old, "x");
            File.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-2));
            // A live writer's file (this process, just now) and a file that is not ours stay.
            var live = Path.Combine(dir.FullName, $".pve_health.prom.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
            File.WriteAllText(live, "x");
            var other = Path.Combine(dir.FullName, ".other.tmp");
            File.WriteAllText(other, "x");

            AtomicFileWriter.Write(target, "up 1\n");

            Assert.False(File.Exists(dead));
            Assert.False(File.Exists(old));
            Assert.True(File.Exists(live));
            Assert.True(File.Exists(other));
            Assert.Equal("up 1\n", File.ReadAllText(target));
        }
        finally { dir.Delete(recursive: true); }
    }
}
