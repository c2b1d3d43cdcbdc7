using System.Collections.Concurrent;
using ChatServer.Client;
using ChatServer.Tests.Support;
using static ChatServer.Tests.Functional.MessagingKit;

namespace ChatServer.Tests.Functional;

public sealed class OrderingTests : IClassFixture<MessagingServerFixture>
{
    private const int Senders = 6;
    private const int PerSender = 40;

    private readonly TestServer _server;

    public OrderingTests(MessagingServerFixture fixture) => _server = fixture.Server;

    [Fact]
    public async Task Concurrent_senders_over_both_transports_give_every_session_each_seq_once_in_order_without_gaps()
    {
        var room = await GroupAsync(_server, Senders - 1);
        var first = room.Group.LastSeq + 1;
        var last = room.Group.LastSeq + (Senders * PerSender);
        var sessions = new List<ChatSocket>();
        var senderSockets = new ChatSocket[Senders];
        try
        {
            for (var u = 0; u < Senders; u++)
            {
                for (var k = 0; k < 2; k++) sessions.Add(await room[u].ConnectAsync());
                senderSockets[u] = sessions[^2];
            }

            var collectors = sessions.Select(s => PushesUntilEventAsync(s, room.Id, last, TimeSpan.FromSeconds(30))).ToList();
            var replies = new ConcurrentBag<long>();
            ChatSocket? late = null;
            Task<List<ServerPush>>? lateCollector = null;
            var sending = Enumerable.Range(0, Senders).Select(u => Task.Run(async () =>
            {
                for (var n = 0; n < PerSender; n += 4)
                {
                    var batch = new List<Task<SendResult>>();
                    for (var j = n; j < n + 4; j++)
                    {
                        var id = $"u{u}-{j}";
                        batch.Add(j % 2 == 0
                            ? senderSockets[u].SendAsync(room.Id, id, "ws " + id)
                            : HttpSend(room[u].Http, room.Id, id));
                    }

                    foreach (var r in await Task.WhenAll(batch)) replies.Add(r.Seq);
                }
            })).ToList();

            // One more session connects while the messages flow: it gets a contiguous tail.
            late = await room[1].ConnectAsync();
            lateCollector = PushesUntilEventAsync(late, room.Id, last, TimeSpan.FromSeconds(30));
            await Task.WhenAll(sending);

            Assert.Equal(Senders * PerSender, replies.Count);
            Assert.Equal(Enumerable.Range((int)first, Senders * PerSender).Select(i => (long)i), replies.Order());
            foreach (var collector in collectors)
            {
                var pushes = await collector;
                Assert.Empty(pushes.OfType<GapPush>());
                Assert.Equal(Enumerable.Range((int)first, Senders * PerSender).Select(i => (long)i), EventsOf(pushes, room.Id).Select(e => e.Seq));
            }

            var tail = EventsOf(await lateCollector, room.Id).Select(e => e.Seq).ToList();
            Assert.NotEmpty(tail);
            Assert.Equal(Enumerable.Range((int)tail[0], tail.Count).Select(i => (long)i), tail);
            Assert.Equal(last, tail[^1]);
            await late.DisposeAsync();
        }
        finally
        {
            foreach (var s in sessions) await s.DisposeAsync();
        }

        static async Task<SendResult> HttpSend(ChatHttpClient http, Guid groupId, string id)
            => (await http.SendAsync(groupId, id, "http " + id)).Result;
    }

    [Fact]
    public async Task Events_of_several_groups_interleave_but_each_group_stays_in_order_for_a_member_of_all()
    {
        var rooms = new List<GroupSetup>();
        var reader = await _server.NewUserAsync("reader");
        for (var i = 0; i < 3; i++)
        {
            var room = await GroupAsync(_server, 0);
            await reader.Http.JoinGroupAsync(room.Id);
            rooms.Add(room with { Group = await room.Owner.Http.GetGroupAsync(room.Id) });
        }

        await using var socket = await reader.ConnectAsync();
        var sends = rooms.Select(r => Task.Run(async () =>
        {
            await using var s = await r.Owner.ConnectAsync();
            var pending = new List<Task<SendResult>>();
            for (var n = 0; n < 30; n++) pending.Add(s.SendAsync(r.Id, "m" + n, "x"));
            await Task.WhenAll(pending);
        })).ToList();
        await Task.WhenAll(sends);

        var finals = rooms.ToDictionary(r => r.Id, r => r.Group.LastSeq + 30);
        var seen = new Dictionary<Guid, List<long>>();
        await PushesUntilAsync(socket, p =>
        {
            if (p is EventPush e)
            {
                (seen.TryGetValue(e.Event.GroupId, out var l) ? l : seen[e.Event.GroupId] = []).Add(e.Event.Seq);
            }

            return finals.All(f => seen.TryGetValue(f.Key, out var l) && l[^1] == f.Value);
        });
        foreach (var r in rooms)
        {
            Assert.Equal(Enumerable.Range((int)r.Group.LastSeq + 1, 30).Select(i => (long)i), seen[r.Id]);
        }
    }
}
