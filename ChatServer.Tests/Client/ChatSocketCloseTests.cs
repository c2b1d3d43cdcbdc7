using System.Net.WebSockets;
using ChatServer.Client;
using ChatServer.Tests.Client.Support;
using MessagePack;

namespace ChatServer.Tests.Client;

public sealed class ChatSocketCloseTests
{
    [Fact]
    public async Task A_failed_hello_throws_the_error_and_then_exposes_the_close()
    {
        await using var server = FakeChatServer.Start();

        Task<HelloResult> hello = server.Client.HelloAsync("expired");
        ReceivedRequest request = await server.ExpectRequestAsync(ChatOp.Hello);
        await server.SendAsync(Wire.Error(request.Rid, ChatErrorCodes.Unauthenticated, "Token expired", 401));
        await server.CloseAsync(ChatCloseCodes.TokenExpiredOrRevoked, "token expired");

        ChatApiException error = await Assert.ThrowsAsync<ChatApiException>(() => hello.Within());
        Assert.Equal(ChatErrorCodes.Unauthenticated, error.Code);
        Assert.Equal(ChatCloseCodes.TokenExpiredOrRevoked, await server.Client.Closed.Within());
        Assert.Equal(ChatCloseCodes.TokenExpiredOrRevoked, server.Client.CloseStatus);
        Assert.Equal("token expired", server.Client.CloseDescription);
    }

    [Fact]
    public async Task The_client_echoes_the_servers_close_code()
    {
        await using var server = FakeChatServer.Start();

        await server.CloseAsync(4009, "slow consumer");

        Assert.Equal(4009, await server.Client.Closed.Within());
        Assert.Equal((WebSocketCloseStatus)4009, server.ClientCloseStatus);
    }

    [Fact]
    public async Task Requests_waiting_when_the_server_closes_fail_with_the_close()
    {
        await using var server = FakeChatServer.Start();

        Task<Group> get = server.Client.GetGroupAsync(Wire.GroupId);
        await server.ExpectRequestAsync(ChatOp.GetGroup);
        await server.CloseAsync(ChatCloseCodes.GoingAway, "bye");

        ChatConnectionClosedException error = await Assert.ThrowsAsync<ChatConnectionClosedException>(() => get.Within());
        Assert.Equal(ChatCloseCodes.GoingAway, error.CloseStatus);
        Assert.Equal("bye", error.CloseDescription);
    }

    [Fact]
    public async Task Requests_after_the_close_fail_with_the_close()
    {
        await using var server = FakeChatServer.Start();
        await server.CloseAsync(ChatCloseCodes.NotAuthenticated, "hello first");
        await server.Client.Closed.Within();

        ChatConnectionClosedException error = await Assert.ThrowsAsync<ChatConnectionClosedException>(
            () => server.Client.GetGroupAsync(Wire.GroupId).Within());
        Assert.Equal(ChatCloseCodes.NotAuthenticated, error.CloseStatus);
        await Assert.ThrowsAsync<ChatConnectionClosedException>(() => server.Client.TypingAsync(Wire.GroupId).Within());
    }

    [Fact]
    public async Task Goodbye_is_delivered_before_the_pushes_complete()
    {
        await using var server = FakeChatServer.Start();

        await server.SendAsync(Wire.Push(10, 2, (ref MessagePackWriter w) =>
        {
            w.Write("slow_consumer");
            w.WriteNil();
        }));
        await server.CloseAsync(ChatCloseCodes.SlowConsumer, "slow consumer");

        var pushes = new List<ServerPush>();
        await foreach (ServerPush push in server.Client.Pushes.ReadAllAsync().WithCancellation(new CancellationTokenSource(FakeChatServer.Patience).Token))
        {
            pushes.Add(push);
        }

        Assert.Equal([new GoodbyePush("slow_consumer", null)], pushes);
        Assert.Equal(ChatCloseCodes.SlowConsumer, await server.Client.Closed.Within());
    }

    [Fact]
    public async Task A_dropped_connection_completes_closed_without_a_status()
    {
        await using var server = FakeChatServer.Start();

        Task<Group> get = server.Client.GetGroupAsync(Wire.GroupId);
        await server.ExpectRequestAsync(ChatOp.GetGroup);
        server.Drop();

        Assert.Null(await server.Client.Closed.Within());
        ChatConnectionClosedException error = await Assert.ThrowsAsync<ChatConnectionClosedException>(() => get.Within());
        Assert.Null(error.CloseStatus);
    }

    [Fact]
    public async Task Close_sends_the_code_and_returns_the_servers_answer()
    {
        await using var server = FakeChatServer.Start();

        Task<int?> close = server.Client.CloseAsync(ChatCloseCodes.Normal, "done");
        Assert.Null(await server.ReceiveAsync());
        Assert.Equal(WebSocketCloseStatus.NormalClosure, server.ClientCloseStatus);
        await server.CloseAsync(ChatCloseCodes.Normal, "ok");

        Assert.Equal(ChatCloseCodes.Normal, await close.Within());
    }
}
