using System.Text.Json;
using ChatServer.Client;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Functional;

public sealed class MembershipTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);
    private readonly TestServer _server = shared.Server;

    /// <summary>A public group with an owner, an admin and a plain member (seqs 1–4: created, 2 joins, role change).</summary>
    private async Task<(Group Group, TestUser Owner, TestUser Admin, TestUser Member)> GroupWithRolesAsync(bool isPrivate = false)
    {
        var owner = await _server.NewUserAsync("owner");
        var admin = await _server.NewUserAsync("admin");
        var member = await _server.NewUserAsync("member");
        var group = await owner.Http.CreateGroupAsync("team", isPrivate: isPrivate);
        await owner.Http.AddMemberAsync(group.GroupId, admin.Id);
        await owner.Http.AddMemberAsync(group.GroupId, member.Id);
        await owner.Http.SetRoleAsync(group.GroupId, admin.Id, ChatRoles.Admin);
        return (await owner.Http.GetGroupAsync(group.GroupId), owner, admin, member);
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task Join_of_a_public_group_writes_a_member_joined_event_once(Transport transport)
    {
        var owner = await _server.NewUserAsync();
        var joiner = await _server.NewUserAsync();
        var group = await owner.Http.CreateGroupAsync("open");
        await owner.Http.SendAsync(group.GroupId, "m-1", "before you came");
        await using var api = await ChatApi.ForAsync(joiner, transport);

        var joined = await api.JoinGroupAsync(group.GroupId);
        var again = await api.JoinGroupAsync(group.GroupId);

        Assert.Equal((ChatRoles.Member, 2L, 3L, 3L, 0L), (joined.MyRole, joined.MemberCount, joined.LastSeq, joined.MyReadSeq, joined.Unread));
        Assert.Equal(joined, again);
        var events = (await api.HistoryAsync(group.GroupId)).Events;
        Assert.Equal([1L, 2, 3], events.Select(e => e.Seq));
        Assert.Equal((EventKind.MemberJoined, joiner.Id, (Guid?)null), (events[^1].Kind, events[^1].ActorId, events[^1].ByUserId));
        var me = (await api.ListMembersAsync(group.GroupId)).Items.Single(m => m.UserId == joiner.Id);
        Assert.Equal((ChatRoles.Member, 3L, joiner.User.DisplayName), (me.Role, me.ReadSeq, me.DisplayName));
        Assert.Contains((await api.ListGroupsAsync()).Items, g => g.GroupId == group.GroupId);
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task Join_of_a_private_group_is_not_found(Transport transport)
    {
        var owner = await _server.NewUserAsync();
        var joiner = await _server.NewUserAsync();
        var group = await owner.Http.CreateGroupAsync("closed", isPrivate: true);
        await using var api = await ChatApi.ForAsync(joiner, transport);

        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => api.JoinGroupAsync(group.GroupId));
        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => api.AddMemberAsync(group.GroupId, joiner.Id));
        Assert.Equal(1, (await owner.Http.GetGroupAsync(group.GroupId)).LastSeq);
    }

    [Fact]
    public async Task Post_members_with_no_body_an_empty_object_or_the_callers_own_id_is_a_join_returning_the_group()
    {
        var owner = await _server.NewUserAsync();
        var group = await owner.Http.CreateGroupAsync("open");
        var path = $"/v1/groups/{group.GroupId:D}/members";

        foreach (var body in new string?[] { null, "{}", "{\"userId\":null}", "OWN" })
        {
            var joiner = await _server.NewUserAsync();
            var json = body == "OWN" ? $"{{\"userId\":\"{joiner.Id:D}\"}}" : body;

            var response = await joiner.Http.SendRawAsync(HttpMethod.Post, path, json);

            Assert.True(response.StatusCode == 200, $"{body}: {response.StatusCode} {response.Body}");
            var root = JsonDocument.Parse(response.Body).RootElement;
            Assert.Equal(group.GroupId, root.GetProperty("groupId").GetGuid());
            Assert.Equal("member", root.GetProperty("myRole").GetString());
            Assert.Equal(root.GetProperty("lastSeq").GetInt64(), root.GetProperty("myReadSeq").GetInt64());
            Assert.Equal(group.GroupId, (await joiner.Http.JoinGroupAsync(group.GroupId)).GroupId);
        }

        Assert.Equal(5, (await owner.Http.GetGroupAsync(group.GroupId)).LastSeq);
    }

    [Fact]
    public async Task AddMember_over_websocket_with_the_callers_own_id_is_a_join()
    {
        var owner = await _server.NewUserAsync();
        var joiner = await _server.NewUserAsync();
        var group = await owner.Http.CreateGroupAsync("open");
        await using var socket = await joiner.ConnectAsync();

        var member = await socket.AddMemberAsync(group.GroupId, joiner.Id);

        Assert.Equal((joiner.Id, ChatRoles.Member, 2L), (member.UserId, member.Role, member.ReadSeq));
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task Owner_and_admin_add_members_and_adding_an_existing_member_writes_nothing(Transport transport)
    {
        var (group, owner, admin, member) = await GroupWithRolesAsync(isPrivate: true);
        var first = await _server.NewUserAsync();
        var second = await _server.NewUserAsync();
        await using var ownerApi = await ChatApi.ForAsync(owner, transport);
        await using var adminApi = await ChatApi.ForAsync(admin, transport);
        await using var memberApi = await ChatApi.ForAsync(member, transport);

        var added = await ownerApi.AddMemberAsync(group.GroupId, first.Id);
        var byAdmin = await adminApi.AddMemberAsync(group.GroupId, second.Id);
        var existing = await adminApi.AddMemberAsync(group.GroupId, first.Id);

        Assert.Equal((first.Id, ChatRoles.Member, 5L, first.User.DisplayName), (added.UserId, added.Role, added.ReadSeq, added.DisplayName));
        Assert.Equal((second.Id, 6L), (byAdmin.UserId, byAdmin.ReadSeq));
        Assert.Equal(added, existing);
        var events = (await ownerApi.HistoryAsync(group.GroupId)).Events;
        Assert.Equal(6, events[^1].Seq);
        Assert.Equal((EventKind.MemberJoined, first.Id, (Guid?)owner.Id), (events[^2].Kind, events[^2].ActorId, events[^2].ByUserId));
        Assert.Equal((EventKind.MemberJoined, second.Id, (Guid?)admin.Id), (events[^1].Kind, events[^1].ActorId, events[^1].ByUserId));
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => memberApi.AddMemberAsync(group.GroupId, owner.Id));
        var outsider = await _server.NewUserAsync();
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => memberApi.AddMemberAsync(group.GroupId, outsider.Id));
        var seen = await ChatApi.ForAsync(first, transport);
        await using (seen)
        {
            var g = await seen.GetGroupAsync(group.GroupId);
            Assert.Equal((ChatRoles.Member, 5L, 5), (g.MyRole, g.MyReadSeq, g.MemberCount));
        }
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task AddMember_by_a_non_member_of_a_public_group_is_forbidden(Transport transport)
    {
        var owner = await _server.NewUserAsync();
        var stranger = await _server.NewUserAsync();
        var friend = await _server.NewUserAsync();
        var group = await owner.Http.CreateGroupAsync("open");
        await using var api = await ChatApi.ForAsync(stranger, transport);

        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => api.AddMemberAsync(group.GroupId, friend.Id));
        Assert.Equal(1, (await owner.Http.GetGroupAsync(group.GroupId)).LastSeq);
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task Remove_follows_the_role_rules(Transport transport)
    {
        var (group, owner, admin, member) = await GroupWithRolesAsync();
        var secondAdmin = await _server.NewUserAsync();
        await owner.Http.AddMemberAsync(group.GroupId, secondAdmin.Id);
        await owner.Http.SetRoleAsync(group.GroupId, secondAdmin.Id, ChatRoles.Admin);
        var id = group.GroupId;
        await using var ownerApi = await ChatApi.ForAsync(owner, transport);
        await using var adminApi = await ChatApi.ForAsync(admin, transport);
        await using var memberApi = await ChatApi.ForAsync(member, transport);
        var lastSeq = (await ownerApi.GetGroupAsync(id)).LastSeq;

        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => adminApi.RemoveMemberAsync(id, secondAdmin.Id));
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => adminApi.RemoveMemberAsync(id, owner.Id));
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => memberApi.RemoveMemberAsync(id, admin.Id));
        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => adminApi.RemoveMemberAsync(id, Guid.CreateVersion7()));
        var outsider = await _server.NewUserAsync();
        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => ownerApi.RemoveMemberAsync(id, outsider.Id));
        Assert.Equal(lastSeq, (await ownerApi.GetGroupAsync(id)).LastSeq);

        await adminApi.RemoveMemberAsync(id, member.Id);
        await ownerApi.RemoveMemberAsync(id, secondAdmin.Id);
        await ownerApi.RemoveMemberAsync(id, admin.Id);

        var events = (await ownerApi.HistoryAsync(id)).Events.Where(e => e.Seq > lastSeq).ToList();
        Assert.Equal(
            [(EventKind.MemberLeft, member.Id, (Guid?)admin.Id), (EventKind.MemberLeft, secondAdmin.Id, owner.Id), (EventKind.MemberLeft, admin.Id, owner.Id)],
            events.Select(e => (e.Kind, e.ActorId, e.ByUserId)));
        Assert.Equal([lastSeq + 1, lastSeq + 2, lastSeq + 3], events.Select(e => e.Seq));
        var remaining = await ownerApi.ListMembersAsync(id);
        Assert.Equal([owner.Id], remaining.Items.Select(m => m.UserId));
        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => ownerApi.RemoveMemberAsync(id, member.Id));
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => adminApi.RemoveMemberAsync(id, owner.Id));
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task Leave_writes_member_left_and_the_owner_cannot_leave(Transport transport)
    {
        var (group, owner, admin, member) = await GroupWithRolesAsync();
        await using var ownerApi = await ChatApi.ForAsync(owner, transport);
        await using var memberApi = await ChatApi.ForAsync(member, transport);

        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => ownerApi.LeaveGroupAsync(group.GroupId));
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => ownerApi.RemoveMemberAsync(group.GroupId, owner.Id));
        await memberApi.LeaveGroupAsync(group.GroupId);

        var left = (await ownerApi.HistoryAsync(group.GroupId)).Events[^1];
        Assert.Equal((5L, EventKind.MemberLeft, member.Id, (Guid?)null), (left.Seq, left.Kind, left.ActorId, left.ByUserId));
        var seen = await memberApi.GetGroupAsync(group.GroupId);
        Assert.Null(seen.MyRole);
        Assert.Equal(2, seen.MemberCount);
        Assert.DoesNotContain((await memberApi.ListGroupsAsync()).Items, g => g.GroupId == group.GroupId);
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => memberApi.LeaveGroupAsync(group.GroupId));
        Assert.Equal(5, (await ownerApi.GetGroupAsync(group.GroupId)).LastSeq);
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task Leaving_a_private_group_hides_it(Transport transport)
    {
        var (group, _, _, member) = await GroupWithRolesAsync(isPrivate: true);
        await using var memberApi = await ChatApi.ForAsync(member, transport);

        await memberApi.LeaveGroupAsync(group.GroupId);

        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => memberApi.GetGroupAsync(group.GroupId));
        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => memberApi.LeaveGroupAsync(group.GroupId));
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task SetRole_is_owner_only_and_writes_a_role_changed_event(Transport transport)
    {
        var (group, owner, admin, member) = await GroupWithRolesAsync();
        var id = group.GroupId;
        await using var ownerApi = await ChatApi.ForAsync(owner, transport);
        await using var adminApi = await ChatApi.ForAsync(admin, transport);

        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => adminApi.SetRoleAsync(id, member.Id, ChatRoles.Admin));
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => adminApi.SetRoleAsync(id, admin.Id, ChatRoles.Owner));
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => ownerApi.SetRoleAsync(id, owner.Id, ChatRoles.Admin));
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => ownerApi.SetRoleAsync(id, owner.Id, ChatRoles.Member));
        await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => ownerApi.SetRoleAsync(id, member.Id, "superuser"));
        await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => ownerApi.SetRoleAsync(id, member.Id, ""));
        var outsider = await _server.NewUserAsync();
        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => ownerApi.SetRoleAsync(id, outsider.Id, ChatRoles.Admin));
        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => ownerApi.SetRoleAsync(id, Guid.CreateVersion7(), ChatRoles.Admin));
        Assert.Equal(4, (await ownerApi.GetGroupAsync(id)).LastSeq);

        var promoted = await ownerApi.SetRoleAsync(id, member.Id, ChatRoles.Admin);
        var demoted = await ownerApi.SetRoleAsync(id, admin.Id, ChatRoles.Member);

        Assert.Equal((member.Id, ChatRoles.Admin), (promoted.UserId, promoted.Role));
        Assert.Equal((admin.Id, ChatRoles.Member), (demoted.UserId, demoted.Role));
        var events = (await ownerApi.HistoryAsync(id)).Events;
        Assert.Equal(
            [(5L, EventKind.RoleChanged, member.Id, "admin", (Guid?)owner.Id), (6L, EventKind.RoleChanged, admin.Id, "member", owner.Id)],
            events.Skip(4).Select(e => (e.Seq, e.Kind, e.ActorId, e.Body, e.ByUserId)));
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => adminApi.RemoveMemberAsync(id, member.Id));
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task Ownership_transfer_writes_two_role_changed_events_and_the_old_owner_becomes_admin(Transport transport)
    {
        var (group, owner, admin, member) = await GroupWithRolesAsync();
        var id = group.GroupId;
        await using var ownerApi = await ChatApi.ForAsync(owner, transport);
        await using var memberApi = await ChatApi.ForAsync(member, transport);

        var newOwner = await ownerApi.SetRoleAsync(id, member.Id, ChatRoles.Owner);

        Assert.Equal((member.Id, ChatRoles.Owner), (newOwner.UserId, newOwner.Role));
        var events = (await ownerApi.HistoryAsync(id)).Events.Skip(4).ToList();
        Assert.Equal(
            [(5L, EventKind.RoleChanged, member.Id, "owner", (Guid?)owner.Id), (6L, EventKind.RoleChanged, owner.Id, "admin", owner.Id)],
            events.Select(e => (e.Seq, e.Kind, e.ActorId, e.Body, e.ByUserId)));
        var seen = await memberApi.GetGroupAsync(id);
        Assert.Equal((member.Id, ChatRoles.Owner, 6L), (seen.OwnerId, seen.MyRole, seen.LastSeq));
        Assert.Equal(ChatRoles.Admin, (await ownerApi.GetGroupAsync(id)).MyRole);
        var roles = (await ownerApi.ListMembersAsync(id)).Items.ToDictionary(m => m.UserId, m => m.Role);
        Assert.Equal(ChatRoles.Admin, roles[owner.Id]);
        Assert.Equal(ChatRoles.Admin, roles[admin.Id]);
        Assert.Equal(ChatRoles.Owner, roles[member.Id]);

        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => ownerApi.SetRoleAsync(id, admin.Id, ChatRoles.Member));
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => ownerApi.RemoveMemberAsync(id, member.Id));
        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => memberApi.LeaveGroupAsync(id));
        await ownerApi.LeaveGroupAsync(id);
        await memberApi.RemoveMemberAsync(id, admin.Id);
        Assert.Equal([member.Id], (await memberApi.ListMembersAsync(id)).Items.Select(m => m.UserId));
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task ListMembers_pages_by_user_id_byte_order(Transport transport)
    {
        var owner = await _server.NewUserAsync();
        var group = await owner.Http.CreateGroupAsync("crowd");
        var ids = new List<Guid> { owner.Id };
        for (var i = 0; i < 6; i++)
        {
            var u = await _server.NewUserAsync();
            await owner.Http.AddMemberAsync(group.GroupId, u.Id);
            ids.Add(u.Id);
        }

        await using var api = await ChatApi.ForAsync(owner, transport);
        var expected = ids.Select(g => g.ToString("D")).Order(StringComparer.Ordinal).ToList();

        var seen = new List<string>();
        Guid? cursor = null;
        var pages = 0;
        do
        {
            var page = await api.ListMembersAsync(group.GroupId, cursor, 3);
            pages++;
            seen.AddRange(page.Items.Select(m => m.UserId.ToString("D")));
            cursor = page.NextCursor;
            if (cursor is { } c) Assert.Equal(page.Items[^1].UserId, c);
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(expected, seen);
        var exact = await api.ListMembersAsync(group.GroupId, Guid.Parse(expected[0]), 6);
        Assert.Equal(expected.Skip(1), exact.Items.Select(m => m.UserId.ToString("D")));
        Assert.Null(exact.NextCursor);
        Assert.Equal(7, (await api.ListMembersAsync(group.GroupId, null, 1000)).Items.Count);
        await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => api.ListMembersAsync(group.GroupId, null, 0));
        await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => api.ListMembersAsync(group.GroupId, null, 1001));
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task A_new_members_read_position_is_its_own_join_event(Transport transport)
    {
        var owner = await _server.NewUserAsync();
        var joiner = await _server.NewUserAsync();
        var added = await _server.NewUserAsync();
        var group = await owner.Http.CreateGroupAsync("busy");
        for (var i = 0; i < 3; i++) await owner.Http.SendAsync(group.GroupId, $"m-{i}", $"message {i}");
        await using var api = await ChatApi.ForAsync(joiner, transport);

        var joined = await api.JoinGroupAsync(group.GroupId);
        var member = (await api.ListMembersAsync(group.GroupId)).Items.Single(m => m.UserId == joiner.Id);
        await owner.Http.SendAsync(group.GroupId, "m-after", "after the join");
        var addedMember = await owner.Http.AddMemberAsync(group.GroupId, added.Id);

        Assert.Equal((5L, 0L), (joined.MyReadSeq, joined.Unread));
        Assert.Equal(5, member.ReadSeq);
        var later = await api.GetGroupAsync(group.GroupId);
        Assert.Equal((5L, 1L), (later.MyReadSeq, later.Unread));
        Assert.Equal(7, addedMember.ReadSeq);
        var addedView = await added.Http.GetGroupAsync(group.GroupId);
        Assert.Equal((7L, 0L), (addedView.MyReadSeq, addedView.Unread));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_removed_or_leaving_members_sessions_get_its_member_left_event_and_then_nothing_of_the_group(bool leaves)
    {
        var (group, owner, admin, member) = await GroupWithRolesAsync();
        var id = group.GroupId;
        await using var memberSocket = await member.ConnectAsync();
        await using var memberSecondSocket = await member.ConnectAsync();
        await using var adminSocket = await admin.ConnectAsync();

        if (leaves) await memberSocket.LeaveGroupAsync(id);
        else await owner.Http.RemoveMemberAsync(id, member.Id);

        foreach (var socket in new[] { memberSocket, memberSecondSocket, adminSocket })
        {
            var left = await Pushes.NextEventAsync(socket, id);
            Assert.Equal((5L, EventKind.MemberLeft, member.Id), (left.Seq, left.Kind, left.ActorId));
            Assert.Equal(leaves ? null : owner.Id, left.ByUserId);
        }

        var sent = await owner.Http.SendAsync(id, "after", "not for the one who left");
        await owner.Http.UpdateGroupAsync(id, name: "renamed");

        var seen = await Pushes.NextEventAsync(adminSocket, id);
        Assert.Equal((sent.Result.Seq, "not for the one who left"), (seen.Seq, seen.Body));
        Assert.Equal(EventKind.GroupUpdated, (await Pushes.NextEventAsync(adminSocket, id)).Kind);
        await Task.WhenAll(Expect.NoEventAsync(memberSocket, id, Quiet), Expect.NoEventAsync(memberSecondSocket, id, Quiet));
    }

    [Fact]
    public async Task A_member_added_while_connected_starts_getting_the_groups_events_with_its_join()
    {
        var owner = await _server.NewUserAsync();
        var newcomer = await _server.NewUserAsync();
        var group = await owner.Http.CreateGroupAsync("welcome");
        await using var socket = await newcomer.ConnectAsync();

        await owner.Http.AddMemberAsync(group.GroupId, newcomer.Id);
        await owner.Http.SendAsync(group.GroupId, "hi", "hello newcomer");

        var joined = await Pushes.NextEventAsync(socket, group.GroupId);
        Assert.Equal((2L, EventKind.MemberJoined, newcomer.Id, (Guid?)owner.Id), (joined.Seq, joined.Kind, joined.ActorId, joined.ByUserId));
        Assert.Equal(3, (await Pushes.NextEventAsync(socket, group.GroupId)).Seq);
    }
}
