using ChatServer.Client;
using ChatServer.Tests.Support;
using static ChatServer.Tests.Functional.MessagingKit;

namespace ChatServer.Tests.Functional;

public sealed class ReadPositionTests : IClassFixture<MessagingServerFixture>
{
    private readonly TestServer _server;

    public ReadPositionTests(MessagingServerFixture fixture) => _server = fixture.Server;

    [Fact]
    public async Task Unread_counts_messages_after_the_read_position_and_mark_read_moves_it_over_both_transports()
    {
        var room = await GroupAsync(_server, 1);
        var reader = room.Members[0];
        var joinSeq = room.Group.LastSeq;
        var seqs = new List<long>();
        for (var i = 0; i < 4; i++) seqs.Add((await room.Owner.Http.SendAsync(room.Id, "m" + i, "text")).Result.Seq);
        await room.Owner.Http.UpdateGroupAsync(room.Id, description: "not a message");
        await using var socket = await reader.ConnectAsync();

        var start = await reader.Http.GetGroupAsync(room.Id);
        await socket.MarkReadAsync(room.Id, seqs[1]);
        var afterWs = await socket.GetGroupAsync(room.Id);
        await reader.Http.MarkReadAsync(room.Id, seqs[3] + 1);
        var afterHttp = await reader.Http.GetGroupAsync(room.Id);

        Assert.Equal((joinSeq, 4L), (start.MyReadSeq, start.Unread));
        Assert.Equal((seqs[1], 2L), (afterWs.MyReadSeq, afterWs.Unread));
        Assert.Equal((seqs[3] + 1, 0L), (afterHttp.MyReadSeq, afterHttp.Unread));
        var member = (await room.Owner.Http.ListMembersAsync(room.Id)).Items.Single(m => m.UserId == reader.Id);
        Assert.Equal(seqs[3] + 1, member.ReadSeq);
    }

    [Fact]
    public async Task Mark_read_never_moves_backwards_and_a_lower_seq_succeeds_and_pushes_nothing()
    {
        var room = await GroupAsync(_server, 1);
        var reader = room.Members[0];
        for (var i = 0; i < 3; i++) await room.Owner.Http.SendAsync(room.Id, "m" + i, "text");
        var last = (await reader.Http.GetGroupAsync(room.Id)).LastSeq;
        await using var socket = await reader.ConnectAsync();
        await using var otherSession = await reader.ConnectAsync();
        await using var ownerSocket = await room.Owner.ConnectAsync();
        await socket.MarkReadAsync(room.Id, last);
        await PushesUntilAsync(otherSession, p => p is ReadUpToPush r && r.Seq == last);
        await PushesUntilAsync(ownerSocket, p => p is ReadUpToPush r && r.Seq == last);

        await socket.MarkReadAsync(room.Id, last - 2);
        await reader.Http.MarkReadAsync(room.Id, 1);
        await socket.MarkReadAsync(room.Id, last);

        var group = await reader.Http.GetGroupAsync(room.Id);
        Assert.Equal((last, 0L), (group.MyReadSeq, group.Unread));
        Assert.Empty((await PushesBeforeMarkerAsync(otherSession, room.Owner, room.Id)).OfType<ReadUpToPush>());
        Assert.Empty((await PushesBeforeMarkerAsync(ownerSocket, room.Owner, room.Id)).OfType<ReadUpToPush>());
    }

    [Fact]
    public async Task Mark_read_above_last_seq_is_invalid_argument_and_by_a_non_member_forbidden()
    {
        var room = await GroupAsync(_server, 0);
        var stranger = await _server.NewUserAsync("stranger");
        await using var socket = await room.Owner.ConnectAsync();
        await using var strangerSocket = await stranger.ConnectAsync();
        var last = room.Group.LastSeq;

        await ApiErrorAsync(() => socket.MarkReadAsync(room.Id, last + 1), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => room.Owner.Http.MarkReadAsync(room.Id, last + 1), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => strangerSocket.MarkReadAsync(room.Id, 1), ChatErrorCodes.Forbidden);
        await ApiErrorAsync(() => stranger.Http.MarkReadAsync(room.Id, 1), ChatErrorCodes.Forbidden);
        Assert.Equal(last, (await room.Owner.Http.GetGroupAsync(room.Id)).MyReadSeq);
    }

    [Fact]
    public async Task A_senders_own_send_moves_its_read_position_and_pushes_no_read_up_to()
    {
        var room = await GroupAsync(_server, 1);
        var sender = room.Members[0];
        await room.Owner.Http.SendAsync(room.Id, "o1", "from the owner");
        await using var senderSocket = await sender.ConnectAsync();
        await using var senderOther = await sender.ConnectAsync();
        await using var ownerSocket = await room.Owner.ConnectAsync();

        var ws = await senderSocket.SendAsync(room.Id, "s1", "mine");
        var afterWs = await sender.Http.GetGroupAsync(room.Id);
        await room.Owner.Http.SendAsync(room.Id, "o2", "from the owner");
        var (http, _) = await sender.Http.SendAsync(room.Id, "s2", "mine too");
        var afterHttp = await sender.Http.GetGroupAsync(room.Id);

        Assert.Equal((ws.Seq, 0L), (afterWs.MyReadSeq, afterWs.Unread));
        Assert.Equal((http.Seq, 0L), (afterHttp.MyReadSeq, afterHttp.Unread));
        foreach (var s in new[] { senderSocket, senderOther, ownerSocket })
        {
            Assert.Empty((await PushesBeforeMarkerAsync(s, room.Owner, room.Id)).OfType<ReadUpToPush>());
        }
    }

    [Fact]
    public async Task Read_up_to_goes_to_the_readers_other_sessions_and_other_members_but_not_the_marking_session()
    {
        var room = await GroupAsync(_server, 2);
        var reader = room.Members[0];
        var last = (await room.Owner.Http.SendAsync(room.Id, "m", "read me")).Result.Seq;
        await using var marking = await reader.ConnectAsync();
        await using var readerOther = await reader.ConnectAsync();
        await using var ownerSocket = await room.Owner.ConnectAsync();
        await using var thirdSocket = await room.Members[1].ConnectAsync();

        await marking.MarkReadAsync(room.Id, last);

        foreach (var s in new[] { readerOther, ownerSocket, thirdSocket })
        {
            var push = await Pushes.NextAsync<ReadUpToPush>(s);
            Assert.Equal(new ReadUpToPush(room.Id, reader.Id, last), push);
        }

        Assert.Empty((await PushesBeforeMarkerAsync(marking, room.Owner, room.Id)).OfType<ReadUpToPush>());
    }

    [Fact]
    public async Task Mark_read_over_http_pushes_read_up_to_to_every_session_of_the_reader()
    {
        var room = await GroupAsync(_server, 1);
        var reader = room.Members[0];
        var last = (await room.Owner.Http.SendAsync(room.Id, "m", "read me")).Result.Seq;
        await using var s1 = await reader.ConnectAsync();
        await using var s2 = await reader.ConnectAsync();

        await reader.Http.MarkReadAsync(room.Id, last);

        Assert.Equal(last, (await Pushes.NextAsync<ReadUpToPush>(s1)).Seq);
        Assert.Equal(last, (await Pushes.NextAsync<ReadUpToPush>(s2)).Seq);
    }

    [Fact]
    public async Task Above_the_fanout_limit_read_up_to_goes_only_to_the_readers_other_sessions()
    {
        await using var server = await TestServer.StartAsync(new() { ["Chat:FanoutLimit"] = "2" });
        var room = await GroupAsync(server, 2);
        var reader = room.Members[0];
        var last = (await room.Owner.Http.SendAsync(room.Id, "m", "read me")).Result.Seq;
        await using var marking = await reader.ConnectAsync();
        await using var readerOther = await reader.ConnectAsync();
        await using var ownerSocket = await room.Owner.ConnectAsync();

        await marking.MarkReadAsync(room.Id, last);

        Assert.Equal(new ReadUpToPush(room.Id, reader.Id, last), await Pushes.NextAsync<ReadUpToPush>(readerOther));
        Assert.Empty((await PushesBeforeMarkerAsync(ownerSocket, room.Owner, room.Id)).OfType<ReadUpToPush>());
        Assert.Empty((await PushesBeforeMarkerAsync(marking, room.Owner, room.Id)).OfType<ReadUpToPush>());
    }
}
