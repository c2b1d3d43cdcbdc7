using System.Globalization;

namespace ChatServer.Client;

public sealed partial class ChatHttpClient
{
    /// <summary><c>GET /v1/groups?after=&amp;limit=</c> → 200 the caller's groups by id.</summary>
    /// <param name="after">The cursor, or null.</param>
    /// <param name="limit">Page size (server default 50, at most 100), or null.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The page.</returns>
    public Task<Page<Group>> ListGroupsAsync(Guid? after = null, int? limit = null, CancellationToken cancellationToken = default) =>
        SendJsonAsync(
            HttpMethod.Get, Query("/v1/groups", "after", Format(after), "limit", Format(limit)), null, 200,
            ChatJsonContext.Default.PageGroup, cancellationToken);

    /// <summary><c>POST /v1/groups</c> → 201 <see cref="Group"/>. Null arguments are left out of the body.</summary>
    /// <param name="name">1–100 chars.</param>
    /// <param name="description">Up to 1,000 chars, or null.</param>
    /// <param name="isPrivate">Privacy, or null (server default false).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new group.</returns>
    public Task<Group> CreateGroupAsync(
        string name, string? description = null, bool? isPrivate = null, CancellationToken cancellationToken = default)
    {
        var body = new JsonBody();
        body.Writer.WriteString("name", name);
        WriteGroupFields(body, description, isPrivate);
        return SendJsonAsync(HttpMethod.Post, "/v1/groups", body, 201, ChatJsonContext.Default.Group, cancellationToken);
    }

    /// <summary><c>GET /v1/groups/{id}</c> → 200 <see cref="Group"/>.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The group.</returns>
    public Task<Group> GetGroupAsync(Guid groupId, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Get, GroupPath(groupId), null, 200, ChatJsonContext.Default.Group, cancellationToken);

    /// <summary><c>GET /v1/groups/{id}?events=N</c> (Open) → 200 <c>{group, events, hasMore}</c>.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="events">How many of the newest events.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The group and events.</returns>
    public Task<OpenResult> OpenGroupAsync(Guid groupId, int events, CancellationToken cancellationToken = default) =>
        SendJsonAsync(
            HttpMethod.Get, Query(GroupPath(groupId), "events", Format(events), "", null), null, 200,
            ChatJsonContext.Default.OpenResult, cancellationToken);

    /// <summary><c>PATCH /v1/groups/{id}</c> → 200 <see cref="Group"/>. Only non-null arguments are sent.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="name">The new name, or null.</param>
    /// <param name="description">The new description, or null.</param>
    /// <param name="isPrivate">The new privacy, or null.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The updated group.</returns>
    public Task<Group> UpdateGroupAsync(
        Guid groupId,
        string? name = null,
        string? description = null,
        bool? isPrivate = null,
        CancellationToken cancellationToken = default)
    {
        var body = new JsonBody();
        if (name is not null)
        {
            body.Writer.WriteString("name", name);
        }

        WriteGroupFields(body, description, isPrivate);
        return SendJsonAsync(HttpMethod.Patch, GroupPath(groupId), body, 200, ChatJsonContext.Default.Group, cancellationToken);
    }

    /// <summary><c>POST /v1/sync</c> <c>{groupId: lastSeq, …}</c> → 200 one entry per listed group the caller is in.</summary>
    /// <param name="lastSeqs">Group id → the last seq the caller has.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The entries.</returns>
    public async Task<IReadOnlyList<SyncItem>> SyncAsync(
        IReadOnlyDictionary<Guid, long> lastSeqs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lastSeqs);
        var body = new JsonBody();
        foreach (KeyValuePair<Guid, long> entry in lastSeqs)
        {
            body.Writer.WriteNumber(entry.Key.ToString("D"), entry.Value);
        }

        SyncReply reply = await SendJsonAsync(
            HttpMethod.Post, "/v1/sync", body, 200, ChatJsonContext.Default.SyncReply, cancellationToken).ConfigureAwait(false);
        return reply.Items;
    }

    /// <summary><c>POST /v1/groups/{id}/members</c> <c>{}</c> (join) → 200 <see cref="Group"/>.</summary>
    /// <param name="groupId">The public group.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The group.</returns>
    public Task<Group> JoinGroupAsync(Guid groupId, CancellationToken cancellationToken = default) =>
        SendJsonAsync(
            HttpMethod.Post, GroupPath(groupId) + "/members", new JsonBody(), 200, ChatJsonContext.Default.Group, cancellationToken);

    /// <summary>
    /// <c>POST /v1/groups/{id}/members</c> <c>{userId}</c> (add; owner/admin) → 200 <see cref="Member"/>.
    /// With the caller's own id the server treats it as a join and answers a Group: use
    /// <see cref="JoinGroupAsync"/> (or <see cref="SendRawAsync"/>) for that.
    /// </summary>
    /// <param name="groupId">The group.</param>
    /// <param name="userId">The user to add.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The member.</returns>
    public Task<Member> AddMemberAsync(Guid groupId, Guid userId, CancellationToken cancellationToken = default)
    {
        var body = new JsonBody();
        body.Writer.WriteString("userId", userId);
        return SendJsonAsync(HttpMethod.Post, GroupPath(groupId) + "/members", body, 200, ChatJsonContext.Default.Member, cancellationToken);
    }

    /// <summary><c>PUT /v1/groups/{id}/members/{userId}/role</c> <c>{role}</c> → 200 <see cref="Member"/> (owner only).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="userId">The member.</param>
    /// <param name="role">One of <see cref="ChatRoles"/>; <c>"owner"</c> transfers ownership.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The member with the new role.</returns>
    public Task<Member> SetRoleAsync(Guid groupId, Guid userId, string role, CancellationToken cancellationToken = default)
    {
        var body = new JsonBody();
        body.Writer.WriteString("role", role);
        return SendJsonAsync(
            HttpMethod.Put, MemberPath(groupId, userId) + "/role", body, 200, ChatJsonContext.Default.Member, cancellationToken);
    }

    /// <summary><c>DELETE /v1/groups/{id}/members/{userId}</c> → 204 (owner/admin; own id: leave).</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="userId">The member to remove.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes with the response.</returns>
    public Task RemoveMemberAsync(Guid groupId, Guid userId, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, MemberPath(groupId, userId), null, cancellationToken);

    /// <summary><c>DELETE /v1/groups/{id}/members/{own id}</c> → 204: leaves the group. Needs <see cref="UserId"/>.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes with the response.</returns>
    public Task LeaveGroupAsync(Guid groupId, CancellationToken cancellationToken = default)
    {
        Guid self = UserId ?? throw new InvalidOperationException("UserId is not known: log in first or set it.");
        return RemoveMemberAsync(groupId, self, cancellationToken);
    }

    /// <summary><c>GET /v1/groups/{id}/members?after=&amp;limit=</c> → 200 members by user id.</summary>
    /// <param name="groupId">The group.</param>
    /// <param name="after">The cursor, or null.</param>
    /// <param name="limit">Page size (server default 100, at most 1,000), or null.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The page.</returns>
    public Task<Page<Member>> ListMembersAsync(
        Guid groupId, Guid? after = null, int? limit = null, CancellationToken cancellationToken = default) =>
        SendJsonAsync(
            HttpMethod.Get, Query(GroupPath(groupId) + "/members", "after", Format(after), "limit", Format(limit)), null, 200,
            ChatJsonContext.Default.PageMember, cancellationToken);

    private static void WriteGroupFields(JsonBody body, string? description, bool? isPrivate)
    {
        if (description is not null)
        {
            body.Writer.WriteString("description", description);
        }

        if (isPrivate is { } value)
        {
            body.Writer.WriteBoolean("private", value);
        }
    }

    private static string GroupPath(Guid groupId) =>
        string.Create(CultureInfo.InvariantCulture, $"/v1/groups/{groupId:D}");

    private static string MemberPath(Guid groupId, Guid userId) =>
        string.Create(CultureInfo.InvariantCulture, $"/v1/groups/{groupId:D}/members/{userId:D}");
}
