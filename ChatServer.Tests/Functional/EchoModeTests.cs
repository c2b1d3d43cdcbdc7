using System.Net.WebSockets;
using System.Text;
using ChatServer.Tests.Support;

namespace ChatServer.Tests.Functional;

/// <summary>Gateway:Echo turns the WebSocket endpoint into an echo server for conformance testing of the framing layer.</summary>
public sealed class EchoModeTests
{
    [Fact]
    public async Task Echo_mode_returns_text_binary_and_fragmented_messages_and_closes_cleanly()
    {
        await using var server = await TestServer.StartAsync(new() { ["Gateway:Echo"] = "true" });
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(server.GatewayUri, CancellationToken.None);

        await ws.SendAsync(Encoding.UTF8.GetBytes("héllo ✓"), WebSocketMessageType.Text, true, CancellationToken.None);
        var (type, payload) = await ReceiveAsync(ws);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal("héllo ✓", Encoding.UTF8.GetString(payload));

        var binary = Enumerable.Range(0, 60_000).Select(i => (byte)i).ToArray();
        await ws.SendAsync(binary, WebSocketMessageType.Binary, true, CancellationToken.None);
        (type, payload) = await ReceiveAsync(ws);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(binary, payload);

        await ws.SendAsync("frag"u8.ToArray(), WebSocketMessageType.Binary, false, CancellationToken.None);
        await ws.SendAsync("mented"u8.ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None);
        (type, payload) = await ReceiveAsync(ws);
        Assert.Equal("fragmented", Encoding.UTF8.GetString(payload));

        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.CloseStatus);
    }

    private static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveAsync(ClientWebSocket ws)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[8192];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await ws.ReceiveAsync(buffer, cts.Token);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage) return (result.MessageType, message.ToArray());
        }
    }
}
