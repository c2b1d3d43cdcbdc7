using MessagePack;

namespace ChatServer.Client;

public sealed partial class ChatSocket
{
    /// <summary>Authenticates the connection (op 16); must be the first frame. Pushes start after it.</summary>
    /// <param name="token">An access token.</param>
    /// <param name="resume">Group id → last seq seen, to replay what was missed; null for none.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The session.</returns>
    public Task<HelloResult> HelloAsync(
        string token, IReadOnlyDictionary<Guid, long>? resume = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        uint rid = NextRid();
        var frame = new PooledBufferWriter();
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.Hello, rid, 2);
        writer.Write(token);
        if (resume is null)
        {
            writer.WriteNil();
        }
        else
        {
            ChatCodec.WriteSeqMap(ref writer, resume);
        }

        writer.Flush();
        return RequestAsync(frame, rid, Replies.Hello, cancellationToken);
    }

    /// <summary>Moves the session to a fresh access token of the same user (op 17).</summary>
    /// <param name="token">The fresh access token.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>When the new token expires, ms since the Unix epoch.</returns>
    public Task<long> ReauthAsync(string token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        uint rid = NextRid();
        var frame = new PooledBufferWriter();
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.Reauth, rid, 1);
        writer.Write(token);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.Int64, cancellationToken);
    }

    /// <summary>Gets a user by id (op 20).</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The user.</returns>
    public Task<User> GetUserAsync(Guid userId, CancellationToken cancellationToken = default)
    {
        uint rid = NextRid();
        var frame = new PooledBufferWriter();
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.GetUser, rid, 1);
        ChatCodec.WriteGuid(ref writer, userId);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.User, cancellationToken);
    }

    /// <summary>Gets a user by username (op 20 with <c>"@username"</c>; the <c>@</c> is added when missing).</summary>
    /// <param name="username">The username, with or without a leading <c>@</c>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The user.</returns>
    public Task<User> GetUserAsync(string username, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(username);
        uint rid = NextRid();
        var frame = new PooledBufferWriter();
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.GetUser, rid, 1);
        writer.Write(username.StartsWith('@') ? username : "@" + username);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.User, cancellationToken);
    }

    /// <summary>Creates a group owned by the caller (op 32).</summary>
    /// <param name="name">1–100 chars.</param>
    /// <param name="description">Up to 1,000 chars; null sends nil (server default "").</param>
    /// <param name="isPrivate">Null sends nil (server default false).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The new group.</returns>
    public Task<Group> CreateGroupAsync(
        string name, string? description = null, bool? isPrivate = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        uint rid = NextRid();
        var frame = new PooledBufferWriter();
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.CreateGroup, rid, 3);
        writer.Write(name);
        ChatCodec.WriteNullable(ref writer, description);
        ChatCodec.WriteNullable(ref writer, isPrivate);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.Group, cancellationToken);
    }

    /// <summary>Gets a group (op 33).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The group.</returns>
    public Task<Group> GetGroupAsync(Guid groupId, CancellationToken cancellationToken = default) =>
        GroupRequest(ChatOp.GetGroup, groupId, Replies.Group, cancellationToken);

    /// <summary>Lists the caller's groups by id (op 34).</summary>
    /// <param name="after">The cursor (a previous page's <see cref="Page{T}.NextCursor"/>), or null.</param>
    /// <param name="limit">Page size (server default 50, at most 100), or null.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The page.</returns>
    public Task<Page<Group>> ListGroupsAsync(
        Guid? after = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        uint rid = NextRid();
        var frame = new PooledBufferWriter();
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.ListGroups, rid, 2);
        ChatCodec.WriteNullable(ref writer, after);
        ChatCodec.WriteNullable(ref writer, limit);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.GroupPage, cancellationToken);
    }

    /// <summary>Joins a public group (op 35); joining again succeeds and changes nothing.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The group.</returns>
    public Task<Group> JoinGroupAsync(Guid groupId, CancellationToken cancellationToken = default) =>
        GroupRequest(ChatOp.JoinGroup, groupId, Replies.Group, cancellationToken);

    /// <summary>Leaves a group (op 36).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes with the reply.</returns>
    public Task LeaveGroupAsync(Guid groupId, CancellationToken cancellationToken = default) =>
        GroupRequest(ChatOp.LeaveGroup, groupId, Replies.Empty, cancellationToken);

    /// <summary>Adds a user to a group (op 37; owner/admin).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="userId">The user to add.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The member.</returns>
    public Task<Member> AddMemberAsync(Guid groupId, Guid userId, CancellationToken cancellationToken = default) =>
        GroupUserRequest(ChatOp.AddMember, groupId, userId, Replies.Member, cancellationToken);

    /// <summary>Removes a member (op 38; owner/admin; oneself = leave).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="userId">The member to remove.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes with the reply.</returns>
    public Task RemoveMemberAsync(Guid groupId, Guid userId, CancellationToken cancellationToken = default) =>
        GroupUserRequest(ChatOp.RemoveMember, groupId, userId, Replies.Empty, cancellationToken);

    /// <summary>Lists a group's members by user id (op 39).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="after">The cursor, or null.</param>
    /// <param name="limit">Page size (server default 100, at most 1,000), or null.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The page.</returns>
    public Task<Page<Member>> ListMembersAsync(
        Guid groupId, Guid? after = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        uint rid = NextRid();
        var frame = new PooledBufferWriter();
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.ListMembers, rid, 3);
        ChatCodec.WriteGuid(ref writer, groupId);
        ChatCodec.WriteNullable(ref writer, after);
        ChatCodec.WriteNullable(ref writer, limit);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.MemberPage, cancellationToken);
    }

    /// <summary>Gets a group with its newest events (op 40).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="limit">How many events (server default 50, at most 100), or null.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The group and events.</returns>
    public Task<OpenResult> OpenGroupAsync(Guid groupId, int? limit = null, CancellationToken cancellationToken = default)
    {
        uint rid = NextRid();
        var frame = new PooledBufferWriter();
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.Open, rid, 2);
        ChatCodec.WriteGuid(ref writer, groupId);
        ChatCodec.WriteNullable(ref writer, limit);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.Open, cancellationToken);
    }

    /// <summary>Gets unread counts and newest events for groups (op 41; at most 500 entries).</summary>
    /// <param name="lastSeqs">Group id → the last seq the caller has.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>One entry per listed group the caller is a member of.</returns>
    public Task<IReadOnlyList<SyncItem>> SyncAsync(
        IReadOnlyDictionary<Guid, long> lastSeqs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lastSeqs);
        uint rid = NextRid();
        var frame = new PooledBufferWriter();
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.Sync, rid, 1);
        ChatCodec.WriteSeqMap(ref writer, lastSeqs);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.Sync, cancellationToken);
    }

    /// <summary>Changes a group's name, description or privacy (op 42; owner/admin). Null leaves a field as it is.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="name">The new name, or null.</param>
    /// <param name="description">The new description, or null.</param>
    /// <param name="isPrivate">The new privacy, or null.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The updated group.</returns>
    public Task<Group> UpdateGroupAsync(
        Guid groupId,
        string? name = null,
        string? description = null,
        bool? isPrivate = null,
        CancellationToken cancellationToken = default)
    {
        uint rid = NextRid();
        var frame = new PooledBufferWriter();
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.UpdateGroup, rid, 4);
        ChatCodec.WriteGuid(ref writer, groupId);
        ChatCodec.WriteNullable(ref writer, name);
        ChatCodec.WriteNullable(ref writer, description);
        ChatCodec.WriteNullable(ref writer, isPrivate);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.Group, cancellationToken);
    }

    /// <summary>Sets a member's role (op 43; owner only; <c>"owner"</c> transfers ownership).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="userId">The member.</param>
    /// <param name="role">One of <see cref="ChatRoles"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The member with the new role.</returns>
    public Task<Member> SetRoleAsync(Guid groupId, Guid userId, string role, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(role);
        uint rid = NextRid();
        var frame = new PooledBufferWriter();
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.SetRole, rid, 3);
        ChatCodec.WriteGuid(ref writer, groupId);
        ChatCodec.WriteGuid(ref writer, userId);
        writer.Write(role);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.Member, cancellationToken);
    }

    /// <summary>Sends a message (op 48). A retry with the same <paramref name="clientMsgId"/> returns the first reply.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="clientMsgId">The idempotency key, 1–64 bytes.</param>
    /// <param name="body">1 char to 16 KiB.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The durable acknowledgement.</returns>
    public Task<SendResult> SendAsync(
        Guid groupId, string clientMsgId, string body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientMsgId);
        ArgumentNullException.ThrowIfNull(body);
        uint rid = NextRid();
        var frame = new PooledBufferWriter(64 + (body.Length * 3));
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.Send, rid, 3);
        ChatCodec.WriteGuid(ref writer, groupId);
        writer.Write(clientMsgId);
        writer.Write(body);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.Send, cancellationToken);
    }

    /// <summary>Gets older events (op 49).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="beforeSeq">Only events with a lower seq; null for the newest.</param>
    /// <param name="limit">How many (server default 50, at most 100), or null.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The events, ascending.</returns>
    public Task<HistoryResult> HistoryAsync(
        Guid groupId, long? beforeSeq = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        uint rid = NextRid();
        var frame = new PooledBufferWriter();
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.History, rid, 3);
        ChatCodec.WriteGuid(ref writer, groupId);
        ChatCodec.WriteNullable(ref writer, beforeSeq);
        ChatCodec.WriteNullable(ref writer, limit);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.History, cancellationToken);
    }

    /// <summary>Moves the caller's read position forward (op 50; never backwards).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="seq">The newest seq read.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes with the reply.</returns>
    public Task MarkReadAsync(Guid groupId, long seq, CancellationToken cancellationToken = default) =>
        GroupSeqRequest(ChatOp.MarkRead, groupId, seq, Replies.Empty, cancellationToken);

    /// <summary>Says the caller is typing (op 51).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="wantReply">False (default) sends rid 0 and completes once sent; true waits for the empty reply (and its errors).</param>
    /// <param name="cancellationToken">Stops sending or waiting.</param>
    /// <returns>A task that completes when sent, or with the reply.</returns>
    public Task TypingAsync(Guid groupId, bool wantReply = false, CancellationToken cancellationToken = default)
    {
        if (wantReply)
        {
            return GroupRequest(ChatOp.Typing, groupId, Replies.Empty, cancellationToken);
        }

        var frame = new PooledBufferWriter(32);
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.Typing, 0, 1);
        ChatCodec.WriteGuid(ref writer, groupId);
        writer.Flush();
        return SendAndReleaseAsync(frame, cancellationToken);
    }

    /// <summary>Edits one of the caller's messages (op 52).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="seq">The message's seq.</param>
    /// <param name="body">The new text.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The seq of the edit event.</returns>
    public Task<long> EditAsync(Guid groupId, long seq, string body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        uint rid = NextRid();
        var frame = new PooledBufferWriter(64 + (body.Length * 3));
        MessagePackWriter writer = ChatCodec.StartRequest(frame, ChatOp.Edit, rid, 3);
        ChatCodec.WriteGuid(ref writer, groupId);
        writer.Write(seq);
        writer.Write(body);
        writer.Flush();
        return RequestAsync(frame, rid, Replies.Int64, cancellationToken);
    }

    /// <summary>Deletes a message (op 53; own messages, or any as owner/admin).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="seq">The message's seq.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The seq of the delete event.</returns>
    public Task<long> DeleteAsync(Guid groupId, long seq, CancellationToken cancellationToken = default) =>
        GroupSeqRequest(ChatOp.Delete, groupId, seq, Replies.Int64, cancellationToken);

    private Task<T> GroupRequest<T>(ChatOp op, Guid groupId, ReplyReader<T> read, CancellationToken cancellationToken)
    {
        uint rid = NextRid();
        var frame = new PooledBufferWriter(32);
        MessagePackWriter writer = ChatCodec.StartRequest(frame, op, rid, 1);
        ChatCodec.WriteGuid(ref writer, groupId);
        writer.Flush();
        return RequestAsync(frame, rid, read, cancellationToken);
    }

    private Task<T> GroupUserRequest<T>(
        ChatOp op, Guid groupId, Guid userId, ReplyReader<T> read, CancellationToken cancellationToken)
    {
        uint rid = NextRid();
        var frame = new PooledBufferWriter(64);
        MessagePackWriter writer = ChatCodec.StartRequest(frame, op, rid, 2);
        ChatCodec.WriteGuid(ref writer, groupId);
        ChatCodec.WriteGuid(ref writer, userId);
        writer.Flush();
        return RequestAsync(frame, rid, read, cancellationToken);
    }

    private Task<T> GroupSeqRequest<T>(
        ChatOp op, Guid groupId, long seq, ReplyReader<T> read, CancellationToken cancellationToken)
    {
        uint rid = NextRid();
        var frame = new PooledBufferWriter(64);
        MessagePackWriter writer = ChatCodec.StartRequest(frame, op, rid, 2);
        ChatCodec.WriteGuid(ref writer, groupId);
        writer.Write(seq);
        writer.Flush();
        return RequestAsync(frame, rid, read, cancellationToken);
    }

    private async Task SendAndReleaseAsync(PooledBufferWriter frame, CancellationToken cancellationToken)
    {
        try
        {
            await SendFrameAsync(frame.WrittenMemory, System.Net.WebSockets.WebSocketMessageType.Binary, cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            frame.Dispose();
        }
    }
}
