using System.Text.Unicode;

namespace ChatServer.Gateway.WebSockets;

/// <summary>
/// Incremental UTF-8 validation across fragments (RFC 3629): rejects overlong forms, surrogates and code points above
/// U+10FFFF as soon as the offending byte is seen. Complete sequences go through the vectorized
/// <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/>; only a sequence split between chunks is walked byte by byte.
/// </summary>
internal struct Utf8Validator
{
    // Continuation bytes still expected by the sequence in progress, and the allowed range of the next one.
    private int _needed;
    private byte _lower;
    private byte _upper;

    /// <summary>True when no multi-byte sequence is in progress: the text so far ends on a character boundary.</summary>
    public readonly bool IsComplete => _needed == 0;

    public void Reset() => _needed = 0;

    /// <summary>Validates the next chunk; false as soon as the bytes cannot be a prefix of valid UTF-8.</summary>
    public bool Append(ReadOnlySpan<byte> chunk)
    {
        int i = 0;
        while (_needed != 0)
        {
            if (i == chunk.Length)
            {
                return true;
            }

            if (!Step(chunk[i++]))
            {
                return false;
            }
        }

        chunk = chunk[i..];
        int tail = IncompleteTailStart(chunk);
        if (!Utf8.IsValid(chunk[..tail]))
        {
            return false;
        }

        for (int j = tail; j < chunk.Length; j++)
        {
            if (!Step(chunk[j]))
            {
                return false;
            }
        }

        return true;
    }

    // Start of a sequence at the end of the chunk whose lead byte announces more bytes than are present.
    private static int IncompleteTailStart(ReadOnlySpan<byte> chunk)
    {
        int end = chunk.Length;
        for (int back = 1; back <= 3 && back <= end; back++)
        {
            byte b = chunk[end - back];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }

            int length = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            return length > back ? end - back : end;
        }

        return end;
    }

    private bool Step(byte b)
    {
        if (_needed == 0)
        {
            if (b < 0x80)
            {
                return true;
            }

            (_needed, _lower, _upper) = b switch
            {
                >= 0xC2 and <= 0xDF => (1, (byte)0x80, (byte)0xBF),
                0xE0 => (2, (byte)0xA0, (byte)0xBF),
                0xED => (2, (byte)0x80, (byte)0x9F),
                >= 0xE1 and <= 0xEF => (2, (byte)0x80, (byte)0xBF),
                0xF0 => (3, (byte)0x90, (byte)0xBF),
                >= 0xF1 and <= 0xF3 => (3, (byte)0x80, (byte)0xBF),
                0xF4 => (3, (byte)0x80, (byte)0x8F),
                _ => (0, (byte)0, (byte)0),
            };
            return _needed != 0;
        }

        if (b < _lower || b > _upper)
        {
            _needed = 0;
            return false;
        }

        _needed--;
        _lower = 0x80;
        _upper = 0xBF;
        return true;
    }
}
