using Xunit;

namespace PveHealth.Tests;

/// <summary>Files are UTF-8 or refused: the first invalid sequence is named by line and byte, never read as U+FFFD.</summary>
public class InvalidTextTests
{
    [Theory]
    [InlineData(new byte[] { (byte)'a', 0xFF }, 1, 2)]
    [InlineData(new byte[] { (byte)'a', (byte)'\n', (byte)'b', (byte)'c', 0xC3, 0x28 }, 2, 3)]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, (byte)'\n', (byte)'\n', 0xE9 }, 3, 1)]
    [InlineData(new byte[] { (byte)'x', 0xED, 0xA0, 0x80 }, 1, 2)] // an encoded surrogate is not UTF-8
    public void An_invalid_sequence_is_refused_naming_its_line_and_byte(byte[] bytes, int line, int column)
    {
        var ex = Assert.Throws<InvalidTextException>(() => BoundedInput.DecodeStrict(bytes, "/etc/x.yaml"));
        Assert.Equal($"/etc/x.yaml is not valid UTF-8 text (line {line}, byte {column}); save it as UTF-8", ex.Message);
        Assert.IsAssignableFrom<IOException>(ex);
    }

    [Fact]
    public void Valid_text_reads_and_a_BOM_is_dropped()
    {
        Assert.Equal("café\n", BoundedInput.DecodeStrict([0xEF, 0xBB, 0xBF, .."café\n"u8.ToArray()], "x"));
    }
}

/// <summary>A read stopped at its cap costs about the cap, not twice it (several endpoints at their caps at once add up).</summary>
[Collection("hostile-memory")]
public class BoundedReadCostTests
{
    private sealed class Endless : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) { Array.Fill(buffer, (byte)'x', offset, count); return count; }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task An_endless_stream_stopped_at_32_MiB_allocates_less_than_40_MiB()
    {
        var (ex, allocated, _) = await Measure.Run(() => Assert.ThrowsAsync<InputTooLargeException>(
            () => BoundedInput.ReadAsync(new Endless(), BoundedInput.ProxmoxAnswerBytes, "endless", CancellationToken.None)));
        Assert.Equal("endless is larger than 32 MiB (the cap for it); nothing of it was used", ex.Message);
        Assert.True(allocated < 40 * Measure.MiB, $"allocated {allocated / Measure.MiB} MiB");
    }
}
