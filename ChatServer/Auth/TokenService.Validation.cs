using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ChatServer.Auth;

internal sealed partial class TokenService
{
    /// <summary>NumericDate values accepted, in seconds: up to 9999-12-31, so that ms never overflow.</summary>
    private const long MaxNumericDate = 253_402_300_799;

    private const int MaxHeaderChars = 256;

    private static readonly SearchValues<char> TokenAlphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 4 };

    [Flags]
    private enum Seen
    {
        None = 0,
        Sub = 1,
        Sid = 2,
        Jti = 4,
        Iss = 8,
        Aud = 16,
        Iat = 32,
        Nbf = 64,
        Exp = 128,
        Required = Sub | Sid | Jti | Iat | Exp,
    }

    /// <summary>
    /// Checks the structure, the header (HS256 only), the signature (in constant time), then the claims:
    /// <c>iss</c>, <c>aud</c>, <c>nbf</c> and <c>exp</c> with <see cref="ClockSkew"/>. <paramref name="claims"/> is
    /// set only when the result is <see cref="TokenValidationStatus.Valid"/>.
    /// </summary>
    public TokenValidationStatus Validate(ReadOnlySpan<char> token, out AccessTokenClaims claims)
    {
        claims = default;
        if (token.Length is 0 or > MaxTokenChars || token.ContainsAnyExcept(TokenAlphabet))
        {
            return TokenValidationStatus.Malformed;
        }

        int headerEnd = token.IndexOf('.');
        int payloadEnd = headerEnd + 1 + token[(headerEnd + 1)..].IndexOf('.');
        if (headerEnd <= 0 || payloadEnd <= headerEnd + 1
            || token.Length - payloadEnd - 1 != Base64Url.GetEncodedLength(SignatureBytes)
            || token[(payloadEnd + 1)..].Contains('.'))
        {
            return TokenValidationStatus.Malformed;
        }

        // Every character is in the alphabet checked above, so the ASCII conversion cannot fail.
        Span<byte> bytes = stackalloc byte[MaxTokenChars];
        bytes = bytes[..token.Length];
        Ascii.FromUtf16(token, bytes, out _);
        ReadOnlySpan<byte> header = bytes[..headerEnd];
        ReadOnlySpan<byte> payload = bytes[(headerEnd + 1)..payloadEnd];
        ReadOnlySpan<byte> signature = bytes[(payloadEnd + 1)..];

        if (!header.SequenceEqual(HeaderSegment))
        {
            TokenValidationStatus headerStatus = CheckHeader(header);
            if (headerStatus != TokenValidationStatus.Valid)
            {
                return headerStatus;
            }
        }

        // 43 characters carry 258 bits; the decoder refuses a last character with its 2 spare bits set,
        // so each signature has exactly one spelling.
        Span<byte> given = stackalloc byte[SignatureBytes];
        if (Base64Url.DecodeFromUtf8(signature, given, out _, out int signatureLength) != OperationStatus.Done
            || signatureLength != SignatureBytes)
        {
            return TokenValidationStatus.Malformed;
        }

        Span<byte> expected = stackalloc byte[SignatureBytes];
        Sign(bytes[..payloadEnd], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
        {
            return TokenValidationStatus.BadSignature;
        }

        Span<byte> json = stackalloc byte[Base64Url.GetMaxDecodedLength(MaxTokenChars)];
        if (Base64Url.DecodeFromUtf8(payload, json, out _, out int jsonLength) != OperationStatus.Done)
        {
            return TokenValidationStatus.Malformed;
        }

        return ReadClaims(json[..jsonLength], out claims);
    }

    private TokenValidationStatus ReadClaims(ReadOnlySpan<byte> json, out AccessTokenClaims claims)
    {
        claims = default;
        Guid userId = default, loginId = default, tokenId = default;
        long issuedAt = 0, notBefore = 0, expiresAt = 0;
        bool issuerMatches = false, audienceMatches = false;
        Seen seen = Seen.None;
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return TokenValidationStatus.Malformed;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                Seen claim = ClaimOf(ref reader);
                if ((seen & claim) != 0)
                {
                    return TokenValidationStatus.Malformed;
                }

                seen |= claim;
                reader.Read();
                bool ok = claim switch
                {
                    Seen.Sub => TryReadGuid(ref reader, out userId),
                    Seen.Sid => TryReadGuid(ref reader, out loginId),
                    Seen.Jti => TryReadGuid(ref reader, out tokenId),
                    Seen.Iat => TryReadNumericDate(ref reader, out issuedAt),
                    Seen.Nbf => TryReadNumericDate(ref reader, out notBefore),
                    Seen.Exp => TryReadNumericDate(ref reader, out expiresAt),
                    Seen.Iss => TryReadIssuer(ref reader, out issuerMatches),
                    Seen.Aud => TryReadAudience(ref reader, out audienceMatches),
                    _ => reader.TrySkip(),
                };
                if (!ok)
                {
                    return TokenValidationStatus.Malformed;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return TokenValidationStatus.Malformed;
            }
        }
        catch (JsonException)
        {
            return TokenValidationStatus.Malformed;
        }

        if ((seen & Seen.Required) != Seen.Required)
        {
            return TokenValidationStatus.Malformed;
        }

        if (!issuerMatches)
        {
            return TokenValidationStatus.WrongIssuer;
        }

        if (!audienceMatches)
        {
            return TokenValidationStatus.WrongAudience;
        }

        long nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        long skewMs = (long)ClockSkew.TotalMilliseconds;
        if ((seen & Seen.Nbf) != 0 && nowMs + skewMs < notBefore * 1000)
        {
            return TokenValidationStatus.NotYetValid;
        }

        if (nowMs >= (expiresAt * 1000) + skewMs)
        {
            return TokenValidationStatus.Expired;
        }

        claims = new AccessTokenClaims(userId, loginId, tokenId, issuedAt * 1000, expiresAt * 1000);
        return TokenValidationStatus.Valid;
    }

    /// <summary>The claim a property name stands for; <see cref="Seen.None"/> for claims we do not read.</summary>
    private static Seen ClaimOf(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.ValueSpan.Length != 3)
        {
            return Seen.None;
        }

        ReadOnlySpan<byte> name = reader.ValueSpan;
        return name.SequenceEqual("sub"u8) ? Seen.Sub
            : name.SequenceEqual("sid"u8) ? Seen.Sid
            : name.SequenceEqual("jti"u8) ? Seen.Jti
            : name.SequenceEqual("iss"u8) ? Seen.Iss
            : name.SequenceEqual("aud"u8) ? Seen.Aud
            : name.SequenceEqual("iat"u8) ? Seen.Iat
            : name.SequenceEqual("nbf"u8) ? Seen.Nbf
            : name.SequenceEqual("exp"u8) ? Seen.Exp
            : Seen.None;
    }

    private static bool TryReadGuid(ref Utf8JsonReader reader, out Guid value)
    {
        value = default;
        return reader.TokenType == JsonTokenType.String
            && !reader.ValueIsEscaped
            && Utf8Parser.TryParse(reader.ValueSpan, out value, out int consumed, 'D')
            && consumed == reader.ValueSpan.Length;
    }

    private static bool TryReadNumericDate(ref Utf8JsonReader reader, out long seconds)
    {
        seconds = 0;
        return reader.TokenType == JsonTokenType.Number
            && reader.TryGetInt64(out seconds)
            && seconds is >= 0 and <= MaxNumericDate;
    }

    private bool TryReadIssuer(ref Utf8JsonReader reader, out bool matches)
    {
        matches = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(_issuerUtf8);
        return reader.TokenType == JsonTokenType.String;
    }

    /// <summary>RFC 7519 §4.1.3: <c>aud</c> is one string or an array of strings; ours must be among them.</summary>
    private bool TryReadAudience(ref Utf8JsonReader reader, out bool matches)
    {
        matches = false;
        if (reader.TokenType == JsonTokenType.String)
        {
            matches = reader.ValueTextEquals(_audienceUtf8);
            return true;
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.String)
        {
            matches |= reader.ValueTextEquals(_audienceUtf8);
        }

        return reader.TokenType == JsonTokenType.EndArray;
    }

    /// <summary>
    /// Reads a header other than ours byte for byte: valid only with <c>"alg":"HS256"</c>, a <c>typ</c> of
    /// <c>JWT</c> if any, and no <c>crit</c>. Another algorithm is <see cref="TokenValidationStatus.BadSignature"/>.
    /// </summary>
    private static TokenValidationStatus CheckHeader(ReadOnlySpan<byte> segment)
    {
        Span<byte> json = stackalloc byte[Base64Url.GetMaxDecodedLength(MaxHeaderChars)];
        if (segment.Length > MaxHeaderChars
            || Base64Url.DecodeFromUtf8(segment, json, out _, out int length) != OperationStatus.Done)
        {
            return TokenValidationStatus.Malformed;
        }

        bool algorithmSeen = false, algorithmIsOurs = false;
        try
        {
            var reader = new Utf8JsonReader(json[..length], ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return TokenValidationStatus.Malformed;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("alg"u8))
                {
                    if (algorithmSeen || !reader.Read() || reader.TokenType != JsonTokenType.String)
                    {
                        return TokenValidationStatus.Malformed;
                    }

                    algorithmSeen = true;
                    algorithmIsOurs = reader.ValueTextEquals("HS256"u8);
                }
                else if (reader.ValueTextEquals("typ"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String || !reader.ValueTextEquals("JWT"u8))
                    {
                        return TokenValidationStatus.Malformed;
                    }
                }
                else if (reader.ValueTextEquals("crit"u8) || !reader.TrySkip())
                {
                    return TokenValidationStatus.Malformed;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                return TokenValidationStatus.Malformed;
            }
        }
        catch (JsonException)
        {
            return TokenValidationStatus.Malformed;
        }

        return !algorithmSeen ? TokenValidationStatus.Malformed
            : algorithmIsOurs ? TokenValidationStatus.Valid
            : TokenValidationStatus.BadSignature;
    }
}
