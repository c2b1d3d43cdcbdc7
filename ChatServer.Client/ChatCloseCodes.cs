namespace ChatServer.Client;

/// <summary>The WebSocket close codes of the protocol (<see cref="ChatSocket.CloseStatus"/>).</summary>
public static class ChatCloseCodes
{
    /// <summary>Normal closure.</summary>
    public const int Normal = 1000;

    /// <summary>The server is going away (graceful stop).</summary>
    public const int GoingAway = 1001;

    /// <summary>An RFC 6455 violation.</summary>
    public const int ProtocolError = 1002;

    /// <summary>A text message was sent.</summary>
    public const int TextFrame = 1003;

    /// <summary>A message that is not exactly one MessagePack array, or an unreadable rid.</summary>
    public const int BadPayload = 1007;

    /// <summary>A message over the maximum size.</summary>
    public const int MessageTooBig = 1009;

    /// <summary>A server fault.</summary>
    public const int InternalError = 1011;

    /// <summary>No valid Hello (missing, late, malformed, or a bad token).</summary>
    public const int NotAuthenticated = 4001;

    /// <summary>Nothing received from the client for too long.</summary>
    public const int HeartbeatTimeout = 4002;

    /// <summary>The token expired or was revoked.</summary>
    public const int TokenExpiredOrRevoked = 4003;

    /// <summary>Too many requests in flight, repeatedly.</summary>
    public const int Flooding = 4008;

    /// <summary>The client drained nothing for too long while over its outbound limit.</summary>
    public const int SlowConsumer = 4009;
}
