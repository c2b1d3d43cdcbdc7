using System.Text.Json;
using ChatServer.Client;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Functional;

/// <summary>
/// A group for the access matrix: an owner, two admins and a plain member, with one message of each kind of
/// target the rules name (seqs fixed; nothing the matrix does may write anything).
/// </summary>
public sealed record MatrixGroup(Guid Id, TestUser Owner, TestUser Admin, TestUser SecondAdmin, TestUser Member)
{
    /// <summary>The owner's join at creation.</summary>
    public const long JoinSeq = 1;

    /// <summary>A message by the owner.</summary>
    public const long OwnerMessageSeq = 7;

    /// <summary>A message by the member (edited at <see cref="EditSeq"/>).</summary>
    public const long MemberMessageSeq = 8;

    /// <summary>The member's edit of <see cref="MemberMessageSeq"/>.</summary>
    public const long EditSeq = 9;

    /// <summary>A message by the member, deleted at <see cref="DeleteEventSeq"/>.</summary>
    public const long DeletedMessageSeq = 10;

    /// <summary>The member's delete of <see cref="DeletedMessageSeq"/>.</summary>
    public const long DeleteEventSeq = 11;

    public const long LastSeq = 11;

    public const int MemberCount = 4;

    public static async Task<MatrixGroup> CreateAsync(TestServer server, bool isPrivate)
    {
        var owner = await server.NewUserAsync("mowner");
        var admin = await server.NewUserAsync("madmin");
        var secondAdmin = await server.NewUserAsync("madmin");
        var member = await server.NewUserAsync("mmember");
        var group = await owner.Http.CreateGroupAsync(isPrivate ? "matrix private" : "matrix public", isPrivate: isPrivate);
        var id = group.GroupId;
        await owner.Http.AddMemberAsync(id, admin.Id);
        await owner.Http.AddMemberAsync(id, secondAdmin.Id);
        await owner.Http.AddMemberAsync(id, member.Id);
        await owner.Http.SetRoleAsync(id, admin.Id, ChatRoles.Admin);
        await owner.Http.SetRoleAsync(id, secondAdmin.Id, ChatRoles.Admin);
        Assert.Equal(OwnerMessageSeq, (await owner.Http.SendAsync(id, "o-1", "by the owner")).Result.Seq);
        Assert.Equal(MemberMessageSeq, (await member.Http.SendAsync(id, "m-1", "by the member")).Result.Seq);
        Assert.Equal(EditSeq, await member.Http.EditAsync(id, MemberMessageSeq, "by the member, edited"));
        Assert.Equal(DeletedMessageSeq, (await member.Http.SendAsync(id, "m-2", "to be deleted")).Result.Seq);
        Assert.Equal(DeleteEventSeq, await member.Http.DeleteAsync(id, DeletedMessageSeq));
        return new MatrixGroup(id, owner, admin, secondAdmin, member);
    }

    public TestUser this[Role role] => role switch
    {
        Role.Owner => Owner,
        Role.Admin => Admin,
        _ => Member,
    };

    /// <summary>Asserts that nothing was written: the log and the member list are as created.</summary>
    public async Task AssertUnchangedAsync()
    {
        var group = await Owner.Http.GetGroupAsync(Id);
        Assert.Equal((LastSeq, MemberCount), (group.LastSeq, group.MemberCount));
    }
}

public enum Role
{
    Owner,
    Admin,
    Member,
}

/// <summary>One server with a public and a private <see cref="MatrixGroup"/>, a stranger and a revoked token.</summary>
public sealed class AccessMatrixFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public MatrixGroup Public { get; private set; } = null!;

    public MatrixGroup Private { get; private set; } = null!;

    /// <summary>A user in neither group.</summary>
    public TestUser Stranger { get; private set; } = null!;

    /// <summary>An access token of a login that has logged out.</summary>
    public string RevokedToken { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        Public = await MatrixGroup.CreateAsync(Server, isPrivate: false);
        Private = await MatrixGroup.CreateAsync(Server, isPrivate: true);
        Stranger = await Server.NewUserAsync("stranger");
        var other = Server.NewHttp();
        var login = await other.LoginAsync(Stranger.User.Username, Stranger.Password);
        await other.LogoutAsync();
        RevokedToken = login.AccessToken;
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Every op of PROTOCOL.md §3 (and Edit, Delete, Typing, Sync, which <see cref="ChatApi"/> lacks) behind one
/// interface, over HTTP or over a WebSocket session. Typing has no HTTP route.
/// </summary>
public sealed class MatrixApi : IAsyncDisposable
{
    private readonly ChatHttpClient _http;
    private readonly ChatSocket? _socket;

    private MatrixApi(TestUser user, ChatSocket? socket)
    {
        User = user;
        _http = user.Http;
        _socket = socket;
    }

    public TestUser User { get; }

    public static async Task<MatrixApi> ForAsync(TestUser user, Transport transport)
    {
        if (transport == Transport.Http) return new MatrixApi(user, null);
        var socket = await user.Server.ConnectAsync(new ChatSocketOptions { DiscardPushes = true });
        await socket.HelloAsync(user.Token);
        return new MatrixApi(user, socket);
    }

    public Task GetUserAsync(Guid userId) => _socket is null ? _http.GetUserAsync(userId) : _socket.GetUserAsync(userId);

    public Task GetUserAsync(string atName) => _socket is null ? _http.GetUserAsync(atName) : _socket.GetUserAsync(atName);

    public Task CreateGroupAsync(string name, string? description = null) =>
        _socket is null ? _http.CreateGroupAsync(name, description) : _socket.CreateGroupAsync(name, description);

    public Task GetGroupAsync(Guid groupId) => _socket is null ? _http.GetGroupAsync(groupId) : _socket.GetGroupAsync(groupId);

    public Task ListGroupsAsync(Guid? after, int? limit) =>
        _socket is null ? _http.ListGroupsAsync(after, limit) : _socket.ListGroupsAsync(after, limit);

    public Task JoinGroupAsync(Guid groupId) => _socket is null ? _http.JoinGroupAsync(groupId) : _socket.JoinGroupAsync(groupId);

    public Task LeaveGroupAsync(Guid groupId) => _socket is null ? _http.LeaveGroupAsync(groupId) : _socket.LeaveGroupAsync(groupId);

    public Task AddMemberAsync(Guid groupId, Guid userId) =>
        _socket is null ? _http.AddMemberAsync(groupId, userId) : _socket.AddMemberAsync(groupId, userId);

    public Task RemoveMemberAsync(Guid groupId, Guid userId) =>
        _socket is null ? _http.RemoveMemberAsync(groupId, userId) : _socket.RemoveMemberAsync(groupId, userId);

    public Task ListMembersAsync(Guid groupId, Guid? after = null, int? limit = null) =>
        _socket is null ? _http.ListMembersAsync(groupId, after, limit) : _socket.ListMembersAsync(groupId, after, limit);

    public Task OpenAsync(Guid groupId, int limit = 10) =>
        _socket is null ? _http.OpenGroupAsync(groupId, limit) : _socket.OpenGroupAsync(groupId, limit);

    public Task<IReadOnlyList<SyncItem>> SyncAsync(IReadOnlyDictionary<Guid, long> lastSeqs) =>
        _socket is null ? _http.SyncAsync(lastSeqs) : _socket.SyncAsync(lastSeqs);

    public Task UpdateGroupAsync(Guid groupId, string? name = null, string? description = null, bool? isPrivate = null) =>
        _socket is null ? _http.UpdateGroupAsync(groupId, name, description, isPrivate) : _socket.UpdateGroupAsync(groupId, name, description, isPrivate);

    public Task SetRoleAsync(Guid groupId, Guid userId, string role) =>
        _socket is null ? _http.SetRoleAsync(groupId, userId, role) : _socket.SetRoleAsync(groupId, userId, role);

    public Task SendAsync(Guid groupId, string clientMsgId, string body) =>
        _socket is null ? _http.SendAsync(groupId, clientMsgId, body) : _socket.SendAsync(groupId, clientMsgId, body);

    public Task HistoryAsync(Guid groupId, long? before = null, int? limit = null) =>
        _socket is null ? _http.HistoryAsync(groupId, before, limit) : _socket.HistoryAsync(groupId, before, limit);

    public Task MarkReadAsync(Guid groupId, long seq) => _socket is null ? _http.MarkReadAsync(groupId, seq) : _socket.MarkReadAsync(groupId, seq);

    public Task TypingAsync(Guid groupId) =>
        _socket?.TypingAsync(groupId, wantReply: true) ?? throw new NotSupportedException("Typing has no HTTP route");

    public Task EditAsync(Guid groupId, long seq, string body) =>
        _socket is null ? _http.EditAsync(groupId, seq, body) : _socket.EditAsync(groupId, seq, body);

    public Task DeleteAsync(Guid groupId, long seq) => _socket is null ? _http.DeleteAsync(groupId, seq) : _socket.DeleteAsync(groupId, seq);

    /// <summary>Fails unless the WebSocket session (if any) is still open and answering.</summary>
    public async Task AssertStillOpenAsync()
    {
        if (_socket is null) return;
        Assert.Equal(User.Id, (await _socket.GetUserAsync(User.Id)).UserId);
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket is not null) await _socket.DisposeAsync();
    }
}

/// <summary>
/// The access and argument rules of PROTOCOL.md §3 as a matrix: each op × each error the contract defines
/// for it, over both transports wherever the op exists on both (Typing is WebSocket only).
/// </summary>
public sealed class AccessMatrixTests(AccessMatrixFixture fixture) : IClassFixture<AccessMatrixFixture>
{
    private static readonly string Long16385 = new('x', 16385);

    /// <summary>A call on group <c>g</c> by <c>api</c>, with the fixture's group (for ids and seqs) and the stranger.</summary>
    private delegate Task GroupCall(MatrixApi api, Guid g, MatrixGroup group, AccessMatrixFixture f);

    /// <summary>Every op that names a group, with arguments that are valid for a member.</summary>
    private static readonly Dictionary<string, GroupCall> GroupOps = new()
    {
        ["GetGroup"] = (api, g, _, _) => api.GetGroupAsync(g),
        ["Open"] = (api, g, _, _) => api.OpenAsync(g),
        ["History"] = (api, g, _, _) => api.HistoryAsync(g),
        ["ListMembers"] = (api, g, _, _) => api.ListMembersAsync(g),
        ["JoinGroup"] = (api, g, _, _) => api.JoinGroupAsync(g),
        ["LeaveGroup"] = (api, g, _, _) => api.LeaveGroupAsync(g),
        ["AddMember of oneself"] = (api, g, _, _) => api.AddMemberAsync(g, api.User.Id),
        ["AddMember of a user who is not a member"] = (api, g, grp, f) => api.AddMemberAsync(g, (grp == f.Public ? f.Private : f.Public).Admin.Id),
        ["RemoveMember of a member"] = (api, g, grp, _) => api.RemoveMemberAsync(g, grp.Member.Id),
        ["RemoveMember of oneself"] = (api, g, _, _) => api.RemoveMemberAsync(g, api.User.Id),
        ["UpdateGroup"] = (api, g, _, _) => api.UpdateGroupAsync(g, name: "taken over"),
        ["SetRole"] = (api, g, grp, _) => api.SetRoleAsync(g, grp.Member.Id, ChatRoles.Admin),
        ["SetRole to owner"] = (api, g, grp, _) => api.SetRoleAsync(g, grp.Member.Id, ChatRoles.Owner),
        ["Send"] = (api, g, _, _) => api.SendAsync(g, "matrix-" + Guid.NewGuid().ToString("N"), "hello"),
        ["MarkRead"] = (api, g, _, _) => api.MarkReadAsync(g, 1),
        ["Typing"] = (api, g, _, _) => api.TypingAsync(g),
        ["Edit"] = (api, g, _, _) => api.EditAsync(g, MatrixGroup.OwnerMessageSeq, "changed"),
        ["Delete"] = (api, g, _, _) => api.DeleteAsync(g, MatrixGroup.OwnerMessageSeq),

        // Arguments that would fail for a member: membership is checked first.
        ["MarkRead above lastSeq"] = (api, g, _, _) => api.MarkReadAsync(g, MatrixGroup.LastSeq + 1),
        ["Edit of a missing seq"] = (api, g, _, _) => api.EditAsync(g, MatrixGroup.LastSeq + 100, "changed"),
        ["Edit of a deleted message"] = (api, g, _, _) => api.EditAsync(g, MatrixGroup.DeletedMessageSeq, "changed"),
        ["Edit of an event that is not a message"] = (api, g, _, _) => api.EditAsync(g, MatrixGroup.JoinSeq, "changed"),
        ["Delete of a missing seq"] = (api, g, _, _) => api.DeleteAsync(g, MatrixGroup.LastSeq + 100),
        ["Delete of a deleted message"] = (api, g, _, _) => api.DeleteAsync(g, MatrixGroup.DeletedMessageSeq),
        ["Delete of an event that is not a message"] = (api, g, _, _) => api.DeleteAsync(g, MatrixGroup.JoinSeq),
        ["RemoveMember of a non-member"] = (api, g, _, _) => api.RemoveMemberAsync(g, Guid.CreateVersion7()),
        ["SetRole of a non-member"] = (api, g, _, _) => api.SetRoleAsync(g, Guid.CreateVersion7(), ChatRoles.Admin),
    };

    /// <summary>The ops a non-member may use on a public group.</summary>
    private static readonly string[] PublicReads = ["GetGroup", "Open", "History", "ListMembers"];

    /// <summary>Ops that succeed for a non-member of a public group and change it (JoinGroup is the way in).</summary>
    private static readonly string[] PublicJoins = ["JoinGroup", "AddMember of oneself"];

    private readonly AccessMatrixFixture _f = fixture;

    private static IEnumerable<Transport> TransportsOf(string op) =>
        op == "Typing" ? [Transport.WebSocket] : [Transport.Http, Transport.WebSocket];

    private static TheoryData<string, Transport> Rows(IEnumerable<string> ops)
    {
        var data = new TheoryData<string, Transport>();
        foreach (var op in ops)
        {
            foreach (var transport in TransportsOf(op)) data.Add(op, transport);
        }

        return data;
    }

    public static TheoryData<string, Transport> EveryGroupOp() => Rows(GroupOps.Keys);

    public static TheoryData<string, Transport> PublicMemberOps() =>
        Rows(GroupOps.Keys.Except(PublicReads).Except(PublicJoins));

    public static TheoryData<string, Transport> PublicReadOps() => Rows(PublicReads);

    [Theory]
    [MemberData(nameof(EveryGroupOp))]
    public async Task Every_op_on_a_private_group_is_not_found_for_a_non_member(string op, Transport transport)
    {
        await using var api = await MatrixApi.ForAsync(_f.Stranger, transport);

        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => GroupOps[op](api, _f.Private.Id, _f.Private, _f));

        await api.AssertStillOpenAsync();
        await _f.Private.AssertUnchangedAsync();
    }

    [Theory]
    [MemberData(nameof(EveryGroupOp))]
    public async Task Every_op_on_a_private_group_is_not_found_for_a_member_of_another_group(string op, Transport transport)
    {
        await using var api = await MatrixApi.ForAsync(_f.Public.Owner, transport);

        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => GroupOps[op](api, _f.Private.Id, _f.Private, _f));

        await _f.Private.AssertUnchangedAsync();
    }

    [Theory]
    [MemberData(nameof(EveryGroupOp))]
    public async Task Every_op_on_a_missing_group_is_not_found(string op, Transport transport)
    {
        await using var api = await MatrixApi.ForAsync(_f.Public.Owner, transport);

        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => GroupOps[op](api, Guid.CreateVersion7(), _f.Public, _f));

        await api.AssertStillOpenAsync();
    }

    [Theory]
    [MemberData(nameof(PublicMemberOps))]
    public async Task Every_member_op_on_a_public_group_is_forbidden_for_a_non_member(string op, Transport transport)
    {
        await using var api = await MatrixApi.ForAsync(_f.Stranger, transport);

        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => GroupOps[op](api, _f.Public.Id, _f.Public, _f));

        await api.AssertStillOpenAsync();
        await _f.Public.AssertUnchangedAsync();
    }

    [Theory]
    [MemberData(nameof(PublicReadOps))]
    public async Task The_reads_of_a_public_group_succeed_for_a_non_member(string op, Transport transport)
    {
        await using var api = await MatrixApi.ForAsync(_f.Stranger, transport);

        await GroupOps[op](api, _f.Public.Id, _f.Public, _f);

        await _f.Public.AssertUnchangedAsync();
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task Sync_leaves_out_groups_the_caller_is_not_a_member_of_whether_public_private_or_missing(Transport transport)
    {
        var positions = new Dictionary<Guid, long> { [_f.Public.Id] = 0, [_f.Private.Id] = 0, [Guid.CreateVersion7()] = 0 };
        await using var stranger = await MatrixApi.ForAsync(_f.Stranger, transport);
        await using var member = await MatrixApi.ForAsync(_f.Public.Member, transport);

        Assert.Empty(await stranger.SyncAsync(positions));
        var item = Assert.Single(await member.SyncAsync(positions));
        Assert.Equal((_f.Public.Id, MatrixGroup.LastSeq), (item.GroupId, item.LastSeq));
    }

    /// <summary>A call by a member of the group in some role that the contract answers with an error.</summary>
    private sealed record RuleCase(Role Caller, string Code, GroupCall Call);

    /// <summary>The owner/admin rules, the message rules and the argument rules, each with its error code.</summary>
    private static readonly Dictionary<string, RuleCase> Rules = new()
    {
        // Owner/admin ops by a plain member; SetRole by anyone but the owner.
        ["UpdateGroup by a plain member"] = new(Role.Member, ChatErrorCodes.Forbidden, (api, g, _, _) => api.UpdateGroupAsync(g, name: "mine")),
        ["UpdateGroup of privacy by a plain member"] = new(Role.Member, ChatErrorCodes.Forbidden, (api, g, _, _) => api.UpdateGroupAsync(g, isPrivate: true)),
        ["AddMember by a plain member"] = new(Role.Member, ChatErrorCodes.Forbidden, (api, g, _, f) => api.AddMemberAsync(g, f.Stranger.Id)),
        ["RemoveMember of another member by a plain member"] = new(Role.Member, ChatErrorCodes.Forbidden, (api, g, grp, _) => api.RemoveMemberAsync(g, grp.Admin.Id)),
        ["SetRole by a plain member"] = new(Role.Member, ChatErrorCodes.Forbidden, (api, g, grp, _) => api.SetRoleAsync(g, grp.Member.Id, ChatRoles.Admin)),
        ["SetRole by an admin"] = new(Role.Admin, ChatErrorCodes.Forbidden, (api, g, grp, _) => api.SetRoleAsync(g, grp.Member.Id, ChatRoles.Admin)),
        ["SetRole of itself to owner by an admin"] = new(Role.Admin, ChatErrorCodes.Forbidden, (api, g, grp, _) => api.SetRoleAsync(g, grp.Admin.Id, ChatRoles.Owner)),
        ["RemoveMember of the owner by an admin"] = new(Role.Admin, ChatErrorCodes.Forbidden, (api, g, grp, _) => api.RemoveMemberAsync(g, grp.Owner.Id)),
        ["RemoveMember of another admin by an admin"] = new(Role.Admin, ChatErrorCodes.Forbidden, (api, g, grp, _) => api.RemoveMemberAsync(g, grp.SecondAdmin.Id)),
        ["LeaveGroup by the owner"] = new(Role.Owner, ChatErrorCodes.Forbidden, (api, g, _, _) => api.LeaveGroupAsync(g)),
        ["RemoveMember of itself by the owner"] = new(Role.Owner, ChatErrorCodes.Forbidden, (api, g, grp, _) => api.RemoveMemberAsync(g, grp.Owner.Id)),
        ["SetRole of itself to admin by the owner"] = new(Role.Owner, ChatErrorCodes.Forbidden, (api, g, grp, _) => api.SetRoleAsync(g, grp.Owner.Id, ChatRoles.Admin)),
        ["SetRole of itself to member by the owner"] = new(Role.Owner, ChatErrorCodes.Forbidden, (api, g, grp, _) => api.SetRoleAsync(g, grp.Owner.Id, ChatRoles.Member)),
        ["RemoveMember of a non-member by the owner"] = new(Role.Owner, ChatErrorCodes.NotFound, (api, g, _, f) => api.RemoveMemberAsync(g, f.Stranger.Id)),
        ["RemoveMember of a missing user by an admin"] = new(Role.Admin, ChatErrorCodes.NotFound, (api, g, _, _) => api.RemoveMemberAsync(g, Guid.CreateVersion7())),
        ["SetRole of a non-member by the owner"] = new(Role.Owner, ChatErrorCodes.NotFound, (api, g, _, f) => api.SetRoleAsync(g, f.Stranger.Id, ChatRoles.Admin)),
        ["SetRole to an unknown role"] = new(Role.Owner, ChatErrorCodes.InvalidArgument, (api, g, grp, _) => api.SetRoleAsync(g, grp.Member.Id, "superuser")),
        ["SetRole to an empty role"] = new(Role.Owner, ChatErrorCodes.InvalidArgument, (api, g, grp, _) => api.SetRoleAsync(g, grp.Member.Id, "")),
        ["SetRole to a role holding U+0000"] = new(Role.Owner, ChatErrorCodes.InvalidArgument, (api, g, grp, _) => api.SetRoleAsync(g, grp.Member.Id, "admin\0")),

        // Messages: Edit is the author's only; Delete the author's or the owner's/an admin's.
        ["Edit of another's message by the owner"] = new(Role.Owner, ChatErrorCodes.Forbidden, (api, g, _, _) => api.EditAsync(g, MatrixGroup.MemberMessageSeq, "x")),
        ["Edit of another's message by an admin"] = new(Role.Admin, ChatErrorCodes.Forbidden, (api, g, _, _) => api.EditAsync(g, MatrixGroup.OwnerMessageSeq, "x")),
        ["Edit of another's message by a plain member"] = new(Role.Member, ChatErrorCodes.Forbidden, (api, g, _, _) => api.EditAsync(g, MatrixGroup.OwnerMessageSeq, "x")),
        ["Delete of another's message by a plain member"] = new(Role.Member, ChatErrorCodes.Forbidden, (api, g, _, _) => api.DeleteAsync(g, MatrixGroup.OwnerMessageSeq)),
        ["Edit of a deleted message"] = new(Role.Member, ChatErrorCodes.NotFound, (api, g, _, _) => api.EditAsync(g, MatrixGroup.DeletedMessageSeq, "x")),
        ["Delete of a deleted message"] = new(Role.Member, ChatErrorCodes.NotFound, (api, g, _, _) => api.DeleteAsync(g, MatrixGroup.DeletedMessageSeq)),
        ["Delete of a deleted message by the owner"] = new(Role.Owner, ChatErrorCodes.NotFound, (api, g, _, _) => api.DeleteAsync(g, MatrixGroup.DeletedMessageSeq)),
        ["Edit of a seq after lastSeq"] = new(Role.Member, ChatErrorCodes.NotFound, (api, g, _, _) => api.EditAsync(g, MatrixGroup.LastSeq + 1, "x")),
        ["Delete of a seq after lastSeq"] = new(Role.Owner, ChatErrorCodes.NotFound, (api, g, _, _) => api.DeleteAsync(g, MatrixGroup.LastSeq + 1)),
        ["Edit of a member joined event"] = new(Role.Owner, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.EditAsync(g, MatrixGroup.JoinSeq, "x")),
        ["Edit of an edit event"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.EditAsync(g, MatrixGroup.EditSeq, "x")),
        ["Edit of a delete event"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.EditAsync(g, MatrixGroup.DeleteEventSeq, "x")),
        ["Edit of a role changed event"] = new(Role.Owner, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.EditAsync(g, 5, "x")),
        ["Delete of a member joined event"] = new(Role.Owner, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.DeleteAsync(g, MatrixGroup.JoinSeq)),
        ["Delete of an edit event"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.DeleteAsync(g, MatrixGroup.EditSeq)),
        ["Delete of a delete event"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.DeleteAsync(g, MatrixGroup.DeleteEventSeq)),
        ["Edit with an empty body"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.EditAsync(g, MatrixGroup.MemberMessageSeq, "")),
        ["Edit with a body holding U+0000"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.EditAsync(g, MatrixGroup.MemberMessageSeq, "a\0b")),
        ["Edit with a body over 16 KiB"] = new(Role.Member, ChatErrorCodes.TooLarge, (api, g, _, _) => api.EditAsync(g, MatrixGroup.MemberMessageSeq, Long16385)),
        ["Send with an empty clientMsgId"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.SendAsync(g, "", "hi")),
        ["Send with a clientMsgId of 65 bytes"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.SendAsync(g, new string('c', 65), "hi")),
        ["Send with a clientMsgId holding U+0000"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.SendAsync(g, "c\0", "hi")),
        ["Send with an empty body"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.SendAsync(g, "new-empty", "")),
        ["Send with a body holding U+0000"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.SendAsync(g, "new-nul", "\0")),
        ["Send with a body over 16 KiB"] = new(Role.Member, ChatErrorCodes.TooLarge, (api, g, _, _) => api.SendAsync(g, "new-big", Long16385)),
        ["MarkRead above lastSeq"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.MarkReadAsync(g, MatrixGroup.LastSeq + 1)),
        ["MarkRead of a negative seq"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.MarkReadAsync(g, -1)),

        // Groups: texts and limits.
        ["UpdateGroup with an empty name"] = new(Role.Admin, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.UpdateGroupAsync(g, name: "")),
        ["UpdateGroup with a name of 101 chars"] = new(Role.Admin, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.UpdateGroupAsync(g, name: new string('n', 101))),
        ["UpdateGroup with a name holding U+0000"] = new(Role.Owner, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.UpdateGroupAsync(g, name: "a\0")),
        ["UpdateGroup with a description of 1001 chars"] = new(Role.Owner, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.UpdateGroupAsync(g, description: new string('d', 1001))),
        ["UpdateGroup with a description holding U+0000"] = new(Role.Admin, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.UpdateGroupAsync(g, description: "\0")),
        ["ListMembers with limit 0"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.ListMembersAsync(g, null, 0)),
        ["ListMembers with limit 1001"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.ListMembersAsync(g, null, 1001)),
        ["History with limit 0"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.HistoryAsync(g, null, 0)),
        ["History with limit 101"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.HistoryAsync(g, null, 101)),
        ["History with a negative beforeSeq"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.HistoryAsync(g, -1, null)),
        ["Open with limit 0"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.OpenAsync(g, 0)),
        ["Open with limit 101"] = new(Role.Member, ChatErrorCodes.InvalidArgument, (api, g, _, _) => api.OpenAsync(g, 101)),
    };

    public static TheoryData<string, Transport> RuleRows() => Rows(Rules.Keys);

    [Theory]
    [MemberData(nameof(RuleRows))]
    public async Task A_call_that_breaks_a_rule_gets_the_contracts_error_in_a_public_group(string rule, Transport transport)
    {
        var (caller, code, call) = Rules[rule];
        await using var api = await MatrixApi.ForAsync(_f.Public[caller], transport);

        await Expect.ErrorAsync(code, () => call(api, _f.Public.Id, _f.Public, _f));

        await api.AssertStillOpenAsync();
        await _f.Public.AssertUnchangedAsync();
    }

    [Theory]
    [MemberData(nameof(RuleRows))]
    public async Task A_call_that_breaks_a_rule_gets_the_contracts_error_in_a_private_group(string rule, Transport transport)
    {
        var (caller, code, call) = Rules[rule];
        await using var api = await MatrixApi.ForAsync(_f.Private[caller], transport);

        await Expect.ErrorAsync(code, () => call(api, _f.Private.Id, _f.Private, _f));

        await api.AssertStillOpenAsync();
        await _f.Private.AssertUnchangedAsync();
    }

    /// <summary>Calls that name no group, by the stranger.</summary>
    private static readonly Dictionary<string, (string Code, Func<MatrixApi, Task> Call)> UserCalls = new()
    {
        ["CreateGroup with an empty name"] = (ChatErrorCodes.InvalidArgument, api => api.CreateGroupAsync("")),
        ["CreateGroup with a name of 101 chars"] = (ChatErrorCodes.InvalidArgument, api => api.CreateGroupAsync(new string('n', 101))),
        ["CreateGroup with a name holding U+0000"] = (ChatErrorCodes.InvalidArgument, api => api.CreateGroupAsync("\0")),
        ["CreateGroup with a description of 1001 chars"] = (ChatErrorCodes.InvalidArgument, api => api.CreateGroupAsync("ok", new string('d', 1001))),
        ["CreateGroup with a description holding U+0000"] = (ChatErrorCodes.InvalidArgument, api => api.CreateGroupAsync("ok", "d\0")),
        ["ListGroups with limit 0"] = (ChatErrorCodes.InvalidArgument, api => api.ListGroupsAsync(null, 0)),
        ["ListGroups with limit 101"] = (ChatErrorCodes.InvalidArgument, api => api.ListGroupsAsync(null, 101)),
        ["ListGroups with a negative limit"] = (ChatErrorCodes.InvalidArgument, api => api.ListGroupsAsync(null, -1)),
        ["Sync of 501 entries"] = (ChatErrorCodes.InvalidArgument, api => api.SyncAsync(Enumerable.Range(0, 501).ToDictionary(_ => Guid.CreateVersion7(), _ => 0L))),
        ["Sync with a negative lastSeq"] = (ChatErrorCodes.InvalidArgument, api => api.SyncAsync(new Dictionary<Guid, long> { [Guid.CreateVersion7()] = -1 })),
        ["GetUser of a missing id"] = (ChatErrorCodes.NotFound, api => api.GetUserAsync(Guid.CreateVersion7())),
        ["GetUser of a missing username"] = (ChatErrorCodes.NotFound, api => api.GetUserAsync("@nobody_" + Guid.NewGuid().ToString("N")[..8])),
    };

    public static TheoryData<string, Transport> UserCallRows() => Rows(UserCalls.Keys);

    [Theory]
    [MemberData(nameof(UserCallRows))]
    public async Task A_call_naming_no_group_that_breaks_a_rule_gets_the_contracts_error(string call, Transport transport)
    {
        var (code, run) = UserCalls[call];
        await using var api = await MatrixApi.ForAsync(_f.Stranger, transport);

        await Expect.ErrorAsync(code, () => run(api));

        await api.AssertStillOpenAsync();
    }

    /// <summary>
    /// Every route of §8 that needs a token, naming group <paramref name="g"/>, its member <paramref name="member"/>
    /// and a non-member <paramref name="other"/>, with bodies a member could send.
    /// </summary>
    internal static IEnumerable<(string Name, HttpMethod Method, string Path, string? Body)> AuthenticatedRoutes(Guid g, User? member, Guid other)
    {
        var m = member?.UserId ?? Guid.Empty;
        yield return ("get user by id", HttpMethod.Get, $"/v1/users/{m:D}", null);
        yield return ("get user by name", HttpMethod.Get, $"/v1/users/@{member?.Username ?? "x"}", null);
        yield return ("list groups", HttpMethod.Get, "/v1/groups?limit=10", null);
        yield return ("create group", HttpMethod.Post, "/v1/groups", "{\"name\":\"intruder\"}");
        yield return ("get group", HttpMethod.Get, $"/v1/groups/{g:D}", null);
        yield return ("open group", HttpMethod.Get, $"/v1/groups/{g:D}?events=5", null);
        yield return ("update group", HttpMethod.Patch, $"/v1/groups/{g:D}", "{\"name\":\"intruder\"}");
        yield return ("sync", HttpMethod.Post, "/v1/sync", $"{{\"{g:D}\":0}}");
        yield return ("join", HttpMethod.Post, $"/v1/groups/{g:D}/members", "{}");
        yield return ("add member", HttpMethod.Post, $"/v1/groups/{g:D}/members", $"{{\"userId\":\"{other:D}\"}}");
        yield return ("set role", HttpMethod.Put, $"/v1/groups/{g:D}/members/{m:D}/role", "{\"role\":\"admin\"}");
        yield return ("remove member", HttpMethod.Delete, $"/v1/groups/{g:D}/members/{m:D}", null);
        yield return ("list members", HttpMethod.Get, $"/v1/groups/{g:D}/members?limit=10", null);
        yield return ("history", HttpMethod.Get, $"/v1/groups/{g:D}/messages?limit=10", null);
        yield return ("send", HttpMethod.Post, $"/v1/groups/{g:D}/messages", "{\"clientMsgId\":\"intruder\",\"body\":\"hi\"}");
        yield return ("edit", HttpMethod.Patch, $"/v1/groups/{g:D}/messages/{MatrixGroup.MemberMessageSeq}", "{\"body\":\"hi\"}");
        yield return ("delete", HttpMethod.Delete, $"/v1/groups/{g:D}/messages/{MatrixGroup.MemberMessageSeq}", null);
        yield return ("mark read", HttpMethod.Post, $"/v1/groups/{g:D}/read", "{\"seq\":1}");
        yield return ("logout", HttpMethod.Delete, "/v1/sessions", null);
        yield return ("logout all", HttpMethod.Delete, "/v1/sessions?all=true", null);
    }

    public static TheoryData<string, string> RoutesWithoutAValidToken()
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, _, _, _) in AuthenticatedRoutes(Guid.Empty, null, Guid.Empty))
        {
            foreach (var token in new[] { "no token", "a malformed token", "a token with a bad signature", "a revoked token" }) data.Add(name, token);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RoutesWithoutAValidToken))]
    public async Task Every_authenticated_route_without_a_valid_token_is_unauthenticated(string route, string token)
    {
        var (_, method, path, body) = AuthenticatedRoutes(_f.Public.Id, _f.Public.Member.User, _f.Stranger.Id).Single(r => r.Name == route);
        var http = _f.Server.NewHttp();
        http.AccessToken = token switch
        {
            "no token" => null,
            "a malformed token" => "garbage",
            "a token with a bad signature" => _f.Stranger.Token[..^4] + (_f.Stranger.Token.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA"),
            _ => _f.RevokedToken,
        };

        var response = await http.SendRawAsync(method, path, body);

        AssertErrorShape(response, 401, ChatErrorCodes.Unauthenticated);
        await _f.Public.AssertUnchangedAsync();
        Assert.Equal(_f.Stranger.Id, (await _f.Stranger.Http.GetUserAsync(_f.Stranger.Id)).UserId);
    }

    /// <summary>HTTP requests whose path id or seq, query parameter or JSON body is malformed, by the public group's owner.</summary>
    private static IEnumerable<(string Name, HttpMethod Method, string Path, string? Body)> MalformedRequests(AccessMatrixFixture? f)
    {
        var g = f?.Public.Id ?? Guid.Empty;
        var m = f?.Public.Member.Id ?? Guid.Empty;
        var groups = $"/v1/groups/{g:D}";
        yield return ("get group with a malformed id", HttpMethod.Get, "/v1/groups/not-a-uuid", null);
        yield return ("update group with a malformed id", HttpMethod.Patch, "/v1/groups/not-a-uuid", "{\"name\":\"x\"}");
        yield return ("join with a malformed group id", HttpMethod.Post, "/v1/groups/not-a-uuid/members", "{}");
        yield return ("list members with a malformed group id", HttpMethod.Get, "/v1/groups/not-a-uuid/members", null);
        yield return ("remove member with a malformed user id", HttpMethod.Delete, $"{groups}/members/not-a-uuid", null);
        yield return ("set role with a malformed user id", HttpMethod.Put, $"{groups}/members/not-a-uuid/role", "{\"role\":\"admin\"}");
        yield return ("history with a malformed group id", HttpMethod.Get, "/v1/groups/not-a-uuid/messages", null);
        yield return ("send with a malformed group id", HttpMethod.Post, "/v1/groups/not-a-uuid/messages", "{\"clientMsgId\":\"c\",\"body\":\"b\"}");
        yield return ("edit with a malformed seq", HttpMethod.Patch, $"{groups}/messages/seven", "{\"body\":\"b\"}");
        yield return ("edit with a negative seq", HttpMethod.Patch, $"{groups}/messages/-1", "{\"body\":\"b\"}");
        yield return ("delete with a malformed seq", HttpMethod.Delete, $"{groups}/messages/seven", null);
        yield return ("delete with a negative seq", HttpMethod.Delete, $"{groups}/messages/-1", null);
        yield return ("mark read with a malformed group id", HttpMethod.Post, "/v1/groups/not-a-uuid/read", "{\"seq\":1}");
        yield return ("list groups with a malformed cursor", HttpMethod.Get, "/v1/groups?after=not-a-uuid", null);
        yield return ("list groups with a malformed limit", HttpMethod.Get, "/v1/groups?limit=ten", null);
        yield return ("list groups with a negative limit", HttpMethod.Get, "/v1/groups?limit=-1", null);
        yield return ("list members with a malformed cursor", HttpMethod.Get, $"{groups}/members?after=not-a-uuid", null);
        yield return ("list members with a malformed limit", HttpMethod.Get, $"{groups}/members?limit=ten", null);
        yield return ("history with a malformed before", HttpMethod.Get, $"{groups}/messages?before=seven", null);
        yield return ("history with a negative before", HttpMethod.Get, $"{groups}/messages?before=-1", null);
        yield return ("history with a malformed limit", HttpMethod.Get, $"{groups}/messages?limit=ten", null);
        yield return ("open with a malformed events count", HttpMethod.Get, $"{groups}?events=ten", null);
        yield return ("open with a negative events count", HttpMethod.Get, $"{groups}?events=-1", null);
        yield return ("update group with a truncated body", HttpMethod.Patch, groups, "{");
        yield return ("update group with an array body", HttpMethod.Patch, groups, "[]");
        yield return ("update group with a numeric name", HttpMethod.Patch, groups, "{\"name\":5}");
        yield return ("update group with a string privacy", HttpMethod.Patch, groups, "{\"private\":\"yes\"}");
        yield return ("add member with a malformed user id", HttpMethod.Post, $"{groups}/members", "{\"userId\":\"not-a-uuid\"}");
        yield return ("add member with a numeric user id", HttpMethod.Post, $"{groups}/members", "{\"userId\":5}");
        yield return ("add member with a truncated body", HttpMethod.Post, $"{groups}/members", "{");
        yield return ("set role with a truncated body", HttpMethod.Put, $"{groups}/members/{m:D}/role", "{");
        yield return ("set role without a role", HttpMethod.Put, $"{groups}/members/{m:D}/role", "{}");
        yield return ("set role with a numeric role", HttpMethod.Put, $"{groups}/members/{m:D}/role", "{\"role\":5}");
        yield return ("send with a truncated body", HttpMethod.Post, $"{groups}/messages", "{\"clientMsgId\":");
        yield return ("send without a clientMsgId", HttpMethod.Post, $"{groups}/messages", "{\"body\":\"b\"}");
        yield return ("send without a body", HttpMethod.Post, $"{groups}/messages", "{\"clientMsgId\":\"no-body\"}");
        yield return ("send with a numeric body", HttpMethod.Post, $"{groups}/messages", "{\"clientMsgId\":\"num-body\",\"body\":5}");
        yield return ("edit without a body", HttpMethod.Patch, $"{groups}/messages/{MatrixGroup.OwnerMessageSeq}", "{}");
        yield return ("edit with a numeric body", HttpMethod.Patch, $"{groups}/messages/{MatrixGroup.OwnerMessageSeq}", "{\"body\":5}");
        yield return ("mark read without a seq", HttpMethod.Post, $"{groups}/read", "{}");
        yield return ("mark read with a string seq", HttpMethod.Post, $"{groups}/read", "{\"seq\":\"one\"}");
        yield return ("mark read with a negative seq", HttpMethod.Post, $"{groups}/read", "{\"seq\":-1}");
        yield return ("mark read with a truncated body", HttpMethod.Post, $"{groups}/read", "{");
        yield return ("sync with an array body", HttpMethod.Post, "/v1/sync", "[]");
        yield return ("sync with a truncated body", HttpMethod.Post, "/v1/sync", "{");
        yield return ("sync with a malformed group id", HttpMethod.Post, "/v1/sync", "{\"not-a-uuid\":0}");
        yield return ("sync with a string lastSeq", HttpMethod.Post, "/v1/sync", $"{{\"{g:D}\":\"zero\"}}");
        yield return ("sync with a negative lastSeq", HttpMethod.Post, "/v1/sync", $"{{\"{g:D}\":-1}}");
    }

    public static TheoryData<string> MalformedRequestNames()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _, _, _) in MalformedRequests(null)) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(MalformedRequestNames))]
    public async Task A_malformed_http_request_is_invalid_argument(string request)
    {
        var (_, method, path, body) = MalformedRequests(_f).Single(r => r.Name == request);

        var response = await _f.Public.Owner.Http.SendRawAsync(method, path, body);

        AssertErrorShape(response, 400, ChatErrorCodes.InvalidArgument);
        await _f.Public.AssertUnchangedAsync();
    }

    /// <summary>WebSocket requests with arguments of the wrong type or range, by the public group's owner.</summary>
    private static object?[] WrongArguments(string name, Guid g) => name switch
    {
        "Send with an integer body" => [(int)ChatOp.Send, g, "c-int", 5],
        "Send with a nil clientMsgId" => [(int)ChatOp.Send, g, null, "b"],
        "Send with a 15-byte group id" => [(int)ChatOp.Send, new byte[15], "c", "b"],
        "History with a string beforeSeq" => [(int)ChatOp.History, g, "7", null],
        "History with a string limit" => [(int)ChatOp.History, g, null, "10"],
        "MarkRead with a string seq" => [(int)ChatOp.MarkRead, g, "1"],
        "MarkRead with a nil seq" => [(int)ChatOp.MarkRead, g, null],
        "Typing with a nil group" => [(int)ChatOp.Typing, null],
        "Edit with a string seq" => [(int)ChatOp.Edit, g, "7", "b"],
        "Edit with a nil body" => [(int)ChatOp.Edit, g, MatrixGroup.OwnerMessageSeq, null],
        "Delete with a string seq" => [(int)ChatOp.Delete, g, "7"],
        "Delete with a negative seq" => [(int)ChatOp.Delete, g, -7],
        "Edit with a negative seq" => [(int)ChatOp.Edit, g, -7, "b"],
        "Sync with nil" => [(int)ChatOp.Sync, null],
        "Sync with a string key" => [(int)ChatOp.Sync, new RawMessagePack(new byte[] { 0x81, 0xA1, (byte)'g', 0x00 })],
        "Sync with a string value" => [(int)ChatOp.Sync, new RawMessagePack(SyncMap(g, [0xA1, (byte)'0']))],
        "UpdateGroup with a string privacy" => [(int)ChatOp.UpdateGroup, g, null, null, "yes"],
        "UpdateGroup with an integer description" => [(int)ChatOp.UpdateGroup, g, null, 5, null],
        "SetRole with a 15-byte user id" => [(int)ChatOp.SetRole, g, new byte[15], "admin"],
        "AddMember with a 17-byte user id" => [(int)ChatOp.AddMember, g, new byte[17]],
        "ListMembers with a negative limit" => [(int)ChatOp.ListMembers, g, null, -1],
        "Open with a negative limit" => [(int)ChatOp.Open, g, -1],
        "JoinGroup with nil" => [(int)ChatOp.JoinGroup, null],
        "GetUser with nil" => [(int)ChatOp.GetUser, null],
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static byte[] SyncMap(Guid g, byte[] value)
    {
        var key = ChatCodec.BuildRequest(0, 0, [g]).AsSpan(3).ToArray(); // [0x93, op 0, rid 0] then the bin
        return [0x81, .. key, .. value];
    }

    public static TheoryData<string> WrongArgumentNames() => new()
    {
        "Send with an integer body", "Send with a nil clientMsgId", "Send with a 15-byte group id", "History with a string beforeSeq",
        "History with a string limit", "MarkRead with a string seq", "MarkRead with a nil seq", "Typing with a nil group",
        "Edit with a string seq", "Edit with a nil body", "Delete with a string seq", "Delete with a negative seq", "Edit with a negative seq",
        "Sync with nil", "Sync with a string key", "Sync with a string value", "UpdateGroup with a string privacy",
        "UpdateGroup with an integer description", "SetRole with a 15-byte user id", "AddMember with a 17-byte user id",
        "ListMembers with a negative limit", "Open with a negative limit", "JoinGroup with nil", "GetUser with nil",
    };

    [Theory]
    [MemberData(nameof(WrongArgumentNames))]
    public async Task A_websocket_request_with_wrong_argument_types_is_invalid_argument_and_the_session_stays(string request)
    {
        var owner = _f.Public.Owner;
        await using var socket = await _f.Server.ConnectAsync(new ChatSocketOptions { DiscardPushes = true });
        await socket.HelloAsync(owner.Token);
        var all = WrongArguments(request, _f.Public.Id);

        var reply = await socket.RequestRawAsync((int)all[0]!, all.AsSpan(1));

        Assert.True(reply.Error?.Code == ChatErrorCodes.InvalidArgument, $"{request}: {reply.Error?.Code ?? "success"}");
        Assert.Equal(400, reply.Error!.Status);
        Assert.Equal(owner.Id, (await socket.GetUserAsync(owner.Id)).UserId);
        await _f.Public.AssertUnchangedAsync();
    }

    internal static void AssertErrorShape(RawHttpResponse response, int status, string code)
    {
        Assert.True(response.StatusCode == status, $"expected {status} {code}, got {response.StatusCode}: {response.Body}");
        using var doc = JsonDocument.Parse(response.Body);
        var root = doc.RootElement;
        foreach (var key in new[] { "code", "title", "status", "detail", "retryAfterMs" })
        {
            Assert.True(root.TryGetProperty(key, out _), $"the error body lacks \"{key}\": {response.Body}");
        }

        Assert.Equal(code, root.GetProperty("code").GetString());
        Assert.Equal(status, root.GetProperty("status").GetInt32());
    }
}
