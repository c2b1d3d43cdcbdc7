using ChatServer.Client;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Functional;

public sealed class GroupTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private readonly TestServer _server = shared.Server;

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task Create_makes_the_caller_owner_and_writes_a_member_joined_event_at_seq_1(Transport transport)
    {
        var owner = await _server.NewUserAsync();
        await using var api = await ChatApi.ForAsync(owner, transport);
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var group = await api.CreateGroupAsync("general");

        Assert.Equal("general", group.Name);
        Assert.Equal("", group.Description);
        Assert.False(group.IsPrivate);
        Assert.Equal(owner.Id, group.OwnerId);
        Assert.Equal(7, group.GroupId.Version);
        Assert.InRange(group.CreatedAtMs, before - 1000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1000);
        Assert.Equal(1, group.MemberCount);
        Assert.Equal(1, group.LastSeq);
        Assert.Equal(ChatRoles.Owner, group.MyRole);
        Assert.Equal(1, group.MyReadSeq);
        Assert.Equal(0, group.Unread);
        var history = await api.HistoryAsync(group.GroupId);
        var created = Assert.Single(history.Events);
        Assert.False(history.HasMore);
        Assert.Equal(new GroupEvent(group.GroupId, 1, EventKind.MemberJoined, owner.Id, created.AtMs, null, null, null, null, false, null), created);
        Assert.Equal(group, await api.GetGroupAsync(group.GroupId));
        var members = await api.ListMembersAsync(group.GroupId);
        var member = Assert.Single(members.Items);
        Assert.Equal((owner.Id, ChatRoles.Owner, 1L, owner.User.DisplayName), (member.UserId, member.Role, member.ReadSeq, member.DisplayName));
        Assert.Null(members.NextCursor);
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task Create_keeps_the_description_and_privacy_given(Transport transport)
    {
        var owner = await _server.NewUserAsync();
        await using var api = await ChatApi.ForAsync(owner, transport);

        var group = await api.CreateGroupAsync("secret", "only for us", isPrivate: true);

        Assert.Equal("only for us", group.Description);
        Assert.True(group.IsPrivate);
        Assert.Equal(group, await api.GetGroupAsync(group.GroupId));
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task Create_and_update_with_invalid_text_are_invalid_argument(Transport transport)
    {
        var owner = await _server.NewUserAsync();
        await using var api = await ChatApi.ForAsync(owner, transport);
        var group = await api.CreateGroupAsync("valid");

        string[] badNames = ["", new string('n', 101), "na\0me"];
        foreach (var name in badNames)
        {
            await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => api.CreateGroupAsync(name));
            await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => api.UpdateGroupAsync(group.GroupId, name: name));
        }

        string[] badDescriptions = [new string('d', 1001), "de\0sc"];
        foreach (var description in badDescriptions)
        {
            await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => api.CreateGroupAsync("ok", description));
            await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => api.UpdateGroupAsync(group.GroupId, description: description));
        }

        var longest = await api.CreateGroupAsync(string.Concat(Enumerable.Repeat("é", 100)), string.Concat(Enumerable.Repeat("😀", 1000)));
        Assert.Equal(100, longest.Name.Length);
        Assert.Equal(1, (await api.GetGroupAsync(group.GroupId)).LastSeq);
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task Update_that_changes_nothing_writes_nothing_and_a_change_writes_one_group_updated_event(Transport transport)
    {
        var owner = await _server.NewUserAsync();
        await using var api = await ChatApi.ForAsync(owner, transport);
        var group = await api.CreateGroupAsync("name", "desc");

        var same = await api.UpdateGroupAsync(group.GroupId, name: "name", description: "desc", isPrivate: false);
        var nothing = await api.UpdateGroupAsync(group.GroupId);

        Assert.Equal(group, same);
        Assert.Equal(group, nothing);
        Assert.Single((await api.HistoryAsync(group.GroupId)).Events);

        var renamed = await api.UpdateGroupAsync(group.GroupId, name: "renamed");
        Assert.Equal(("renamed", "desc", false, 2L), (renamed.Name, renamed.Description, renamed.IsPrivate, renamed.LastSeq));
        var hidden = await api.UpdateGroupAsync(group.GroupId, isPrivate: true);
        Assert.Equal((true, 3L), (hidden.IsPrivate, hidden.LastSeq));
        var cleared = await api.UpdateGroupAsync(group.GroupId, description: "");
        Assert.Equal(("", 4L), (cleared.Description, cleared.LastSeq));

        var events = (await api.HistoryAsync(group.GroupId)).Events;
        Assert.Equal([1L, 2, 3, 4], events.Select(e => e.Seq));
        Assert.All(events.Skip(1), e =>
        {
            Assert.Equal(EventKind.GroupUpdated, e.Kind);
            Assert.Equal(owner.Id, e.ActorId);
            Assert.Null(e.Body);
            Assert.Null(e.ClientMsgId);
            Assert.Null(e.TargetSeq);
            Assert.False(e.Deleted);
        });
        Assert.Equal(cleared, await api.GetGroupAsync(group.GroupId));
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task ListGroups_pages_through_the_callers_groups_in_id_byte_order(Transport transport)
    {
        var user = await _server.NewUserAsync();
        var other = await _server.NewUserAsync();
        await using var api = await ChatApi.ForAsync(user, transport);
        var created = new List<Guid>();
        for (var i = 0; i < 5; i++) created.Add((await api.CreateGroupAsync($"mine {i}")).GroupId);
        var joined = await other.Http.CreateGroupAsync("theirs");
        await api.JoinGroupAsync(joined.GroupId);
        created.Add(joined.GroupId);
        var notMine = await other.Http.CreateGroupAsync("not mine");

        var seen = new List<Group>();
        Guid? cursor = null;
        var pages = 0;
        do
        {
            var page = await api.ListGroupsAsync(cursor, 2);
            pages++;
            Assert.Equal(2, page.Items.Count);
            seen.AddRange(page.Items);
            cursor = page.NextCursor;
            if (cursor is { } c) Assert.Equal(page.Items[^1].GroupId, c);
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        var expected = created.Select(g => g.ToString("D")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, seen.Select(g => g.GroupId.ToString("D")));
        Assert.DoesNotContain(seen, g => g.GroupId == notMine.GroupId);
        Assert.All(seen, g => Assert.NotNull(g.MyRole));

        var all = await api.ListGroupsAsync();
        Assert.Equal(expected, all.Items.Select(g => g.GroupId.ToString("D")));
        Assert.Null(all.NextCursor);
        var afterThird = await api.ListGroupsAsync(Guid.Parse(expected[2]), 100);
        Assert.Equal(expected.Skip(3), afterThird.Items.Select(g => g.GroupId.ToString("D")));
        Assert.Null(afterThird.NextCursor);
        var afterLast = await api.ListGroupsAsync(Guid.Parse(expected[^1]));
        Assert.Empty(afterLast.Items);
        Assert.Null(afterLast.NextCursor);
        var fromZero = await api.ListGroupsAsync(Guid.Empty, 6);
        Assert.Equal(6, fromZero.Items.Count);
        Assert.Null(fromZero.NextCursor);
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task ListGroups_with_limit_0_or_above_100_is_invalid_argument(Transport transport)
    {
        var user = await _server.NewUserAsync();
        await using var api = await ChatApi.ForAsync(user, transport);

        await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => api.ListGroupsAsync(null, 0));
        await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => api.ListGroupsAsync(null, 101));
        Assert.Empty((await api.ListGroupsAsync(null, 100)).Items);
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task A_private_group_is_not_found_for_a_non_member_on_every_op(Transport transport)
    {
        var owner = await _server.NewUserAsync();
        var member = await _server.NewUserAsync();
        var stranger = await _server.NewUserAsync();
        var group = await owner.Http.CreateGroupAsync("hidden", isPrivate: true);
        await owner.Http.AddMemberAsync(group.GroupId, member.Id);
        var sent = await owner.Http.SendAsync(group.GroupId, "m-1", "secret");
        await using var api = await ChatApi.ForAsync(stranger, transport);
        var id = group.GroupId;

        Func<Task>[] ops =
        [
            () => api.GetGroupAsync(id),
            () => api.OpenGroupAsync(id),
            () => api.HistoryAsync(id),
            () => api.ListMembersAsync(id),
            () => api.JoinGroupAsync(id),
            () => api.LeaveGroupAsync(id),
            () => api.UpdateGroupAsync(id, name: "mine now"),
            () => api.AddMemberAsync(id, stranger.Id),
            () => api.AddMemberAsync(id, owner.Id),
            () => api.RemoveMemberAsync(id, member.Id),
            () => api.SetRoleAsync(id, member.Id, ChatRoles.Admin),
            () => api.SetRoleAsync(id, member.Id, "not-a-role"),
            () => api.SendAsync(id, "s-1", "hello"),
            () => api.MarkReadAsync(id, 1),
        ];
        foreach (var op in ops) await Expect.ErrorAsync(ChatErrorCodes.NotFound, op);

        var missing = Guid.CreateVersion7();
        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => api.GetGroupAsync(missing));
        await Expect.ErrorAsync(ChatErrorCodes.NotFound, () => api.JoinGroupAsync(missing));
        Assert.Equal(sent.Result.Seq, (await owner.Http.GetGroupAsync(id)).LastSeq);
        Assert.Equal(2, (await owner.Http.GetGroupAsync(id)).MemberCount);
    }

    [Theory]
    [InlineData(Transport.Http)]
    [InlineData(Transport.WebSocket)]
    public async Task A_public_group_is_readable_by_a_non_member_but_member_ops_are_forbidden(Transport transport)
    {
        var owner = await _server.NewUserAsync();
        var member = await _server.NewUserAsync();
        var stranger = await _server.NewUserAsync();
        var group = await owner.Http.CreateGroupAsync("lobby", "open to all");
        await owner.Http.AddMemberAsync(group.GroupId, member.Id);
        await owner.Http.SendAsync(group.GroupId, "m-1", "welcome");
        await using var api = await ChatApi.ForAsync(stranger, transport);
        var id = group.GroupId;

        var seen = await api.GetGroupAsync(id);
        Assert.Equal(("lobby", "open to all", 2L, 3L), (seen.Name, seen.Description, seen.MemberCount, seen.LastSeq));
        Assert.Null(seen.MyRole);
        Assert.Null(seen.MyReadSeq);
        Assert.Null(seen.Unread);
        var open = await api.OpenGroupAsync(id, 10);
        Assert.Equal(seen, open.Group);
        Assert.Equal([1L, 2, 3], open.Events.Select(e => e.Seq));
        Assert.False(open.HasMore);
        Assert.Equal("welcome", (await api.HistoryAsync(id)).Events[^1].Body);
        Assert.Equal(2, (await api.ListMembersAsync(id)).Items.Count);

        Func<Task>[] ops =
        [
            () => api.LeaveGroupAsync(id),
            () => api.UpdateGroupAsync(id, name: "mine now"),
            () => api.AddMemberAsync(id, Guid.CreateVersion7()),
            () => api.RemoveMemberAsync(id, member.Id),
            () => api.RemoveMemberAsync(id, Guid.CreateVersion7()),
            () => api.SetRoleAsync(id, member.Id, ChatRoles.Admin),
            () => api.SendAsync(id, "s-1", "hello"),
            () => api.MarkReadAsync(id, 1),
        ];
        foreach (var op in ops) await Expect.ErrorAsync(ChatErrorCodes.Forbidden, op);
        Assert.Equal(3, (await owner.Http.GetGroupAsync(id)).LastSeq);
    }

    [Fact]
    public async Task Open_over_http_by_a_non_member_of_a_public_group_returns_the_group_and_events()
    {
        var owner = await _server.NewUserAsync();
        var stranger = await _server.NewUserAsync();
        var group = await owner.Http.CreateGroupAsync("lobby");

        var open = await stranger.Http.OpenGroupAsync(group.GroupId, 1);

        Assert.Equal(group.GroupId, open.Group.GroupId);
        Assert.Null(open.Group.MyRole);
        Assert.Equal(EventKind.MemberJoined, Assert.Single(open.Events).Kind);
    }
}
