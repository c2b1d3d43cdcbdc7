using System.Buffers;
using System.Globalization;

namespace ChatServer.Auth;

/// <summary>
/// The PHC string format of an Argon2id hash, as written by the reference implementation:
/// <c>$argon2id$v=19$m=19456,t=2,p=1$&lt;salt&gt;$&lt;hash&gt;</c>, salt and hash in standard base64 without padding.
/// </summary>
internal static class Argon2Phc
{
    private const string Prefix = "$argon2id$v=19$m=";

    /// <summary>Bounds on the salt and hash lengths accepted from a stored string (RFC 9106 §3.1 asks for a salt of at least 8 bytes).</summary>
    private const int MinSaltBytes = 8;
    private const int MaxSaltBytes = 64;
    private const int MinHashBytes = 16;
    private const int MaxHashBytes = 64;

    private static readonly SearchValues<char> Base64Alphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");

    public static string Format(Argon2Parameters parameters, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> hash) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{Prefix}{parameters.MemoryKiB},t={parameters.Iterations},p={parameters.Parallelism}${ToBase64NoPadding(salt)}${ToBase64NoPadding(hash)}");

    public static bool TryParse(ReadOnlySpan<char> encoded, out Argon2Parameters parameters, out byte[] salt, out byte[] hash)
    {
        parameters = default;
        salt = [];
        hash = [];
        if (encoded.Length > 512 || !encoded.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        ReadOnlySpan<char> rest = encoded[Prefix.Length..];
        if (!TryTakeNumber(ref rest, ",t=", out int memory)
            || !TryTakeNumber(ref rest, ",p=", out int iterations)
            || !TryTakeNumber(ref rest, "$", out int parallelism))
        {
            return false;
        }

        int dollar = rest.IndexOf('$');
        if (dollar < 0)
        {
            return false;
        }

        parameters = new Argon2Parameters(memory, iterations, parallelism);
        return parameters.IsAcceptable
            && TryFromBase64NoPadding(rest[..dollar], MinSaltBytes, MaxSaltBytes, out salt)
            && TryFromBase64NoPadding(rest[(dollar + 1)..], MinHashBytes, MaxHashBytes, out hash);
    }

    /// <summary>Reads a decimal number without sign or leading zeros, followed by <paramref name="terminator"/>.</summary>
    private static bool TryTakeNumber(ref ReadOnlySpan<char> rest, string terminator, out int value)
    {
        value = 0;
        int end = rest.IndexOf(terminator, StringComparison.Ordinal);
        if (end is < 1 or > 9 || (rest[0] == '0' && end > 1))
        {
            return false;
        }

        foreach (char c in rest[..end])
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        rest = rest[(end + terminator.Length)..];
        return true;
    }

    private static string ToBase64NoPadding(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    private static bool TryFromBase64NoPadding(ReadOnlySpan<char> text, int minBytes, int maxBytes, out byte[] bytes)
    {
        bytes = [];
        // Lengths of 1 mod 4 come from no byte count. Only the alphabet is allowed: no padding (PHC omits it)
        // and no whitespace (which the decoder would skip, letting two strings stand for one hash).
        if (text.Length % 4 == 1 || text.Length > Base64Length(maxBytes) || text.ContainsAnyExcept(Base64Alphabet))
        {
            return false;
        }

        Span<char> padded = stackalloc char[Base64Length(maxBytes) + 3];
        text.CopyTo(padded);
        int length = text.Length;
        while (length % 4 != 0)
        {
            padded[length++] = '=';
        }

        Span<byte> decoded = stackalloc byte[maxBytes + 3];
        if (!Convert.TryFromBase64Chars(padded[..length], decoded, out int written) || written < minBytes || written > maxBytes)
        {
            return false;
        }

        bytes = decoded[..written].ToArray();
        return true;
    }

    private static int Base64Length(int bytes) => ((bytes * 4) + 2) / 3;
}
