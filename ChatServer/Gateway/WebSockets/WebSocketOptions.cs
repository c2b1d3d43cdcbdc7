namespace ChatServer.Gateway.WebSockets;

/// <summary>Limits and settings of the WebSocket layer. Defaults follow PROTOCOL.md §1 and §7.</summary>
internal sealed class WebSocketOptions
{
    /// <summary>Request line plus headers of the upgrade request. 8 KiB matches nginx's default large_client_header_buffers line size.</summary>
    public int MaxHandshakeBytes { get; init; } = 8192;

    /// <summary>Header lines in the upgrade request; a browser sends about 15.</summary>
    public int MaxHandshakeHeaders { get; init; } = 64;

    /// <summary>Time allowed for the whole upgrade request to arrive (Kestrel's RequestHeadersTimeout is 30 s; upgrades are small).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest message after reassembling fragments (PROTOCOL.md §7: 64 KiB); larger closes with 1009.</summary>
    public int MaxMessageBytes { get; init; } = 64 * 1024;

    /// <summary>Most frames in one message; more closes with 1009. Bounds the work a stream of empty fragments can cause.</summary>
    public int MaxFragments { get; init; } = 1024;

    /// <summary>
    /// Close with 1003 as soon as a text message starts, before its payload is read or validated (PROTOCOL.md §1: the
    /// chat protocol is binary only). Off for the echo endpoint, which serves text messages.
    /// </summary>
    public bool RejectText { get; init; }

    /// <summary>The only request path served (PROTOCOL.md §1), or null for any path (the echo endpoint). A query string is allowed.</summary>
    public string? RequestPath { get; init; } = "/v1/ws";

    /// <summary>Subprotocol echoed when the client offers it (PROTOCOL.md §1).</summary>
    public string SubProtocol { get; init; } = "chat.v1";

    /// <summary>Origins allowed to connect; null allows any. A request without Origin is always served (PROTOCOL.md §1).</summary>
    public IReadOnlyList<string>? AllowedOrigins { get; init; }

    /// <summary>Outbound bytes queued beyond which droppable frames are refused (PROTOCOL.md §7: 1 MiB per session).</summary>
    public long OutboundLimitBytes { get; init; } = 1024 * 1024;

    /// <summary>Time to wait for the peer's close frame (and for our close frame to be written) before the transport is cut.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
