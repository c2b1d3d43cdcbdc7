namespace ChatServer.Auth;

/// <summary>Argon2id cost parameters: memory in KiB, passes, lanes.</summary>
internal readonly record struct Argon2Parameters(int MemoryKiB, int Iterations, int Parallelism)
{
    /// <summary>Within RFC 9106 limits and the caps of <see cref="AuthOptions"/>.</summary>
    public bool IsAcceptable =>
        Parallelism is >= 1 and <= AuthOptions.MaxArgon2Parallelism
        && MemoryKiB >= 8 * Parallelism && MemoryKiB <= AuthOptions.MaxArgon2MemoryKiB
        && Iterations is >= 1 and <= AuthOptions.MaxArgon2Iterations;
}
