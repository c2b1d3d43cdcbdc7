using System.Buffers;
using System.Net.WebSockets;
using ChatServer.Client;
using ChatServer.Tests.Support;
using MessagePack;

namespace ChatServer.Tests.Functional;

public sealed class GatewayProtocolTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private readonly TestServer _server = shared.Server;

    private delegate void Build(ref MessagePackWriter writer);

    private static byte[] Pack(Build build)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        build(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Messages that are not exactly one complete MessagePack array with a uint32 rid.</summary>
    private static byte[] Malformed(string kind)
    {
        var getGroup = ChatCodec.BuildRequest((int)ChatOp.GetGroup, 7, [Guid.CreateVersion7()]);
        return kind switch
        {
            "map" => Pack((ref MessagePackWriter w) => { w.WriteMapHeader(1); w.Write(33); w.Write(7); }),
            "two arrays" => Concat(getGroup, getGroup),
            "truncated" => getGroup[..^1],
            "trailing byte" => Concat(getGroup, [0xC0]),
            "empty" => [],
            "integer" => Pack((ref MessagePackWriter w) => w.Write(33)),
            "array of one" => Pack((ref MessagePackWriter w) => { w.WriteArrayHeader(1); w.Write(33); }),
            "reserved byte" => [0x92, 0xC1, 0x01],
            "array header past the end" => [0xDD, 0x00, 0x00, 0x10, 0x00, 0x21, 0x01],
            "rid string" => Pack((ref MessagePackWriter w) => { w.WriteArrayHeader(3); w.Write(33); w.Write("7"); w.Write(1); }),
            "rid negative" => Pack((ref MessagePackWriter w) => { w.WriteArrayHeader(3); w.Write(33); w.Write(-1); w.Write(1); }),
            "rid 2^32" => Pack((ref MessagePackWriter w) => { w.WriteArrayHeader(3); w.Write(33); w.Write(1UL << 32); w.Write(1); }),
            "rid nil" => Pack((ref MessagePackWriter w) => { w.WriteArrayHeader(3); w.Write(33); w.WriteNil(); w.Write(1); }),
            "rid float" => Pack((ref MessagePackWriter w) => { w.WriteArrayHeader(3); w.Write(33); w.Write(7.0); w.Write(1); }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    public static TheoryData<string, bool> MalformedMessages()
    {
        var data = new TheoryData<string, bool>();
        foreach (var kind in new[]
        {
            "map", "two arrays", "truncated", "trailing byte", "empty", "integer", "array of one", "reserved byte",
            "array header past the end", "rid string", "rid negative", "rid 2^32", "rid nil", "rid float",
        })
        {
            data.Add(kind, false);
            data.Add(kind, true);
        }

        return data;
    }

    private async Task<(TestUser User, ChatSocket Socket)> SessionAsync()
    {
        var user = await _server.NewUserAsync();
        return (user, await user.ConnectAsync());
    }

    private static async Task AssertStillOpenAsync(ChatSocket socket, Guid userId)
    {
        Assert.Equal(userId, (await socket.GetUserAsync(userId)).UserId);
        Assert.False(socket.Closed.IsCompleted);
    }

    [Theory]
    [MemberData(nameof(MalformedMessages))]
    public async Task A_message_that_is_not_one_array_with_a_uint32_rid_closes_with_1007(string kind, bool afterHello)
    {
        var user = await _server.NewUserAsync();
        await using var socket = await _server.ConnectAsync();
        if (afterHello) await socket.HelloAsync(user.Token);

        await socket.SendRawAsync(Malformed(kind));

        Assert.Equal(ChatCloseCodes.BadPayload, await Expect.ClosedAsync(socket));
    }

    [Theory]
    [InlineData(false, "valid")]
    [InlineData(true, "valid")]
    [InlineData(false, "invalid-utf8")]
    [InlineData(true, "invalid-utf8")]
    [InlineData(false, "over-64k")]
    [InlineData(true, "over-64k")]
    public async Task A_text_message_closes_with_1003_whatever_its_content(bool afterHello, string content)
    {
        var user = await _server.NewUserAsync();
        await using var socket = await _server.ConnectAsync();
        if (afterHello) await socket.HelloAsync(user.Token);

        // The endpoint refuses text at the frame header: neither invalid UTF-8 (1007) nor the size limit (1009) is reached.
        var frame = content switch
        {
            "valid" => System.Text.Encoding.UTF8.GetBytes($"[16,1,\"{user.Token}\",null]"),
            "invalid-utf8" => [0x5b, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x5d],
            _ => System.Text.Encoding.UTF8.GetBytes(new string('t', 70_000)),
        };
        await socket.SendRawAsync(frame, WebSocketMessageType.Text);

        Assert.Equal(ChatCloseCodes.TextFrame, await Expect.ClosedAsync(socket));
    }

    [Theory]
    [InlineData(99)]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(18)]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public async Task An_unknown_op_gets_unknown_op_and_the_connection_stays_open(int op)
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;

        var reply = await socket.RequestRawAsync(op, [Guid.CreateVersion7()]);

        Assert.Equal(ChatErrorCodes.UnknownOp, reply.Error?.Code);
        Assert.Equal(400, reply.Error!.Status);
        Assert.Null(reply.Error.RetryAfterMs);
        await AssertStillOpenAsync(socket, user.Id);
    }

    [Fact]
    public async Task An_op_number_beyond_int32_gets_unknown_op()
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;
        var rid = socket.NextRid();
        var frame = Pack((ref MessagePackWriter w) => { w.WriteArrayHeader(2); w.Write(1UL << 40); w.Write(rid); });

        var reply = await socket.RequestRawAsync(frame, rid);

        Assert.Equal(ChatErrorCodes.UnknownOp, reply.Error?.Code);
        await AssertStillOpenAsync(socket, user.Id);
    }

    public static TheoryData<string, int, object?[]> WrongArguments()
    {
        var g = Guid.CreateVersion7();
        return new TheoryData<string, int, object?[]>
        {
            { "GetGroup with a string id", (int)ChatOp.GetGroup, ["not a uuid"] },
            { "GetGroup with a 15-byte id", (int)ChatOp.GetGroup, [new byte[15]] },
            { "GetGroup with a 17-byte id", (int)ChatOp.GetGroup, [new byte[17]] },
            { "GetGroup without arguments", (int)ChatOp.GetGroup, [] },
            { "CreateGroup with an integer name", (int)ChatOp.CreateGroup, [5, null, null] },
            { "CreateGroup with a nil name", (int)ChatOp.CreateGroup, [null, null, null] },
            { "CreateGroup with an integer description", (int)ChatOp.CreateGroup, ["name", 5, null] },
            { "CreateGroup with a string privacy", (int)ChatOp.CreateGroup, ["name", null, "yes"] },
            { "ListGroups with a string limit", (int)ChatOp.ListGroups, [null, "ten"] },
            { "ListGroups with a negative limit", (int)ChatOp.ListGroups, [null, -1] },
            { "ListGroups with a string cursor", (int)ChatOp.ListGroups, [g.ToString(), null] },
            { "JoinGroup with an integer", (int)ChatOp.JoinGroup, [123] },
            { "LeaveGroup with nil", (int)ChatOp.LeaveGroup, [null] },
            { "AddMember without a user", (int)ChatOp.AddMember, [g] },
            { "RemoveMember with a string user", (int)ChatOp.RemoveMember, [g, "someone"] },
            { "ListMembers with a string cursor", (int)ChatOp.ListMembers, [g, "x", null] },
            { "ListMembers with a float limit", (int)ChatOp.ListMembers, [g, null, 1.5] },
            { "Open with a string limit", (int)ChatOp.Open, [g, "all"] },
            { "UpdateGroup with an integer name", (int)ChatOp.UpdateGroup, [g, 5, null, null] },
            { "SetRole with an integer role", (int)ChatOp.SetRole, [g, g, 7] },
            { "SetRole with a nil role", (int)ChatOp.SetRole, [g, g, null] },
            { "Reauth with an integer token", (int)ChatOp.Reauth, [5] },
            { "GetUser with a name lacking the at sign", (int)ChatOp.GetUser, ["someone"] },
            { "GetUser with a boolean", (int)ChatOp.GetUser, [true] },
            { "GetUser with a 4-byte id", (int)ChatOp.GetUser, [new byte[4]] },
            { "History with a negative seq", (int)ChatOp.History, [g, -5, null] },
            { "Sync with an array", (int)ChatOp.Sync, [new object?[] { g, 1 }] },
            { "op as a string", -2, [] },
        };
    }

    [Theory]
    [MemberData(nameof(WrongArguments))]
    public async Task Wrong_argument_types_get_invalid_argument_and_the_connection_stays_open(string why, int op, object?[] args)
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;

        RawReply reply;
        if (op == -2)
        {
            var rid = socket.NextRid();
            reply = await socket.RequestRawAsync(Pack((ref MessagePackWriter w) => { w.WriteArrayHeader(2); w.Write("33"); w.Write(rid); }), rid);
        }
        else
        {
            reply = await socket.RequestRawAsync(op, args);
        }

        Assert.True(reply.Error?.Code == ChatErrorCodes.InvalidArgument, $"{why}: {reply.Error?.Code ?? "success"}");
        Assert.Equal(400, reply.Error!.Status);
        await AssertStillOpenAsync(socket, user.Id);
    }

    [Fact]
    public async Task Invalid_utf8_in_a_string_argument_is_invalid_argument()
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;
        var badName = new RawMessagePack(new byte[] { 0xA2, 0xC3, 0x28 });
        var badAtName = new RawMessagePack(new byte[] { 0xA3, (byte)'@', 0xFF, 0xFE });
        var surrogate = new RawMessagePack(new byte[] { 0xA3, 0xED, 0xA0, 0x80 });
        var group = await socket.CreateGroupAsync("utf8");

        RawReply[] replies =
        [
            await socket.RequestRawAsync((int)ChatOp.CreateGroup, [badName, null, null]),
            await socket.RequestRawAsync((int)ChatOp.CreateGroup, ["ok", surrogate, null]),
            await socket.RequestRawAsync((int)ChatOp.GetUser, [badAtName]),
            await socket.RequestRawAsync((int)ChatOp.UpdateGroup, [group.GroupId, badName, null, null]),
            await socket.RequestRawAsync((int)ChatOp.Send, [group.GroupId, "c-1", badName]),
        ];

        Assert.All(replies, r => Assert.Equal(ChatErrorCodes.InvalidArgument, r.Error?.Code));
        await AssertStillOpenAsync(socket, user.Id);
        Assert.Equal(1, (await socket.GetGroupAsync(group.GroupId)).LastSeq);
        Assert.Single((await socket.ListGroupsAsync()).Items);
    }

    [Fact]
    public async Task A_nul_character_in_a_string_argument_is_invalid_argument()
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;

        await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => socket.CreateGroupAsync("a\0b"));
        await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => socket.CreateGroupAsync("ok", "x\0"));
        await AssertStillOpenAsync(socket, user.Id);
    }

    [Fact]
    public async Task Extra_trailing_arguments_are_ignored()
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;

        var reply = await socket.RequestRawAsync((int)ChatOp.GetUser, [user.Id, "extra", 42]);

        var reader = reply.EnsureSuccess().CreateResultReader();
        Assert.Equal(user.User, ChatCodec.ReadUser(ref reader));
    }

    [Fact]
    public async Task A_request_with_rid_0_gets_no_reply()
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;

        await socket.SendRawAsync(ChatCodec.BuildRequest((int)ChatOp.CreateGroup, 0, ["silent", null, null]));
        await socket.SendRawAsync(ChatCodec.BuildRequest(99, 0, []));
        await socket.SendRawAsync(ChatCodec.BuildRequest((int)ChatOp.GetGroup, 0, ["bad"]));
        await AssertStillOpenAsync(socket, user.Id);

        // rid 0 gives no completion signal: wait for the group to appear.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await socket.ListGroupsAsync()).Items.Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal("silent", Assert.Single((await socket.ListGroupsAsync()).Items).Name);
        while (socket.Pushes.TryRead(out var push)) Assert.IsNotType<UnexpectedFramePush>(push);
    }

    [Fact]
    public async Task Requests_sharing_a_rid_are_each_answered()
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;
        var rid = socket.NextRid();
        var frame = ChatCodec.BuildRequest((int)ChatOp.GetUser, rid, [user.Id]);

        var replies = await Task.WhenAll(socket.RequestRawAsync(frame, rid), socket.RequestRawAsync(frame, rid), socket.RequestRawAsync(frame, rid));

        Assert.All(replies, r => Assert.False(r.IsError));
    }

    [Fact]
    public async Task Integers_of_every_width_are_accepted()
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;
        await socket.CreateGroupAsync("widths");
        var rid = socket.NextRid();
        var frame = Pack((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(4);
            w.WriteInt64(34);
            w.WriteUInt32(rid);
            w.WriteNil();
            w.WriteInt16(5);
        });

        var reply = await socket.RequestRawAsync(frame, rid);

        var reader = reply.EnsureSuccess().CreateResultReader();
        Assert.Single(ChatCodec.ReadArray(ref reader, ChatCodec.ReadGroup));
    }

    [Fact]
    public async Task Before_hello_any_other_request_closes_with_4001()
    {
        var user = await _server.NewUserAsync();
        await using var socket = await _server.ConnectAsync();

        await socket.SendRawAsync(ChatCodec.BuildRequest((int)ChatOp.GetUser, 1, [user.Id]));

        Assert.Equal(ChatCloseCodes.NotAuthenticated, await Expect.ClosedAsync(socket));
    }

    [Theory]
    [InlineData(99)]
    [InlineData((int)ChatOp.Reauth)]
    public async Task Before_hello_an_unknown_op_or_reauth_closes_with_4001(int op)
    {
        var user = await _server.NewUserAsync();
        await using var socket = await _server.ConnectAsync();

        await socket.SendRawAsync(ChatCodec.BuildRequest(op, 1, [user.Token]));

        Assert.Equal(ChatCloseCodes.NotAuthenticated, await Expect.ClosedAsync(socket));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")]
    public async Task Hello_with_a_bad_token_is_unauthenticated_then_4001(string token)
    {
        await using var socket = await _server.ConnectAsync();

        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => socket.HelloAsync(token));

        Assert.Equal(ChatCloseCodes.NotAuthenticated, await Expect.ClosedAsync(socket));
    }

    [Fact]
    public async Task Hello_with_a_token_of_another_server_key_is_unauthenticated_then_4001()
    {
        await using var other = await TestServer.StartAsync();
        var stranger = await other.NewUserAsync();
        await using var socket = await _server.ConnectAsync();

        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => socket.HelloAsync(stranger.Token));

        Assert.Equal(ChatCloseCodes.NotAuthenticated, await Expect.ClosedAsync(socket));
    }

    public static TheoryData<string> MalformedHellos() => new() { "rid 0", "token integer", "token nil", "no token", "resume string", "resume map of strings", "token invalid utf8" };

    [Theory]
    [MemberData(nameof(MalformedHellos))]
    public async Task A_malformed_hello_closes_with_4001(string kind)
    {
        var user = await _server.NewUserAsync();
        await using var socket = await _server.ConnectAsync();
        var rid = kind == "rid 0" ? 0u : 1u;
        object?[] args = kind switch
        {
            "rid 0" => [user.Token, null],
            "token integer" => [5, null],
            "token nil" => [null, null],
            "no token" => [],
            "resume string" => [user.Token, "all"],
            "resume map of strings" => [user.Token, new RawMessagePack(new byte[] { 0x81, 0xA1, (byte)'g', 0xA1, (byte)'1' })],
            _ => [new RawMessagePack(new byte[] { 0xA2, 0xC3, 0x28 }), null],
        };

        var reply = socket.RequestRawAsync(ChatCodec.BuildRequest((int)ChatOp.Hello, rid, args), rid);

        Assert.Equal(ChatCloseCodes.NotAuthenticated, await Expect.ClosedAsync(socket));
        if (rid != 0) Assert.Equal(ChatErrorCodes.InvalidArgument, (await reply).Error?.Code);
    }

    [Fact]
    public async Task A_second_hello_is_invalid_argument_and_the_session_stays()
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;
        var other = await _server.NewUserAsync();

        await Expect.ErrorAsync(ChatErrorCodes.InvalidArgument, () => socket.HelloAsync(other.Token));

        Assert.Equal(user.Id, (await socket.CreateGroupAsync("still me")).OwnerId);
    }

    [Fact]
    public async Task Hello_returns_the_session_and_then_synced()
    {
        var user = await _server.NewUserAsync();
        await using var socket = await _server.ConnectAsync();
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var hello = await socket.HelloAsync(user.Token);

        Assert.Equal(user.Id, hello.UserId);
        Assert.Equal(7, hello.SessionId.Version);
        Assert.Equal(25_000, hello.HeartbeatMs);
        Assert.Equal(64 * 1024, hello.MaxFrameBytes);
        Assert.InRange(hello.ServerTimeMs, before - 1000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1000);
        await Pushes.NextAsync<SyncedPush>(socket);
    }

    [Fact]
    public async Task Reauth_with_another_users_token_is_forbidden_and_the_session_keeps_its_identity()
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;
        var other = await _server.NewUserAsync();
        var mine = await socket.CreateGroupAsync("mine", isPrivate: true);

        await Expect.ErrorAsync(ChatErrorCodes.Forbidden, () => socket.ReauthAsync(other.Token));
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => socket.ReauthAsync("garbage"));
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => socket.ReauthAsync(""));

        Assert.Equal(ChatRoles.Owner, (await socket.GetGroupAsync(mine.GroupId)).MyRole);
        Assert.Equal([mine.GroupId], (await socket.ListGroupsAsync()).Items.Select(g => g.GroupId));
        Assert.Equal(user.Id, (await socket.CreateGroupAsync("still mine")).OwnerId);
    }

    [Fact]
    public async Task Reauth_with_a_revoked_token_is_unauthenticated_and_the_session_stays()
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;
        var second = _server.NewHttp();
        var secondLogin = await second.LoginAsync(user.User.Username, user.Password);
        await second.LogoutAsync();

        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => socket.ReauthAsync(secondLogin.AccessToken));

        await AssertStillOpenAsync(socket, user.Id);
    }

    [Fact]
    public async Task After_reauth_the_socket_belongs_to_the_login_of_the_new_token()
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;
        var second = _server.NewHttp();
        var secondLogin = await second.LoginAsync(user.User.Username, user.Password);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var expiresAt = await socket.ReauthAsync(secondLogin.AccessToken);

        Assert.InRange(expiresAt, now + ((secondLogin.ExpiresIn - 5) * 1000), now + ((secondLogin.ExpiresIn + 5) * 1000));
        await user.Http.LogoutAsync();
        await AssertStillOpenAsync(socket, user.Id);
        await second.LogoutAsync();
        await Expect.GoodbyeThenCloseAsync(socket, "token_revoked", ChatCloseCodes.TokenExpiredOrRevoked);
    }

    [Fact]
    public async Task A_message_of_exactly_64_KiB_is_read_and_one_byte_more_closes_with_1009()
    {
        var (user, socket) = await SessionAsync();
        await using var _ = socket;

        static byte[] TypingWithBin(uint rid, int total)
        {
            var frame = Pack((ref MessagePackWriter w) =>
            {
                w.WriteArrayHeader(3);
                w.Write((int)ChatOp.Typing);
                w.Write(rid);
                w.Write(new byte[total - 6]); // array, op, rid: 3 bytes; bin 16 header: 3 bytes
            });
            Assert.Equal(total, frame.Length);
            return frame;
        }

        var rid = socket.NextRid();
        var fits = await socket.RequestRawAsync(TypingWithBin(rid, 64 * 1024), rid);
        Assert.Equal(ChatErrorCodes.InvalidArgument, fits.Error?.Code);
        await AssertStillOpenAsync(socket, user.Id);

        await socket.SendRawAsync(TypingWithBin(socket.NextRid(), (64 * 1024) + 1));

        Assert.Equal(ChatCloseCodes.MessageTooBig, await Expect.ClosedAsync(socket));
    }

    [Fact]
    public async Task The_subprotocol_is_echoed_when_offered_and_clients_offering_none_are_served()
    {
        var user = await _server.NewUserAsync();
        await using var offered = await _server.ConnectAsync();
        await using var none = await _server.ConnectAsync(new ChatSocketOptions { SubProtocol = null });

        Assert.Equal("chat.v1", offered.SubProtocol);
        Assert.Null(none.SubProtocol);
        Assert.Equal(user.Id, (await none.HelloAsync(user.Token)).UserId);
        Assert.Equal(user.Id, (await offered.HelloAsync(user.Token)).UserId);
    }

    [Fact]
    public async Task A_websocket_upgrade_on_another_path_is_refused()
    {
        var wrong = new UriBuilder(_server.GatewayUri) { Path = "/v2/ws" }.Uri;

        var refused = await Assert.ThrowsAsync<ChatHandshakeException>(() => ChatSocket.ConnectAsync(wrong));

        Assert.NotNull(refused.HttpStatus);
    }
}
