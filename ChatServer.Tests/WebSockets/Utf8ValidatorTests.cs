using System.Text;
using ChatServer.Gateway.WebSockets;

namespace ChatServer.Tests.WebSockets;

public sealed class Utf8ValidatorTests
{
    private static bool ValidateWhole(byte[] bytes)
    {
        var validator = new Utf8Validator();
        return validator.Append(bytes) && validator.IsComplete;
    }

    private static bool ValidateInChunks(byte[] bytes, int chunk)
    {
        var validator = new Utf8Validator();
        for (int i = 0; i < bytes.Length; i += chunk)
        {
            if (!validator.Append(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i))))
            {
                return false;
            }
        }

        return validator.IsComplete;
    }

    public static TheoryData<byte[]> Valid => new()
    {
        Array.Empty<byte>(),
        Encoding.UTF8.GetBytes("Hello-µ@ßöäüàá-UTF-8!!"),
        Encoding.UTF8.GetBytes("κόσμε"),
        Encoding.UTF8.GetBytes("€ 𝄞 😀 中文"),
        new byte[] { 0x7F },
        new byte[] { 0xC2, 0x80 },
        new byte[] { 0xDF, 0xBF },
        new byte[] { 0xE0, 0xA0, 0x80 },
        new byte[] { 0xED, 0x9F, 0xBF },                   // U+D7FF
        new byte[] { 0xEE, 0x80, 0x80 },                   // U+E000
        new byte[] { 0xEF, 0xBF, 0xBF },                   // U+FFFF
        new byte[] { 0xF0, 0x90, 0x80, 0x80 },             // U+10000
        new byte[] { 0xF4, 0x8F, 0xBF, 0xBF },             // U+10FFFF
    };

    public static TheoryData<byte[]> Invalid => new()
    {
        new byte[] { 0x80 },                               // lone continuation
        new byte[] { 0xC0, 0xAF },                         // overlong '/'
        new byte[] { 0xC1, 0xBF },                         // overlong
        new byte[] { 0xE0, 0x80, 0xAF },                   // overlong
        new byte[] { 0xE0, 0x9F, 0xBF },                   // overlong
        new byte[] { 0xF0, 0x80, 0x80, 0xAF },             // overlong
        new byte[] { 0xF0, 0x8F, 0xBF, 0xBF },             // overlong
        new byte[] { 0xED, 0xA0, 0x80 },                   // U+D800 surrogate
        new byte[] { 0xED, 0xBF, 0xBF },                   // U+DFFF surrogate
        new byte[] { 0xF4, 0x90, 0x80, 0x80 },             // U+110000
        new byte[] { 0xF5, 0x80, 0x80, 0x80 },
        new byte[] { 0xFE },
        new byte[] { 0xFF },
        new byte[] { 0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64 },
        new byte[] { 0x61, 0xC2 },                         // truncated at the end of the message
        new byte[] { 0xE2, 0x82 },
        new byte[] { 0xF0, 0x9F, 0x98 },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Valid_text_passes_whole_and_split_at_every_size(byte[] bytes)
    {
        Assert.True(ValidateWhole(bytes));
        for (int chunk = 1; chunk <= Math.Max(1, bytes.Length); chunk++)
        {
            Assert.True(ValidateInChunks(bytes, chunk));
        }
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Invalid_text_fails_whole_and_split_at_every_size(byte[] bytes)
    {
        Assert.False(ValidateWhole(bytes));
        for (int chunk = 1; chunk <= bytes.Length; chunk++)
        {
            Assert.False(ValidateInChunks(bytes, chunk));
        }
    }

    [Fact]
    public void Sequence_split_across_fragments_is_accepted_when_completed()
    {
        var validator = new Utf8Validator();
        Assert.True(validator.Append([0x61, 0xF0, 0x9F]));
        Assert.False(validator.IsComplete);
        Assert.True(validator.Append([0x98]));
        Assert.False(validator.IsComplete);
        Assert.True(validator.Append([0x80, 0x62]));
        Assert.True(validator.IsComplete);
    }

    [Theory]
    [InlineData(new byte[] { 0xF4, 0x90 })]                // above U+10FFFF known after two bytes
    [InlineData(new byte[] { 0xED, 0xA0 })]                // surrogate known after two bytes
    [InlineData(new byte[] { 0xE0, 0x80 })]                // overlong known after two bytes
    [InlineData(new byte[] { 0xC0 })]                      // impossible lead
    public void Invalid_prefix_fails_fast_before_the_sequence_ends(byte[] prefix)
    {
        var validator = new Utf8Validator();
        Assert.False(validator.Append(prefix));
    }

    [Fact]
    public void Long_ascii_with_one_bad_byte_deep_inside_fails()
    {
        byte[] bytes = Enumerable.Repeat((byte)'a', 4096).ToArray();
        bytes[3000] = 0xFF;
        Assert.False(ValidateWhole(bytes));
        Assert.False(ValidateInChunks(bytes, 1000));
    }
}
