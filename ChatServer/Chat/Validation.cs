using System.Text;

namespace ChatServer.Chat;

/// <summary>The protocol's text limits (PROTOCOL.md §3 Validation, §7). Lengths in chars count code points.</summary>
internal static class Validation
{
    public const int UsernameMin = 3;
    public const int UsernameMax = 32;
    public const int DisplayNameMax = 64;
    public const int PasswordMin = 8;
    public const int PasswordMax = 128;
    public const int GroupNameMax = 100;
    public const int DescriptionMax = 1000;
    public const int ClientMsgIdMaxBytes = 64;
    public const int MobileNumberMax = 32;

    public static int CodePoints(string text)
    {
        var count = 0;
        foreach (var _ in text.EnumerateRunes()) count++;
        return count;
    }

    public static bool HasNul(string text) => text.Contains('\0', StringComparison.Ordinal);

    /// <summary>Lower-cases and checks a username: 3–32 of [a-z0-9_.].</summary>
    public static ChatError? Username(string? input, out string normalized)
    {
        normalized = (input ?? string.Empty).ToLowerInvariant();
        if (normalized.Length is < UsernameMin or > UsernameMax)
        {
            return ChatError.InvalidArgument($"username must be {UsernameMin}–{UsernameMax} characters");
        }

        foreach (var c in normalized)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '.'))
            {
                return ChatError.InvalidArgument("username may contain only a-z, 0-9, '_' and '.'");
            }
        }

        return null;
    }

    public static ChatError? Text(string? value, string field, int min, int max)
    {
        if (value is null) return min > 0 ? ChatError.InvalidArgument($"{field} is required") : null;
        if (HasNul(value)) return ChatError.InvalidArgument($"{field} must not contain U+0000");
        var n = CodePoints(value);
        if (n < min) return ChatError.InvalidArgument($"{field} must not be empty");
        if (n > max) return ChatError.InvalidArgument($"{field} must be at most {max} characters");
        return null;
    }

    public static ChatError? Password(string? value)
    {
        if (value is null) return ChatError.InvalidArgument("password is required");
        var n = CodePoints(value);
        if (n is < PasswordMin or > PasswordMax) return ChatError.InvalidArgument($"password must be {PasswordMin}–{PasswordMax} characters");
        if (HasNul(value)) return ChatError.InvalidArgument("password must not contain U+0000");
        return null;
    }

    public static ChatError? ClientMsgId(string? value)
    {
        if (string.IsNullOrEmpty(value)) return ChatError.InvalidArgument("clientMsgId must be 1–64 bytes");
        if (HasNul(value)) return ChatError.InvalidArgument("clientMsgId must not contain U+0000");
        if (Encoding.UTF8.GetByteCount(value) > ClientMsgIdMaxBytes) return ChatError.InvalidArgument("clientMsgId must be 1–64 bytes");
        return null;
    }

    public static ChatError? Body(string? value, int maxBytes)
    {
        if (string.IsNullOrEmpty(value)) return ChatError.InvalidArgument("body must not be empty");
        if (HasNul(value)) return ChatError.InvalidArgument("body must not contain U+0000");
        if (Encoding.UTF8.GetByteCount(value) > maxBytes) return ChatError.TooLarge($"body must be at most {maxBytes} bytes of UTF-8");
        return null;
    }
}
