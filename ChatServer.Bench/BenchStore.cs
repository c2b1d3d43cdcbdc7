using System.Security.Cryptography;
using ChatServer.Auth;
using ChatServer.Chat;
using ChatServer.Gateway;
using ChatServer.Hosting;
using ChatServer.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatServer.Bench;

/// <summary>
/// The store and the services on a fresh temporary data directory, opened and wired as <c>ServerHost</c> does (no
/// PostgreSQL), with one registered user who owns one group. Password hashing is cheap and the send rate unlimited,
/// as in the functional tests.
/// </summary>
internal sealed class BenchStore : IAsyncDisposable
{
    private readonly string _directory;

    private BenchStore(string directory, StorageEngine store, GroupService groups, Guid user, Guid group)
    {
        _directory = directory;
        Store = store;
        Groups = groups;
        User = user;
        Group = group;
    }

    public StorageEngine Store { get; }

    public GroupService Groups { get; }

    public Guid User { get; }

    public Guid Group { get; }

    public static BenchStore Open(DurabilityMode durability) => OpenAsync(durability).GetAwaiter().GetResult();

    private static async Task<BenchStore> OpenAsync(DurabilityMode durability)
    {
        var directory = Path.Combine(Path.GetTempPath(), "chat-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var time = TimeProvider.System;
        var auth = new AuthOptions { Argon2MemoryKiB = 64, Argon2Iterations = 1 };
        var chat = new ChatOptions { SendRatePerSecond = 1e9, SendBurst = 1_000_000_000 };
        var state = new ChatState();
        var store = new StorageEngine(new StorageOptions { DataDirectory = directory, Durability = durability }, NullLogger<StorageEngine>.Instance);
        store.Open(state.Load);
        state.FinishLoad();
        var accounts = new AccountService(state, store, new PasswordHasher(auth), new TokenService(auth, RandomNumberGenerator.GetBytes(32), time), auth, time);
        var groups = new GroupService(state, store, chat, time);
        var registry = new SessionRegistry(state, chat, new Metrics(store));
        accounts.Attach(registry);
        groups.Attach(registry);

        var user = await accounts.RegisterAsync("bench", "Bench", null, "password123");
        var group = await groups.CreateAsync(user.Value!.Id, "bench", null, false);
        return new BenchStore(directory, store, groups, user.Value!.Id, group.Value!.Group.Id);
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
