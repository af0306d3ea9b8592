using System.Text;

namespace PveHealth;

/// <summary>
/// Input larger than the cap its boundary allows: an HTTP answer (counted after decompression), a file, a process's
/// or an SSH command's output. The message names the source and the cap ("answer from X larger than 32 MiB") and
/// never holds any of the content.
/// </summary>
public sealed class InputTooLargeException(string source, long cap)
    : IOException($"{source} is larger than {BoundedInput.Size(cap)} (the cap for it); nothing of it was used")
{
    public string InputSource { get; } = source;
    public long Cap { get; } = cap;
}

/// <summary>
/// A file that is not UTF-8 text: the message names the source and the line and byte of the first invalid sequence
/// ("line 3, byte 8": both counted from 1) and never holds any of the content. An <see cref="IOException"/>, so every
/// reader that words unreadable files words this one too; the configuration and inventory readers name it invalid.
/// </summary>
public sealed class InvalidTextException(string source, int line, int byteInLine)
    : IOException($"{source} is not valid UTF-8 text (line {line}, byte {byteInLine}); save it as UTF-8")
{
    public int Line { get; } = line;
    public int ByteInLine { get; } = byteInLine;
}

/// <summary>
/// The one way PveHealth reads input it does not control: every read has a cap on the bytes it keeps (an endless
/// body, a gzip bomb, <c>/dev/zero</c> or a runaway command stop at the cap, with <see cref="InputTooLargeException"/>)
/// and every network read is bounded by the caller's token (its deadline).
/// </summary>
public static class BoundedInput
{
    /// <summary>Proxmox API answers (1,000 guests in /cluster/resources is about 0.5 MiB).</summary>
    public const long ProxmoxAnswerBytes = 32L * 1024 * 1024;
    /// <summary>Health, target and alert answers of Prometheus, Grafana, Alertmanager and MinIO health routes.</summary>
    public const long MonitoringAnswerBytes = 16L * 1024 * 1024;
    /// <summary>Each S3 answer (a listing page of 1,000 keys is about 0.3 MiB).</summary>
    public const long S3AnswerBytes = 16L * 1024 * 1024;
    /// <summary>The configuration file.</summary>
    public const long ConfigFileBytes = 4L * 1024 * 1024;
    /// <summary>A secret file (a token, a password, a key).</summary>
    public const long SecretFileBytes = 64L * 1024;
    /// <summary>An inventory file, a terraform output file or state file, and the output of terraform.</summary>
    public const long InventoryBytes = 64L * 1024 * 1024;
    /// <summary>What a process or SSH command says on stderr (only a summary is shown).</summary>
    public const long ErrorOutputBytes = 1L * 1024 * 1024;
    /// <summary>The output of the Docker command run over SSH (one status line is expected).</summary>
    public const long SshOutputBytes = 64L * 1024;
    /// <summary>The exclusions file.</summary>
    public const long ExclusionFileBytes = 4L * 1024 * 1024;

    /// <summary>"32 MiB", "64 KiB", "100 bytes".</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1024 * 1024 when bytes % (1024 * 1024) == 0 => $"{bytes / (1024 * 1024)} MiB",
        >= 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.#} MiB".Replace(',', '.'),
        >= 1024 when bytes % 1024 == 0 => $"{bytes / 1024} KiB",
        _ => $"{bytes} bytes",
    };

    /// <summary>
    /// Reads at most <paramref name="cap"/> bytes of <paramref name="stream"/>; one byte more throws
    /// <see cref="InputTooLargeException"/> naming <paramref name="source"/>.
    /// </summary>
    /// <remarks>
    /// The bytes are kept in chunks below the large-object size and joined once at the end: a growing MemoryStream
    /// would leave its earlier doubled buffers as garbage (an answer stopped at a 32 MiB cap cost about 64 MiB), and
    /// several endpoints at their caps at once multiply that.
    /// </remarks>
    public static async Task<byte[]> ReadAsync(Stream stream, long cap, string source, CancellationToken cancellationToken)
    {
        const int ChunkBytes = 64 * 1024;
        var chunks = new List<byte[]>();
        long total = 0;
        var chunk = new byte[ChunkBytes];
        var filled = 0;
        int read;
        while ((read = await stream.ReadAsync(chunk.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
            if (total > cap) throw new InputTooLargeException(source, cap);
            filled += read;
            if (filled == chunk.Length)
            {
                chunks.Add(chunk);
                chunk = new byte[ChunkBytes];
                filled = 0;
            }
        }
        var result = new byte[total];
        var at = 0;
        foreach (var full in chunks)
        {
            full.CopyTo(result, at);
            at += full.Length;
        }
        Array.Copy(chunk, 0, result, at, filled);
        return result;
    }

    /// <summary>The body of an HTTP answer (decompressed), at most <paramref name="cap"/> bytes.</summary>
    public static async Task<byte[]> ReadAsync(HttpContent content, long cap, string source, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is long announced && announced > cap) throw new InputTooLargeException(source, cap);
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAsync(stream, cap, source, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The bytes of a file, at most <paramref name="cap"/>: works for pipes and devices too (<c>/dev/zero</c> stops at
    /// the cap). IO errors propagate as they are (callers word them).
    /// </summary>
    public static byte[] ReadFile(string path, long cap, string source)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        if (stream.CanSeek && stream.Length > cap) throw new InputTooLargeException(source, cap);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > cap) throw new InputTooLargeException(source, cap);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// The text (UTF-8, a BOM dropped) of a file, at most <paramref name="cap"/> bytes. A file that is not UTF-8 is
    /// refused with <see cref="InvalidTextException"/> (never read as replacement characters: a guest name or a key
    /// would silently change).
    /// </summary>
    public static string ReadFileText(string path, long cap, string source) => DecodeStrict(ReadFile(path, cap, source), source);

    /// <summary>UTF-8 text, a leading BOM dropped; an invalid sequence throws <see cref="InvalidTextException"/> naming its line.</summary>
    public static string DecodeStrict(byte[] bytes, string source)
    {
        ReadOnlySpan<byte> span = bytes;
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) span = span[3..];
        if (!System.Text.Unicode.Utf8.IsValid(span))
        {
            var at = 0;
            while (Rune.DecodeFromUtf8(span[at..], out _, out var consumed) == System.Buffers.OperationStatus.Done) at += consumed;
            var lineStart = span[..at].LastIndexOf((byte)'\n') + 1;
            throw new InvalidTextException(source, span[..at].Count((byte)'\n') + 1, at - lineStart + 1);
        }
        return Encoding.UTF8.GetString(span);
    }

    /// <summary>The text of a file read asynchronously (the read itself is on the thread pool).</summary>
    public static Task<string> ReadFileTextAsync(string path, long cap, string source, CancellationToken cancellationToken)
        => Task.Run(() => ReadFileText(path, cap, source), cancellationToken);

    /// <summary>UTF-8 text; a leading BOM is dropped; invalid sequences become U+FFFD.</summary>
    public static string Decode(byte[] bytes)
    {
        var span = bytes.AsSpan();
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) span = span[3..];
        return Encoding.UTF8.GetString(span);
    }

    /// <summary>
    /// Reads a process stream (stdout or stderr) as text, at most <paramref name="cap"/> bytes; on one byte more it calls
    /// <paramref name="onOverflow"/> (which kills the process) and throws <see cref="InputTooLargeException"/>.
    /// </summary>
    public static async Task<string> ReadProcessStreamAsync(Stream stream, long cap, string source, Action onOverflow, CancellationToken cancellationToken)
    {
        try
        {
            return Decode(await ReadAsync(stream, cap, source, cancellationToken).ConfigureAwait(false));
        }
        catch (InputTooLargeException)
        {
            onOverflow();
            throw;
        }
    }

    /// <summary>
    /// A handler that caps every response body passing through it (it sits above the socket handler, so it counts
    /// decompressed bytes: a gzip bomb stops at the cap). Used for clients whose reads are not ours (the Minio SDK).
    /// </summary>
    /// <remarks>
    /// <paramref name="onOverflow"/> is called when a body passes its cap, before the exception is thrown: a library
    /// that swallows exceptions while reading (the Minio SDK does) can still be stopped by its caller.
    /// </remarks>
    public sealed class CappingHandler(HttpMessageHandler inner, Func<HttpRequestMessage, long> capOf, string source, Action<InputTooLargeException>? onOverflow = null) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var cap = capOf(request);
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (cap == long.MaxValue) return response;
            var what = $"{source} answer for {request.Method} {request.RequestUri?.AbsolutePath}";
            if (response.Content is { } content)
            {
                if (content.Headers.ContentLength is long announced && announced > cap)
                {
                    response.Dispose();
                    var big = new InputTooLargeException(what, cap);
                    onOverflow?.Invoke(big);
                    throw big;
                }
                var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                var capped = new StreamContent(new CappedStream(stream, cap, what, onOverflow));
                foreach (var h in content.Headers) capped.Headers.TryAddWithoutValidation(h.Key, h.Value);
                response.Content = capped;
            }
            return response;
        }
    }

    /// <summary>A read-only stream that throws <see cref="InputTooLargeException"/> once more than the cap was read.</summary>
    public sealed class CappedStream(Stream inner, long cap, string source, Action<InputTooLargeException>? onOverflow = null) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            if (_read > cap)
            {
                var big = new InputTooLargeException(source, cap);
                onOverflow?.Invoke(big);
                throw big;
            }
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
