using ChatServer.Client;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Functional;

public sealed class EndToEndSmokeTests
{
    [Fact]
    public async Task Member_sends_over_websocket_and_both_sessions_get_the_event_push()
    {
        await using var server = await TestServer.StartAsync();
        var alice = await server.NewUserAsync("alice");
        var bob = await server.NewUserAsync("bob");
        var group = await alice.Http.CreateGroupAsync("general");
        await bob.Http.JoinGroupAsync(group.GroupId);

        await using var aliceSocket = await alice.ConnectAsync();
        await using var bobSocket = await bob.ConnectAsync();
        var sent = await aliceSocket.SendAsync(group.GroupId, "c-1", "hello");

        Assert.Equal(3, sent.Seq);
        var seen = await Pushes.NextEventAsync(bobSocket, group.GroupId);
        Assert.Equal(3, seen.Seq);
        Assert.Equal("hello", seen.Body);
        var own = await Pushes.NextEventAsync(aliceSocket, group.GroupId);
        Assert.Equal("c-1", own.ClientMsgId);
    }
}
