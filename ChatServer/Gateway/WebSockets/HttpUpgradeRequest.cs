namespace ChatServer.Gateway.WebSockets;

/// <summary>The parts of an HTTP/1.1 request that a WebSocket upgrade looks at (RFC 6455 §4.2.1).</summary>
internal sealed class HttpUpgradeRequest
{
    public string Method { get; set; } = "";

    public string Target { get; set; } = "";

    public string? Host { get; set; }

    public string? Upgrade { get; set; }

    public string? Connection { get; set; }

    public string? Key { get; set; }

    public string? Version { get; set; }

    /// <summary>All Sec-WebSocket-Protocol values, joined with commas when the header was repeated.</summary>
    public string? Protocols { get; set; }

    public string? Origin { get; set; }

    public string? ForwardedFor { get; set; }

    public int HeaderCount { get; set; }

    /// <summary>Set when parsing failed: the HTTP status to answer (400 or 431).</summary>
    public int ErrorStatus { get; set; }
}
