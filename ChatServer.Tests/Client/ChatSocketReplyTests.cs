using ChatServer.Client;
using ChatServer.Tests.Client.Support;
using MessagePack;

namespace ChatServer.Tests.Client;

public sealed class ChatSocketReplyTests
{
    public static TheoryData<IntWidth> AllWidths() => new(Enum.GetValues<IntWidth>());

    [Theory]
    [MemberData(nameof(AllWidths))]
    public async Task Hello_sends_the_token_and_resume_map_and_decodes_the_session(IntWidth width)
    {
        await using var server = FakeChatServer.Start();
        var resume = new Dictionary<Guid, long> { [Wire.GroupId] = 41 };
        var sessionId = Guid.CreateVersion7();

        Task<HelloResult> hello = server.Client.HelloAsync("token-1", resume);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Hello);
        await server.SendAsync(Wire.Reply(request.Rid, 6, (ref MessagePackWriter w) =>
        {
            Wire.Id(ref w, Wire.UserA);
            Wire.Id(ref w, sessionId);
            Wire.Int(ref w, 25_000, width);
            Wire.Int(ref w, Wire.Now, width);
            Wire.Int(ref w, 65_536, width);
            w.Write("extra");
        }, width));

        Assert.Equal(new HelloResult(Wire.UserA, sessionId, 25_000, Wire.Now, 65_536), await hello.Within());
        Assert.NotEqual(0u, request.Rid);
        Assert.Equal(2, request.ArgCount);
        MessagePackReader args = request.Args();
        Assert.Equal("token-1", args.ReadString());
        Assert.Equal(1, args.ReadMapHeader());
        Assert.Equal(Wire.GroupId, ChatCodec.ReadGuid(ref args));
        Assert.Equal(41, args.ReadInt64());
    }

    [Fact]
    public async Task Hello_without_resume_sends_nil()
    {
        await using var server = FakeChatServer.Start();

        _ = server.Client.HelloAsync("t");
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Hello);

        MessagePackReader args = request.Args();
        args.Skip();
        Assert.True(args.TryReadNil());
    }

    [Fact]
    public async Task Reauth_returns_the_new_expiry()
    {
        await using var server = FakeChatServer.Start();

        Task<long> reauth = server.Client.ReauthAsync("fresh");
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Reauth);
        await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) => w.WriteUInt64(Wire.Now)));

        Assert.Equal(Wire.Now, await reauth.Within());
    }

    [Fact]
    public async Task Get_user_by_name_sends_the_at_form_and_decodes_the_user()
    {
        await using var server = FakeChatServer.Start();
        var user = new User(Wire.UserB, "bob", "Bob");

        Task<User> get = server.Client.GetUserAsync("bob");
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.GetUser);
        await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) => Wire.User(ref w, user, extra: 2)));

        Assert.Equal(user, await get.Within());
        MessagePackReader args = request.Args();
        Assert.Equal("@bob", args.ReadString());
    }

    [Fact]
    public async Task Get_user_by_id_sends_the_id()
    {
        await using var server = FakeChatServer.Start();
        var user = new User(Wire.UserB, "bob", "Bob");

        Task<User> get = server.Client.GetUserAsync(Wire.UserB);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.GetUser);
        await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) => Wire.User(ref w, user)));

        Assert.Equal(user, await get.Within());
        MessagePackReader args = request.Args();
        Assert.Equal(Wire.UserB, ChatCodec.ReadGuid(ref args));
    }

    [Fact]
    public async Task Create_group_sends_nil_for_omitted_arguments()
    {
        await using var server = FakeChatServer.Start();
        Group group = Wire.SampleGroup();

        Task<Group> create = server.Client.CreateGroupAsync("Team");
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.CreateGroup);
        await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) => Wire.Group(ref w, group)));

        Assert.Equal(group, await create.Within());
        Assert.Equal(3, request.ArgCount);
        MessagePackReader args = request.Args();
        Assert.Equal("Team", args.ReadString());
        Assert.True(args.TryReadNil());
        Assert.True(args.TryReadNil());
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public async Task Get_group_join_group_and_update_group_decode_the_group(IntWidth width)
    {
        await using var server = FakeChatServer.Start();
        Group group = Wire.SampleGroup();

        Task<Group> get = server.Client.GetGroupAsync(Wire.GroupId);
        Task<Group> join = server.Client.JoinGroupAsync(Wire.GroupId);
        Task<Group> update = server.Client.UpdateGroupAsync(Wire.GroupId, isPrivate: false);
        foreach (ChatOp op in new[] { ChatOp.GetGroup, ChatOp.JoinGroup, ChatOp.UpdateGroup })
        {
            ReceivedRequest request = await server.ExpectRequestAsync(op);
            await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) => Wire.Group(ref w, group, width, 1), width));
            if (op == ChatOp.UpdateGroup)
            {
                MessagePackReader args = request.Args();
                Assert.Equal(Wire.GroupId, ChatCodec.ReadGuid(ref args));
                Assert.True(args.TryReadNil());
                Assert.True(args.TryReadNil());
                Assert.False(args.ReadBoolean());
            }
        }

        Assert.Equal(group, await get.Within());
        Assert.Equal(group, await join.Within());
        Assert.Equal(group, await update.Within());
    }

    [Fact]
    public async Task List_groups_decodes_the_page_and_cursor()
    {
        await using var server = FakeChatServer.Start();
        Group group = Wire.SampleGroup();

        Task<Page<Group>> list = server.Client.ListGroupsAsync(after: Wire.UserA, limit: 2);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.ListGroups);
        await server.SendAsync(Wire.Reply(request.Rid, 2, (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            Wire.Group(ref w, group);
            Wire.Group(ref w, group with { Name = "Other" });
            Wire.Id(ref w, Wire.GroupId);
        }));

        Page<Group> page = await list.Within();
        Assert.Equal(["Team", "Other"], page.Items.Select(g => g.Name));
        Assert.Equal(Wire.GroupId, page.NextCursor);
        MessagePackReader args = request.Args();
        Assert.Equal(Wire.UserA, ChatCodec.ReadGuid(ref args));
        Assert.Equal(2, args.ReadInt32());
    }

    [Fact]
    public async Task List_members_decodes_an_empty_last_page()
    {
        await using var server = FakeChatServer.Start();

        Task<Page<Member>> list = server.Client.ListMembersAsync(Wire.GroupId);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.ListMembers);
        await server.SendAsync(Wire.Reply(request.Rid, 2, (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(0);
            w.WriteNil();
        }));

        Page<Member> page = await list.Within();
        Assert.Empty(page.Items);
        Assert.Null(page.NextCursor);
        Assert.Equal(3, request.ArgCount);
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public async Task Add_member_and_set_role_decode_the_member(IntWidth width)
    {
        await using var server = FakeChatServer.Start();
        var member = new Member(Wire.UserB, "Bob", ChatRoles.Admin, Wire.Now, 3);

        Task<Member> add = server.Client.AddMemberAsync(Wire.GroupId, Wire.UserB);
        Task<Member> setRole = server.Client.SetRoleAsync(Wire.GroupId, Wire.UserB, ChatRoles.Admin);
        foreach (ChatOp op in new[] { ChatOp.AddMember, ChatOp.SetRole })
        {
            ReceivedRequest request = await server.ExpectRequestAsync(op);
            await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) => Wire.Member(ref w, member, width), width));
        }

        Assert.Equal(member, await add.Within());
        Assert.Equal(member, await setRole.Within());
    }

    [Fact]
    public async Task Leave_remove_mark_read_and_typing_with_reply_complete_on_empty_replies()
    {
        await using var server = FakeChatServer.Start();

        Task leave = server.Client.LeaveGroupAsync(Wire.GroupId);
        Task remove = server.Client.RemoveMemberAsync(Wire.GroupId, Wire.UserB);
        Task markRead = server.Client.MarkReadAsync(Wire.GroupId, 9);
        Task typing = server.Client.TypingAsync(Wire.GroupId, wantReply: true);
        foreach (ChatOp op in new[] { ChatOp.LeaveGroup, ChatOp.RemoveMember, ChatOp.MarkRead, ChatOp.Typing })
        {
            ReceivedRequest request = await server.ExpectRequestAsync(op);
            Assert.NotEqual(0u, request.Rid);
            int extra = op == ChatOp.MarkRead ? 1 : 0;
            await server.SendAsync(Wire.Reply(request.Rid, extra, (ref MessagePackWriter w) => Wire.Extras(ref w, extra)));
        }

        await Task.WhenAll(leave, remove, markRead, typing).Within();
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public async Task Open_decodes_the_group_events_and_has_more(IntWidth width)
    {
        await using var server = FakeChatServer.Start();
        Group group = Wire.SampleGroup();
        GroupEvent[] events = [Wire.SampleJoin(), Wire.SampleMessage(), Wire.SampleEdit()];

        Task<OpenResult> open = server.Client.OpenGroupAsync(Wire.GroupId, 3);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Open);
        await server.SendAsync(Wire.Reply(request.Rid, 3, (ref MessagePackWriter w) =>
        {
            Wire.Group(ref w, group, width);
            w.WriteArrayHeader(events.Length);
            foreach (GroupEvent e in events)
            {
                Wire.Event(ref w, e, width);
            }

            w.Write(true);
        }, width));

        OpenResult result = await open.Within();
        Assert.Equal(group, result.Group);
        Assert.Equal(events, result.Events);
        Assert.True(result.HasMore);
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public async Task Sync_sends_the_map_and_decodes_every_entry(IntWidth width)
    {
        await using var server = FakeChatServer.Start();
        var item = new SyncItem(Wire.GroupId, 42, 2, Wire.SampleMessage(42));

        Task<IReadOnlyList<SyncItem>> sync = server.Client.SyncAsync(new Dictionary<Guid, long> { [Wire.GroupId] = 40, [Wire.UserA] = 0 });
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Sync);
        await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(1);
            Wire.SyncItem(ref w, item, width, extra: 1);
        }, width));

        Assert.Equal([item], await sync.Within());
        MessagePackReader args = request.Args();
        Assert.Equal(2, args.ReadMapHeader());
    }

    [Theory]
    [MemberData(nameof(AllWidths))]
    public async Task Send_decodes_seq_message_id_and_time(IntWidth width)
    {
        await using var server = FakeChatServer.Start();
        var messageId = Guid.CreateVersion7();

        Task<SendResult> send = server.Client.SendAsync(Wire.GroupId, "c-1", "héllo");
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Send);
        await server.SendAsync(Wire.Reply(request.Rid, 3, (ref MessagePackWriter w) =>
        {
            Wire.Int(ref w, 43, width);
            Wire.Id(ref w, messageId);
            Wire.Int(ref w, Wire.Now, width);
        }, width));

        Assert.Equal(new SendResult(43, messageId, Wire.Now), await send.Within());
        MessagePackReader args = request.Args();
        Assert.Equal(Wire.GroupId, ChatCodec.ReadGuid(ref args));
        Assert.Equal("c-1", args.ReadString());
        Assert.Equal("héllo", args.ReadString());
    }

    [Fact]
    public async Task History_sends_before_and_limit_and_decodes_the_events()
    {
        await using var server = FakeChatServer.Start();
        GroupEvent deleted = Wire.SampleMessage() with { Body = "", Deleted = true };

        Task<HistoryResult> history = server.Client.HistoryAsync(Wire.GroupId, beforeSeq: 8, limit: 1);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.History);
        await server.SendAsync(Wire.Reply(request.Rid, 2, (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(1);
            Wire.Event(ref w, deleted);
            w.Write(false);
        }));

        HistoryResult result = await history.Within();
        Assert.Equal([deleted], result.Events);
        Assert.False(result.HasMore);
        MessagePackReader args = request.Args();
        args.Skip();
        Assert.Equal(8, args.ReadInt64());
        Assert.Equal(1, args.ReadInt64());
    }

    [Fact]
    public async Task Edit_and_delete_return_the_new_event_seq()
    {
        await using var server = FakeChatServer.Start();

        Task<long> edit = server.Client.EditAsync(Wire.GroupId, 7, "fixed");
        Task<long> delete = server.Client.DeleteAsync(Wire.GroupId, 7);
        ReceivedRequest editRequest = await server.ExpectRequestAsync(ChatOp.Edit);
        ReceivedRequest deleteRequest = await server.ExpectRequestAsync(ChatOp.Delete);
        await server.SendAsync(Wire.Reply(deleteRequest.Rid, 1, (ref MessagePackWriter w) => w.WriteInt32(10)));
        await server.SendAsync(Wire.Reply(editRequest.Rid, 1, (ref MessagePackWriter w) => w.WriteUInt8(9)));

        Assert.Equal(9, await edit.Within());
        Assert.Equal(10, await delete.Within());
    }

    [Fact]
    public async Task Replies_arriving_in_reverse_order_complete_the_right_requests()
    {
        await using var server = FakeChatServer.Start();
        var requests = new List<(Task<long> Task, uint Rid)>();
        for (int i = 0; i < 20; i++)
        {
            Task<long> task = server.Client.EditAsync(Wire.GroupId, i, "x");
            requests.Add((task, (await server.ExpectRequestAsync(ChatOp.Edit)).Rid));
        }

        for (int i = requests.Count - 1; i >= 0; i--)
        {
            long answer = 1000 + i;
            await server.SendAsync(Wire.Reply(requests[i].Rid, 1, (ref MessagePackWriter w) => w.Write(answer)));
        }

        for (int i = 0; i < requests.Count; i++)
        {
            Assert.Equal(1000 + i, await requests[i].Task.Within());
        }

        Assert.Equal(20, requests.Select(r => r.Rid).Distinct().Count());
    }

    [Fact]
    public async Task An_error_reply_throws_the_api_exception_with_every_field()
    {
        await using var server = FakeChatServer.Start();

        Task<SendResult> send = server.Client.SendAsync(Wire.GroupId, "c-1", "hi");
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Send);
        await server.SendAsync(Wire.Error(request.Rid, ChatErrorCodes.RateLimited, "Slow down", 429, retryAfterMs: 250, extra: 2));

        ChatApiException error = await Assert.ThrowsAsync<ChatApiException>(() => send.Within());
        Assert.Equal(ChatErrorCodes.RateLimited, error.Code);
        Assert.Equal("Slow down", error.Title);
        Assert.Equal(429, error.Status);
        Assert.Equal(250, error.RetryAfterMs);
        Assert.Null(error.Detail);
    }

    [Fact]
    public async Task An_error_reply_without_retry_after_has_null_retry()
    {
        await using var server = FakeChatServer.Start();

        Task<Group> get = server.Client.GetGroupAsync(Wire.GroupId);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.GetGroup);
        await server.SendAsync(Wire.Error(request.Rid, ChatErrorCodes.NotFound, "No such group", 404));

        ChatApiException error = await Assert.ThrowsAsync<ChatApiException>(() => get.Within());
        Assert.Equal((ChatErrorCodes.NotFound, 404, (long?)null), (error.Code, error.Status, error.RetryAfterMs));
    }

    [Fact]
    public async Task A_reply_split_over_many_websocket_frames_is_reassembled()
    {
        await using var server = FakeChatServer.Start(new ChatSocketOptions { ReceiveBufferBytes = 1024 });
        GroupEvent[] events = Enumerable.Range(1, 100)
            .Select(i => Wire.SampleMessage(i) with { Body = new string('x', 1000) })
            .ToArray();

        Task<HistoryResult> history = server.Client.HistoryAsync(Wire.GroupId);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.History);
        byte[] reply = Wire.Reply(request.Rid, 2, (ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(events.Length);
            foreach (GroupEvent e in events)
            {
                Wire.Event(ref w, e);
            }

            w.Write(true);
        });
        await server.SendFragmentedAsync(reply, 777);

        HistoryResult result = await history.Within();
        Assert.True(reply.Length > 100_000);
        Assert.Equal(events, result.Events);
    }

    [Fact]
    public async Task A_reply_with_a_malformed_result_fails_its_request_with_a_protocol_error()
    {
        await using var server = FakeChatServer.Start();

        Task<Group> get = server.Client.GetGroupAsync(Wire.GroupId);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.GetGroup);
        await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) => w.Write("not a group")));

        await Assert.ThrowsAsync<ChatProtocolException>(() => get.Within());
    }

    [Fact]
    public async Task A_reply_with_trailing_bytes_fails_its_request_with_a_protocol_error()
    {
        await using var server = FakeChatServer.Start();

        Task leave = server.Client.LeaveGroupAsync(Wire.GroupId);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.LeaveGroup);
        await server.SendAsync([.. Wire.Reply(request.Rid, 0, (ref MessagePackWriter w) => { }), 0xC0]);

        await Assert.ThrowsAsync<ChatProtocolException>(() => leave.Within());
    }

    [Fact]
    public async Task Typing_by_default_is_sent_with_rid_zero_and_waits_for_nothing()
    {
        await using var server = FakeChatServer.Start();

        await server.Client.TypingAsync(Wire.GroupId).Within();
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Typing);

        Assert.Equal(0u, request.Rid);
        Assert.Equal(1, request.ArgCount);
    }

    [Fact]
    public async Task A_request_with_no_reply_times_out_and_a_late_reply_is_reported_as_unexpected()
    {
        var clock = new ManualTimeProvider();
        await using var server = FakeChatServer.Start(new ChatSocketOptions { RequestTimeout = TimeSpan.FromSeconds(10), TimeProvider = clock });

        Task<Group> get = server.Client.GetGroupAsync(Wire.GroupId);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.GetGroup);
        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.False(get.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAsync<TimeoutException>(() => get.Within());
        await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) => Wire.Group(ref w, Wire.SampleGroup())));

        UnexpectedFramePush push = await server.Client.Pushes.NextPushAsync<UnexpectedFramePush>();
        Assert.Contains("no request is waiting", push.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_answered_in_time_are_not_timed_out()
    {
        var clock = new ManualTimeProvider();
        await using var server = FakeChatServer.Start(new ChatSocketOptions { RequestTimeout = TimeSpan.FromSeconds(10), TimeProvider = clock });

        Task<long> first = server.Client.DeleteAsync(Wire.GroupId, 1);
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Delete);
        await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) => w.Write(5)));
        Assert.Equal(5, await first.Within());
        clock.Advance(TimeSpan.FromSeconds(30));

        Task<long> second = server.Client.DeleteAsync(Wire.GroupId, 2);
        request = await server.ExpectRequestAsync(ChatOp.Delete);
        clock.Advance(TimeSpan.FromSeconds(5));
        await server.SendAsync(Wire.Reply(request.Rid, 1, (ref MessagePackWriter w) => w.Write(6)));

        Assert.Equal(6, await second.Within());
    }

    [Fact]
    public async Task A_cancelled_request_stops_waiting()
    {
        await using var server = FakeChatServer.Start();
        using var cancel = new CancellationTokenSource();

        Task<Group> get = server.Client.GetGroupAsync(Wire.GroupId, cancel.Token);
        await server.ExpectRequestAsync(ChatOp.GetGroup);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => get.Within());
    }

    [Fact]
    public async Task A_request_with_an_already_cancelled_token_is_not_sent()
    {
        await using var server = FakeChatServer.Start();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => server.Client.GetGroupAsync(Wire.GroupId, new CancellationToken(canceled: true)).Within());
        await server.Client.TypingAsync(Wire.GroupId).Within();

        Assert.Equal((int)ChatOp.Typing, (await server.ReceiveAsync())!.Op);
    }
}
