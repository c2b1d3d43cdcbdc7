namespace ChatServer.Gateway.WebSockets;

/// <summary>Kinds of message returned by <see cref="WebSocketConnection.ReceiveAsync"/>; values are the RFC 6455 opcodes.</summary>
internal enum WebSocketMessageType : byte
{
    Text = 1,
    Binary = 2,
    Close = 8,
}
