using ChatServer.Client;
using ChatServer.Tests.Support;
using static ChatServer.Tests.Functional.MessagingKit;

namespace ChatServer.Tests.Functional;

public sealed class ResumeTests : IClassFixture<MessagingServerFixture>
{
    private readonly TestServer _server;

    public ResumeTests(MessagingServerFixture fixture) => _server = fixture.Server;

    private static IEnumerable<long> Range(long from, long to) => Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => (long)i);

    [Fact]
    public async Task Synced_arrives_after_every_successful_hello_also_without_resume()
    {
        var room = await GroupAsync(_server, 0);

        await using var plain = await room.Owner.ConnectAsync();
        await using var emptyResume = await room.Owner.ConnectAsync(new Dictionary<Guid, long>());

        Assert.IsType<SyncedPush>(await plain.Pushes.ReadAsync());
        Assert.IsType<SyncedPush>(await emptyResume.Pushes.ReadAsync());
    }

    [Fact]
    public async Task Resume_replays_exactly_the_missed_events_in_order_then_synced_then_live_events()
    {
        var room = await GroupAsync(_server, 2);
        var me = room.Members[0];
        long lastSeen;
        await using (var first = await me.ConnectAsync())
        {
            var mine = await first.SendAsync(room.Id, "before", "seen live");
            lastSeen = EventsOf(await PushesUntilEventAsync(first, room.Id, mine.Seq), room.Id)[^1].Seq;
        }

        var missed = new List<long>();
        await using (var other = await room.Owner.ConnectAsync())
        {
            for (var i = 0; i < 7; i++)
            {
                missed.Add(i % 2 == 0 ? (await other.SendAsync(room.Id, "w" + i, "missed " + i)).Seq : (await room.Members[1].Http.SendAsync(room.Id, "h" + i, "missed " + i)).Result.Seq);
            }
        }

        await using var resumed = await me.ConnectAsync(new Dictionary<Guid, long> { [room.Id] = lastSeen });
        var live = await room.Owner.Http.SendAsync(room.Id, "live", "after resume");

        var pushes = await PushesUntilEventAsync(resumed, room.Id, live.Result.Seq);
        var synced = pushes.FindIndex(p => p is SyncedPush);
        Assert.Equal(missed, EventsOf(pushes[..synced], room.Id).Select(e => e.Seq));
        Assert.Equal(Range(lastSeen + 1, lastSeen + 7), missed);
        Assert.Equal("missed 0", EventsOf(pushes, room.Id)[0].Body);
        Assert.Equal([live.Result.Seq], EventsOf(pushes[(synced + 1)..], room.Id).Select(e => e.Seq));
        Assert.Single(pushes, p => p is SyncedPush);
        Assert.DoesNotContain(pushes, p => p is GapPush or UnexpectedFramePush);
    }

    [Fact]
    public async Task Events_sent_while_a_session_resumes_arrive_once_each_with_no_holes()
    {
        var room = await GroupAsync(_server, 1);
        var me = room.Members[0];
        await using var sender = await room.Owner.ConnectAsync();
        for (var i = 0; i < 40; i++) await sender.SendAsync(room.Id, "pre" + i, "before reconnect");
        var lastSeen = room.Group.LastSeq + 5;
        using var stop = new CancellationTokenSource();
        var sentSeqs = new List<long>();
        var sending = Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested || n < 20)
            {
                var batch = new List<Task<SendResult>>();
                for (var j = 0; j < 4; j++) batch.Add(sender.SendAsync(room.Id, "during" + n++, "while resuming"));
                foreach (var r in await Task.WhenAll(batch)) sentSeqs.Add(r.Seq);
            }
        });

        var sockets = new List<ChatSocket>();
        try
        {
            for (var attempt = 0; attempt < 5; attempt++)
            {
                sockets.Add(await me.ConnectAsync(new Dictionary<Guid, long> { [room.Id] = lastSeen }));
            }

            await stop.CancelAsync();
            await sending;
            var final = sentSeqs.Max();
            foreach (var socket in sockets)
            {
                var pushes = await PushesUntilEventAsync(socket, room.Id, final);
                Assert.Equal(Range(lastSeen + 1, final), EventsOf(pushes, room.Id).Select(e => e.Seq));
                Assert.Single(pushes, p => p is SyncedPush);
                Assert.DoesNotContain(pushes, p => p is GapPush);
            }
        }
        finally
        {
            foreach (var s in sockets) await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task Resume_beyond_the_limit_sends_one_gap_then_exactly_the_newest_events()
    {
        await using var server = await TestServer.StartAsync(new() { ["Chat:ResumeLimit"] = "5" });
        var room = await GroupAsync(server, 1);
        var lastSeen = room.Group.LastSeq;
        for (var i = 0; i < 12; i++) await room.Owner.Http.SendAsync(room.Id, "m" + i, "missed");
        var now = lastSeen + 12;

        await using var socket = await room.Members[0].ConnectAsync(new Dictionary<Guid, long> { [room.Id] = lastSeen });
        var pushes = await PushesUntilAsync(socket, p => p is SyncedPush);

        Assert.Equal(new GapPush(room.Id, lastSeen + 1, now - 5), pushes[0]);
        Assert.Equal(Range(now - 4, now), EventsOf(pushes, room.Id).Select(e => e.Seq));
        Assert.Equal(7, pushes.Count);
    }

    [Fact]
    public async Task Resume_entries_for_other_groups_and_at_or_above_the_current_seq_replay_nothing()
    {
        var room = await GroupAsync(_server, 1);
        var notMine = await GroupAsync(_server, 0);
        var secret = await GroupAsync(_server, 0, isPrivate: true);
        await notMine.Owner.Http.SendAsync(notMine.Id, "x", "not for you");
        await room.Owner.Http.SendAsync(room.Id, "m", "seen");
        var current = (await room.Owner.Http.GetGroupAsync(room.Id)).LastSeq;

        foreach (var position in new[] { current, current + 100 })
        {
            await using var socket = await room.Members[0].ConnectAsync(new Dictionary<Guid, long>
            {
                [room.Id] = position,
                [notMine.Id] = 0,
                [secret.Id] = 0,
                [Guid.CreateVersion7()] = 0,
            });

            Assert.IsType<SyncedPush>(await socket.Pushes.ReadAsync());
            var before = await PushesBeforeMarkerAsync(socket, room.Owner, room.Id);
            Assert.Empty(before);
        }
    }

    [Fact]
    public async Task Replayed_events_carry_the_current_state_and_several_groups_are_replayed()
    {
        var a = await GroupAsync(_server, 1);
        var me = a.Members[0];
        var b = await GroupAsync(_server, 0);
        await me.Http.JoinGroupAsync(b.Id);
        var seenA = (await me.Http.GetGroupAsync(a.Id)).LastSeq;
        var seenB = (await me.Http.GetGroupAsync(b.Id)).LastSeq;
        var (m1, _) = await a.Owner.Http.SendAsync(a.Id, "m1", "to be edited");
        var (m2, _) = await a.Owner.Http.SendAsync(a.Id, "m2", "to be deleted");
        var e1 = await a.Owner.Http.EditAsync(a.Id, m1.Seq, "edited");
        var e2 = await a.Owner.Http.EditAsync(a.Id, m2.Seq, "edited, then deleted");
        var d2 = await a.Owner.Http.DeleteAsync(a.Id, m2.Seq);
        var (b1, _) = await b.Owner.Http.SendAsync(b.Id, "b1", "in b");

        await using var socket = await me.ConnectAsync(new Dictionary<Guid, long> { [a.Id] = seenA, [b.Id] = seenB });
        var pushes = await PushesUntilAsync(socket, p => p is SyncedPush);

        var ea = EventsOf(pushes, a.Id);
        Assert.Equal([m1.Seq, m2.Seq, e1, e2, d2], ea.Select(e => e.Seq));
        Assert.Equal(("edited", false), (ea[0].Body, ea[0].Deleted));
        Assert.NotNull(ea[0].EditedAtMs);
        Assert.Equal((string.Empty, true), (ea[1].Body, ea[1].Deleted));
        Assert.Equal("edited", ea[2].Body);
        Assert.Equal(string.Empty, ea[3].Body);
        Assert.Equal(EventKind.Delete, ea[4].Kind);
        Assert.Equal([b1.Seq], EventsOf(pushes, b.Id).Select(e => e.Seq));
    }

    [Fact]
    public async Task A_resume_replay_larger_than_the_outbound_limit_stops_at_the_limit_and_announces_the_rest_as_a_gap()
    {
        await using var server = await TestServer.StartAsync(new() { ["Gateway:OutboundLimitBytes"] = "65536" });
        var room = await GroupAsync(server, 1);
        var lastSeen = room.Group.LastSeq;
        var body = new string('r', 16000);
        await using (var sender = await room.Owner.ConnectAsync())
        {
            await Task.WhenAll(Enumerable.Range(0, 60).Select(i => sender.SendAsync(room.Id, "big" + i, body)));
        }

        var last = lastSeen + 60;
        await using var socket = await room.Members[0].ConnectAsync(new Dictionary<Guid, long> { [room.Id] = lastSeen });
        var replay = await PushesUntilAsync(socket, p => p is SyncedPush);
        var gap = await Pushes.NextAsync<GapPush>(socket);
        var marker = await room.Owner.Http.SendAsync(room.Id, "marker", "live");

        // 60 events of 16 KB against a 64 KiB limit: the replay stops after a few. How many depends on how much the
        // writer hands to the socket while the replay runs (the client reads meanwhile), so only "far from all 60".
        var replayed = EventsOf(replay, room.Id).Select(e => e.Seq).ToList();
        Assert.InRange(replayed.Count, 1, 40);
        Assert.Equal(Range(lastSeen + 1, lastSeen + replayed.Count), replayed);
        Assert.Equal(new GapPush(room.Id, lastSeen + replayed.Count + 1, last), gap);
        Assert.Equal(marker.Result.Seq, (await Pushes.NextEventAsync(socket, room.Id)).Seq);
    }
}
