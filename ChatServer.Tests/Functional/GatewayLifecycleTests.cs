using System.Buffers.Binary;
using ChatServer.Client;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Functional;

/// <summary>Deadlines, heartbeat, token expiry, in-flight limits, shutdown and handshake checks: each on a server configured for it.</summary>
public sealed class GatewayLifecycleTests
{
    private const int PingOpcode = 0x9;
    private const int CloseOpcode = 0x8;
    private const int BinaryOpcode = 0x2;

    [Fact]
    public async Task No_hello_within_the_deadline_closes_with_4001()
    {
        await using var server = await TestServer.StartAsync(new() { ["Gateway:HelloTimeoutMs"] = "300" });
        var user = await server.NewUserAsync();
        await using var silent = await server.ConnectAsync();
        await using var prompt = await server.ConnectAsync();
        await prompt.HelloAsync(user.Token);

        Assert.Equal(ChatCloseCodes.NotAuthenticated, await Expect.ClosedAsync(silent, TimeSpan.FromSeconds(5)));
        Assert.False(prompt.Closed.IsCompleted);
        Assert.Equal(user.Id, (await prompt.GetUserAsync(user.Id)).UserId);
    }

    [Fact]
    public async Task The_server_pings_and_closes_a_silent_connection_with_4002_while_one_that_answers_pings_stays()
    {
        await using var server = await TestServer.StartAsync(new()
        {
            ["Gateway:HeartbeatMs"] = "200",
            ["Gateway:IdleTimeoutMs"] = "1000",
        });
        var user = await server.NewUserAsync();
        await using var answering = await user.ConnectAsync(); // ClientWebSocket answers every ping with a pong
        await using var raw = await RawWebSocket.ConnectAsync(server.GatewayUri);
        await raw.SendAsync(BinaryOpcode, ChatCodec.BuildRequest((int)ChatOp.Hello, 1, [user.Token, null]));
        var started = DateTime.UtcNow;

        var pings = 0;
        var binaries = 0;
        int? closeCode = null;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await raw.ReceiveAsync(deadline.Token) is { } frame)
        {
            if (frame.Opcode == PingOpcode) pings++;
            else if (frame.Opcode == BinaryOpcode) binaries++;
            else if (frame.Opcode == CloseOpcode)
            {
                closeCode = BinaryPrimitives.ReadUInt16BigEndian(frame.Payload);
                break;
            }
        }

        Assert.Equal(ChatCloseCodes.HeartbeatTimeout, closeCode);
        Assert.True(pings >= 2, $"{pings} pings before the idle close");
        Assert.Equal(2, binaries); // the Hello reply and Synced
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(900));
        Assert.False(answering.Closed.IsCompleted);
        Assert.Equal(user.Id, (await answering.GetUserAsync(user.Id)).UserId);
    }

    [Fact]
    public async Task An_expiring_token_closes_the_socket_with_token_expired_unless_reauth_came_first()
    {
        var clock = new ShiftedClock();
        await using var server = await TestServer.StartAsync(null, null, clock);
        var user = await server.NewUserAsync();
        await using var expiring = await user.ConnectAsync();
        await using var renewed = await user.ConnectAsync();
        clock.Advance(TimeSpan.FromSeconds(user.Login.ExpiresIn / 2));
        var fresh = await server.NewHttp().LoginAsync(user.User.Username, user.Password);
        var renewedUntil = await renewed.ReauthAsync(fresh.AccessToken);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds() + (fresh.ExpiresIn * 1000), renewedUntil, 1000.0);

        // Past the first token's expiry (and any validation leeway), before the fresh one's.
        clock.Advance(TimeSpan.FromSeconds((user.Login.ExpiresIn / 2) + 60));

        await Expect.GoodbyeThenCloseAsync(expiring, "token_expired", ChatCloseCodes.TokenExpiredOrRevoked);
        Assert.False(renewed.Closed.IsCompleted);
        Assert.Equal(user.Id, (await renewed.GetUserAsync(user.Id)).UserId);
        await using var late = await server.ConnectAsync();
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => late.HelloAsync(user.Token));
        Assert.Equal(ChatCloseCodes.TokenExpiredOrRevoked, await Expect.ClosedAsync(late));
        await Expect.ErrorAsync(ChatErrorCodes.Unauthenticated, () => user.Http.GetUserAsync(user.Id));

        clock.Advance(TimeSpan.FromSeconds(fresh.ExpiresIn));

        await Expect.GoodbyeThenCloseAsync(renewed, "token_expired", ChatCloseCodes.TokenExpiredOrRevoked);
    }

    [Fact]
    public async Task A_socket_closes_with_token_expired_in_real_time_with_a_short_token_lifetime()
    {
        await using var server = await TestServer.StartAsync(new() { ["Auth:AccessTokenSeconds"] = "5" });
        var user = await server.NewUserAsync();
        await using var socket = await user.ConnectAsync();

        await Expect.GoodbyeThenCloseAsync(socket, "token_expired", ChatCloseCodes.TokenExpiredOrRevoked, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Past_the_in_flight_limit_requests_get_rate_limited_and_every_request_gets_exactly_one_reply()
    {
        await using var server = await TestServer.StartAsync(new() { ["Gateway:MaxInFlight"] = "4" });
        var user = await server.NewUserAsync();
        await using var socket = await user.ConnectAsync();

        var rateLimited = 0;
        for (var round = 0; round < 10 && rateLimited == 0; round++)
        {
            // Never more than MaxInFlight rejected in a row, so this is not flooding.
            var requests = Enumerable.Range(0, 8)
                .Select(i => socket.RequestRawAsync((int)ChatOp.CreateGroup, [$"slow {round}.{i}", null, null]))
                .ToArray();
            var replies = await Task.WhenAll(requests);

            foreach (var reply in replies.Where(r => r.IsError))
            {
                Assert.Equal(ChatErrorCodes.RateLimited, reply.Error!.Code);
                Assert.Equal(429, reply.Error.Status);
                Assert.NotNull(reply.Error.RetryAfterMs);
                rateLimited++;
            }

            Assert.Contains(replies, r => !r.IsError);
        }

        Assert.True(rateLimited > 0, "no request was rate limited");
        Assert.False(socket.Closed.IsCompleted);
        var listed = (await socket.ListGroupsAsync(null, 100)).Items.Count;
        Assert.True(listed > 0);
        while (socket.Pushes.TryRead(out var push)) Assert.IsNotType<UnexpectedFramePush>(push);
    }

    [Fact]
    public async Task A_client_that_keeps_flooding_is_closed_with_4008()
    {
        await using var server = await TestServer.StartAsync(new() { ["Gateway:MaxInFlight"] = "2" });
        var user = await server.NewUserAsync();
        await using var socket = await user.ConnectAsync();

        var requests = Enumerable.Range(0, 200)
            .Select(i => socket.RequestRawAsync((int)ChatOp.CreateGroup, [$"flood {i}", null, null]))
            .ToArray();

        Assert.Equal(ChatCloseCodes.Flooding, await Expect.ClosedAsync(socket));
        var succeeded = await Task.WhenAll(requests.Select(async r =>
        {
            try
            {
                return !(await r).IsError;
            }
            catch (ChatConnectionClosedException)
            {
                return false;
            }
        }));

        // Every request the server accepted got its reply before the close: what was created is what was answered.
        var created = (await user.Http.ListGroupsAsync(null, 100)).Items.Count;
        Assert.True(created > 0, "no request was accepted before the flood");
        Assert.Equal(created, succeeded.Count(ok => ok));
    }

    [Fact]
    public async Task A_graceful_stop_sends_server_shutdown_then_closes_with_1001()
    {
        var server = await TestServer.StartAsync();
        await using (server)
        {
            var user = await server.NewUserAsync();
            await using var first = await user.ConnectAsync();
            await using var second = await user.ConnectAsync();

            await server.StopAsync();

            await Expect.GoodbyeThenCloseAsync(first, "server_shutdown", ChatCloseCodes.GoingAway);
            await Expect.GoodbyeThenCloseAsync(second, "server_shutdown", ChatCloseCodes.GoingAway);
        }
    }

    [Fact]
    public async Task With_allowed_origins_another_origin_is_refused_with_403_and_no_origin_is_served()
    {
        await using var server = await TestServer.StartAsync(new() { ["Gateway:AllowedOrigins"] = "https://chat.example, https://app.example" });
        var user = await server.NewUserAsync();

        var refused = await Assert.ThrowsAsync<ChatHandshakeException>(() => server.ConnectAsync(new ChatSocketOptions { Origin = "https://evil.example" }));
        Assert.Equal(403, refused.HttpStatus);
        await using var listed = await server.ConnectAsync(new ChatSocketOptions { Origin = "https://app.example" });
        await using var noOrigin = await server.ConnectAsync();

        Assert.Equal(user.Id, (await listed.HelloAsync(user.Token)).UserId);
        Assert.Equal(user.Id, (await noOrigin.HelloAsync(user.Token)).UserId);
    }

    [Fact]
    public async Task By_default_any_origin_is_served()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.NewUserAsync();

        await using var socket = await server.ConnectAsync(new ChatSocketOptions { Origin = "https://anywhere.example" });

        Assert.Equal(user.Id, (await socket.HelloAsync(user.Token)).UserId);
    }

    /// <summary>The system clock moved forward by hand (timers and timestamps stay real).</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        private long _offsetTicks;

        public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
    }
}
