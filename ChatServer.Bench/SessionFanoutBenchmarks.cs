using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using ChatServer.Auth;
using ChatServer.Chat;
using ChatServer.Gateway;
using ChatServer.Hosting;
using ChatServer.Protocol;
using ChatServer.Storage;
using MessagePack;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatServer.Bench;

/// <summary>
/// Fan-out of one committed event through the session layer: <see cref="SessionRegistry.EventCommitted"/> walks the
/// group's members, encodes the frame once and hands it to each member's <see cref="ChatSession.PushEvent"/> (push lock,
/// outbound limit, metrics), then each connection's outbound queue and writer loop as in <see cref="FanoutBenchmarks"/>.
/// Every session is accepted by <see cref="GatewayConnectionHandler"/> over in-memory pipes on Kestrel's block pool and
/// authenticates with a real Hello and access token; the users, their logins and the group's members are put into
/// <see cref="ChatState"/> directly (what the store's start-up load builds), and the store is never opened (nothing on
/// this path reads or writes it). Allocated bytes / N is the cost per delivered frame, the event's one encode included.
/// </summary>
[MemoryDiagnoser]
public class SessionFanoutBenchmarks
{
    private KestrelServices _kestrel = null!;
    private SessionRegistry _registry = null!;
    private GroupState _group = null!;
    private EventRecord _event = null!;
    private PipeConnectionContext[] _contexts = [];
    private PipeReader[] _clients = [];
    private Task[] _connections = [];
    private int _frameLength;

    [Params(1, 100, 1_000, 50_000)]
    public int Sessions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _kestrel = new KestrelServices();
        var time = TimeProvider.System;
        var auth = new AuthOptions();
        var chat = new ChatOptions();
        var gateway = new GatewayOptions();
        var store = new StorageEngine(new StorageOptions(), NullLogger<StorageEngine>.Instance);
        var state = new ChatState();
        var tokens = new TokenService(auth, RandomNumberGenerator.GetBytes(32), time);
        var metrics = new Metrics(store);
        _registry = new SessionRegistry(state, chat, metrics);
        var accounts = new AccountService(state, store, new PasswordHasher(auth), tokens, auth, time);
        var groups = new GroupService(state, store, chat, time);
        accounts.Attach(_registry);
        groups.Attach(_registry);
        var handler = new GatewayConnectionHandler(gateway, _registry, accounts, groups, chat, time, metrics, _kestrel.Lifetime);

        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var users = new Guid[Sessions];
        for (int i = 0; i < Sessions; i++) users[i] = Guid.CreateVersion7();
        _group = new GroupState(new GroupRecord(Guid.CreateVersion7(), "bench", "", false, users[0], now)) { LastSeq = 1, AssignedSeq = 1 };
        var groupId = _group.Record.Id;
        state.Groups[groupId] = _group;

        _contexts = new PipeConnectionContext[Sessions];
        _clients = new PipeReader[Sessions];
        _connections = new Task[Sessions];
        for (int i = 0; i < Sessions; i++)
        {
            var user = new UserRecord(users[i], $"user{i}", $"User {i}", null, "", now);
            var userState = new UserState(user);
            userState.Groups.Add(groupId);
            state.Users[user.Id] = userState;
            state.Usernames[user.Username] = user.Id;
            var login = new LoginRecord(Guid.CreateVersion7(), user.Id, [], now + 86_400_000, now, false, 0);
            state.Logins[login.Id] = login;
            _group.Members[user.Id] = new MemberRecord(groupId, user.Id, i == 0 ? Roles.Owner : Roles.Member, now, 1);
            _group.MemberOrder.Add(user.Id);
            _group.ReadPositions[user.Id] = 1;

            var context = new PipeConnectionContext(_kestrel.Pool);
            context.ClientOutput.Write(BenchClient.UpgradeRequest);
            context.ClientOutput.Write(BenchClient.MaskedBinaryFrame(Hello(tokens.IssueAccessToken(user.Id, login.Id).Token)));
            context.ClientOutput.FlushAsync().AsTask().GetAwaiter().GetResult();
            _contexts[i] = context;
            _clients[i] = context.ClientInput;
            _connections[i] = handler.OnConnectedAsync(context);
        }

        foreach (var client in _clients)
        {
            BenchClient.SkipResponseHead(client);
            BenchClient.SkipFrames(client, 2); // the Hello reply and Synced
        }

        if (_registry.Count != Sessions) throw new InvalidOperationException($"{_registry.Count} of {Sessions} sessions authenticated");
        _event = FrameBenchmarks.SampleEvent() with { GroupId = groupId, Seq = 2, ActorId = users[0] };
        _frameLength = WireRecords.EventPush(_event).Length;
        BenchClient.WarmUntilSteady(EventCommitted);
    }

    private static byte[] Hello(string token)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(4);
        writer.Write(OpCodes.Hello);
        writer.Write(1u);
        writer.Write(token);
        writer.WriteNil();
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    [Benchmark]
    public ValueTask EventCommitted()
    {
        _registry.EventCommitted(_group, _event);
        return BenchClient.ReadFromEachAsync(_clients, _frameLength);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // The clients end their input: each session sees the end of the stream and the handler closes the connection.
        foreach (var context in _contexts) context.ClientOutput.Complete();
        Task.WhenAll(_connections).Wait(TimeSpan.FromSeconds(30));
        _kestrel.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
