using ChatServer.Client;
using ChatServer.Tests.Support;
using static ChatServer.Tests.Functional.MessagingKit;

namespace ChatServer.Tests.Functional;

/// <summary>A group with 120 events (the owner's join at seq 1 and 119 messages), shared by the read-only tests.</summary>
public sealed class HistoryFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public GroupSetup Room { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync();
        Room = await MessagingKit.GroupAsync(Server, 0);
        await using var socket = await Room.Owner.ConnectAsync();
        var sends = new List<Task<SendResult>>();
        for (var i = 2; i <= 120; i++) sends.Add(socket.SendAsync(Room.Id, "h-" + i, "message " + i));
        await Task.WhenAll(sends);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class HistoryOpenSyncTests : IClassFixture<HistoryFixture>
{
    private readonly TestServer _server;
    private readonly GroupSetup _room;

    public HistoryOpenSyncTests(HistoryFixture fixture)
    {
        _server = fixture.Server;
        _room = fixture.Room;
    }

    private static void AssertSeqs(long from, long to, HistoryResult page)
    {
        Assert.Equal(Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => (long)i), page.Events.Select(e => e.Seq));
    }

    [Fact]
    public async Task History_without_arguments_gives_the_newest_50_ascending_with_has_more_over_both_transports()
    {
        await using var socket = await _room.Owner.ConnectAsync();

        var ws = await socket.HistoryAsync(_room.Id);
        var http = await _room.Owner.Http.HistoryAsync(_room.Id);

        AssertSeqs(71, 120, ws);
        Assert.True(ws.HasMore);
        Assert.Equal(ws.Events, http.Events);
        Assert.True(http.HasMore);
        Assert.Equal("message 120", ws.Events[^1].Body);
    }

    [Fact]
    public async Task History_pages_backwards_with_before_seq_and_has_more_is_false_on_the_oldest_page()
    {
        await using var socket = await _room.Owner.ConnectAsync();

        var newest = await socket.HistoryAsync(_room.Id, null, 100);
        var oldest = await socket.HistoryAsync(_room.Id, newest.Events[0].Seq, 100);
        var httpOldest = await _room.Owner.Http.HistoryAsync(_room.Id, 21, 100);
        var middle = await _room.Owner.Http.HistoryAsync(_room.Id, 60, 10);
        var beyond = await socket.HistoryAsync(_room.Id, 1_000_000, 3);
        var none = await socket.HistoryAsync(_room.Id, 1, 10);

        AssertSeqs(21, 120, newest);
        Assert.True(newest.HasMore);
        AssertSeqs(1, 20, oldest);
        Assert.False(oldest.HasMore);
        Assert.Equal(EventKind.MemberJoined, oldest.Events[0].Kind);
        Assert.Equal(oldest.Events, httpOldest.Events);
        Assert.False(httpOldest.HasMore);
        AssertSeqs(50, 59, middle);
        Assert.True(middle.HasMore);
        AssertSeqs(118, 120, beyond);
        Assert.Empty(none.Events);
        Assert.False(none.HasMore);
    }

    [Fact]
    public async Task History_and_open_limits_of_0_or_101_are_invalid_argument_over_both_transports()
    {
        await using var socket = await _room.Owner.ConnectAsync();
        var http = _room.Owner.Http;

        foreach (var limit in new[] { 0, 101 })
        {
            await ApiErrorAsync(() => socket.HistoryAsync(_room.Id, null, limit), ChatErrorCodes.InvalidArgument);
            await ApiErrorAsync(() => http.HistoryAsync(_room.Id, null, limit), ChatErrorCodes.InvalidArgument);
            await ApiErrorAsync(() => socket.OpenGroupAsync(_room.Id, limit), ChatErrorCodes.InvalidArgument);
            await ApiErrorAsync(() => http.OpenGroupAsync(_room.Id, limit), ChatErrorCodes.InvalidArgument);
        }

        AssertSeqs(21, 120, await socket.HistoryAsync(_room.Id, null, 100));
    }

    [Fact]
    public async Task Open_gives_the_group_and_its_newest_events_ending_at_last_seq_over_both_transports()
    {
        await using var socket = await _room.Owner.ConnectAsync();

        var ws = await socket.OpenGroupAsync(_room.Id);
        var http = await _room.Owner.Http.OpenGroupAsync(_room.Id, 5);

        Assert.Equal(120, ws.Group.LastSeq);
        Assert.Equal(ChatRoles.Owner, ws.Group.MyRole);
        Assert.Equal(50, ws.Events.Count);
        Assert.Equal(120, ws.Events[^1].Seq);
        Assert.True(ws.HasMore);
        Assert.Equal(ws.Group, http.Group);
        Assert.Equal([116L, 117, 118, 119, 120], http.Events.Select(e => e.Seq));
        Assert.True(http.HasMore);
    }

    [Fact]
    public async Task Non_members_may_read_history_and_open_a_public_group_but_a_private_one_is_not_found()
    {
        var stranger = await _server.NewUserAsync("reader");
        await using var socket = await stranger.ConnectAsync();
        var secret = await GroupAsync(_server, 0, isPrivate: true);

        var open = await socket.OpenGroupAsync(_room.Id, 2);
        var history = await stranger.Http.HistoryAsync(_room.Id, 3);

        Assert.Null(open.Group.MyRole);
        Assert.Null(open.Group.MyReadSeq);
        Assert.Null(open.Group.Unread);
        Assert.Equal([119L, 120], open.Events.Select(e => e.Seq));
        Assert.Equal([1L, 2], history.Events.Select(e => e.Seq));
        await ApiErrorAsync(() => socket.HistoryAsync(secret.Id), ChatErrorCodes.NotFound);
        await ApiErrorAsync(() => stranger.Http.HistoryAsync(secret.Id), ChatErrorCodes.NotFound);
        await ApiErrorAsync(() => socket.OpenGroupAsync(secret.Id), ChatErrorCodes.NotFound);
        await ApiErrorAsync(() => stranger.Http.OpenGroupAsync(secret.Id, 5), ChatErrorCodes.NotFound);
        await ApiErrorAsync(() => socket.HistoryAsync(Guid.CreateVersion7()), ChatErrorCodes.NotFound);
    }

    [Fact]
    public async Task Open_is_consistent_at_last_seq_while_messages_are_being_sent()
    {
        var room = await GroupAsync(_server, 1);
        await using var sender = await room.Members[0].ConnectAsync();
        await using var reader = await room.Owner.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var sending = Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var batch = new List<Task>();
                for (var i = 0; i < 8; i++) batch.Add(sender.SendAsync(room.Id, "c-" + n++, "x"));
                await Task.WhenAll(batch);
            }
        });

        for (var i = 0; i < 40; i++)
        {
            var open = i % 2 == 0 ? await reader.OpenGroupAsync(room.Id, 10) : await room.Owner.Http.OpenGroupAsync(room.Id, 10);
            Assert.Equal(open.Group.LastSeq, open.Events[^1].Seq);
            Assert.Equal(Enumerable.Range((int)open.Events[0].Seq, open.Events.Count).Select(s => (long)s), open.Events.Select(e => e.Seq));
        }

        await stop.CancelAsync();
        await sending;
    }

    [Fact]
    public async Task Sync_has_one_entry_per_listed_group_the_caller_is_a_member_of_with_unread_and_the_newest_event()
    {
        var reader = await _server.NewUserAsync("syncer");
        var a = await GroupAsync(_server, 0);
        var b = await GroupAsync(_server, 0);
        var notMine = await GroupAsync(_server, 0);
        await reader.Http.JoinGroupAsync(a.Id);
        await reader.Http.JoinGroupAsync(b.Id);
        for (var i = 0; i < 3; i++) await a.Owner.Http.SendAsync(a.Id, "a" + i, "for you " + i);
        await reader.Http.SendAsync(b.Id, "mine", "my own message");
        var update = await b.Owner.Http.UpdateGroupAsync(b.Id, name: "renamed");
        var positions = new Dictionary<Guid, long> { [a.Id] = 0, [b.Id] = 1, [notMine.Id] = 0, [Guid.CreateVersion7()] = 0 };
        await using var socket = await reader.ConnectAsync();

        var ws = await socket.SyncAsync(positions);
        var http = await reader.Http.SyncAsync(positions);

        Assert.Equal(2, ws.Count);
        Assert.Equal(ws.OrderBy(i => i.GroupId), http.OrderBy(i => i.GroupId));
        var ia = ws.Single(i => i.GroupId == a.Id);
        var ib = ws.Single(i => i.GroupId == b.Id);
        Assert.Equal((5L, 3L), (ia.LastSeq, ia.Unread));
        Assert.Equal(("a2", "for you 2", 5L), (ia.NewestEvent.ClientMsgId, ia.NewestEvent.Body, ia.NewestEvent.Seq));
        Assert.Equal((update.LastSeq, 0L), (ib.LastSeq, ib.Unread));
        Assert.Equal(EventKind.GroupUpdated, ib.NewestEvent.Kind);
    }

    [Fact]
    public async Task Sync_of_500_groups_is_accepted_and_of_501_is_invalid_argument_over_both_transports()
    {
        await using var socket = await _room.Owner.ConnectAsync();
        var five100 = new Dictionary<Guid, long> { [_room.Id] = 0 };
        while (five100.Count < 500) five100[Guid.CreateVersion7()] = 0;
        var five01 = new Dictionary<Guid, long>(five100) { [Guid.CreateVersion7()] = 0 };

        var ok = await socket.SyncAsync(five100);
        var okHttp = await _room.Owner.Http.SyncAsync(five100);

        Assert.Equal(_room.Id, Assert.Single(ok).GroupId);
        Assert.Single(okHttp);
        await ApiErrorAsync(() => socket.SyncAsync(five01), ChatErrorCodes.InvalidArgument);
        await ApiErrorAsync(() => _room.Owner.Http.SyncAsync(five01), ChatErrorCodes.InvalidArgument);
    }
}
