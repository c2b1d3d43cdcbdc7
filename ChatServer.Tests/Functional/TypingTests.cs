using ChatServer.Client;
using ChatServer.Tests.Support;
using static ChatServer.Tests.Functional.MessagingKit;

namespace ChatServer.Tests.Functional;

public sealed class TypingTests : IClassFixture<MessagingServerFixture>
{
    private readonly TestServer _server;

    public TypingTests(MessagingServerFixture fixture) => _server = fixture.Server;

    [Fact]
    public async Task Typing_with_rid_0_gets_no_reply_and_reaches_the_other_members_sessions_but_not_the_typers()
    {
        var room = await GroupAsync(_server, 2);
        await using var typer = await room.Members[0].ConnectAsync();
        await using var typerOther = await room.Members[0].ConnectAsync();
        await using var owner1 = await room.Owner.ConnectAsync();
        await using var owner2 = await room.Owner.ConnectAsync();
        await using var third = await room.Members[1].ConnectAsync();

        await typer.TypingAsync(room.Id);
        await typer.GetGroupAsync(room.Id);

        foreach (var s in new[] { owner1, owner2, third })
        {
            Assert.Equal(new TypingPush(room.Id, room.Members[0].Id), await Pushes.NextAsync<TypingPush>(s));
        }

        foreach (var s in new[] { typer, typerOther })
        {
            var before = await PushesBeforeMarkerAsync(s, room.Owner, room.Id);
            Assert.Empty(before.OfType<TypingPush>());
            Assert.Empty(before.OfType<UnexpectedFramePush>());
        }
    }

    [Fact]
    public async Task Typing_with_a_rid_gets_an_empty_success_and_by_a_non_member_forbidden()
    {
        var room = await GroupAsync(_server, 1);
        var secret = await GroupAsync(_server, 0, isPrivate: true);
        var stranger = await _server.NewUserAsync("stranger");
        await using var typer = await room.Members[0].ConnectAsync();
        await using var ownerSocket = await room.Owner.ConnectAsync();
        await using var strangerSocket = await stranger.ConnectAsync();

        await typer.TypingAsync(room.Id, wantReply: true);

        Assert.Equal(room.Members[0].Id, (await Pushes.NextAsync<TypingPush>(ownerSocket)).UserId);
        await ApiErrorAsync(() => strangerSocket.TypingAsync(room.Id, wantReply: true), ChatErrorCodes.Forbidden);
        await ApiErrorAsync(() => strangerSocket.TypingAsync(secret.Id, wantReply: true), ChatErrorCodes.NotFound);
        Assert.Empty((await PushesBeforeMarkerAsync(ownerSocket, room.Owner, room.Id)).OfType<TypingPush>());
    }

    [Fact]
    public async Task Typing_is_not_fanned_out_in_groups_above_the_fanout_limit()
    {
        await using var server = await TestServer.StartAsync(new() { ["Chat:FanoutLimit"] = "2" });
        var room = await GroupAsync(server, 2);
        await using var typer = await room.Members[0].ConnectAsync();
        await using var ownerSocket = await room.Owner.ConnectAsync();
        await using var third = await room.Members[1].ConnectAsync();

        await typer.TypingAsync(room.Id, wantReply: true);
        await typer.TypingAsync(room.Id);
        await typer.GetGroupAsync(room.Id);

        Assert.Empty((await PushesBeforeMarkerAsync(ownerSocket, room.Owner, room.Id)).OfType<TypingPush>());
        Assert.Empty((await PushesBeforeMarkerAsync(third, room.Owner, room.Id)).OfType<TypingPush>());
    }
}
