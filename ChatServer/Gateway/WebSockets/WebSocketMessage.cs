namespace ChatServer.Gateway.WebSockets;

/// <summary>A complete data message, or the end of the connection (<see cref="WebSocketMessageType.Close"/>).</summary>
internal readonly struct WebSocketMessage
{
    internal WebSocketMessage(WebSocketMessageType type, ReadOnlyMemory<byte> payload, ushort closeStatus)
    {
        Type = type;
        Payload = payload;
        CloseStatus = closeStatus;
    }

    public WebSocketMessageType Type { get; }

    /// <summary>The message bytes; valid until the next call to ReceiveAsync. Empty for Close.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>For Close: the code received from the peer (1005 when it sent none), the code we sent on a violation,
    /// or 1006 when the transport ended without a close frame.</summary>
    public ushort CloseStatus { get; }

    internal static WebSocketMessage Closed(ushort status) => new(WebSocketMessageType.Close, ReadOnlyMemory<byte>.Empty, status);
}
