using System.Net.WebSockets;
using ChatServer.Client;
using MessagePack;

namespace ChatServer.Tests.Client.Support;

/// <summary>
/// A <see cref="ChatSocket"/> attached to one end of an in-memory WebSocket; the test plays the server on the
/// other end with hand-built frames. No network.
/// </summary>
public sealed class FakeChatServer : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly WebSocket _server;

    private FakeChatServer(WebSocket server, ChatSocket client)
    {
        _server = server;
        Client = client;
    }

    public ChatSocket Client { get; }

    public static FakeChatServer Start(ChatSocketOptions? options = null)
    {
        (DuplexPipeStream clientEnd, DuplexPipeStream serverEnd) = DuplexPipeStream.CreatePair();
        WebSocket client = WebSocket.CreateFromStream(
            clientEnd, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        WebSocket server = WebSocket.CreateFromStream(
            serverEnd, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        return new FakeChatServer(server, ChatSocket.Attach(client, options));
    }

    /// <summary>Receives the next whole message the client sent (null when the client closed).</summary>
    public async Task<ReceivedRequest?> ReceiveAsync()
    {
        var message = new MemoryStream();
        byte[] buffer = new byte[4096];
        while (true)
        {
            ValueWebSocketReceiveResult result = await _server.ReceiveAsync(buffer.AsMemory(), CancellationToken.None)
                .AsTask().WaitAsync(Patience);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return new ReceivedRequest(message.ToArray(), result.MessageType);
            }
        }
    }

    /// <summary>Receives the next request, failing the test if the client closed instead.</summary>
    public async Task<ReceivedRequest> ExpectRequestAsync(ChatOp op)
    {
        ReceivedRequest request = await ReceiveAsync() ?? throw new InvalidOperationException("The client closed.");
        Assert.Equal((int)op, request.Op);
        return request;
    }

    public Task SendAsync(byte[] message) =>
        _server.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).WaitAsync(Patience);

    public Task SendTextAsync(string text) =>
        _server.SendAsync(System.Text.Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Sends one message as several WebSocket frames of <paramref name="chunk"/> bytes.</summary>
    public async Task SendFragmentedAsync(byte[] message, int chunk)
    {
        for (int offset = 0; offset < message.Length; offset += chunk)
        {
            int count = Math.Min(chunk, message.Length - offset);
            await _server.SendAsync(
                message.AsMemory(offset, count), WebSocketMessageType.Binary, offset + count == message.Length, CancellationToken.None);
        }
    }

    /// <summary>Sends a close frame and waits for the client's answer.</summary>
    public async Task CloseAsync(int status, string description)
    {
        await _server.CloseOutputAsync((WebSocketCloseStatus)status, description, CancellationToken.None);
        while (_server.State == WebSocketState.CloseSent && await ReceiveAsync() is not null)
        {
        }
    }

    public WebSocketCloseStatus? ClientCloseStatus => _server.CloseStatus;

    public void Drop() => _server.Abort();

    public async ValueTask DisposeAsync()
    {
        _server.Abort();
        await Client.DisposeAsync();
        _server.Dispose();
    }
}

/// <summary>A message the client sent, with its <c>[op, rid, ...args]</c> head decoded.</summary>
public sealed class ReceivedRequest
{
    private readonly int _argsOffset;

    public ReceivedRequest(byte[] frame, WebSocketMessageType type)
    {
        Frame = frame;
        Type = type;
        if (type != WebSocketMessageType.Binary)
        {
            return;
        }

        try
        {
            var reader = new MessagePackReader(frame);
            ArgCount = reader.ReadArrayHeader() - 2;
            Op = reader.ReadInt32();
            Rid = reader.ReadUInt32();
            _argsOffset = (int)reader.Consumed;
        }
        catch (EndOfStreamException)
        {
            Op = -1; // deliberately malformed by the test
        }
    }

    public byte[] Frame { get; }

    public WebSocketMessageType Type { get; }

    public int Op { get; }

    public uint Rid { get; }

    public int ArgCount { get; }

    public MessagePackReader Args() => new(Frame.AsMemory(_argsOffset));
}
