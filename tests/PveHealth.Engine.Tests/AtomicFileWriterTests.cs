using PveHealth.Metrics;
using Xunit;

namespace PveHealth.Tests;

public class AtomicFileWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pvehealth-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Replaces_the_file_and_leaves_no_temp_file()
    {
        var path = Path.Combine(_dir, "pve_health.prom");
        AtomicFileWriter.Write(path, "one\n");
        AtomicFileWriter.Write(path, "two ü\n");
        Assert.Equal("two ü\n", File.ReadAllText(path));
        Assert.Equal(new[] { "pve_health.prom" }, Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void A_missing_folder_is_FolderNotFound()
    {
        var ex = Assert.Throws<MetricsExportException>(() => AtomicFileWriter.Write(Path.Combine(_dir, "missing", "x.prom"), "x\n"));
        Assert.Equal(EngineFailure.MetricsFolderNotFound, ex.Failure);
    }

    [Fact]
    public void A_directory_as_target_is_PathIsDirectory_and_is_left_alone()
    {
        var target = Directory.CreateDirectory(Path.Combine(_dir, "dir.prom")).FullName;
        var ex = Assert.Throws<MetricsExportException>(() => AtomicFileWriter.Write(target, "x\n"));
        Assert.Equal(EngineFailure.MetricsPathIsDirectory, ex.Failure);
        Assert.True(Directory.Exists(target));
    }

    [Fact]
    public async Task Concurrent_writers_always_leave_a_complete_file()
    {
        var path = Path.Combine(_dir, "pve_health.prom");
        var contents = Enumerable.Range(0, 8).Select(i => string.Concat(Enumerable.Repeat($"writer{i} line\n", 2000))).ToArray();
        AtomicFileWriter.Write(path, contents[0]);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var writers = contents.Select(c => Task.Run(() => { for (var n = 0; n < 25 && !stop.IsCancellationRequested; n++) AtomicFileWriter.Write(path, c); })).ToArray();
        var reads = 0;
        while (!Task.WhenAll(writers).IsCompleted && reads < 100_000 && !stop.IsCancellationRequested)
        {
            var text = File.ReadAllText(path);
            Assert.Contains(text, contents);
            reads++;
        }
        await Task.WhenAll(writers);
        Assert.Contains(File.ReadAllText(path), contents);
        Assert.True(reads > 0);
        Assert.Single(Directory.GetFiles(_dir));
    }
}
