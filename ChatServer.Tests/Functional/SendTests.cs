using System.Text;
using ChatServer.Client;
using ChatServer.Tests.Support;
using static ChatServer.Tests.Functional.MessagingKit;

namespace ChatServer.Tests.Functional;

public sealed class SendTests : IClassFixture<MessagingServerFixture>
{
    private readonly TestServer _server;

    public SendTests(MessagingServerFixture fixture) => _server = fixture.Server;

    [Fact]
    public async Task Send_over_websocket_replies_with_the_next_seq_a_version7_message_id_and_the_append_time()
    {
        var room = await GroupAsync(_server, 1);
        await using var socket = await room.Members[0].ConnectAsync();
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var sent = await socket.SendAsync(room.Id, "c-1", "hello");

        Assert.Equal(room.Group.LastSeq + 1, sent.Seq);
        Assert.Equal(7, sent.MessageId.Version);
        Assert.InRange(sent.SentAtMs, before - 1000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1000);
        var stored = (await socket.HistoryAsync(room.Id)).Events[^1];
        Assert.Equal((sent.Seq, EventKind.Message, room.Members[0].Id, sent.SentAtMs, "c-1", "hello"), (stored.Seq, stored.Kind, stored.ActorId, stored.AtMs, stored.ClientMsgId, stored.Body));
        Assert.Equal(sent.Seq, (await room.Owner.Http.GetGroupAsync(room.Id)).LastSeq);
    }

    [Fact]
    public async Task Send_over_http_answers_201_with_the_next_seq_message_id_and_time()
    {
        var room = await GroupAsync(_server, 1);

        var (first, created) = await room.Members[0].Http.SendAsync(room.Id, "h-1", "hello");
        var (second, created2) = await room.Owner.Http.SendAsync(room.Id, "h-1", "hello again");

        Assert.True(created);
        Assert.True(created2);
        Assert.Equal(room.Group.LastSeq + 1, first.Seq);
        Assert.Equal(first.Seq + 1, second.Seq);
        Assert.NotEqual(first.MessageId, second.MessageId);
        Assert.True(second.SentAtMs >= first.SentAtMs);
    }

    [Fact]
    public async Task Send_by_a_non_member_of_a_public_group_is_forbidden_over_both_transports()
    {
        var room = await GroupAsync(_server, 0);
        var stranger = await _server.NewUserAsync("stranger");
        await using var socket = await stranger.ConnectAsync();

        var ws = await ApiErrorAsync(() => socket.SendAsync(room.Id, "x", "hi"), ChatErrorCodes.Forbidden);
        var http = await ApiErrorAsync(() => stranger.Http.SendAsync(room.Id, "x", "hi"), ChatErrorCodes.Forbidden);

        Assert.Equal(403, ws.Status);
        Assert.Equal(403, http.Status);
        Assert.Equal(room.Group.LastSeq, (await room.Owner.Http.GetGroupAsync(room.Id)).LastSeq);
    }

    [Fact]
    public async Task Send_to_a_private_group_by_a_non_member_or_to_a_missing_group_is_not_found()
    {
        var room = await GroupAsync(_server, 0, isPrivate: true);
        var stranger = await _server.NewUserAsync("stranger");
        await using var socket = await stranger.ConnectAsync();

        await ApiErrorAsync(() => socket.SendAsync(room.Id, "x", "hi"), ChatErrorCodes.NotFound);
        await ApiErrorAsync(() => stranger.Http.SendAsync(room.Id, "x", "hi"), ChatErrorCodes.NotFound);
        await ApiErrorAsync(() => socket.SendAsync(Guid.CreateVersion7(), "x", "hi"), ChatErrorCodes.NotFound);
        await ApiErrorAsync(() => stranger.Http.SendAsync(Guid.CreateVersion7(), "x", "hi"), ChatErrorCodes.NotFound);
    }

    [Fact]
    public async Task Send_retried_by_a_former_member_is_forbidden_over_both_transports()
    {
        var room = await GroupAsync(_server, 1);
        var leaver = room.Members[0];
        await using var socket = await leaver.ConnectAsync();
        await socket.SendAsync(room.Id, "before-leaving", "bye");
        await leaver.Http.LeaveGroupAsync(room.Id);

        await ApiErrorAsync(() => socket.SendAsync(room.Id, "before-leaving", "bye"), ChatErrorCodes.Forbidden);
        await ApiErrorAsync(() => leaver.Http.SendAsync(room.Id, "before-leaving", "bye"), ChatErrorCodes.Forbidden);
        await ApiErrorAsync(() => socket.SendAsync(room.Id, "new-one", "hi"), ChatErrorCodes.Forbidden);
    }

    [Fact]
    public async Task Client_msg_id_of_one_to_64_bytes_is_accepted_and_empty_or_65_bytes_is_invalid_argument()
    {
        var room = await GroupAsync(_server, 0);
        var http = room.Owner.Http;
        await using var socket = await room.Owner.ConnectAsync();

        await socket.SendAsync(room.Id, "a", "one byte");
        await socket.SendAsync(room.Id, new string('w', 64), "64 ascii bytes");
        await http.SendAsync(room.Id, new string('é', 32), "64 bytes of two-byte chars");
        await http.SendAsync(room.Id, new string('h', 64), "64 ascii bytes over http");

        foreach (var bad in new[] { "", new string('w', 65), new string('é', 32) + "x" })
        {
            await ApiErrorAsync(() => socket.SendAsync(room.Id, bad, "body"), ChatErrorCodes.InvalidArgument);
            await ApiErrorAsync(() => http.SendAsync(room.Id, bad, "body"), ChatErrorCodes.InvalidArgument);
        }
    }

    [Fact]
    public async Task Body_of_exactly_16384_utf8_bytes_is_accepted_and_one_byte_more_is_too_large()
    {
        var room = await GroupAsync(_server, 0);
        await using var socket = await room.Owner.ConnectAsync();
        var exact = string.Concat(Enumerable.Repeat("😀", 4096));
        Assert.Equal(16384, Encoding.UTF8.GetByteCount(exact));

        var ws = await socket.SendAsync(room.Id, "exact-ws", exact);
        var (http, _) = await room.Owner.Http.SendAsync(room.Id, "exact-http", exact);
        var tooLargeWs = await ApiErrorAsync(() => socket.SendAsync(room.Id, "big-ws", exact + "a"), ChatErrorCodes.TooLarge);
        var tooLargeHttp = await ApiErrorAsync(() => room.Owner.Http.SendAsync(room.Id, "big-http", "a" + exact), ChatErrorCodes.TooLarge);

        Assert.Equal(413, tooLargeWs.Status);
        Assert.Equal(413, tooLargeHttp.Status);
        var history = await socket.HistoryAsync(room.Id);
        Assert.Equal(exact, history.Events.Single(e => e.Seq == ws.Seq).Body);
        Assert.Equal(exact, history.Events.Single(e => e.Seq == http.Seq).Body);
        Assert.Equal(http.Seq, history.Events[^1].Seq);
    }

    [Fact]
    public async Task Empty_body_and_strings_holding_nul_are_invalid_argument_over_both_transports()
    {
        var room = await GroupAsync(_server, 0);
        await using var socket = await room.Owner.ConnectAsync();
        var http = room.Owner.Http;

        await ApiErrorAsync(() => socket.SendAsync(room.Id, "e", ""), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => http.SendAsync(room.Id, "e", ""), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => socket.SendAsync(room.Id, "n", "a\0b"), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => http.SendAsync(room.Id, "n", "a\0b"), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => socket.SendAsync(room.Id, "n\0", "ok"), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => http.SendAsync(room.Id, "n\0", "ok"), ChatErrorCodes.InvalidArgument);
        Assert.Equal(room.Group.LastSeq, (await http.GetGroupAsync(room.Id)).LastSeq);
    }

    [Fact]
    public async Task Send_retried_with_the_same_client_msg_id_returns_the_first_reply_creates_nothing_and_pushes_nothing()
    {
        var room = await GroupAsync(_server, 1);
        var sender = room.Members[0];
        await using var senderSocket = await sender.ConnectAsync();
        await using var observer = await room.Owner.ConnectAsync();

        var first = await senderSocket.SendAsync(room.Id, "dup-ws", "first");
        var wsRetry = await senderSocket.SendAsync(room.Id, "dup-ws", "another body");
        var (httpRetry, created) = await sender.Http.SendAsync(room.Id, "dup-ws", "third body");
        var raw = await sender.Http.SendRawAsync(HttpMethod.Post, $"/v1/groups/{room.Id}/messages", "{\"clientMsgId\":\"dup-ws\",\"body\":\"raw\"}");

        Assert.Equal(first, wsRetry);
        Assert.Equal(first, httpRetry);
        Assert.False(created);
        Assert.Equal(200, raw.StatusCode);
        Assert.Equal(first.Seq, (await sender.Http.GetGroupAsync(room.Id)).LastSeq);
        var before = await PushesBeforeMarkerAsync(observer, room.Owner, room.Id);
        Assert.Equal([first.Seq], EventsOf(before, room.Id).Select(e => e.Seq));
        Assert.Equal("first", EventsOf(before, room.Id)[0].Body);
        Assert.Equal("first", (await sender.Http.HistoryAsync(room.Id)).Events.Single(e => e.Seq == first.Seq).Body);
    }

    [Fact]
    public async Task Send_retried_with_an_empty_oversized_or_nul_body_still_returns_the_first_reply()
    {
        var room = await GroupAsync(_server, 0);
        await using var socket = await room.Owner.ConnectAsync();
        var first = await socket.SendAsync(room.Id, "retry-any-body", "the original");

        foreach (var body in new[] { "", new string('x', 16385), "nul\0" })
        {
            Assert.Equal(first, await socket.SendAsync(room.Id, "retry-any-body", body));
            var (httpRetry, created) = await room.Owner.Http.SendAsync(room.Id, "retry-any-body", body);
            Assert.Equal(first, httpRetry);
            Assert.False(created);
        }

        await ApiErrorAsync(() => socket.SendAsync(room.Id, "new-empty", ""), ChatErrorCodes.InvalidArgument);
        Assert.Equal(first.Seq, (await room.Owner.Http.GetGroupAsync(room.Id)).LastSeq);
    }

    [Fact]
    public async Task Send_first_over_http_is_201_and_retries_over_http_and_websocket_return_the_same_reply()
    {
        var room = await GroupAsync(_server, 0);
        var http = room.Owner.Http;
        await using var socket = await room.Owner.ConnectAsync();

        var first = await http.SendRawAsync(HttpMethod.Post, $"/v1/groups/{room.Id}/messages", "{\"clientMsgId\":\"dup-http\",\"body\":\"one\"}");
        var retry = await http.SendRawAsync(HttpMethod.Post, $"/v1/groups/{room.Id}/messages", "{\"clientMsgId\":\"dup-http\",\"body\":\"two\"}");
        var (typed, created) = await http.SendAsync(room.Id, "dup-http", "three");
        var ws = await socket.SendAsync(room.Id, "dup-http", "four");

        Assert.Equal(201, first.StatusCode);
        Assert.Equal(200, retry.StatusCode);
        Assert.Equal(first.Body, retry.Body);
        Assert.False(created);
        Assert.Equal(typed, ws);
        Assert.Equal(room.Group.LastSeq + 1, ws.Seq);
        Assert.Equal(ws.Seq, (await http.GetGroupAsync(room.Id)).LastSeq);
    }

    [Fact]
    public async Task Send_retried_after_the_message_was_deleted_returns_the_first_reply_and_creates_nothing()
    {
        var room = await GroupAsync(_server, 0);
        await using var socket = await room.Owner.ConnectAsync();
        var first = await socket.SendAsync(room.Id, "gone", "soon deleted");
        var deleteSeq = await socket.DeleteAsync(room.Id, first.Seq);

        var retry = await socket.SendAsync(room.Id, "gone", "resurrect?");
        var (httpRetry, created) = await room.Owner.Http.SendAsync(room.Id, "gone", "resurrect?");

        Assert.Equal(first, retry);
        Assert.Equal(first, httpRetry);
        Assert.False(created);
        Assert.Equal(deleteSeq, (await room.Owner.Http.GetGroupAsync(room.Id)).LastSeq);
    }

    [Fact]
    public async Task The_same_client_msg_id_from_another_sender_or_in_another_group_is_a_new_message()
    {
        var room = await GroupAsync(_server, 1);
        var other = await room.Owner.Http.CreateGroupAsync("other");

        var a = await room.Owner.Http.SendAsync(room.Id, "shared-id", "from owner");
        var b = await room.Members[0].Http.SendAsync(room.Id, "shared-id", "from member");
        var c = await room.Owner.Http.SendAsync(other.GroupId, "shared-id", "other group");

        Assert.True(a.Created && b.Created && c.Created);
        Assert.Equal(a.Result.Seq + 1, b.Result.Seq);
        Assert.Equal(2, c.Result.Seq);
    }

    [Fact]
    public async Task Concurrent_retries_of_one_client_msg_id_over_both_transports_create_exactly_one_message()
    {
        var room = await GroupAsync(_server, 0);
        await using var s1 = await room.Owner.ConnectAsync();
        await using var s2 = await room.Owner.ConnectAsync();

        var tasks = new List<Task<SendResult>>();
        for (var i = 0; i < 8; i++)
        {
            tasks.Add(s1.SendAsync(room.Id, "racy", "body " + i));
            tasks.Add(s2.SendAsync(room.Id, "racy", "body " + i));
            var n = i;
            tasks.Add(Task.Run(async () => (await room.Owner.Http.SendAsync(room.Id, "racy", "http " + n)).Result));
        }

        var results = await Task.WhenAll(tasks);

        Assert.Single(results.Distinct());
        Assert.Equal(room.Group.LastSeq + 1, results[0].Seq);
        Assert.Equal(results[0].Seq, (await room.Owner.Http.GetGroupAsync(room.Id)).LastSeq);
    }

    [Fact]
    public async Task Send_retried_after_a_server_restart_returns_the_first_reply()
    {
        var dir = TestServer.NewDataDirectory();
        try
        {
            Guid groupId;
            SendResult first;
            TestUser user;
            await using (var server = await TestServer.StartAsync(dataDirectory: dir))
            {
                var room = await GroupAsync(server, 0);
                user = room.Owner;
                groupId = room.Id;
                await using var socket = await user.ConnectAsync();
                first = await socket.SendAsync(groupId, "survives", "before restart");
            }

            await using (var server = await TestServer.StartAsync(dataDirectory: dir))
            {
                var http = server.NewHttp();
                await http.LoginAsync(user.User.Username, user.Password);
                var (retry, created) = await http.SendAsync(groupId, "survives", "after restart");
                await using var socket = await server.ConnectAsync();
                await socket.HelloAsync(http.AccessToken!);
                var wsRetry = await socket.SendAsync(groupId, "survives", "after restart");

                Assert.False(created);
                Assert.Equal(first, retry);
                Assert.Equal(first, wsRetry);
                Assert.Equal(first.Seq, (await http.GetGroupAsync(groupId)).LastSeq);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Sends_beyond_the_burst_are_rate_limited_with_retry_after_over_both_transports()
    {
        await using var server = await TestServer.StartAsync(new() { ["Chat:SendRatePerSecond"] = "1", ["Chat:SendBurst"] = "3" });
        var room = await GroupAsync(server, 0);
        await using var socket = await room.Owner.ConnectAsync();
        var accepted = new List<SendResult>();
        for (var i = 0; i < 3; i++) accepted.Add(await socket.SendAsync(room.Id, "burst-" + i, "hi"));

        var ws = await ApiErrorAsync(() => socket.SendAsync(room.Id, "over", "hi"), ChatErrorCodes.RateLimited);
        var raw = await room.Owner.Http.SendRawAsync(HttpMethod.Post, $"/v1/groups/{room.Id}/messages", "{\"clientMsgId\":\"over-http\",\"body\":\"hi\"}");
        var retryOfAccepted = await socket.SendAsync(room.Id, "burst-0", "hi");

        Assert.Equal(429, ws.Status);
        Assert.InRange(ws.RetryAfterMs ?? 0, 1, 1000);
        Assert.Equal(429, raw.StatusCode);
        var httpError = raw.ReadError();
        Assert.Equal(ChatErrorCodes.RateLimited, httpError.Code);
        Assert.InRange(httpError.RetryAfterMs ?? 0, 1, 1000);
        Assert.Equal("1", raw.Headers.GetValues("Retry-After").Single());
        Assert.Equal(accepted[0], retryOfAccepted);
        Assert.Equal(accepted[^1].Seq, (await room.Owner.Http.GetGroupAsync(room.Id)).LastSeq);
    }
}
