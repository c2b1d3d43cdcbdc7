using System.Security.Cryptography;
using System.Text;
using Konscious.Security.Cryptography;

namespace ChatServer.Auth;

/// <summary>
/// Argon2id password hashing with a bound on concurrent hashes: a login storm waits in the queue of
/// a <see cref="SemaphoreSlim"/> instead of occupying every thread-pool thread with ~70 ms of hashing.
/// Hashes are stored as PHC strings (<c>$argon2id$v=19$m=19456,t=2,p=1$salt$hash</c>), so hashes made
/// under earlier options keep verifying after the options change.
/// </summary>
internal sealed class PasswordHasher
{
    internal const int SaltBytes = 16;
    internal const int HashBytes = 32;

    private readonly Argon2Parameters _parameters;
    private readonly SemaphoreSlim _gate;
    private readonly Action? _onHashStarting;
    private int _waiting;
    private int _running;

    public PasswordHasher(AuthOptions options)
        : this(options, onHashStarting: null)
    {
    }

    /// <param name="options">Argon2id parameters and the concurrency bound.</param>
    /// <param name="onHashStarting">Called on the hashing thread after the gate is passed, right before a hash is computed.</param>
    internal PasswordHasher(AuthOptions options, Action? onHashStarting)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _parameters = new Argon2Parameters(options.Argon2MemoryKiB, options.Argon2Iterations, options.Argon2Parallelism);
        int slots = options.EffectiveMaxConcurrentHashes;
        _gate = new SemaphoreSlim(slots, slots);
        _onHashStarting = onHashStarting;

        byte[] salt = RandomNumberGenerator.GetBytes(SaltBytes);
        DummyHash = Argon2Phc.Format(_parameters, salt, Compute(RandomNumberGenerator.GetBytes(16), salt, _parameters, HashBytes));
    }

    /// <summary>A valid hash of a random password under the current parameters: verify against it when the user does not exist, so unknown users cost the same time.</summary>
    public string DummyHash { get; }

    /// <summary>Calls waiting for a hashing slot.</summary>
    public int WaitingHashes => Volatile.Read(ref _waiting);

    /// <summary>Hashes being computed now.</summary>
    public int RunningHashes => Volatile.Read(ref _running);

    /// <summary>Hashes <paramref name="password"/> (not empty) with a new random salt under the current parameters.</summary>
    public async Task<string> HashAsync(string password, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        byte[] salt = RandomNumberGenerator.GetBytes(SaltBytes);
        byte[] hash = await RunGatedAsync(new Job(this, Encoding.UTF8.GetBytes(password), salt, _parameters, HashBytes), ct).ConfigureAwait(false);
        return Argon2Phc.Format(_parameters, salt, hash);
    }

    /// <summary>
    /// True when <paramref name="password"/> matches <paramref name="encoded"/>, compared in constant time with the
    /// parameters read from <paramref name="encoded"/>. An encoded string that does not parse gives false.
    /// </summary>
    public async Task<bool> VerifyAsync(string password, string encoded, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentNullException.ThrowIfNull(encoded);
        if (!Argon2Phc.TryParse(encoded, out Argon2Parameters parameters, out byte[] salt, out byte[] expected))
        {
            return false;
        }

        // The Argon2 library refuses an empty password; hash a stand-in instead so that the answer, false, takes as long.
        bool empty = password.Length == 0;
        byte[] passwordBytes = empty ? [0] : Encoding.UTF8.GetBytes(password);
        byte[] actual = await RunGatedAsync(new Job(this, passwordBytes, salt, parameters, expected.Length), ct).ConfigureAwait(false);
        return CryptographicOperations.FixedTimeEquals(actual, expected) && !empty;
    }

    private async Task<byte[]> RunGatedAsync(Job job, CancellationToken ct)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await _gate.WaitAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        try
        {
            return await Task.Factory.StartNew(
                static state => ((Job)state!).Run(),
                job,
                ct,
                TaskCreationOptions.DenyChildAttach,
                TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static byte[] Compute(byte[] password, byte[] salt, Argon2Parameters parameters, int hashLength)
    {
        try
        {
            using var argon2 = new Argon2id(password)
            {
                Salt = salt,
                MemorySize = parameters.MemoryKiB,
                Iterations = parameters.Iterations,
                DegreeOfParallelism = parameters.Parallelism,
            };
            return argon2.GetBytes(hashLength);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(password);
        }
    }

    private sealed class Job(PasswordHasher owner, byte[] password, byte[] salt, Argon2Parameters parameters, int hashLength)
    {
        public byte[] Run()
        {
            Interlocked.Increment(ref owner._running);
            try
            {
                owner._onHashStarting?.Invoke();
                return Compute(password, salt, parameters, hashLength);
            }
            finally
            {
                Interlocked.Decrement(ref owner._running);
            }
        }
    }
}
