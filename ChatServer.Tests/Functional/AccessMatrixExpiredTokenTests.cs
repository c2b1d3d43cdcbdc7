using ChatServer.Client;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Functional;

/// <summary>The unauthenticated column of the access matrix for an expired access token (a server with a clock moved by hand).</summary>
public sealed class AccessMatrixExpiredTokenTests
{
    [Fact]
    public async Task An_expired_access_token_is_unauthenticated_on_every_http_route_and_for_reauth_and_hello()
    {
        var clock = new HandMovedClock();
        await using var server = await TestServer.StartAsync(null, null, clock);
        var owner = await server.NewUserAsync("owner");
        var member = await server.NewUserAsync("member");
        var other = await server.NewUserAsync("other");
        var group = await owner.Http.CreateGroupAsync("expiry");
        await owner.Http.AddMemberAsync(group.GroupId, member.Id);
        await member.Http.SendAsync(group.GroupId, "m-1", "hello");
        var lastSeq = (await owner.Http.GetGroupAsync(group.GroupId)).LastSeq;
        clock.Advance(TimeSpan.FromSeconds(member.Login.ExpiresIn / 2));
        var fresh = server.NewHttp();
        await fresh.LoginAsync(member.User.Username, member.Password);
        await using var socket = await server.ConnectAsync(new ChatSocketOptions { DiscardPushes = true });
        await socket.HelloAsync(fresh.AccessToken!);

        // Past the first token's expiry (and any validation leeway), before the fresh one's.
        clock.Advance(TimeSpan.FromSeconds((member.Login.ExpiresIn / 2) + 60));

        var expired = server.NewHttp();
        expired.AccessToken = member.Token;
        foreach (var (name, method, path, body) in AccessMatrixTests.AuthenticatedRoutes(group.GroupId, member.User, other.Id))
        {
            var response = await expired.SendRawAsync(method, path, body);
            Assert.True(response.StatusCode == 401, $"{name}: {response.StatusCode} {response.Body}");
            AccessMatrixTests.AssertErrorShape(response, 401, ChatErrorCodes.Unauthenticated);
        }

        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => socket.ReauthAsync(member.Token));
        Assert.Equal(member.Id, (await socket.GetUserAsync(member.Id)).UserId);
        Assert.Equal(ChatRoles.Member, (await socket.GetGroupAsync(group.GroupId)).MyRole);
        await using var late = await server.ConnectAsync();
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => late.HelloAsync(member.Token));
        Assert.Equal(ChatCloseCodes.TokenExpiredOrRevoked, await Expect.ClosedAsync(late));
        var after = await fresh.GetGroupAsync(group.GroupId);
        Assert.Equal((lastSeq, 2), (after.LastSeq, after.MemberCount));
        Assert.Equal([group.GroupId], (await fresh.ListGroupsAsync()).Items.Select(g => g.GroupId));
    }

    /// <summary>The system clock moved forward by hand (timers and timestamps stay real).</summary>
    private sealed class HandMovedClock : TimeProvider
    {
        private long _offsetTicks;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
    }
}
