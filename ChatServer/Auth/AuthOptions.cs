namespace ChatServer.Auth;

/// <summary>Settings of the <c>Auth</c> configuration section: password hashing and tokens.</summary>
internal sealed class AuthOptions
{
    /// <summary>Argon2id memory cost in KiB. 19 MiB is the OWASP Password Storage Cheat Sheet minimum for Argon2id (m=19456, t=2, p=1).</summary>
    public int Argon2MemoryKiB { get; init; } = 19 * 1024;

    /// <summary>Argon2id passes over memory. 2 matches the OWASP minimum configuration above.</summary>
    public int Argon2Iterations { get; init; } = 2;

    /// <summary>Argon2id lanes. 1 matches the OWASP minimum configuration; concurrency comes from hashing many passwords at once instead.</summary>
    public int Argon2Parallelism { get; init; } = 1;

    /// <summary>Hashes computed at the same time; more wait in a queue. 0 = <see cref="Environment.ProcessorCount"/>: one hash keeps one core busy (~70 ms at the defaults).</summary>
    public int MaxConcurrentHashes { get; init; }

    /// <summary>Lifetime of an access token. 15 minutes is the usual short bearer-token lifetime; clients renew with a refresh (HTTP) or Reauth (socket).</summary>
    public TimeSpan AccessTokenLifetime { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Lifetime of a refresh token (each refresh rotates it). 30 days keeps an app signed in across a month of disuse.</summary>
    public TimeSpan RefreshTokenLifetime { get; init; } = TimeSpan.FromDays(30);

    /// <summary>The <c>iss</c> claim written into and required from access tokens.</summary>
    public string Issuer { get; init; } = "chatserver";

    /// <summary>The <c>aud</c> claim written into and required from access tokens.</summary>
    public string Audience { get; init; } = "chat";

    /// <summary>HS256 signing key, base64 of at least 32 bytes (RFC 7518 §3.2: a key at least as long as the hash). Null: generated once and kept in the data directory.</summary>
    public string? SigningKey { get; init; }

    /// <summary>Upper bounds accepted for Argon2id parameters, in options and in stored hashes alike.</summary>
    internal const int MaxArgon2MemoryKiB = 1024 * 1024;
    internal const int MaxArgon2Iterations = 64;
    internal const int MaxArgon2Parallelism = 64;

    /// <summary>The number of concurrent hashes in effect (resolves 0).</summary>
    public int EffectiveMaxConcurrentHashes => MaxConcurrentHashes == 0 ? Environment.ProcessorCount : MaxConcurrentHashes;

    /// <summary>Throws <see cref="ArgumentException"/> naming the offending <c>Auth:</c> key.</summary>
    public void Validate()
    {
        if (Argon2Parallelism is < 1 or > MaxArgon2Parallelism)
        {
            throw new ArgumentException($"Auth:Argon2Parallelism must be between 1 and {MaxArgon2Parallelism}.");
        }

        // Argon2 needs at least 8 KiB per lane (RFC 9106 §3.1).
        if (Argon2MemoryKiB < 8 * Argon2Parallelism || Argon2MemoryKiB > MaxArgon2MemoryKiB)
        {
            throw new ArgumentException($"Auth:Argon2MemoryKiB must be between 8 × Argon2Parallelism and {MaxArgon2MemoryKiB}.");
        }

        if (Argon2Iterations is < 1 or > MaxArgon2Iterations)
        {
            throw new ArgumentException($"Auth:Argon2Iterations must be between 1 and {MaxArgon2Iterations}.");
        }

        if (MaxConcurrentHashes < 0)
        {
            throw new ArgumentException("Auth:MaxConcurrentHashes must be 0 (one per processor) or positive.");
        }

        if (AccessTokenLifetime < TimeSpan.FromSeconds(1) || AccessTokenLifetime > TimeSpan.FromDays(1))
        {
            throw new ArgumentException("Auth:AccessTokenLifetime must be between 1 second and 1 day.");
        }

        if (RefreshTokenLifetime <= TimeSpan.Zero)
        {
            throw new ArgumentException("Auth:RefreshTokenLifetime must be positive.");
        }

        if (string.IsNullOrEmpty(Issuer))
        {
            throw new ArgumentException("Auth:Issuer must not be empty.");
        }

        if (string.IsNullOrEmpty(Audience))
        {
            throw new ArgumentException("Auth:Audience must not be empty.");
        }
    }
}
