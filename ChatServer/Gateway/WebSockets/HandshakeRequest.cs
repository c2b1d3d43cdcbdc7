namespace ChatServer.Gateway.WebSockets;

/// <summary>What the application needs from an accepted upgrade request.</summary>
/// <param name="Path">The request path without the query string.</param>
/// <param name="Origin">The Origin header, if sent.</param>
/// <param name="OffersSubProtocol">True when the client offered the configured subprotocol (and the server echoed it).</param>
/// <param name="ForwardedFor">The X-Forwarded-For header, if sent.</param>
internal readonly record struct HandshakeRequest(string Path, string? Origin, bool OffersSubProtocol, string? ForwardedFor)
{
    /// <summary>The query string including its leading '?', or empty.</summary>
    public string Query { get; init; } = "";
}
