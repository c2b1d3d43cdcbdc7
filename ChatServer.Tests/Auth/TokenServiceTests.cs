using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ChatServer.Auth;

namespace ChatServer.Tests.Auth;

public sealed class TokenServiceTests
{
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid User = Guid.Parse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    private static readonly Guid Login = Guid.Parse("11111111-2222-4333-8444-555555555555");

    private readonly ManualClock _clock = new(Start);

    private TokenService Service(AuthOptions? options = null, byte[]? key = null, TimeProvider? time = null) =>
        new(options ?? new AuthOptions(), key ?? Key, time ?? _clock);

    [Fact]
    public void Issued_token_validates_and_gives_back_its_claims()
    {
        TokenService tokens = Service();

        (string token, AccessTokenClaims issued) = tokens.IssueAccessToken(User, Login);
        TokenValidationStatus status = tokens.Validate(token, out AccessTokenClaims validated);

        Assert.Equal(TokenValidationStatus.Valid, status);
        Assert.Equal(issued, validated);
        Assert.Equal(User, validated.UserId);
        Assert.Equal(Login, validated.LoginId);
        Assert.NotEqual(Guid.Empty, validated.TokenId);
        Assert.Equal(Start.ToUnixTimeMilliseconds(), validated.IssuedAtMs);
        Assert.Equal((Start + TimeSpan.FromMinutes(15)).ToUnixTimeMilliseconds(), validated.ExpiresAtMs);
    }

    [Fact]
    public void Issued_token_has_the_pinned_header_and_the_documented_claims()
    {
        (string token, AccessTokenClaims claims) = Service().IssueAccessToken(User, Login);

        string[] parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        Assert.Equal("""{"alg":"HS256","typ":"JWT"}""", Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[0])));
        Assert.DoesNotContain('=', token);
        using JsonDocument payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
        JsonElement root = payload.RootElement;
        Assert.Equal("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", root.GetProperty("sub").GetString());
        Assert.Equal("11111111-2222-4333-8444-555555555555", root.GetProperty("sid").GetString());
        Assert.Equal(claims.TokenId.ToString("D"), root.GetProperty("jti").GetString());
        Assert.Equal("chatserver", root.GetProperty("iss").GetString());
        Assert.Equal("chat", root.GetProperty("aud").GetString());
        Assert.Equal(Start.ToUnixTimeSeconds(), root.GetProperty("iat").GetInt64());
        Assert.Equal(Start.ToUnixTimeSeconds(), root.GetProperty("nbf").GetInt64());
        Assert.Equal(Start.ToUnixTimeSeconds() + 900, root.GetProperty("exp").GetInt64());
    }

    [Fact]
    public void Each_token_gets_its_own_id()
    {
        TokenService tokens = Service();

        Assert.NotEqual(tokens.IssueAccessToken(User, Login).Claims.TokenId, tokens.IssueAccessToken(User, Login).Claims.TokenId);
    }

    [Fact]
    public void Token_signed_with_another_key_is_rejected()
    {
        byte[] otherKey = Enumerable.Range(2, 32).Select(i => (byte)i).ToArray();
        string token = Service(key: otherKey).IssueAccessToken(User, Login).Token;

        Assert.Equal(TokenValidationStatus.BadSignature, Service().Validate(token, out AccessTokenClaims claims));
        Assert.Equal(default, claims);
    }

    [Fact]
    public void Token_with_a_tampered_payload_is_rejected()
    {
        TokenService tokens = Service();
        string token = tokens.IssueAccessToken(User, Login).Token;
        string[] parts = token.Split('.');
        string otherPayload = tokens.IssueAccessToken(Guid.NewGuid(), Login).Token.Split('.')[1];

        Assert.Equal(TokenValidationStatus.BadSignature, tokens.Validate($"{parts[0]}.{otherPayload}.{parts[2]}", out _));
        Assert.Equal(TokenValidationStatus.BadSignature, tokens.Validate($"{parts[0]}.{Flip(parts[1], 10)}.{parts[2]}", out _));
    }

    [Fact]
    public void Token_with_a_tampered_signature_is_rejected()
    {
        TokenService tokens = Service();
        string[] parts = tokens.IssueAccessToken(User, Login).Token.Split('.');

        Assert.Equal(TokenValidationStatus.BadSignature, tokens.Validate($"{parts[0]}.{parts[1]}.{Flip(parts[2], 0)}", out _));
        Assert.Equal(TokenValidationStatus.Malformed, tokens.Validate($"{parts[0]}.{parts[1]}.{parts[2][..^1]}", out _));
        Assert.Equal(TokenValidationStatus.Malformed, tokens.Validate($"{parts[0]}.{parts[1]}.", out _));
    }

    [Fact]
    public void Signature_with_its_spare_bits_set_is_rejected()
    {
        TokenService tokens = Service();
        string token = tokens.IssueAccessToken(User, Login).Token;
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        // The last of 43 characters carries 4 bits of the signature and 2 spare bits that must be zero.
        string sameBytes = token[..^1] + alphabet[alphabet.IndexOf(token[^1], StringComparison.Ordinal) | 1];

        Assert.NotEqual(token, sameBytes);
        Assert.Equal(TokenValidationStatus.Malformed, tokens.Validate(sameBytes, out _));
    }

    [Theory]
    [InlineData("""{"alg":"none","typ":"JWT"}""", nameof(TokenValidationStatus.BadSignature))]
    [InlineData("""{"alg":"HS512","typ":"JWT"}""", nameof(TokenValidationStatus.BadSignature))]
    [InlineData("""{"alg":"RS256","typ":"JWT"}""", nameof(TokenValidationStatus.BadSignature))]
    [InlineData("""{"alg":"hs256","typ":"JWT"}""", nameof(TokenValidationStatus.BadSignature))]
    [InlineData("""{"typ":"JWT"}""", nameof(TokenValidationStatus.Malformed))]
    [InlineData("""{"alg":null}""", nameof(TokenValidationStatus.Malformed))]
    [InlineData("""{"alg":"HS256","alg":"none"}""", nameof(TokenValidationStatus.Malformed))]
    [InlineData("""{"alg":"HS256","crit":["exp"]}""", nameof(TokenValidationStatus.Malformed))]
    [InlineData("""{"alg":"HS256","typ":"JWE"}""", nameof(TokenValidationStatus.Malformed))]
    [InlineData("""["HS256"]""", nameof(TokenValidationStatus.Malformed))]
    [InlineData("""{"alg":"HS256"}{}""", nameof(TokenValidationStatus.Malformed))]
    [InlineData("not json", nameof(TokenValidationStatus.Malformed))]
    public void Header_other_than_HS256_is_rejected_even_with_a_correct_MAC(string header, string expected)
    {
        string token = Forge(header, ValidPayload());

        Assert.Equal(Enum.Parse<TokenValidationStatus>(expected), Service().Validate(token, out _));
    }

    [Fact]
    public void Unsigned_token_with_alg_none_is_rejected()
    {
        string header = Base64Url.EncodeToString("""{"alg":"none","typ":"JWT"}"""u8);
        string payload = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(ValidPayload()));

        Assert.Equal(TokenValidationStatus.Malformed, Service().Validate($"{header}.{payload}.", out _));
    }

    [Theory]
    [InlineData("""{"typ":"JWT","alg":"HS256"}""")]
    [InlineData("""{"alg":"HS256"}""")]
    [InlineData("""{ "alg" : "HS256", "kid" : "k1" }""")]
    public void Equivalent_HS256_header_written_differently_is_accepted(string header)
    {
        Assert.Equal(TokenValidationStatus.Valid, Service().Validate(Forge(header, ValidPayload()), out AccessTokenClaims claims));
        Assert.Equal(User, claims.UserId);
    }

    [Fact]
    public void Token_for_another_issuer_is_rejected()
    {
        string token = Service(new AuthOptions { Issuer = "someone-else" }).IssueAccessToken(User, Login).Token;

        Assert.Equal(TokenValidationStatus.WrongIssuer, Service().Validate(token, out _));
    }

    [Fact]
    public void Token_for_another_audience_is_rejected()
    {
        string token = Service(new AuthOptions { Audience = "admin" }).IssueAccessToken(User, Login).Token;

        Assert.Equal(TokenValidationStatus.WrongAudience, Service().Validate(token, out _));
    }

    [Theory]
    [InlineData("""["other","chat"]""", nameof(TokenValidationStatus.Valid))]
    [InlineData("""["other"]""", nameof(TokenValidationStatus.WrongAudience))]
    [InlineData("""[]""", nameof(TokenValidationStatus.WrongAudience))]
    [InlineData("""[1]""", nameof(TokenValidationStatus.Malformed))]
    [InlineData("""42""", nameof(TokenValidationStatus.Malformed))]
    [InlineData("""null""", nameof(TokenValidationStatus.Malformed))]
    public void Audience_may_be_an_array_that_includes_ours(string audience, string expected)
    {
        Assert.Equal(Enum.Parse<TokenValidationStatus>(expected), Service().Validate(Forge(Header, ValidPayload(aud: audience)), out _));
    }

    [Fact]
    public void Missing_issuer_or_audience_is_rejected_as_wrong()
    {
        Assert.Equal(TokenValidationStatus.WrongIssuer, Service().Validate(Forge(Header, ValidPayload(iss: null)), out _));
        Assert.Equal(TokenValidationStatus.WrongAudience, Service().Validate(Forge(Header, ValidPayload(aud: null)), out _));
    }

    [Fact]
    public void Escaped_issuer_in_the_payload_still_matches()
    {
        string payload = ValidPayload(iss: "\"\\u0063hatserver\"");

        Assert.Equal(TokenValidationStatus.Valid, Service().Validate(Forge(Header, payload), out _));
    }

    [Fact]
    public void Token_is_valid_until_expiry_plus_the_clock_skew_then_expired()
    {
        TokenService tokens = Service();
        string token = tokens.IssueAccessToken(User, Login).Token;

        _clock.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(29));
        Assert.Equal(TokenValidationStatus.Valid, tokens.Validate(token, out _));

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TokenValidationStatus.Expired, tokens.Validate(token, out AccessTokenClaims claims));
        Assert.Equal(default, claims);
    }

    [Fact]
    public void Token_from_a_clock_ahead_by_more_than_the_skew_is_not_yet_valid()
    {
        var issuerClock = new ManualClock(Start + TimeSpan.FromSeconds(31));
        string early = Service(time: issuerClock).IssueAccessToken(User, Login).Token;
        issuerClock.Now = Start + TimeSpan.FromSeconds(30);
        string withinSkew = Service(time: issuerClock).IssueAccessToken(User, Login).Token;

        Assert.Equal(TokenValidationStatus.NotYetValid, Service().Validate(early, out _));
        Assert.Equal(TokenValidationStatus.Valid, Service().Validate(withinSkew, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("abc.def")]
    [InlineData("..")]
    [InlineData("a.b.c.d")]
    [InlineData(".eyJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("eyJ9..AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("eyJ*.eyJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("eyJ9.eyJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("eyJ9.éyJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("eyJ9.eyJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAA")]
    [InlineData("Bearer eyJ9.eyJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Malformed_token_is_rejected(string token)
    {
        Assert.Equal(TokenValidationStatus.Malformed, Service().Validate(token, out _));
    }

    [Fact]
    public void Token_longer_than_the_cap_is_rejected_before_anything_else()
    {
        string token = Forge(Header, ValidPayload(extra: $",\"pad\":\"{new string('x', 4000)}\""));
        Assert.True(token.Length > TokenService.MaxTokenChars);

        Assert.Equal(TokenValidationStatus.Malformed, Service().Validate(token, out _));
        Assert.Equal(TokenValidationStatus.Malformed, Service().Validate(new string('A', 1_000_000), out _));
    }

    [Fact]
    public void Unknown_claims_below_the_cap_are_ignored()
    {
        string token = Forge(Header, ValidPayload(extra: ""","name":"x","roles":["a","b"],"obj":{"k":[1,2]}"""));

        Assert.Equal(TokenValidationStatus.Valid, Service().Validate(token, out _));
    }

    [Theory]
    [InlineData("""{"sid":"11111111-2222-4333-8444-555555555555","jti":"11111111-2222-4333-8444-555555555555","iss":"chatserver","aud":"chat","iat":1,"exp":99999999999}""")]
    [InlineData("""{"sub":"not-a-uuid","sid":"11111111-2222-4333-8444-555555555555","jti":"11111111-2222-4333-8444-555555555555","iss":"chatserver","aud":"chat","iat":1,"exp":99999999999}""")]
    [InlineData("""{"sub":"{11111111-2222-4333-8444-555555555555}","sid":"11111111-2222-4333-8444-555555555555","jti":"11111111-2222-4333-8444-555555555555","iss":"chatserver","aud":"chat","iat":1,"exp":99999999999}""")]
    [InlineData("""{"sub":"11111111-2222-4333-8444-555555555555","sub":"11111111-2222-4333-8444-555555555555","sid":"11111111-2222-4333-8444-555555555555","jti":"11111111-2222-4333-8444-555555555555","iss":"chatserver","aud":"chat","iat":1,"exp":99999999999}""")]
    [InlineData("""{"sub":"11111111-2222-4333-8444-555555555555","sid":"11111111-2222-4333-8444-555555555555","jti":"11111111-2222-4333-8444-555555555555","iss":"chatserver","aud":"chat","iat":1,"exp":"99999999999"}""")]
    [InlineData("""{"sub":"11111111-2222-4333-8444-555555555555","sid":"11111111-2222-4333-8444-555555555555","jti":"11111111-2222-4333-8444-555555555555","iss":"chatserver","aud":"chat","iat":1,"exp":1e20}""")]
    [InlineData("""{"sub":"11111111-2222-4333-8444-555555555555","sid":"11111111-2222-4333-8444-555555555555","jti":"11111111-2222-4333-8444-555555555555","iss":"chatserver","aud":"chat","iat":1,"exp":-5}""")]
    [InlineData("""{"sub":"11111111-2222-4333-8444-555555555555","sid":"11111111-2222-4333-8444-555555555555","jti":"11111111-2222-4333-8444-555555555555","iss":"chatserver","aud":"chat","iat":1}""")]
    [InlineData("""{"sub":"11111111-2222-4333-8444-555555555555","sid":"11111111-2222-4333-8444-555555555555","jti":"11111111-2222-4333-8444-555555555555","iss":"chatserver","aud":"chat","iat":1,"exp":99999999999""")]
    [InlineData("""{"sub":"11111111-2222-4333-8444-555555555555","sid":"11111111-2222-4333-8444-555555555555","jti":"11111111-2222-4333-8444-555555555555","iss":"chatserver","aud":"chat","iat":1,"exp":99999999999} x""")]
    [InlineData("""[]""")]
    [InlineData("")]
    public void Correctly_signed_token_with_bad_claims_is_malformed(string payload)
    {
        Assert.Equal(TokenValidationStatus.Malformed, Service().Validate(Forge(Header, payload), out _));
    }

    [Fact]
    public void Validation_allocates_nothing()
    {
        TokenService tokens = Service();
        string token = tokens.IssueAccessToken(User, Login).Token;
        string forged = Forge("""{"alg":"none"}""", ValidPayload());
        for (int i = 0; i < 100; i++)
        {
            tokens.Validate(token, out _);
            tokens.Validate(forged, out _);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            tokens.Validate(token, out _);
            tokens.Validate(forged, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Signing_key_shorter_than_32_bytes_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Service(key: new byte[31]));
    }

    [Fact]
    public void Refresh_tokens_are_43_base64url_characters_and_unique()
    {
        string a = TokenService.NewRefreshToken();
        string b = TokenService.NewRefreshToken();

        Assert.Equal(43, a.Length);
        Assert.Equal(32, Base64Url.DecodeFromChars(a).Length);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Refresh_token_hash_is_the_SHA256_of_its_UTF8_text()
    {
        string token = TokenService.NewRefreshToken();
        string longToken = new('é', 1000);

        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(token)), TokenService.HashRefreshToken(token));
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(longToken)), TokenService.HashRefreshToken(longToken));
        Assert.Equal(32, TokenService.HashRefreshToken("").Length);
    }

    private const string Header = """{"alg":"HS256","typ":"JWT"}""";

    private static string ValidPayload(string? iss = "\"chatserver\"", string? aud = "\"chat\"", string extra = "")
    {
        long now = Start.ToUnixTimeSeconds();
        var json = new StringBuilder();
        json.Append($$"""{"sub":"{{User:D}}","sid":"{{Login:D}}","jti":"{{Guid.NewGuid():D}}","iat":{{now}},"nbf":{{now}},"exp":{{now + 900}}""");
        if (iss is not null)
        {
            json.Append($",\"iss\":{iss}");
        }

        if (aud is not null)
        {
            json.Append($",\"aud\":{aud}");
        }

        return json.Append(extra).Append('}').ToString();
    }

    /// <summary>A token with any header and payload, carrying a correct HMAC-SHA256 under the test key.</summary>
    private static string Forge(string header, string payload)
    {
        string signed = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header)) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload));
        return signed + "." + Base64Url.EncodeToString(HMACSHA256.HashData(Key, Encoding.ASCII.GetBytes(signed)));
    }

    private static string Flip(string segment, int index) =>
        string.Concat(segment.AsSpan(0, index), segment[index] == 'A' ? "B" : "A", segment.AsSpan(index + 1));
}
