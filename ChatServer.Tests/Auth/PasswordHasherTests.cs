using ChatServer.Auth;
using Konscious.Security.Cryptography;

namespace ChatServer.Tests.Auth;

public sealed class PasswordHasherTests
{
    private static readonly AuthOptions Small = new() { Argon2MemoryKiB = 64, Argon2Iterations = 1, Argon2Parallelism = 1 };

    [Fact]
    public void Argon2id_library_matches_the_RFC_9106_test_vector()
    {
        // RFC 9106 §5.3: Argon2id, m=32 KiB, t=3, p=4, 32-byte tag.
        using var argon2 = new Argon2id(Enumerable.Repeat((byte)0x01, 32).ToArray())
        {
            Salt = Enumerable.Repeat((byte)0x02, 16).ToArray(),
            KnownSecret = Enumerable.Repeat((byte)0x03, 8).ToArray(),
            AssociatedData = Enumerable.Repeat((byte)0x04, 12).ToArray(),
            MemorySize = 32,
            Iterations = 3,
            DegreeOfParallelism = 4,
        };

        byte[] tag = argon2.GetBytes(32);

        Assert.Equal("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659", Convert.ToHexStringLower(tag));
    }

    [Theory]
    // Made by the reference implementation: echo -n "correct horse battery staple" | argon2 saltsaltsaltsalt -id -t 1 -k 64 -p 1 -l 32 -e
    [InlineData("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$TUhCoV6YH8thtZpQqRp0JvQQ5ZYgiLA0LYApKDG6qtM")]
    // ... -t 2 -k 128 -p 2
    [InlineData("$argon2id$v=19$m=128,t=2,p=2$c2FsdHNhbHRzYWx0c2FsdA$MHh893W74xMRj3uRUFXHlDwfF+efe+IDHgYYY8Eqzs4")]
    public async Task Hash_made_by_the_reference_implementation_verifies(string encoded)
    {
        var hasher = new PasswordHasher(Small);

        Assert.True(await hasher.VerifyAsync("correct horse battery staple", encoded));
        Assert.False(await hasher.VerifyAsync("correct horse battery stapler", encoded));
    }

    [Fact]
    public async Task Hash_is_a_PHC_string_with_the_configured_parameters_a_16_byte_salt_and_a_32_byte_hash()
    {
        var hasher = new PasswordHasher(Small);

        string encoded = await hasher.HashAsync("hunter22");

        Assert.StartsWith("$argon2id$v=19$m=64,t=1,p=1$", encoded, StringComparison.Ordinal);
        string[] parts = encoded.Split('$');
        Assert.Equal(6, parts.Length);
        Assert.Equal(16, Convert.FromBase64String(parts[4] + "==").Length);
        Assert.Equal(32, Convert.FromBase64String(parts[5] + "=").Length);
    }

    [Fact]
    public async Task Hash_then_verify_with_the_same_password_succeeds()
    {
        var hasher = new PasswordHasher(Small);

        string encoded = await hasher.HashAsync("pässwörd with ünicode ✓");

        Assert.True(await hasher.VerifyAsync("pässwörd with ünicode ✓", encoded));
    }

    [Fact]
    public async Task Verify_with_a_wrong_password_fails()
    {
        var hasher = new PasswordHasher(Small);

        string encoded = await hasher.HashAsync("hunter22");

        Assert.False(await hasher.VerifyAsync("hunter23", encoded));
        Assert.False(await hasher.VerifyAsync("", encoded));
    }

    [Fact]
    public async Task Hashing_an_empty_password_is_refused_and_verifying_one_fails()
    {
        var hasher = new PasswordHasher(Small);

        await Assert.ThrowsAsync<ArgumentException>(() => hasher.HashAsync(""));
        Assert.False(await hasher.VerifyAsync("", hasher.DummyHash));
    }

    [Fact]
    public async Task Two_hashes_of_one_password_differ_by_their_salt()
    {
        var hasher = new PasswordHasher(Small);

        Assert.NotEqual(await hasher.HashAsync("hunter22"), await hasher.HashAsync("hunter22"));
    }

    [Fact]
    public async Task Parameters_are_read_from_the_encoded_string_so_old_hashes_verify_after_the_options_change()
    {
        string old = await new PasswordHasher(Small).HashAsync("hunter22");
        var changed = new PasswordHasher(new AuthOptions { Argon2MemoryKiB = 128, Argon2Iterations = 2, Argon2Parallelism = 2 });

        Assert.True(await changed.VerifyAsync("hunter22", old));
        Assert.StartsWith("$argon2id$v=19$m=128,t=2,p=2$", await changed.HashAsync("hunter22"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hash")]
    [InlineData("salt")]
    [InlineData("m")]
    [InlineData("t")]
    [InlineData("p")]
    [InlineData("version")]
    [InlineData("variant")]
    [InlineData("padding")]
    [InlineData("whitespace")]
    [InlineData("truncated")]
    [InlineData("leading zero")]
    [InlineData("huge memory")]
    [InlineData("empty")]
    [InlineData("garbage")]
    public async Task Tampered_encoded_string_fails(string tampering)
    {
        var hasher = new PasswordHasher(Small);
        string encoded = await hasher.HashAsync("hunter22");
        string[] parts = encoded.Split('$');
        string tampered = tampering switch
        {
            "hash" => encoded[..^2] + (encoded[^2] == 'A' ? 'B' : 'A') + encoded[^1],
            "salt" => Join(parts, 4, (parts[4][0] == 'A' ? "B" : "A") + parts[4][1..]),
            "m" => encoded.Replace("m=64,", "m=72,", StringComparison.Ordinal),
            "t" => encoded.Replace("t=1,", "t=2,", StringComparison.Ordinal),
            "p" => encoded.Replace("p=1$", "p=2$", StringComparison.Ordinal),
            "version" => encoded.Replace("v=19", "v=16", StringComparison.Ordinal),
            "variant" => encoded.Replace("argon2id", "argon2i", StringComparison.Ordinal),
            "padding" => encoded + "=",
            "whitespace" => Join(parts, 5, parts[5][..10] + " " + parts[5][10..]),
            "truncated" => encoded[..encoded.LastIndexOf('$')],
            "leading zero" => encoded.Replace("m=64,", "m=064,", StringComparison.Ordinal),
            "huge memory" => encoded.Replace("m=64,", "m=2147483647,", StringComparison.Ordinal),
            "empty" => "",
            _ => "not a hash at all",
        };

        Assert.NotEqual(encoded, tampered);
        Assert.False(await hasher.VerifyAsync("hunter22", tampered));

        static string Join(string[] parts, int index, string replacement)
        {
            string[] copy = (string[])parts.Clone();
            copy[index] = replacement;
            return string.Join('$', copy);
        }
    }

    [Fact]
    public async Task Dummy_hash_uses_the_current_parameters_and_matches_no_guessable_password()
    {
        var hasher = new PasswordHasher(Small);

        Assert.StartsWith("$argon2id$v=19$m=64,t=1,p=1$", hasher.DummyHash, StringComparison.Ordinal);
        Assert.False(await hasher.VerifyAsync("", hasher.DummyHash));
        Assert.False(await hasher.VerifyAsync("password", hasher.DummyHash));
    }

    [Fact]
    public async Task With_one_slot_two_hashes_never_overlap()
    {
        PasswordHasher? hasher = null;
        int peak = 0;
        hasher = new PasswordHasher(
            new AuthOptions { Argon2MemoryKiB = 64, Argon2Iterations = 1, MaxConcurrentHashes = 1 },
            onHashStarting: () => InterlockedMax(ref peak, hasher!.RunningHashes));

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => hasher.HashAsync("password" + i)));

        Assert.Equal(1, Volatile.Read(ref peak));
        Assert.Equal(0, hasher.RunningHashes);
        Assert.Equal(0, hasher.WaitingHashes);
    }

    [Fact]
    public async Task A_hash_beyond_the_bound_waits_until_a_running_one_finishes()
    {
        using var release = new ManualResetEventSlim();
        int entered = 0;
        var hasher = new PasswordHasher(
            new AuthOptions { Argon2MemoryKiB = 64, Argon2Iterations = 1, MaxConcurrentHashes = 2 },
            onHashStarting: () =>
            {
                Interlocked.Increment(ref entered);
                Assert.True(release.Wait(TimeSpan.FromSeconds(30)));
            });

        Task<string>[] hashes = [hasher.HashAsync("a"), hasher.HashAsync("b"), hasher.HashAsync("c")];
        await WaitUntil(() => Volatile.Read(ref entered) == 2 && hasher.WaitingHashes == 1);

        Assert.Equal(2, hasher.RunningHashes);
        Assert.Equal(2, Volatile.Read(ref entered));
        Assert.DoesNotContain(hashes, h => h.IsCompleted);

        release.Set();
        await Task.WhenAll(hashes);
        Assert.Equal(3, Volatile.Read(ref entered));
    }

    [Fact]
    public async Task A_cancelled_wait_for_a_slot_throws_and_leaves_the_slot_usable()
    {
        using var release = new ManualResetEventSlim();
        var hasher = new PasswordHasher(
            new AuthOptions { Argon2MemoryKiB = 64, Argon2Iterations = 1, MaxConcurrentHashes = 1 },
            onHashStarting: () => Assert.True(release.Wait(TimeSpan.FromSeconds(30))));
        Task<string> first = hasher.HashAsync("a");
        await WaitUntil(() => hasher.RunningHashes == 1);

        using var cancel = new CancellationTokenSource();
        Task<bool> second = hasher.VerifyAsync("b", hasher.DummyHash, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);
        release.Set();
        Assert.True(await hasher.VerifyAsync("a", await first));
        Assert.Equal(0, hasher.WaitingHashes);
    }

    [Theory]
    [InlineData(4, 1, 1, 0, "Auth:Argon2MemoryKiB")]
    [InlineData(64, 0, 1, 0, "Auth:Argon2Iterations")]
    [InlineData(64, 1, 0, 0, "Auth:Argon2Parallelism")]
    [InlineData(64, 1, 1, -1, "Auth:MaxConcurrentHashes")]
    public void Invalid_options_are_rejected_naming_the_setting(int memory, int iterations, int parallelism, int slots, string key)
    {
        var options = new AuthOptions { Argon2MemoryKiB = memory, Argon2Iterations = iterations, Argon2Parallelism = parallelism, MaxConcurrentHashes = slots };

        var error = Assert.Throws<ArgumentException>(() => new PasswordHasher(options));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current = Volatile.Read(ref target);
        while (value > current)
        {
            int seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }
}
