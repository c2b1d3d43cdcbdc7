using ChatServer.Client;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Functional;

public enum Transport
{
    Http,
    WebSocket,
}

/// <summary>
/// The operations that exist both as HTTP routes and as WebSocket ops, behind one interface, so a functional
/// test runs the same rule over both transports (a <c>[Theory]</c> over <see cref="Transport"/>).
/// </summary>
public abstract class ChatApi : IAsyncDisposable
{
    public static async Task<ChatApi> ForAsync(TestUser user, Transport transport) => transport switch
    {
        Transport.Http => new HttpApi(user.Http),
        _ => new SocketApi(await user.ConnectAsync()),
    };

    public abstract Task<User> GetUserAsync(Guid userId);

    public abstract Task<User> GetUserAsync(string username);

    public abstract Task<Group> CreateGroupAsync(string name, string? description = null, bool? isPrivate = null);

    public abstract Task<Group> GetGroupAsync(Guid groupId);

    public abstract Task<Group> UpdateGroupAsync(Guid groupId, string? name = null, string? description = null, bool? isPrivate = null);

    public abstract Task<Page<Group>> ListGroupsAsync(Guid? after = null, int? limit = null);

    public abstract Task<Group> JoinGroupAsync(Guid groupId);

    public abstract Task LeaveGroupAsync(Guid groupId);

    public abstract Task<Member> AddMemberAsync(Guid groupId, Guid userId);

    public abstract Task RemoveMemberAsync(Guid groupId, Guid userId);

    public abstract Task<Member> SetRoleAsync(Guid groupId, Guid userId, string role);

    public abstract Task<Page<Member>> ListMembersAsync(Guid groupId, Guid? after = null, int? limit = null);

    public abstract Task<HistoryResult> HistoryAsync(Guid groupId, long? before = null, int? limit = null);

    public abstract Task<OpenResult> OpenGroupAsync(Guid groupId, int limit = 50);

    public abstract Task<SendResult> SendAsync(Guid groupId, string clientMsgId, string body);

    public abstract Task MarkReadAsync(Guid groupId, long seq);

    public abstract ValueTask DisposeAsync();

    private sealed class HttpApi(ChatHttpClient http) : ChatApi
    {
        public override Task<User> GetUserAsync(Guid userId) => http.GetUserAsync(userId);

        public override Task<User> GetUserAsync(string username) => http.GetUserAsync(username);

        public override Task<Group> CreateGroupAsync(string name, string? description, bool? isPrivate) =>
            http.CreateGroupAsync(name, description, isPrivate);

        public override Task<Group> GetGroupAsync(Guid groupId) => http.GetGroupAsync(groupId);

        public override Task<Group> UpdateGroupAsync(Guid groupId, string? name, string? description, bool? isPrivate) =>
            http.UpdateGroupAsync(groupId, name, description, isPrivate);

        public override Task<Page<Group>> ListGroupsAsync(Guid? after, int? limit) => http.ListGroupsAsync(after, limit);

        public override Task<Group> JoinGroupAsync(Guid groupId) => http.JoinGroupAsync(groupId);

        public override Task LeaveGroupAsync(Guid groupId) => http.LeaveGroupAsync(groupId);

        public override Task<Member> AddMemberAsync(Guid groupId, Guid userId) => http.AddMemberAsync(groupId, userId);

        public override Task RemoveMemberAsync(Guid groupId, Guid userId) => http.RemoveMemberAsync(groupId, userId);

        public override Task<Member> SetRoleAsync(Guid groupId, Guid userId, string role) => http.SetRoleAsync(groupId, userId, role);

        public override Task<Page<Member>> ListMembersAsync(Guid groupId, Guid? after, int? limit) =>
            http.ListMembersAsync(groupId, after, limit);

        public override Task<HistoryResult> HistoryAsync(Guid groupId, long? before, int? limit) => http.HistoryAsync(groupId, before, limit);

        public override Task<OpenResult> OpenGroupAsync(Guid groupId, int limit) => http.OpenGroupAsync(groupId, limit);

        public override async Task<SendResult> SendAsync(Guid groupId, string clientMsgId, string body) =>
            (await http.SendAsync(groupId, clientMsgId, body)).Result;

        public override Task MarkReadAsync(Guid groupId, long seq) => http.MarkReadAsync(groupId, seq);

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class SocketApi(ChatSocket socket) : ChatApi
    {
        public override Task<User> GetUserAsync(Guid userId) => socket.GetUserAsync(userId);

        public override Task<User> GetUserAsync(string username) => socket.GetUserAsync(username);

        public override Task<Group> CreateGroupAsync(string name, string? description, bool? isPrivate) =>
            socket.CreateGroupAsync(name, description, isPrivate);

        public override Task<Group> GetGroupAsync(Guid groupId) => socket.GetGroupAsync(groupId);

        public override Task<Group> UpdateGroupAsync(Guid groupId, string? name, string? description, bool? isPrivate) =>
            socket.UpdateGroupAsync(groupId, name, description, isPrivate);

        public override Task<Page<Group>> ListGroupsAsync(Guid? after, int? limit) => socket.ListGroupsAsync(after, limit);

        public override Task<Group> JoinGroupAsync(Guid groupId) => socket.JoinGroupAsync(groupId);

        public override Task LeaveGroupAsync(Guid groupId) => socket.LeaveGroupAsync(groupId);

        public override Task<Member> AddMemberAsync(Guid groupId, Guid userId) => socket.AddMemberAsync(groupId, userId);

        public override Task RemoveMemberAsync(Guid groupId, Guid userId) => socket.RemoveMemberAsync(groupId, userId);

        public override Task<Member> SetRoleAsync(Guid groupId, Guid userId, string role) => socket.SetRoleAsync(groupId, userId, role);

        public override Task<Page<Member>> ListMembersAsync(Guid groupId, Guid? after, int? limit) =>
            socket.ListMembersAsync(groupId, after, limit);

        public override Task<HistoryResult> HistoryAsync(Guid groupId, long? before, int? limit) => socket.HistoryAsync(groupId, before, limit);

        public override Task<OpenResult> OpenGroupAsync(Guid groupId, int limit) => socket.OpenGroupAsync(groupId, limit);

        public override Task<SendResult> SendAsync(Guid groupId, string clientMsgId, string body) =>
            socket.SendAsync(groupId, clientMsgId, body);

        public override Task MarkReadAsync(Guid groupId, long seq) => socket.MarkReadAsync(groupId, seq);

        public override ValueTask DisposeAsync() => socket.DisposeAsync();
    }
}

/// <summary>One server shared by the tests of a class (they use fresh users and groups, so they do not interfere).</summary>
public sealed class SharedServer : IAsyncLifetime
{
    private TestServer? _server;

    public TestServer Server => _server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}

public static class Expect
{
    /// <summary>Runs <paramref name="call"/>, which must fail with the error <paramref name="code"/> and its HTTP status.</summary>
    public static async Task<ChatApiException> ErrorAsync(string code, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<ChatApiException>(call);
        Assert.Equal(code, error.Code);
        Assert.Equal(StatusOf(code), error.Status);
        return error;
    }

    public static int StatusOf(string code) => code switch
    {
        ChatErrorCodes.InvalidArgument or ChatErrorCodes.UnknownOp => 400,
        ChatErrorCodes.Unauthenticated => 401,
        ChatErrorCodes.Forbidden => 403,
        ChatErrorCodes.NotFound => 404,
        ChatErrorCodes.Conflict => 409,
        ChatErrorCodes.TooLarge => 413,
        ChatErrorCodes.RateLimited => 429,
        ChatErrorCodes.Unavailable => 503,
        _ => 500,
    };

    /// <summary>Waits for the connection to end and returns the close code (fails after <paramref name="timeout"/>).</summary>
    public static async Task<int?> ClosedAsync(ChatSocket socket, TimeSpan? timeout = null) =>
        await socket.Closed.WaitAsync(timeout ?? TimeSpan.FromSeconds(10));

    /// <summary>The Goodbye push that must come before the close, then the close code.</summary>
    public static async Task GoodbyeThenCloseAsync(ChatSocket socket, string reason, int closeCode, TimeSpan? timeout = null)
    {
        var goodbye = await Pushes.NextAsync<GoodbyePush>(socket, null, timeout);
        Assert.Equal(reason, goodbye.Reason);
        Assert.Equal(closeCode, await ClosedAsync(socket, timeout));
    }

    /// <summary>Asserts that no Event push of <paramref name="groupId"/> arrives within <paramref name="window"/>.</summary>
    public static async Task NoEventAsync(ChatSocket socket, Guid groupId, TimeSpan window)
    {
        using var cts = new CancellationTokenSource(window);
        try
        {
            while (true)
            {
                var push = await socket.Pushes.ReadAsync(cts.Token);
                if (push is EventPush e && e.Event.GroupId == groupId)
                {
                    Assert.Fail($"unexpected event seq {e.Event.Seq} kind {e.Event.Kind} of group {groupId}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
