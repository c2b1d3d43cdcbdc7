using ChatServer.Client;
using ChatServer.Tests.Support;
using static ChatServer.Tests.Functional.MessagingKit;

namespace ChatServer.Tests.Functional;

public sealed class EventPushTests : IClassFixture<MessagingServerFixture>
{
    private readonly TestServer _server;

    public EventPushTests(MessagingServerFixture fixture) => _server = fixture.Server;

    [Fact]
    public async Task Every_session_of_every_member_gets_each_event_once_including_the_senders_own_sessions()
    {
        var room = await GroupAsync(_server, 2);
        var sessions = new List<ChatSocket>();
        try
        {
            for (var u = 0; u < 3; u++)
            {
                for (var k = 0; k < 2; k++) sessions.Add(await room[u].ConnectAsync());
            }

            var a = await sessions[0].SendAsync(room.Id, "ws-1", "over websocket");
            var (b, _) = await room[1].Http.SendAsync(room.Id, "http-1", "over http");

            foreach (var s in sessions)
            {
                var events = EventsOf(await PushesUntilEventAsync(s, room.Id, b.Seq), room.Id);
                Assert.Equal([a.Seq, b.Seq], events.Select(e => e.Seq));
                Assert.Equal(("ws-1", "over websocket", room.Owner.Id), (events[0].ClientMsgId, events[0].Body, events[0].ActorId));
                Assert.Equal(("http-1", "over http", room[1].Id), (events[1].ClientMsgId, events[1].Body, events[1].ActorId));
                Assert.Equal(a.SentAtMs, events[0].AtMs);
                Assert.All(events, e => Assert.Equal(EventKind.Message, e.Kind));
                Assert.All(events, e => Assert.False(e.Deleted));
            }
        }
        finally
        {
            foreach (var s in sessions) await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task Non_members_get_no_event_pushes_of_a_group()
    {
        var room = await GroupAsync(_server, 1);
        var stranger = await _server.NewUserAsync("stranger");
        var strangersGroup = await stranger.Http.CreateGroupAsync("strangers' own");
        await using var strangerSocket = await stranger.ConnectAsync();
        await strangerSocket.OpenGroupAsync(room.Id);

        await room.Owner.Http.SendAsync(room.Id, "secret-1", "members only");
        await room.Members[0].Http.SendAsync(room.Id, "secret-2", "members only");
        var marker = await stranger.Http.SendAsync(strangersGroup.GroupId, "mine", "marker");

        var pushes = await PushesUntilEventAsync(strangerSocket, strangersGroup.GroupId, marker.Result.Seq);
        Assert.DoesNotContain(pushes.OfType<EventPush>(), p => p.Event.GroupId == room.Id);
        Assert.Single(pushes.OfType<EventPush>());
    }
}
