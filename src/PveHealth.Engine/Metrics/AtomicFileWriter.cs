using System.Text;

namespace PveHealth.Metrics;

/// <summary>A failed atomic write. The previous file at the target is untouched and no temp file is left.</summary>
public sealed class MetricsExportException : EngineException
{
    /// <summary><paramref name="failure"/> is one of the Metrics* failures.</summary>
    public MetricsExportException(EngineFailure failure, string path, string message, Exception? inner = null)
        : base(failure, message, path, inner)
    {
        Path = path;
    }

    public string Path { get; }
}

/// <summary>
/// Writes a whole file so that readers (node_exporter) see either the previous content or the new one,
/// never a part: the text goes to a uniquely named temp file in the same folder (same file system),
/// is flushed to disk, made world-readable (0644: node_exporter runs as another user), then renamed
/// over the target (rename(2) is atomic). Concurrent writers each use their own temp file; the last
/// rename wins and every intermediate state is a complete file. The temp name starts with a dot and
/// does not end in ".prom", so the textfile collector never reads it.
/// </summary>
public static class AtomicFileWriter
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    public static void Write(string path, string content)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(content);
        var full = System.IO.Path.GetFullPath(path);
        var folder = System.IO.Path.GetDirectoryName(full);
        var name = System.IO.Path.GetFileName(full);
        if (string.IsNullOrEmpty(folder) || string.IsNullOrEmpty(name))
        {
            throw new MetricsExportException(EngineFailure.MetricsPathIsDirectory, full, $"{full}: not a file path.");
        }
        if (!Directory.Exists(folder))
        {
            throw new MetricsExportException(EngineFailure.MetricsFolderNotFound, full,
                $"{full}: the folder {folder} does not exist; create it (node_exporter's --collector.textfile.directory) or choose another -Path.");
        }
        if (Directory.Exists(full))
        {
            throw new MetricsExportException(EngineFailure.MetricsPathIsDirectory, full, $"{full}: is a directory; -Path must name a file such as {System.IO.Path.Combine(full, "pve_health.prom")}.");
        }

        RemoveStaleTemporaryFiles(folder, name);
        var temp = System.IO.Path.Combine(folder, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var bytes = Utf8NoBom.GetBytes(content);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
            }
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows())
            {
                // UnixCreateMode is filtered by the umask (systemd services often run with 0077): set it explicitly.
                File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            TryDelete(temp);
            if (ex is UnauthorizedAccessException)
            {
                throw new MetricsExportException(EngineFailure.MetricsAccessDenied, full,
                    $"{full}: permission denied writing in {folder}; the user running the check needs write access to that folder (ReadWritePaths= in the unit).", ex);
            }
            throw new MetricsExportException(EngineFailure.MetricsWriteFailed, full, $"{full}: cannot write the metrics file: {ex.Message}", ex);
        }
    }

    /// <summary>A temporary file this old is stale even when its process id is alive again (ids are reused).</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

    /// <summary>
    /// Deletes the temporary files of earlier writes to <paramref name="name"/> that were killed before their rename
    /// (<c>.name.PID.GUID.tmp</c>): those whose process is gone, and any older than <see cref="StaleAfter"/>. A temp file
    /// of a running writer is left alone. Returns how many were deleted.
    /// </summary>
    public static int RemoveStaleTemporaryFiles(string folder, string name)
    {
        var removed = 0;
        IEnumerable<string> candidates;
        try { candidates = Directory.EnumerateFiles(folder, $".{name}.*.tmp").ToList(); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return 0; }
        var prefix = $".{name}.";
        foreach (var file in candidates)
        {
            var rest = System.IO.Path.GetFileName(file)[prefix.Length..];
            var parts = rest.Split('.');
            if (parts.Length != 3 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
                || parts[1].Length != 32 || parts[2] != "tmp")
            {
                continue; // not one of ours
            }
            DateTime written;
            try { written = File.GetLastWriteTimeUtc(file); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { continue; }
            var old = DateTime.UtcNow - written > StaleAfter;
            if (pid == Environment.ProcessId && !old) continue;
            if (!old && IsRunning(pid)) continue;
            TryDelete(file);
            if (!File.Exists(file)) removed++;
        }
        return removed;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path)) File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the temp name never ends in .prom, so a leftover is not read by node_exporter.
        }
    }
}
