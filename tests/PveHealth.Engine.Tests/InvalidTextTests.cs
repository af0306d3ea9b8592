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
